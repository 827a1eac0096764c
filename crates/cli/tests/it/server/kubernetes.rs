//! End-to-end: review apps on the real test cluster (gantry-testenv) through `gantry server`.
//! The project's cluster connection is a file-type CI/CD variable `KUBECONFIG` scoped to the
//! `review/*` environments; each branch deploys with `gantry deploy` into the namespace of its
//! environment; the API lists the environment's deployments (who, which commit, status); an
//! earlier one is deployed again by retrying its job; deleting the branch, or its `auto_stop_in`
//! passing, stops the environment, whose `on_stop` job deletes the namespace.

use super::{Server, Work, databases, job_named, push, rand_suffix};
use gantry_testenv::Cluster;
use serde_json::{Value, json};

const PIPELINE: &str = r#"deploy_review:
  stage: deploy
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    kubernetes:
      namespace: $CI_ENVIRONMENT_SLUG
    on_stop: stop_review
    auto_stop_in: 1 week
  script:
    - gantry deploy -f k8s/ --timeout 60s
stop_review:
  stage: deploy
  when: manual
  variables:
    GIT_STRATEGY: none
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    kubernetes:
      namespace: $CI_ENVIRONMENT_SLUG
    action: stop
  script:
    - kubectl delete namespace "$KUBE_NAMESPACE" --wait=true --timeout=60s
"#;

fn app(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: app, image: \"{image}\"}}]}}\n"
    )
}

/// A server whose own jobs find kubectl and this gantry on their `PATH`.
fn server_for(cluster: &Cluster, data: &std::path::Path, database: Option<&str>, extra: &[&str]) -> Server {
    let gantry_dir = super::gantry().parent().expect("gantry's folder").to_owned();
    let path = cluster.path_with(&[gantry_dir]);
    Server::start_env(data, database, extra, &[("PATH", path)])
}

/// A new project whose cluster connection is the test cluster's kubeconfig (a file-type
/// variable for the `review/*` environments); returns its id and its git remote.
fn project_on_cluster(server: &Server, cluster: &Cluster) -> (i64, String) {
    let name = format!("shop{}", rand_suffix());
    let (status, project) = server.post("projects", json!({"name": name}));
    assert_eq!(status, 201, "{project}");
    let id = project["id"].as_i64().expect("project id");
    let kubeconfig = std::fs::read_to_string(cluster.kubeconfig()).expect("kubeconfig");
    let (status, var) = server.post(
        &format!("projects/{id}/variables"),
        json!({"key": "KUBECONFIG", "value": kubeconfig, "variable_type": "file", "environment_scope": "review/*"}),
    );
    assert_eq!(status, 201, "{var}");
    (id, server.remote(&format!("root/{name}"), super::TOKEN))
}

/// Pushes `branch` of `work`, waits for its pipeline (newer than `after`), checks that
/// `deploy_review` succeeded, and returns the pipeline and the namespace it deployed to.
fn deploy_branch(
    server: &Server,
    id: i64,
    remote: &str,
    work: &Work,
    branch: &str,
    after: i64,
) -> (Value, String) {
    let (ok, err) = push(work, remote, &[branch]);
    assert!(ok, "{err}");
    let pipeline = server.finished_pipeline(&id.to_string(), branch, after);
    let jobs = server.jobs(&id.to_string(), pipeline["id"].as_i64().unwrap());
    let deploy = job_named(&jobs, "deploy_review");
    let trace = server.trace(&id.to_string(), deploy["id"].as_i64().unwrap());
    assert_eq!(deploy["status"], "success", "{trace}");
    let ns = gantry_testenv::deployed_namespace(&trace);
    assert!(ns.starts_with(&format!("review-{branch}-")), "{ns}");
    (pipeline, ns)
}

