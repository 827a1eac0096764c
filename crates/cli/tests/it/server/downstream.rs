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
        for (namespace, name) in [("ops", "deploy"), ("me", "app")] {
            let (status, body) = server.post("projects", json!({"name": name, "namespace": namespace}));
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
