//! The container executor against a real engine (Podman's Docker-compatible API, started by
//! scripts/services.sh as GANTRY_TEST_DOCKER_HOST): a job in its image with a service beside
//! it, timeouts and cancels that leave no container behind, pull policies, and the removal
//! of what a dead process left.

use gantry_executor::docker::{DockerConfig, Engine, LABEL_MANAGED};
use gantry_executor::job::{
    ContainerJob, FailureKind, ImageSpec, JobOutcome, JobSpec, JobVariable, PullPolicy, ServiceSpec,
};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The engine's address, or `None` (with the reason printed) outside CI.
fn engine_host() -> Option<String> {
    match std::env::var("GANTRY_TEST_DOCKER_HOST") {
        Ok(host) if !host.is_empty() => Some(host),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must run the container executor's tests: start Podman with scripts/services.sh"
            );
            eprintln!(
                "skipped: GANTRY_TEST_DOCKER_HOST is not set (eval \"$(bash scripts/services.sh start)\")"
            );
            None
        }
    }
}

/// A busybox image made from the host's busybox, and one serving HTTP on port 8080 (with
/// `EXPOSE`, so that the executor waits for it).
fn images() -> (&'static str, &'static str) {
    const BASE: &str = "localhost/gantry-executor-busybox:latest";
    const WEB: &str = "localhost/gantry-executor-web:2";
    let have = |image: &str| {
        Command::new("podman")
            .args(["image", "exists", image])
            .status()
            .is_ok_and(|s| s.success())
    };
    let ok = |cmd: &mut Command| {
        let out = cmd.output().expect("podman");
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if !have(BASE) {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("rootfs/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy("/bin/busybox", bin.join("busybox")).expect("busybox-static");
        for applet in ["sh", "cat", "echo", "sleep", "wget", "httpd", "mkdir", "ls", "id"] {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
        let tar = dir.path().join("rootfs.tar");
        ok(Command::new("tar")
            .arg("-C")
            .arg(dir.path().join("rootfs"))
            .arg("-cf")
            .arg(&tar)
            .arg("."));
        ok(Command::new("podman").arg("import").arg(&tar).arg(BASE));
    }
    if !have(WEB) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Containerfile"),
            format!(
                "FROM {BASE}\nRUN mkdir -p /www && echo hello from web > /www/index.html\n\
                 EXPOSE 8080\nCMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
            ),
        )
        .unwrap();
        ok(Command::new("podman")
            .args(["build", "-q", "-t", WEB])
            .arg(dir.path()));
    }
    (BASE, WEB)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn image(name: &str) -> ImageSpec {
    ImageSpec {
        name: name.to_owned(),
        ..ImageSpec::default()
    }
}

fn spec(dir: &Path, name: &str, script: &[&str], container: ContainerJob) -> JobSpec {
    let build_dir = dir.join("project");
    std::fs::create_dir_all(&build_dir).unwrap();
    JobSpec {
        name: name.into(),
        build_dir,
        tmp_dir: dir.join("project.tmp"),
        before_script: vec![],
        script: script.iter().map(|s| (*s).to_owned()).collect(),
        after_script: vec![r#"echo "after: $CI_JOB_STATUS""#.into()],
        variables: vec![
            JobVariable {
                name: "GREETING".into(),
                value: "hi".into(),
                file: false,
            },
            JobVariable {
                name: "SECRET_FILE".into(),
                value: "file-content".into(),
                file: true,
            },
        ],
        timeout: Duration::from_secs(60),
        after_script_timeout: Duration::from_secs(30),
        log_limit: 1 << 20,
        container: Some(container),
    }
}

fn job(image_name: &str) -> ContainerJob {
    ContainerJob {
        image: image(image_name),
        services: vec![],
        project_dir: "/builds/group/project".into(),
        cache_dir: None,
        credentials: vec![],
    }
}

async fn run(engine: &Engine, spec: &JobSpec, cancel: &CancellationToken) -> (JobOutcome, Vec<String>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = gantry_executor::docker::run(engine, spec, &tx, cancel).await;
    drop(tx);
    let mut log = Vec::new();
    while let Some(line) = rx.recv().await {
        log.push(line);
    }
    (outcome, log)
}

/// Containers and networks the executor made for job `name` that are still there.
fn managed(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for what in [["ps", "-a"], ["network", "ls"]] {
        let list = Command::new("podman")
            .args(what)
            .args(["--filter", &format!("label={LABEL_MANAGED}")])
            .args([
                "--filter",
                &format!("label=dev.gantry.job={name}"),
                "--format",
                "{{.ID}}",
            ])
            .output()
            .expect("podman");
        out.extend(String::from_utf8_lossy(&list.stdout).lines().map(str::to_owned));
    }
    out
}

async fn connect(host: String) -> Engine {
    Engine::connect(DockerConfig {
        host: Some(host),
        wait_for_services: Duration::from_secs(20),
        allowed_pull_policies: vec![PullPolicy::IfNotPresent, PullPolicy::Never],
        ..DockerConfig::default()
    })
    .await
    .expect("the engine answers")
}

#[test]
fn a_job_runs_in_its_image_with_a_service_reachable_by_alias() {
    let Some(host) = engine_host() else { return };
    let (base, web) = images();
    let dir = tempfile::tempdir().unwrap();
    let mut container = job(base);
    container.services.push(ServiceSpec {
        image: image(web),
        aliases: vec!["web".into(), "www".into()],
        // The command replaces the image's; the service's variables are its own.
        command: Some(vec![
            "sh".into(),
            "-c".into(),
            "echo \"service says $SERVICE_ONLY to $GREETING\" > /www/index.html; exec httpd -f -p 8080 -h /www".into(),
        ]),
        variables: vec![("SERVICE_ONLY".into(), "yes".into())],
    });
    let spec = spec(
        dir.path(),
        "with-service",
        &[
            r#"echo "dir=$(pwd) greeting=$GREETING file=$(cat "$SECRET_FILE")""#,
            "wget -qO- http://web:8080/",
            "wget -qO- http://www:8080/",
            "echo made-in-container > out.txt",
            "false",
            "echo not reached",
        ],
        container,
    );
    let rt = runtime();
    let engine = rt.block_on(connect(host));
    let (outcome, log) = rt.block_on(run(&engine, &spec, &CancellationToken::new()));
    let text = log.join("\n");
    assert_eq!(
        outcome,
        JobOutcome::Failed {
            exit_code: Some(1),
            kind: FailureKind::Script
        },
        "{text}"
    );
    assert!(
        text.contains("dir=/builds/group/project greeting=hi file=file-content"),
        "the build dir is mounted where CI_PROJECT_DIR says, file variables are files: {text}"
    );
    assert_eq!(
        text.matches("service says yes to hi").count(),
        2,
        "both aliases answer, with the job's and the service's variables: {text}"
    );
    assert!(!text.contains("not reached"), "{text}");
    assert!(text.contains("after: failed"), "{text}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("project/out.txt")).unwrap(),
        "made-in-container\n",
        "what the job wrote is in the build dir on this side"
    );
    assert!(!dir.path().join("project.tmp/SECRET_FILE").exists());
    assert!(managed("with-service").is_empty(), "left behind");
}

#[test]
fn the_image_entrypoint_runs_unless_cleared_and_the_user_is_the_jobs() {
    let Some(host) = engine_host() else { return };
    let (base, _) = images();
    const WITH_ENTRYPOINT: &str = "localhost/gantry-executor-entrypoint:1";
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Containerfile"),
        format!("FROM {base}\nENTRYPOINT [\"/bin/sh\", \"-c\", \"echo entrypoint-ran; exec \\\"$@\\\"\", \"--\"]\n"),
    )
    .unwrap();
    let out = Command::new("podman")
        .args(["build", "-q", "-t", WITH_ENTRYPOINT])
        .arg(ctx.path())
        .output()
        .expect("podman build");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let engine = rt.block_on(connect(host));

    let kept = spec(
        dir.path(),
        "entrypoint",
        &["echo script-ran"],
        job(WITH_ENTRYPOINT),
    );
    let (outcome, log) = rt.block_on(run(&engine, &kept, &CancellationToken::new()));
    assert_eq!(outcome, JobOutcome::Success, "{log:?}");
    let text = log.join("\n");
    assert!(
        text.contains("entrypoint-ran") && text.contains("script-ran"),
        "{text}"
    );

    let mut cleared = job(WITH_ENTRYPOINT);
    cleared.image.entrypoint = Some(vec![String::new()]);
    cleared.image.user = Some("1234:1234".into());
    let cleared = spec(
        dir.path(),
        "entrypoint-cleared",
        &[r#"echo "uid=$(id -u)""#],
        cleared,
    );
    let (outcome, log) = rt.block_on(run(&engine, &cleared, &CancellationToken::new()));
    assert_eq!(outcome, JobOutcome::Success, "{log:?}");
    let text = log.join("\n");
    assert!(
        !text.contains("entrypoint-ran") && text.contains("uid=1234"),
        "{text}"
    );
}

#[test]
fn timeouts_and_cancels_stop_the_job_and_leave_no_container() {
    let Some(host) = engine_host() else { return };
    let (base, web) = images();
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let engine = rt.block_on(connect(host));

    let mut timed = spec(dir.path(), "timed", &["echo started", "sleep 300"], job(base));
    timed.timeout = Duration::from_secs(2);
    let (outcome, log) = rt.block_on(run(&engine, &timed, &CancellationToken::new()));
    let text = log.join("\n");
    assert_eq!(
        outcome,
        JobOutcome::Failed {
            exit_code: None,
            kind: FailureKind::Timeout
        },
        "{text}"
    );
    assert!(
        text.contains("started") && text.contains("after: failed"),
        "{text}"
    );

    let mut with_service = job(base);
    with_service.services.push(ServiceSpec {
        image: image(web),
        ..ServiceSpec::default()
    });
    let canceled = spec(
        dir.path(),
        "canceled",
        &["echo started", "sleep 300"],
        with_service,
    );
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let (outcome, log) = rt.block_on(async {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            trigger.cancel();
        });
        run(&engine, &canceled, &cancel).await
    });
    assert_eq!(outcome, JobOutcome::Canceled, "{log:?}");
    assert!(
        log.iter().any(|l| l == "after: canceled"),
        "after_script runs after a cancel: {log:?}"
    );
    assert!(
        managed("timed").is_empty() && managed("canceled").is_empty(),
        "left behind"
    );
}

#[test]
fn pull_policies_decide_whether_an_image_may_be_pulled() {
    let Some(host) = engine_host() else { return };
    let (base, _) = images();
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let engine = rt.block_on(connect(host.clone()));

    let mut missing = job("localhost/gantry-no-such-image:1");
    missing.image.pull_policy = vec![PullPolicy::Never];
    let (outcome, log) = rt.block_on(run(
        &engine,
        &spec(dir.path(), "missing", &["true"], missing),
        &CancellationToken::new(),
    ));
    let text = log.join("\n");
    assert_eq!(
        outcome,
        JobOutcome::Failed {
            exit_code: None,
            kind: FailureKind::ImagePull
        },
        "{text}"
    );
    assert!(
        text.contains("is not on this engine and its pull_policy is never"),
        "{text}"
    );

    // A policy the runner does not allow is refused before anything is pulled.
    let mut always = job(base);
    always.image.pull_policy = vec![PullPolicy::Always];
    let (outcome, log) = rt.block_on(run(
        &engine,
        &spec(dir.path(), "always", &["true"], always),
        &CancellationToken::new(),
    ));
    let text = log.join("\n");
    assert!(
        matches!(
            outcome,
            JobOutcome::Failed {
                kind: FailureKind::ImagePull,
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("is not one of the allowed_pull_policies ([if-not-present, never])"),
        "{text}"
    );

    // never, then if-not-present: the local image is used.
    let mut local = job(base);
    local.image.pull_policy = vec![PullPolicy::Never, PullPolicy::IfNotPresent];
    let (outcome, log) = rt.block_on(run(
        &engine,
        &spec(dir.path(), "local", &["id -u"], local),
        &CancellationToken::new(),
    ));
    assert_eq!(outcome, JobOutcome::Success, "{log:?}");
    assert!(
        log.iter().any(|l| l.contains("Using locally found image")),
        "{log:?}"
    );
}

#[test]
fn containers_of_a_process_that_died_are_removed_on_the_next_start() {
    let Some(host) = engine_host() else { return };
    let (base, _) = images();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    // A pid no process has (above the kernel's pid_max), and this process's own.
    let dead = Command::new("podman")
        .args(["create", "--label", &format!("{LABEL_MANAGED}=true")])
        .args(["--label", &format!("dev.gantry.host={}", hostname.trim())])
        .args(["--label", "dev.gantry.pid=2000000000", base, "true"])
        .output()
        .expect("podman create");
    assert!(dead.status.success(), "{}", String::from_utf8_lossy(&dead.stderr));
    let alive = Command::new("podman")
        .args(["create", "--label", &format!("{LABEL_MANAGED}=true")])
        .args(["--label", &format!("dev.gantry.host={}", hostname.trim())])
        .args([
            "--label",
            &format!("dev.gantry.pid={}", std::process::id()),
            base,
            "true",
        ])
        .output()
        .expect("podman create");
    let alive = String::from_utf8_lossy(&alive.stdout).trim().to_owned();
    let rt = runtime();
    let engine = rt.block_on(connect(host));
    let removed = rt.block_on(engine.remove_leftovers()).expect("list");
    let dead = String::from_utf8_lossy(&dead.stdout).trim().to_owned();
    let exists = |id: &str| {
        Command::new("podman")
            .args(["container", "exists", id])
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(
        removed >= 1 && !exists(&dead),
        "the dead process's container is gone"
    );
    assert!(exists(&alive), "a live process's container stays");
    let _ = Command::new("podman").args(["rm", "-f", &alive]).output();
}
