//! End-to-end: the real `gantry server` binary on a loopback port with a temporary data
//! directory, the real `git` client pushing over HTTP, and the API followed with an HTTP
//! client, as a team would use it. Every scenario runs on SQLite, and again on PostgreSQL
//! when `GANTRY_TEST_POSTGRES_URL` is set (scripts/services.sh starts one; with `CI=true`
//! the PostgreSQL runs are required).

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "glpat-e2e0000000000000000";
const SECRET: &str = "s3cr3t-value-4711";

fn gantry() -> PathBuf {
    std::env::var_os("GANTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gantry")))
}

/// The databases to run on: SQLite (`None`), and a fresh PostgreSQL database when available.
fn databases() -> Vec<Option<String>> {
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

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000)
}

/// A running `gantry server`, killed when dropped.
struct Server {
    child: Child,
    url: String,
    http: reqwest::blocking::Client,
}

impl Server {
    fn start(data: &Path, database: Option<&str>) -> Server {
        let mut cmd = Command::new(gantry());
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

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>, token: &str) -> (u16, Value) {
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

    fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None, TOKEN);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body), TOKEN)
    }

    fn bytes(&self, path: &str) -> Vec<u8> {
        let resp = self
            .http
            .get(format!("{}/api/v4/{path}", self.url))
            .header("PRIVATE-TOKEN", TOKEN)
            .send()
            .expect("request");
        assert_eq!(resp.status().as_u16(), 200, "GET {path}");
        resp.bytes().expect("body").to_vec()
    }

    fn trace(&self, project: &str, job: i64) -> String {
        String::from_utf8_lossy(&self.bytes(&format!("projects/{project}/jobs/{job}/trace"))).into_owned()
    }

    /// The git remote of a project, with the token as the password.
    fn remote(&self, path: &str, password: &str) -> String {
        let host = self.url.trim_start_matches("http://");
        format!("http://root:{password}@{host}/{path}.git")
    }

    /// Waits until `check` gives a value (polling the API), or fails after a minute.
    fn wait_for<T>(&self, what: &str, mut check: impl FnMut(&Server) -> Option<T>) -> T {
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
    fn finished_pipeline(&self, project: &str, git_ref: &str, newer_than: i64) -> Value {
        self.wait_for(&format!("a finished pipeline on {git_ref}"), |s| {
            let list = s.get(&format!("projects/{project}/pipelines?ref={git_ref}"));
            let p = list.as_array()?.first()?.clone();
            let done =
                ["success", "failed", "canceled", "skipped", "manual"].contains(&p["status"].as_str()?);
            (done && p["id"].as_i64()? > newer_than).then_some(p)
        })
    }

    fn jobs(&self, project: &str, pipeline: i64) -> Vec<Value> {
        self.get(&format!("projects/{project}/pipelines/{pipeline}/jobs"))
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

fn job_named<'a>(jobs: &'a [Value], name: &str) -> &'a Value {
    jobs.iter()
        .find(|j| j["name"] == name)
        .unwrap_or_else(|| panic!("no job {name} in {jobs:?}"))
}

