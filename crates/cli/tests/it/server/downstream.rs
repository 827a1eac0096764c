//! Trigger jobs on the server: a child pipeline from the files `trigger:include` names, with
//! `strategy: depend` (the trigger ends as the child does) and forwarded variables, and a
//! multi-project pipeline; both linked in the API (`/bridges`) and on the dashboard's pages.

use super::*;
use serde_json::json;

const PARENT: &str = r#"
stages: [build, downstream]
build:
  stage: build
  script: echo build
child:
  stage: downstream
  variables:
    GREETING: hello
  trigger:
    include: ci/child.yml
    strategy: depend
    forward:
      pipeline_variables: true
deploy:
  stage: downstream
  trigger:
    project: ops/deploy
    branch: main
broken:
  stage: downstream
  trigger:
    include:
      - artifact: generated.yml
        job: build
"#;

const CHILD: &str = r#"
child-job:
  script:
    - echo "child says $GREETING from $CI_PIPELINE_SOURCE"
    - if [ "$FAIL_CHILD" = "1" ]; then exit 1; fi
"#;

const DEPLOY: &str = r#"
deploy-job:
  script: echo "deploying for $CI_PIPELINE_SOURCE"
"#;

/// The newest pipeline of me/app from `source`, once finished.
fn finished(server: &Server, source: &str, newer_than: i64) -> Value {
    server.wait_for(&format!("a finished {source} pipeline"), |s| {
        let list = s.get(&format!("projects/me%2Fapp/pipelines?source={source}"));
        let p = list.as_array()?.first()?.clone();
        let done = ["success", "failed", "canceled"].contains(&p["status"].as_str()?);
        (done && p["id"].as_i64()? > newer_than).then_some(p)
    })
}