/// Waits until the environment is stopped and its namespace is gone.
fn stopped_and_gone(server: &Server, cluster: &Cluster, id: i64, environment: &str, ns: &str) {
    server.wait_for("the environment to stop", |s| {
        let envs = s.get(&format!("projects/{id}/environments"));
        let env = envs
            .as_array()?
            .iter()
            .find(|e| e["name"] == environment)?
            .clone();
        (env["state"] == "stopped").then_some(())
    });
    let gone = (0..200).any(|_| {
        if !cluster.kubectl(&["get", "namespace", ns]).status.success() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        false
    });
    assert!(gone, "namespace {ns} deleted by the stop job");
}

#[test]
fn review_apps_deploy_per_branch_keep_a_history_redeploy_and_go_when_the_branch_is_deleted() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    for database in databases() {
        let data = tempfile::tempdir().expect("data dir");
        let server = server_for(cluster, data.path(), database.as_deref(), &[]);
        let (id, remote) = project_on_cluster(&server, cluster);
        let work = Work::new(&[
            (".gitlab-ci.yml", PIPELINE),
            ("k8s/app.yaml", &app("registry.test/shop:v1")),
        ]);
        work.git(&["checkout", "-qb", "feature-x"]);
        let (first, ns) = deploy_branch(&server, id, &remote, &work, "feature-x", 0);
        let image = || cluster.get(&ns, "deployment/web", "{.spec.template.spec.containers[0].image}");
        assert_eq!(image(), "registry.test/shop:v1");

        // A second commit deploys v2; the environment's history has both, newest first.
        work.commit(&[("k8s/app.yaml", &app("registry.test/shop:v2"))], "v2");
        let (second, _) = deploy_branch(
            &server,
            id,
            &remote,
            &work,
            "feature-x",
            first["id"].as_i64().unwrap(),
        );
        assert_eq!(image(), "registry.test/shop:v2");
        let history = |s: &Server| -> Vec<Value> {
            s.get(&format!("projects/{id}/deployments?environment=review/feature-x"))
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        let list = history(&server);
        assert_eq!(list.len(), 2, "{list:?}");
        assert_eq!(list[0]["sha"], second["sha"]);
        assert_eq!(list[1]["sha"], first["sha"]);
        assert!(
            list.iter()
                .all(|d| d["status"] == "success" && d["user"]["username"] == "root"),
            "{list:?}"
        );
        let one = server.get(&format!("projects/{id}/deployments/{}", list[1]["id"]));
        assert_eq!(one["deployable"]["name"], "deploy_review");

        // Deploying the first one again is retrying its job: v1 is back.
        let (status, retried) = server.post(
            &format!("projects/{id}/jobs/{}/retry", list[1]["deployable"]["id"]),
            json!({}),
        );
        assert_eq!(status, 201, "{retried}");
        server.wait_for("the re-deployment", |s| {
            let list = history(s);
            (list.len() == 3 && list[0]["status"] == "success").then_some(())
        });
        assert_eq!(history(&server)[0]["sha"], first["sha"]);
        assert_eq!(image(), "registry.test/shop:v1");

        // Deleting the branch stops the environment: its on_stop job deletes the namespace.
        let (ok, err) = push(&work, &remote, &[":feature-x"]);
        assert!(ok, "{err}");
        stopped_and_gone(&server, cluster, id, "review/feature-x", &ns);
        drop(server);
    }
}

#[test]
fn a_review_app_past_its_auto_stop_in_is_stopped_and_its_namespace_deleted() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    // SQLite only: the clock and the stop do not depend on the database.
    let data = tempfile::tempdir().expect("data dir");
    let server = server_for(cluster, data.path(), None, &["--auto-stop-interval", "1"]);
    let (id, remote) = project_on_cluster(&server, cluster);
    let pipeline = PIPELINE.replace("auto_stop_in: 1 week", "auto_stop_in: 2 seconds");
    let work = Work::new(&[
        (".gitlab-ci.yml", &pipeline),
        ("k8s/app.yaml", &app("registry.test/shop:v1")),
    ]);
    work.git(&["checkout", "-qb", "feature-y"]);
    let (_, ns) = deploy_branch(&server, id, &remote, &work, "feature-y", 0);
    stopped_and_gone(&server, cluster, id, "review/feature-y", &ns);
}
