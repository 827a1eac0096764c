//! End-to-end: pipelines that deploy to the real test cluster (gantry-testenv) through
//! `gantry run`, with the cluster's kubeconfig in `KUBECONFIG` and kubectl, helm and gantry on
//! the jobs' `PATH`: the seed's way (kubectl, `rollout status`, a `when: on_failure` job running
//! `rollout undo`), `gantry deploy` in a review environment, and helm.

use super::{Repo, gantry, job, log};
use gantry_testenv::Cluster;
use std::ffi::OsString;

/// `KUBECONFIG` and a `PATH` with the cluster's tools and this gantry first.
fn cluster_env(cluster: &Cluster) -> Vec<(&'static str, OsString)> {
    let gantry_dir = gantry().parent().expect("gantry's folder").to_owned();
    vec![
        ("KUBECONFIG", cluster.kubeconfig().into()),
        ("PATH", cluster.path_with(&[gantry_dir])),
    ]
}

fn run_in(repo: &Repo, cluster: &Cluster) -> (serde_json::Value, i32) {
    let env = cluster_env(cluster);
    let env: Vec<(&str, &std::ffi::OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    repo.run_with(&[], &env)
}

/// Deployment `web`, 2 replicas, 5 s progress deadline; `never_ready` pods never become Ready.
fn web(image: &str, never_ready: bool) -> String {
    let behaviour = if never_ready {
        ", gantry.test/behaviour: never-ready"
    } else {
        ""
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: 2\n  progressDeadlineSeconds: 5\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web{behaviour}}}}}\n    spec: {{containers: [{{name: app, image: \"{image}\"}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}\n"
    )
}

fn image(cluster: &Cluster, ns: &str) -> String {
    cluster.get(ns, "deployment/web", "{.spec.template.spec.containers[0].image}")
}

const SEED_WAY: &str = r#"stages: [deploy, rollback]
variables:
  NS: seed-way
deploy_user_service:
  stage: deploy
  script:
    - kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f -
    - kubectl -n "$NS" apply -f k8s/
    - kubectl -n "$NS" rollout status deployment/web --timeout=60s
rollback_user_service:
  stage: rollback
  when: on_failure
  script:
    - kubectl -n "$NS" rollout undo deployment/web
    - kubectl -n "$NS" rollout status deployment/web --timeout=60s
"#;

#[test]
fn the_seeds_kubectl_pipeline_rolls_back_with_its_on_failure_job() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let repo = Repo::new(&[
        (".gitlab-ci.yml", SEED_WAY),
        ("k8s/web.yaml", &web("registry.test/app:v1", false)),
    ]);
    let (report, code) = run_in(&repo, cluster);
    assert_eq!(code, 0, "{report}");
    assert_eq!(job(&report, "deploy_user_service")["status"], "success");
    assert!(log(&report, "deploy_user_service").contains("successfully rolled out"));
    assert_eq!(job(&report, "rollback_user_service")["status"], "skipped");
    assert_eq!(image(cluster, "seed-way"), "registry.test/app:v1");

    repo.commit(&[("k8s/web.yaml", &web("registry.test/app:v2", true))]);
    let (report, code) = run_in(&repo, cluster);
    assert_ne!(code, 0, "the pipeline fails");
    assert_eq!(report["pipeline"]["status"], "failed");
    assert_eq!(job(&report, "deploy_user_service")["status"], "failed");
    assert!(
        log(&report, "deploy_user_service").contains("exceeded its progress deadline"),
        "{}",
        log(&report, "deploy_user_service")
    );
    assert_eq!(
        job(&report, "rollback_user_service")["status"],
        "success",
        "{}",
        log(&report, "rollback_user_service")
    );
    assert!(log(&report, "rollback_user_service").contains("rolled back"));
    assert_eq!(image(cluster, "seed-way"), "registry.test/app:v1");
    assert_eq!(
        cluster.get("seed-way", "deployment/web", "{.status.availableReplicas}"),
        "2"
    );
}

const GANTRY_WAY: &str = r#"deploy:
  stage: deploy
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    kubernetes:
      namespace: $CI_ENVIRONMENT_SLUG
  script:
    - gantry deploy -f k8s/ --timeout 60s
"#;

#[test]
fn gantry_deploy_in_a_review_environment_rolls_back_by_itself_and_fails_the_job() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let repo = Repo::new(&[
        (".gitlab-ci.yml", GANTRY_WAY),
        ("k8s/web.yaml", &web("registry.test/app:v1", false)),
    ]);
    let (report, code) = run_in(&repo, cluster);
    let first = log(&report, "deploy");
    assert_eq!(code, 0, "{first}");
    // The namespace is the environment's slug (`review/main` → `review-main-<suffix>`).
    let ns = gantry_testenv::deployed_namespace(&first);
    assert!(ns.starts_with("review-main-"), "{ns}");
    assert!(first.contains(&format!("namespace/{ns} created")), "{first}");
    assert!(first.contains("deployment.apps/web: rolled out"), "{first}");

    repo.commit(&[("k8s/web.yaml", &web("registry.test/app:v2", true))]);
    let (report, code) = run_in(&repo, cluster);
    let second = log(&report, "deploy");
    assert_ne!(code, 0);
    assert_eq!(job(&report, "deploy")["status"], "failed");
    for said in [
        "deployment.apps/web: exceeded its progress deadline (5 s)",
        "container app: waiting: CrashLoopBackOff",
        "deployment.apps/web restored to its previous state",
        "Every changed object was rolled back to its previous state.",
    ] {
        assert!(second.contains(said), "{said:?} missing from:\n{second}");
    }
    assert_eq!(image(cluster, &ns), "registry.test/app:v1");
    assert_eq!(
        cluster.get(&ns, "deployment/web", "{.status.availableReplicas}"),
        "2"
    );
}

const TOOLS: &str = r#"tools:
  script:
    - kubectl create namespace tools
    - kubectl -n tools create secret docker-registry regcred --docker-server=127.0.0.1:5000 --docker-username=gitlab-ci-token --docker-password=secret
    - helm upgrade --install web ./chart -n tools --wait --timeout 60s
    - helm upgrade --install web ./chart -n tools --wait --timeout 60s --set image=registry.test/app:v2
    - helm history web -n tools
"#;

const CHART: &str = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
const CHART_DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      imagePullSecrets: [{name: regcred}]\n      containers: [{name: app, image: {{ .Values.image | quote }}}]\n";

#[test]
fn job_scripts_use_kubectl_and_helm_with_the_kubeconfig_they_are_given() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let repo = Repo::new(&[
        (".gitlab-ci.yml", TOOLS),
        ("chart/Chart.yaml", CHART),
        ("chart/values.yaml", "image: registry.test/app:v1\n"),
        ("chart/templates/deployment.yaml", CHART_DEPLOYMENT),
    ]);
    let (report, code) = run_in(&repo, cluster);
    assert_eq!(code, 0, "{}", log(&report, "tools"));
    assert_eq!(
        cluster.get("tools", "secret/regcred", "{.type}"),
        "kubernetes.io/dockerconfigjson"
    );
    assert_eq!(image(cluster, "tools"), "registry.test/app:v2");
    assert!(
        log(&report, "tools").contains("Upgrade complete"),
        "{}",
        log(&report, "tools")
    );
}