#[test]
fn trigger_jobs_create_linked_child_and_multi_project_pipelines() {
    for database in databases() {
        let label = if database.is_some() { "postgres" } else { "sqlite" };
        println!("server: downstream scenario on {label}");
        let data = tempfile::tempdir().expect("data dir");
        let server = Server::start(data.path(), database.as_deref());
        // ops/deploy is private; me/app is internal: any signed-in user sees it.
        for (namespace, name, visibility) in [("ops", "deploy", "private"), ("me", "app", "internal")] {
            let (status, body) = server.post(
                "projects",
                json!({"name": name, "namespace": namespace, "visibility": visibility}),
            );
            assert_eq!(status, 201, "{body}");
        }
        let deploy = Work::new(&[(".gitlab-ci.yml", DEPLOY)]);
        deploy.git(&["push", "-q", &server.remote("ops/deploy", TOKEN), "main"]);
        server.finished_pipeline("ops%2Fdeploy", "main", 0);
        let app = Work::new(&[(".gitlab-ci.yml", PARENT), ("ci/child.yml", CHILD)]);
        app.git(&["push", "-q", &server.remote("me/app", TOKEN), "main"]);

        let parent = finished(&server, "push", 0);
        let parent_id = parent["id"].as_i64().expect("id");
        let jobs = server.jobs("me%2Fapp", parent_id);
        assert_eq!(job_named(&jobs, "child")["status"], "success", "{jobs:?}");
        assert_eq!(job_named(&jobs, "deploy")["status"], "success");
        let broken = job_named(&jobs, "broken");
        assert_eq!(broken["status"], "failed");
        assert_eq!(broken["failure_reason"], "downstream_pipeline_creation_failed");
        let log = server.trace("me%2Fapp", broken["id"].as_i64().expect("id"));
        assert!(
            log.contains("trigger:include:artifact"),
            "the log says why: {log}"
        );
        assert_eq!(
            parent["status"], "failed",
            "the failed trigger fails its pipeline"
        );

        let bridges = server.get(&format!("projects/me%2Fapp/pipelines/{parent_id}/bridges"));
        let bridge = |name: &str| {
            bridges
                .as_array()
                .expect("bridges")
                .iter()
                .find(|b| b["name"] == name)
                .unwrap_or_else(|| panic!("no bridge {name}: {bridges}"))
                .clone()
        };
        let child = bridge("child")["downstream_pipeline"].clone();
        assert_eq!(
            (child["source"].as_str(), child["status"].as_str()),
            (Some("parent_pipeline"), Some("success"))
        );
        let child_id = child["id"].as_i64().expect("child id");
        let child_jobs = server.jobs("me%2Fapp", child_id);
        let child_log = server.trace(
            "me%2Fapp",
            job_named(&child_jobs, "child-job")["id"].as_i64().expect("id"),
        );
        assert!(
            child_log.contains("child says hello from parent_pipeline"),
            "{child_log}"
        );
        let other = bridge("deploy")["downstream_pipeline"].clone();
        assert_eq!(
            (other["source"].as_str(), other["project_id"].as_i64()),
            (Some("pipeline"), Some(1))
        );

        // The pages link both ways.
        let (status, _) = server.post(
            "users",
            json!({"username": "viewer", "password": "viewer-password", "admin": true}),
        );
        assert_eq!(status, 201);
        let cookie = super::dashboard::sign_in(&server, "viewer", "viewer-password", "/")
            .1
            .expect("cookie");
        let html = |path: &str| {
            server
                .http
                .get(format!("{}{path}", server.url))
                .header("cookie", &cookie)
                .send()
                .expect("page")
                .text()
                .expect("html")
        };
        let parent_page = html(&format!("/me/app/-/pipelines/{parent_id}"));
        assert!(
            parent_page.contains(&format!("href=\"/me/app/-/pipelines/{child_id}\"")),
            "{parent_page}"
        );
        assert!(
            parent_page.contains(&format!("ops/deploy pipeline #{}", other["iid"])),
            "{parent_page}"
        );
        let child_page = html(&format!("/me/app/-/pipelines/{child_id}"));
        assert!(
            child_page.contains("Triggered by")
                && child_page.contains(&format!("href=\"/me/app/-/pipelines/{parent_id}\""))
        );

        // Someone who sees me/app but not the private ops/deploy is shown the child, never
        // the other project's pipeline: not on the page, not in /bridges.
        let (status, _) = server.post(
            "users",
            json!({"username": "peer", "password": "peer-password-1"}),
        );
        assert_eq!(status, 201);
        let peer = super::dashboard::sign_in(&server, "peer", "peer-password-1", "/")
            .1
            .expect("cookie");
        let as_peer = |path: &str| {
            let resp = server
                .http
                .get(format!("{}{path}", server.url))
                .header("cookie", &peer)
                .send()
                .expect("request");
            assert_eq!(resp.status().as_u16(), 200, "{path}");
            resp.text().expect("body")
        };
        let peer_page = as_peer(&format!("/me/app/-/pipelines/{parent_id}"));
        assert!(
            peer_page.contains(&format!("href=\"/me/app/-/pipelines/{child_id}\"")),
            "{peer_page}"
        );
        assert!(!peer_page.contains("ops/deploy"), "{peer_page}");
        let peer_bridges: Value = serde_json::from_str(&as_peer(&format!(
            "/api/v4/projects/me%2Fapp/pipelines/{parent_id}/bridges"
        )))
        .expect("json");
        let names: Vec<&str> = peer_bridges
            .as_array()
            .expect("bridges")
            .iter()
            .filter_map(|b| b["name"].as_str())
            .collect();
        assert_eq!(names, ["child"], "{peer_bridges}");

        // With strategy: depend, a failing child fails its trigger job; pipeline variables
        // reach it because the trigger forwards them.
        let (status, second) = server.post(
            "projects/me%2Fapp/pipeline",
            json!({"ref": "main", "variables": [{"key": "FAIL_CHILD", "value": "1"}]}),
        );
        assert_eq!(status, 201, "{second}");
        let second = finished(&server, "api", parent_id);
        let jobs = server.jobs("me%2Fapp", second["id"].as_i64().expect("id"));
        let trigger = job_named(&jobs, "child");
        assert_eq!(trigger["status"], "failed", "{jobs:?}");
        let bridges = server.get(&format!("projects/me%2Fapp/pipelines/{}/bridges", second["id"]));
        let failed_child = bridges
            .as_array()
            .expect("bridges")
            .iter()
            .find(|b| b["name"] == "child")
            .expect("child bridge");
        assert_eq!(failed_child["downstream_pipeline"]["status"], "failed");
    }
}

