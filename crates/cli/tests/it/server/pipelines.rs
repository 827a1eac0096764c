//! Pushes that run pipelines: following one through the API (logs, artifacts, retry,
//! cancel, a masked variable, the OpenAPI document) and killing the server mid-pipeline.

use super::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

const CACHED_PIPELINE: &str = r#"
count:
  cache:
    key: counter
    paths: [counter/]
  script:
    - mkdir -p counter && echo "run $CI_COMMIT_SHORT_SHA" >> counter/runs.txt
    - echo "cached runs:" && cat counter/runs.txt
"#;

// Where caches and build directories live does not depend on the database: SQLite only.
#[test]
fn caches_outlive_their_pipeline_and_finished_pipelines_leave_no_build_directories() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::start(data.path(), None);
    let (status, project) = server.post("projects", json!({"name": "cached", "namespace": "team"}));
    assert_eq!(status, 201, "{project}");
    let id = "team%2Fcached";
    let remote = server.remote("team/cached", TOKEN);
    let work = Work::new(&[(".gitlab-ci.yml", CACHED_PIPELINE)]);
    work.git(&["push", "-q", &remote, "main"]);
    let first = server.finished_pipeline(id, "main", 0);
    assert_eq!(first["status"], "success", "{first}");
    work.commit(&[("README", "second\n")], "second");
    work.git(&["push", "-q", &remote, "main"]);
    let second = server.finished_pipeline(id, "main", first["id"].as_i64().expect("id"));
    assert_eq!(second["status"], "success", "{second}");
    let jobs = server.jobs(id, second["id"].as_i64().expect("id"));
    let log = server.trace(id, job_named(&jobs, "count")["id"].as_i64().expect("job id"));
    let runs = log.lines().filter(|l| l.starts_with("run ")).count();
    assert_eq!(runs, 2, "the second pipeline sees the first one's cache:\n{log}");

    for pipeline in [&first, &second] {
        let dir = data
            .path()
            .join("builds")
            .join(pipeline["id"].as_i64().expect("id").to_string());
        server.wait_for("the build directories to go", |_| {
            (!dir.join("builds").exists() && !dir.join("source").exists()).then_some(())
        });
    }
}

const EXPIRING_PIPELINE: &str = r#"
build:
  script: [mkdir -p out, echo short-lived > out/file.txt]
  artifacts:
    paths: [out/]
    expire_in: 2 seconds
keep:
  script: [mkdir -p out, echo kept > out/file.txt]
  artifacts:
    paths: [out/]
"#;

// The sweep does not depend on the database: SQLite only.
#[test]
fn expired_artifacts_are_deleted_and_the_others_kept() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::start_with(data.path(), None, &["--sweep-interval", "1"]);
    let (status, project) = server.post("projects", json!({"name": "expiry", "namespace": "team"}));
    assert_eq!(status, 201, "{project}");
    let id = "team%2Fexpiry";
    let work = Work::new(&[(".gitlab-ci.yml", EXPIRING_PIPELINE)]);
    work.git(&["push", "-q", &server.remote("team/expiry", TOKEN), "main"]);
    let pipeline = server.finished_pipeline(id, "main", 0);
    assert_eq!(pipeline["status"], "success", "{pipeline}");
    let jobs = server.jobs(id, pipeline["id"].as_i64().expect("id"));
    let artifacts = |name: &str| {
        let job = job_named(&jobs, name)["id"].as_i64().expect("job id");
        let (status, _) = server.call(
            reqwest::Method::GET,
            &format!("projects/{id}/jobs/{job}/artifacts"),
            None,
            TOKEN,
        );
        status
    };
    server.wait_for("the expired artifact to be deleted", |_| {
        (artifacts("build") == 404).then_some(())
    });
    assert_eq!(
        artifacts("keep"),
        200,
        "an artifact without expire_in is kept (30 days)"
    );
    let blobs: Vec<_> = walk(&data.path().join("blobs"));
    assert_eq!(blobs.len(), 1, "one archive left in the blob store: {blobs:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
