//! gantry-testenv: the Kubernetes control plane of the tests (dev-dependency only).
//!
//! [`cluster`] starts `scripts/k8s-cluster.sh` once per test binary (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler and KWOK on loopback ports; docs/k8s-testenv.md)
//! and keeps it until the test process ends: the script holds the read end of a pipe whose
//! write end only this process has, so when the process exits, however it exits, the script
//! sees end of file and stops the cluster. Tests isolate themselves by namespace.
//!
//! Without the binaries (`bash scripts/go-tools.sh`) [`cluster`] returns `None` after printing
//! why, except under `CI=true`, where it panics: CI must run the Kubernetes tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

/// A running test cluster.
pub struct Cluster {
    kubeconfig: PathBuf,
    bin: PathBuf,
    // Kept open until the process exits: closing it stops the cluster.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The folder with etcd, kube-apiserver, kubectl, helm and the rest (`GANTRY_K8S_BIN`, else
/// `.cache/go-tools/bin`).
pub fn bin_dir() -> PathBuf {
    std::env::var_os("GANTRY_K8S_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".cache/go-tools/bin"))
}

/// The namespace a `gantry deploy` log says it deployed to (its `Deploying N objects to
/// namespace NS on URL` line); panics with the log when there is none.
pub fn deployed_namespace(log: &str) -> String {
    log.lines()
        .find_map(|l| l.split("to namespace ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no `gantry deploy` namespace line in:\n{log}"))
        .to_owned()
}

/// The shared cluster of this test binary, started on first use; `None` (with the reason
/// printed) when the binaries are missing outside CI.
pub fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER.get_or_init(start).as_ref()
}

fn start() -> Option<Cluster> {
    let bin = bin_dir();
    if !bin.join("kube-apiserver").is_file() {
        let why = format!(
            "{} has no kube-apiserver: run bash scripts/go-tools.sh",
            bin.display()
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run the Kubernetes tests: {why}"
        );
        eprintln!("skipped: {why}");
        return None;
    }
    // The script makes this folder and removes it when it stops (this process never drops
    // the static, so a temporary-folder guard would not).
    let cluster_dir = std::env::temp_dir().join(format!("gantry-k8s-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cluster_dir);
    let script = workspace_root().join("scripts/k8s-cluster.sh");
    let mut child = Command::new("bash")
        .arg(&script)
        .arg(&cluster_dir)
        .env("GANTRY_K8S_BIN", &bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start scripts/k8s-cluster.sh");
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut kubeconfig = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read the cluster script's output");
        if let Some(path) = line.strip_prefix("KUBECONFIG=") {
            kubeconfig = Some(PathBuf::from(path));
        }
        if line == "ready" {
            break;
        }
    }
    let Some(kubeconfig) = kubeconfig.filter(|k| k.is_file()) else {
        let status = child.wait().expect("wait for the cluster script");
        panic!("the test cluster did not start ({status}); its logs are above");
    };
    Some(Cluster {
        kubeconfig,
        bin,
        _stdin: Mutex::new(stdin),
        _child: Mutex::new(child),
    })
}

impl Cluster {
    /// The admin kubeconfig (a file with the certificates embedded).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The folder of the cluster's binaries (kubectl and helm for job scripts).
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// A `PATH` for jobs: the cluster's binaries (kubectl, helm), then `dirs`, then this
    /// process's `PATH`.
    pub fn path_with(&self, dirs: &[PathBuf]) -> std::ffi::OsString {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let all = std::iter::once(self.bin.clone())
            .chain(dirs.iter().cloned())
            .chain(std::env::split_paths(&inherited));
        std::env::join_paths(all).expect("a PATH of folders without ':'")
    }

    /// Runs kubectl against the cluster.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(self.bin.join("kubectl"))
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .output()
            .expect("run kubectl")
    }

    /// Runs kubectl and returns its stdout; panics with its stderr when it fails.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A JSONPath field of an object: `get(ns, "deployment/web", "{.spec.replicas}")`.
    pub fn get(&self, namespace: &str, object: &str, jsonpath: &str) -> String {
        self.kubectl_ok(&[
            "-n",
            namespace,
            "get",
            object,
            "-o",
            &format!("jsonpath={jsonpath}"),
        ])
    }
}
