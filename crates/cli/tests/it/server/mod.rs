//! End-to-end: the real `gantry server` binary on a loopback port with a temporary data
//! directory, the real `git` client pushing over HTTP, and the API followed with an HTTP
//! client, as a team would use it. This file holds the harness; the scenarios are in the
//! submodules. Every scenario runs on SQLite, and again on PostgreSQL
//! when `GANTRY_TEST_POSTGRES_URL` is set (scripts/services.sh starts one; with `CI=true`
//! the PostgreSQL runs are required).

mod access;
mod containers;
mod dashboard;
mod downstream;
mod interop;
mod kubernetes;
mod pipelines;
mod pushes;
mod registration;
mod registry;
mod runner_processes;
mod runners;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(super) const TOKEN: &str = "glpat-e2e0000000000000000";
pub(super) const SECRET: &str = "s3cr3t-value-4711";

pub(super) fn gantry() -> PathBuf {
    std::env::var_os("GANTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gantry")))
}

/// The databases to run on: SQLite (`None`), and a fresh PostgreSQL database when available.
pub(super) fn databases() -> Vec<Option<String>> {
    let mut out = vec![None];
    match std::env::var("GANTRY_TEST_POSTGRES_URL") {
        Ok(url) => {
            let name = format!("gantry_e2e_{}_{}", std::process::id(), rand_suffix());
            let ok = Command::new("psql")
                .arg(&url)
                .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot create database {name} on {url}");
            let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
            out.push(Some(format!("{base}/{name}")));
        }
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "GANTRY_TEST_POSTGRES_URL is not set: CI must run the server tests on PostgreSQL \
                 (eval \"$(bash scripts/services.sh start)\")"
            );
            println!("server: PostgreSQL runs skipped: GANTRY_TEST_POSTGRES_URL is not set");
        }
    }
    out
}

pub(super) fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000)
}

/// A running `gantry server`, killed when dropped.
pub(super) struct Server {
    child: Child,
    pub(super) url: String,
    pub(super) http: reqwest::blocking::Client,
}

impl Server {
    pub(super) fn start(data: &Path, database: Option<&str>) -> Server {
        Server::start_with(data, database, &[])
    }

    pub(super) fn start_with(data: &Path, database: Option<&str>, extra: &[&str]) -> Server {
        Server::start_env(data, database, extra, &[])
    }

    /// [`Server::start_with`] with more environment variables (which its own jobs inherit).
    pub(super) fn start_env(
        data: &Path,
        database: Option<&str>,
        extra: &[&str],
        env: &[(&str, std::ffi::OsString)],
    ) -> Server {
        let mut cmd = Command::new(gantry());
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--concurrency",
            "4",
            "--data-dir",
        ])
        .arg(data)
        .env("GANTRY_INITIAL_ROOT_TOKEN", TOKEN)
        .env("GANTRY_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        if let Some(url) = database {
            cmd.args(["--database-url", url]);
        }
        cmd.args(extra);
        let mut child = cmd.spawn().expect("start gantry server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("gantry server listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints where it listens");
        Server {
            child,
            url,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
        }
    }

    pub(super) fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(super) fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: &str,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v4/{path}", self.url))
            .header("PRIVATE-TOKEN", token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub(super) fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None, TOKEN);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub(super) fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body), TOKEN)
    }

    pub(super) fn bytes(&self, path: &str) -> Vec<u8> {
        let resp = self
            .http
            .get(format!("{}/api/v4/{path}", self.url))
            .header("PRIVATE-TOKEN", TOKEN)
            .send()
            .expect("request");
        assert_eq!(resp.status().as_u16(), 200, "GET {path}");
        resp.bytes().expect("body").to_vec()
    }

    pub(super) fn trace(&self, project: &str, job: i64) -> String {
        String::from_utf8_lossy(&self.bytes(&format!("projects/{project}/jobs/{job}/trace"))).into_owned()
    }

    /// The git remote of a project, with the token as the password.
    pub(super) fn remote(&self, path: &str, password: &str) -> String {
        let host = self.url.trim_start_matches("http://");
        format!("http://root:{password}@{host}/{path}.git")
    }

    /// Waits until `check` gives a value (polling the API), or fails after a minute.
    pub(super) fn wait_for<T>(&self, what: &str, mut check: impl FnMut(&Server) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(v) = check(self) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The newest pipeline of `git_ref`, once its status is final.
    pub(super) fn finished_pipeline(&self, project: &str, git_ref: &str, newer_than: i64) -> Value {
        self.wait_for(&format!("a finished pipeline on {git_ref}"), |s| {
            let list = s.get(&format!("projects/{project}/pipelines?ref={git_ref}"));
            let p = list.as_array()?.first()?.clone();
            let done =
                ["success", "failed", "canceled", "skipped", "manual"].contains(&p["status"].as_str()?);
            (done && p["id"].as_i64()? > newer_than).then_some(p)
        })
    }

    pub(super) fn jobs(&self, project: &str, pipeline: i64) -> Vec<Value> {
        self.get(&format!(
            "projects/{project}/pipelines/{pipeline}/jobs?per_page=100"
        ))
        .as_array()
        .cloned()
        .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub(super) fn job_named<'a>(jobs: &'a [Value], name: &str) -> &'a Value {
    jobs.iter()
        .find(|j| j["name"] == name)
        .unwrap_or_else(|| panic!("no job {name} in {jobs:?}"))
}

/// A work tree with `files` committed on `main`, pushing with an isolated git config.
pub(super) struct Work {
    pub(super) dir: tempfile::TempDir,
}

impl Work {
    pub(super) fn new(files: &[(&str, &str)]) -> Work {
        let work = Work {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        work.git(&["init", "-q", "-b", "main"]);
        work.commit(files, "initial");
        work
    }

    /// A clone of `remote`.
    pub(super) fn clone_of(remote: &str) -> Work {
        let work = Work {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        work.git(&["clone", "-q", remote, "."]);
        work
    }

    pub(super) fn commit(&self, files: &[(&str, &str)], message: &str) {
        for (path, text) in files {
            let full = self.dir.path().join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(full, text).expect("write");
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-qm", message]);
    }

    pub(super) fn run_git(&self, args: &[&str]) -> std::process::Output {
        Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(["-c", "credential.helper="])
            .args(args)
            .current_dir(self.dir.path())
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("HOME", self.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(Stdio::null())
            .output()
            .expect("git")
    }

    pub(super) fn git(&self, args: &[&str]) {
        let out = self.run_git(args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Pushes `refspec` and returns git's exit status and error output.
pub(super) fn push(work: &Work, remote: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec!["push", remote];
    all.extend_from_slice(args);
    let out = work.run_git(&all);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The commit a branch of a hosted repository points at, as `git ls-remote` sees it.
pub(super) fn remote_head(work: &Work, remote: &str, branch: &str) -> Option<String> {
    let out = work.run_git(&["ls-remote", remote, &format!("refs/heads/{branch}")]);
    assert!(
        out.status.success(),
        "ls-remote: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .map(str::to_owned)
}

/// Pipelines of `git_ref` (URL-encoded in the query).
pub(super) fn pipelines_of(server: &Server, project: &str, git_ref: &str) -> Vec<Value> {
    let encoded: String = git_ref
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let list = server.get(&format!("projects/{project}/pipelines?ref={encoded}"));
    list.as_array().cloned().unwrap_or_default()
}