/// A work tree with `files` committed on `main`, pushing with an isolated git config.
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new(files: &[(&str, &str)]) -> Work {
        let work = Work {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        work.git(&["init", "-q", "-b", "main"]);
        work.commit(files, "initial");
        work
    }

    fn commit(&self, files: &[(&str, &str)], message: &str) {
        for (path, text) in files {
            let full = self.dir.path().join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(full, text).expect("write");
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-qm", message]);
    }

    fn run_git(&self, args: &[&str]) -> std::process::Output {
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

    fn git(&self, args: &[&str]) {
        let out = self.run_git(args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const PIPELINE: &str = r#"
stages: [build, test, after]
build:
  stage: build
  script:
    - echo "the secret is $SECRET_TOKEN"
    - mkdir -p out && echo artifact-content > out/result.txt
  artifacts:
    paths: [out/]
flaky:
  stage: test
  script:
    - test -e "$SCRATCH/flaky-$CI_PIPELINE_ID" || { touch "$SCRATCH/flaky-$CI_PIPELINE_ID"; echo first attempt fails; exit 3; }
    - cat out/result.txt
after:
  stage: after
  script: ['echo after ran']
slow:
  stage: build
  rules:
    - if: $CI_COMMIT_BRANCH == "slow"
  script:
    - echo $$ > "$SCRATCH/slow.pid"
    - echo slow started
    - sleep 60
"#;

/// Validates an OpenAPI document with openapi-spec-validator (scripts/install-peers.sh
/// installs it; without it the check is skipped, except in CI).
fn check_openapi(doc: &str) {
    let v: Value = serde_json::from_str(doc).expect("the OpenAPI document is JSON");
    assert_eq!(v["openapi"], "3.1.0");
    assert!(v["paths"]["/projects/{id}/pipelines"]["get"].is_object(), "{doc}");
    let have = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must validate the OpenAPI document: pip install openapi-spec-validator"
        );
        println!("server: OpenAPI validation skipped: openapi-spec-validator is not installed");
        return;
    }
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import json, sys; from openapi_spec_validator import validate; validate(json.load(sys.stdin))",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(doc.as_bytes())
        .expect("write the document");
    let out = child.wait_with_output().expect("validator");
    assert!(
        out.status.success(),
        "the OpenAPI document is invalid: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn project_with_variables(server: &Server, scratch: &Path) -> String {
    let (status, project) = server.post("projects", json!({"name": "demo", "namespace": "group"}));
    assert_eq!(status, 201, "{project}");
    assert_eq!(project["path_with_namespace"], "group/demo");
    let id = "group%2Fdemo".to_owned();
    let (status, var) = server.post(
        &format!("projects/{id}/variables"),
        json!({"key": "SECRET_TOKEN", "value": SECRET, "masked": true}),
    );
    assert_eq!(status, 201, "{var}");
    let (status, _) = server.post(
        &format!("projects/{id}/variables"),
        json!({"key": "SCRATCH", "value": scratch.to_string_lossy()}),
    );
    assert_eq!(status, 201);
    id
}

#[test]
fn a_push_runs_its_pipeline_and_the_api_follows_retries_and_cancels_it() {
    for database in databases() {
        let label = if database.is_some() { "postgres" } else { "sqlite" };
        println!("server: scenario on {label}");
        let data = tempfile::tempdir().expect("data dir");
        let scratch = tempfile::tempdir().expect("scratch");
        let server = Server::start(data.path(), database.as_deref());
        let project = project_with_variables(&server, scratch.path());

        // The OpenAPI document is served without a token and is valid OpenAPI.
        let doc = server
            .http
            .get(format!("{}/api/v4/openapi.json", server.url))
            .send()
            .expect("openapi.json")
            .text()
            .expect("body");
        check_openapi(&doc);

        // A wrong token gets 401 and no detail.
        let (status, body) = server.call(reqwest::Method::GET, "projects", None, "glpat-wrong");
        assert_eq!(
            (status, body.clone()),
            (401, json!({"message": "401 Unauthorized"})),
            "{body}"
        );

        let work = Work::new(&[(".gitlab-ci.yml", PIPELINE)]);
        work.git(&["push", "-q", &server.remote("group/demo", TOKEN), "main"]);

        let pipeline = server.finished_pipeline(&project, "main", 0);
        assert_eq!(pipeline["status"], "failed", "{pipeline}");
        assert_eq!(pipeline["source"], "push");
        let pid = pipeline["id"].as_i64().expect("id");
        let jobs = server.jobs(&project, pid);
        assert_eq!(job_named(&jobs, "build")["status"], "success");
        assert_eq!(job_named(&jobs, "flaky")["status"], "failed");
        assert_eq!(job_named(&jobs, "after")["status"], "skipped");
        assert!(
            jobs.iter().all(|j| j["name"] != "slow"),
            "rules keep `slow` out of main"
        );

        // The masked variable is replaced in the log.
        let build = job_named(&jobs, "build")["id"].as_i64().expect("id");
        let trace = server.trace(&project, build);
        assert!(trace.contains("the secret is [MASKED]"), "{trace}");
        assert!(!trace.contains(SECRET), "{trace}");

        // The artifact archive holds what the job wrote.
        let zip_bytes = server.bytes(&format!("projects/{project}/jobs/{build}/artifacts"));
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).expect("a zip");
        let mut content = String::new();
        archive
            .by_name("out/result.txt")
            .expect("out/result.txt in the archive")
            .read_to_string(&mut content)
            .expect("read");
        assert_eq!(content, "artifact-content\n");

        // Retrying the failed job runs it again (a new job) and the pipeline goes on.
        let flaky = job_named(&jobs, "flaky")["id"].as_i64().expect("id");
        let (status, retried) = server.post(&format!("projects/{project}/jobs/{flaky}/retry"), json!({}));
        assert_eq!(status, 201, "{retried}");
        let new_id = retried["id"].as_i64().expect("id");
        assert_ne!(new_id, flaky);
        let done = server.wait_for("the retried pipeline to succeed", |s| {
            let p = s.get(&format!("projects/{project}/pipelines/{pid}"));
            (p["status"] == "success").then_some(p)
        });
        assert_eq!(done["status"], "success");
        let jobs = server.jobs(&project, pid);
        assert_eq!(job_named(&jobs, "flaky")["id"], new_id);
        assert_eq!(job_named(&jobs, "after")["status"], "success");
        assert!(server.trace(&project, new_id).contains("artifact-content"));

        // A push with a wrong password is refused and creates nothing.
        work.commit(&[("README", "x\n")], "second");
        let out = work.run_git(&["push", "-q", &server.remote("group/demo", "glpat-wrong"), "main"]);
        assert!(!out.status.success(), "a push with a wrong token must fail");
        let count = server
            .get(&format!("projects/{project}/pipelines"))
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(count, 1);

        // An invalid configuration gives a failed pipeline that shows the diagnostics.
        work.git(&["checkout", "-q", "-b", "broken"]);
        work.commit(&[(".gitlab-ci.yml", "job:\n  script: [echo\n")], "broken yaml");
        work.git(&["push", "-q", &server.remote("group/demo", TOKEN), "broken"]);
        let broken = server.finished_pipeline(&project, "broken", 0);
        assert_eq!(broken["status"], "failed");
        let detail = server.get(&format!("projects/{project}/pipelines/{}", broken["id"]));
        let errors = detail["yaml_errors"].as_str().unwrap_or_default();
        assert!(errors.contains(".gitlab-ci.yml:"), "{detail}");

        // Canceling a running pipeline stops its job's processes.
        work.git(&["checkout", "-q", "main"]);
        work.git(&["checkout", "-q", "-b", "slow"]);
        work.git(&["push", "-q", &server.remote("group/demo", TOKEN), "slow"]);
        let (slow_pipeline, slow_job) = server.wait_for("the slow job to run", |s| {
            let list = s.get(&format!("projects/{project}/pipelines?ref=slow"));
            let p = list.as_array()?.first()?.clone();
            let jobs = s.jobs(&project, p["id"].as_i64()?);
            let slow = jobs.iter().find(|j| j["name"] == "slow")?.clone();
            let running = slow["status"] == "running"
                && s.trace(&project, slow["id"].as_i64()?).contains("slow started");
            running.then(|| (p["id"].as_i64().unwrap_or(0), slow["id"].as_i64().unwrap_or(0)))
        });
        let pid_text = std::fs::read_to_string(scratch.path().join("slow.pid")).expect("pid file");
        let (status, _) = server.post(
            &format!("projects/{project}/pipelines/{slow_pipeline}/cancel"),
            json!({}),
        );
        assert_eq!(status, 200);
        let canceled = server.wait_for("the pipeline to be canceled", |s| {
            let p = s.get(&format!("projects/{project}/pipelines/{slow_pipeline}"));
            (p["status"] == "canceled").then_some(p)
        });
        assert_eq!(canceled["status"], "canceled");
        let job = server.get(&format!("projects/{project}/jobs/{slow_job}"));
        assert_eq!(job["status"], "canceled");
        let alive = Path::new(&format!("/proc/{}", pid_text.trim())).exists();
        assert!(!alive, "the canceled job's shell must be gone");
    }
}

#[test]
fn killing_the_server_mid_pipeline_keeps_logs_and_artifacts_and_the_pipeline_finishes() {
    for database in databases() {
        let data = tempfile::tempdir().expect("data dir");
        let scratch = tempfile::tempdir().expect("scratch");
        let mut server = Server::start(data.path(), database.as_deref());
        let project = project_with_variables(&server, scratch.path());
        let yaml = r#"
stages: [one, two]
producer:
  stage: one
  script: ['mkdir -p out', 'echo kept > out/kept.txt']
  artifacts: {paths: [out/]}
long:
  stage: two
  script:
    - echo "line-before-kill"
    - echo $$ > "$SCRATCH/long.pid"
    - sleep 30
"#;
        let work = Work::new(&[(".gitlab-ci.yml", yaml)]);
        work.git(&["push", "-q", &server.remote("group/demo", TOKEN), "main"]);
        let (pipeline, long) = server.wait_for("the long job's first line", |s| {
            let list = s.get(&format!("projects/{project}/pipelines?ref=main"));
            let p = list.as_array()?.first()?.clone();
            let jobs = s.jobs(&project, p["id"].as_i64()?);
            let long = jobs.iter().find(|j| j["name"] == "long")?["id"].as_i64()?;
            s.trace(&project, long)
                .contains("line-before-kill")
                .then(|| (p["id"].as_i64().unwrap_or(0), long))
        });
        let producer = server
            .jobs(&project, pipeline)
            .iter()
            .find(|j| j["name"] == "producer")
            .and_then(|j| j["id"].as_i64())
            .expect("producer");
        server.kill9();
        // The job's shell was the server's child: end its process group as the host would.
        if let Ok(pid) = std::fs::read_to_string(scratch.path().join("long.pid")) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", pid.trim())])
                .status();
        }

        let server = Server::start(data.path(), database.as_deref());
        let done = server.finished_pipeline(&project, "main", 0);
        assert_eq!(done["id"], pipeline);
        assert_eq!(done["status"], "failed", "{done}");
        let job = server.get(&format!("projects/{project}/jobs/{long}"));
        assert_eq!(job["status"], "failed");
        assert_eq!(job["failure_reason"], "runner_system_failure", "{job}");
        let trace = server.trace(&project, long);
        assert!(trace.contains("line-before-kill"), "{trace}");
        assert!(trace.contains("the server stopped"), "{trace}");
        let zip_bytes = server.bytes(&format!("projects/{project}/jobs/{producer}/artifacts"));
        assert!(zip_bytes.starts_with(b"PK"), "the artifact survives the restart");
    }
}

const GUARDED_PIPELINE: &str = r#"
show:
  script:
    - echo "deploy key is ${DEPLOY_KEY:-withheld}"
"#;

/// Pushes `refspec` and returns git's exit status and error output.
fn push(work: &Work, remote: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec!["push", remote];
    all.extend_from_slice(args);
    let out = work.run_git(&all);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The commit a branch of a hosted repository points at, as `git ls-remote` sees it.
fn remote_head(work: &Work, remote: &str, branch: &str) -> Option<String> {
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

#[test]
fn access_levels_and_protected_branches_decide_who_sees_pushes_and_gets_protected_variables() {
    for database in databases() {
        let label = if database.is_some() { "postgres" } else { "sqlite" };
        println!("server: access scenario on {label}");
        let data = tempfile::tempdir().expect("data dir");
        let server = Server::start(data.path(), database.as_deref());
        let (status, project) = server.post("projects", json!({"name": "guarded", "namespace": "ops"}));
        assert_eq!(status, 201, "{project}");
        let id = "ops%2Fguarded";
        let (status, var) = server.post(
            &format!("projects/{id}/variables"),
            json!({"key": "DEPLOY_KEY", "value": "only-on-protected", "protected": true}),
        );
        assert_eq!(status, 201, "{var}");
        // A new project's default branch is protected, for maintainers to push.
        let rules = server.get(&format!("projects/{id}/protected_branches"));
        assert_eq!(rules[0]["name"], "main", "{rules}");
        assert_eq!(rules[0]["push_access_levels"][0]["access_level"], 40, "{rules}");

        // Protected variables reach jobs on protected branches only.
        let remote = server.remote("ops/guarded", TOKEN);
        let work = Work::new(&[(".gitlab-ci.yml", GUARDED_PIPELINE)]);
        work.git(&["branch", "feature"]);
        work.git(&["push", "-q", &remote, "main", "feature"]);
        for (branch, expected) in [("main", "only-on-protected"), ("feature", "withheld")] {
            let pipeline = server.finished_pipeline(id, branch, 0);
            assert_eq!(pipeline["status"], "success", "{pipeline}");
            let jobs = server.jobs(id, pipeline["id"].as_i64().expect("id"));
            let log = server.trace(id, job_named(&jobs, "show")["id"].as_i64().expect("job id"));
            assert!(
                log.contains(&format!("deploy key is {expected}")),
                "{branch}: {log}"
            );
        }

        // Another user cannot see a private project: 404 in the API and for git, not listed.
        let (status, bob) = server.post("users", json!({"username": "bob"}));
        assert_eq!(status, 201, "{bob}");
        let (status, token) = server.post(
            &format!("users/{}/personal_access_tokens", bob["id"]),
            json!({"name": "bob's", "scopes": ["api"]}),
        );
        assert_eq!(status, 201, "{token}");
        let bob_token = token["token"].as_str().expect("token").to_owned();
        let (status, body) = server.call(reqwest::Method::GET, &format!("projects/{id}"), None, &bob_token);
        assert_eq!((status, body), (404, json!({"message": "404 Project Not Found"})));
        let (status, list) = server.call(reqwest::Method::GET, "projects", None, &bob_token);
        assert_eq!((status, list), (200, json!([])));
        let (status, _) = server.call(
            reqwest::Method::POST,
            "users",
            Some(json!({"username": "eve"})),
            &bob_token,
        );
        assert_eq!(status, 403, "only an administrator creates users");
        let (ok, err) = push(&work, &server.remote("ops/guarded", &bob_token), &["main:bobs"]);
        assert!(!ok && err.contains("not found"), "bob pushed: {err}");

        // A rule with "No one" refuses every push to its branches, with git's own error.
        let (status, rule) = server.post(
            &format!("projects/{id}/protected_branches"),
            json!({"name": "release/*", "push_access_level": 0}),
        );
        assert_eq!(status, 201, "{rule}");
        assert_eq!(
            rule["push_access_levels"][0]["access_level_description"],
            "No one"
        );
        let (status, _) = server.post(
            &format!("projects/{id}/protected_branches"),
            json!({"name": "release/*"}),
        );
        assert_eq!(status, 409, "protecting twice");
        let (ok, err) = push(&work, &remote, &["main:release/1.0"]);
        assert!(!ok, "pushed to a branch no one may push to");
        assert!(
            err.contains("not allowed to push code to the protected branch release/1.0"),
            "{err}"
        );
        assert_eq!(remote_head(&work, &remote, "release/1.0"), None);

        // Even a maintainer cannot force push to or delete a protected branch.
        let main_before = remote_head(&work, &remote, "main").expect("main");
        work.git(&["commit", "-q", "--amend", "-m", "rewritten"]);
        let (ok, err) = push(&work, &remote, &["--force", "main"]);
        assert!(!ok && err.contains("not allowed to force push"), "{err}");
        let (ok, err) = push(&work, &remote, &[":main"]);
        assert!(
            !ok && err.contains("cannot delete the protected branch main"),
            "{err}"
        );
        assert_eq!(remote_head(&work, &remote, "main"), Some(main_before));
        // An unprotected branch takes a force push.
        let (ok, err) = push(&work, &remote, &["--force", "main:feature"]);
        assert!(ok, "{err}");

        // Unprotecting lifts the rule.
        let (status, _) = server.call(
            reqwest::Method::DELETE,
            &format!("projects/{id}/protected_branches/release%2F*"),
            None,
            TOKEN,
        );
        assert_eq!(status, 204);
        let (ok, err) = push(&work, &remote, &["main:release/1.0"]);
        assert!(ok, "{err}");
        assert!(remote_head(&work, &remote, "release/1.0").is_some());
    }
}

const REDUNDANT_PIPELINE: &str = r#"
long:
  interruptible: true
  script: [sh work.sh]
"#;

/// The id of the newest pipeline on `git_ref` once its job `name` runs.
fn running_pipeline(server: &Server, project: &str, git_ref: &str, name: &str) -> i64 {
    server.wait_for(&format!("{name} running on {git_ref}"), |s| {
        let list = s.get(&format!("projects/{project}/pipelines?ref={git_ref}"));
        let id = list.as_array()?.first()?["id"].as_i64()?;
        (job_named(&s.jobs(project, id), name)["status"] == "running").then_some(id)
    })
}

// The auto-cancel decision does not depend on the database, so SQLite alone runs it.
#[test]
fn a_newer_push_cancels_the_redundant_pipeline_unless_a_job_that_is_not_interruptible_started() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::start(data.path(), None);
    let (status, project) = server.post("projects", json!({"name": "busy", "namespace": "team"}));
    assert_eq!(status, 201, "{project}");
    let id = "team%2Fbusy";
    let remote = server.remote("team/busy", TOKEN);

    // Every job started is interruptible: the older pipeline is canceled.
    let work = Work::new(&[(".gitlab-ci.yml", REDUNDANT_PIPELINE), ("work.sh", "sleep 60\n")]);
    work.git(&["push", "-q", &remote, "main"]);
    let older = running_pipeline(&server, id, "main", "long");
    work.commit(&[("work.sh", "echo second commit\n")], "second");
    work.git(&["push", "-q", &remote, "main"]);
    let newer = server.finished_pipeline(id, "main", older);
    assert_eq!(newer["status"], "success", "{newer}");
    let old = server.wait_for("the older pipeline to end", |s| {
        let p = s.get(&format!("projects/{id}/pipelines/{older}"));
        (p["status"] != "running").then_some(p)
    });
    assert_eq!(old["status"], "canceled", "{old}");
    assert_eq!(job_named(&server.jobs(id, older), "long")["status"], "canceled");

    // A started job that is not interruptible keeps the older pipeline (conservative).
    work.commit(
        &[
            (
                ".gitlab-ci.yml",
                &REDUNDANT_PIPELINE.replace("interruptible: true", "interruptible: false"),
            ),
            ("work.sh", "sleep 3\n"),
        ],
        "third",
    );
    work.git(&["push", "-q", &remote, "main"]);
    let kept = running_pipeline(&server, id, "main", "long");
    work.commit(&[("work.sh", "echo fourth commit\n")], "fourth");
    work.git(&["push", "-q", &remote, "main"]);
    let finished = server.wait_for("the third pipeline to end", |s| {
        let p = s.get(&format!("projects/{id}/pipelines/{kept}"));
        (p["status"] != "running").then_some(p)
    });
    assert_eq!(finished["status"], "success", "{finished}");
}