/// Whether a pipeline (API JSON) has ended.
fn is_final(p: &Value) -> bool {
    ["success", "failed", "canceled"].contains(&p["status"].as_str().unwrap_or_default())
}

const WAITING_PARENT: &str = r#"
child:
  trigger:
    include: ci/child.yml
    strategy: depend
"#;

/// A child pipeline whose job records its shell's process id in `pid_file` and sleeps.
fn slow_child(pid_file: &Path) -> String {
    format!(
        "slow:\n  script:\n    - echo \"slow started\"\n    - echo $$ > '{}'\n    - sleep 60\n",
        pid_file.display()
    )
}

/// The trigger job of me/app's newest pipeline and its child pipeline's id, once the child's
/// job has started.
fn waiting_trigger(server: &Server, pid_file: &Path) -> (i64, i64, i64) {
    server.wait_for("the child's job to start", |s| {
        let list = s.get("projects/me%2Fapp/pipelines?source=push");
        let parent = list.as_array()?.first()?["id"].as_i64()?;
        let bridges = s.get(&format!("projects/me%2Fapp/pipelines/{parent}/bridges"));
        let bridge = bridges.as_array()?.first()?.clone();
        let child = bridge["downstream_pipeline"]["id"].as_i64()?;
        (bridge["status"] == "running" && pid_file.exists())
            .then(|| (parent, bridge["id"].as_i64().unwrap_or(0), child))
    })
}

// The waiting is the pipeline actor's, whatever the database: SQLite only.
#[test]
fn a_depend_trigger_is_canceled_with_its_child_and_waits_again_after_a_restart() {
    let data = tempfile::tempdir().expect("data dir");
    let scratch = tempfile::tempdir().expect("scratch");
    let pid_file = scratch.path().join("slow.pid");
    let mut server = Server::start(data.path(), None);
    let (status, body) = server.post("projects", json!({"name": "app", "namespace": "me"}));
    assert_eq!(status, 201, "{body}");
    let app = Work::new(&[
        (".gitlab-ci.yml", WAITING_PARENT),
        ("ci/child.yml", &slow_child(&pid_file)),
    ]);
    app.git(&["push", "-q", &server.remote("me/app", TOKEN), "main"]);

    // Canceling the waiting trigger job cancels the child pipeline and its job.
    let (parent, trigger, child) = waiting_trigger(&server, &pid_file);
    let (status, body) = server.post(&format!("projects/me%2Fapp/jobs/{trigger}/cancel"), json!({}));
    assert_eq!(status, 201, "{body}");
    let done = server.wait_for("both pipelines to end", |s| {
        let p = s.get(&format!("projects/me%2Fapp/pipelines/{parent}"));
        let c = s.get(&format!("projects/me%2Fapp/pipelines/{child}"));
        (is_final(&p) && is_final(&c)).then_some((p, c))
    });
    assert_eq!(
        (done.0["status"].as_str(), done.1["status"].as_str()),
        (Some("canceled"), Some("canceled")),
        "{done:?}"
    );
    assert_eq!(
        server.get(&format!("projects/me%2Fapp/jobs/{trigger}"))["status"],
        "canceled"
    );

    // Killed while the trigger waits: after the restart it waits again and ends as its
    // child does (the child's job was lost with the server, so the child fails).
    std::fs::remove_file(&pid_file).expect("remove the pid file");
    app.commit(&[("again.txt", "again")], "again");
    app.git(&["push", "-q", &server.remote("me/app", TOKEN), "main"]);
    let (parent, trigger, _) = waiting_trigger(&server, &pid_file);
    server.kill9();
    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", pid.trim())])
            .status();
    }
    let server = Server::start(data.path(), None);
    let p = server.wait_for("the parent to end", |s| {
        let p = s.get(&format!("projects/me%2Fapp/pipelines/{parent}"));
        is_final(&p).then_some(p)
    });
    assert_eq!(p["status"], "failed", "{p}");
    let job = server.get(&format!("projects/me%2Fapp/jobs/{trigger}"));
    assert_ne!(
        job["failure_reason"], "runner_system_failure",
        "a trigger job runs nowhere: the restart does not fail it: {job}"
    );
    let log = server.trace("me%2Fapp", trigger);
    assert!(log.contains("The downstream pipeline ended: failed"), "{log}");
}
