//! `gantry_deploy::deploy` against a real API server, controller manager and scheduler (KWOK
//! nodes): rollouts, failed rollouts rolled back, dry-run refusals, pruning, namespaces and
//! registry secrets. Each test works in a namespace of its own.

use gantry_deploy::{DeployError, Options, PullSecret, Summary, manifest};
use gantry_testenv::Cluster;
use std::sync::Mutex;
use std::time::Duration;

fn options(cluster: &Cluster, namespace: &str, yaml: &str) -> Options {
    Options {
        manifests: manifest::parse("app.yaml", yaml).expect("test manifests parse"),
        namespace: Some(namespace.to_owned()),
        kubeconfig: Some(cluster.kubeconfig().to_owned()),
        context: None,
        timeout: Duration::from_secs(60),
        wait: true,
        prune: false,
        inventory: "app".to_owned(),
        pull_secret: None,
    }
}

/// Runs a deployment; returns its result and the lines it said.
fn deploy(options: Options) -> (Result<Summary, DeployError>, Vec<String>) {
    let lines = Mutex::new(Vec::new());
    let say = |line: &str| lines.lock().unwrap().push(line.to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(gantry_deploy::deploy(options, &say));
    (result, lines.into_inner().unwrap())
}

/// A Deployment `web` (2 replicas, 5 s progress deadline) running `image`, with extra pod labels.
fn web(image: &str, pod_labels: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: 2\n  progressDeadlineSeconds: 5\n  revisionHistoryLimit: 5\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web{pod_labels}}}}}\n    spec: {{containers: [{{name: app, image: \"{image}\"}}]}}\n"
    )
}

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n";

/// Polls `check` every 100 ms for up to 20 s.
fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("not after 20 s: {what}");
}

#[test]
fn a_rollout_that_never_becomes_ready_is_rolled_back_to_the_previous_version() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let ns = "rollback";
    let settings =
        |data: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {data}\n");
    let v1 = format!(
        "{}---\n{SERVICE}---\n{}",
        web("registry.test/app:v1", ""),
        settings("{a: '1'}")
    );
    let (result, lines) = deploy(options(cluster, ns, &v1));
    let summary = result.unwrap_or_else(|e| panic!("v1: {e}\n{}", lines.join("\n")));
    assert_eq!(summary.created, 3, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("deployment.apps/web: rolled out")),
        "{lines:?}"
    );
    assert_eq!(
        cluster.get(ns, "deployment/web", "{.status.availableReplicas}"),
        "2"
    );

    // v2: new pods that never become Ready, and a ConfigMap that did not exist before.
    let v2 = format!(
        "{}---\n{SERVICE}---\n{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra}}\ndata: {{a: b}}\n",
        web("registry.test/app:v2", ", gantry.test/behaviour: never-ready"),
        settings("{a: '2'}")
    );
    let (result, lines) = deploy(options(cluster, ns, &v2));
    let text = lines.join("\n");
    let err = result.expect_err("v2 must fail").to_string();
    assert!(
        err.contains("deployment.apps/web: exceeded its progress deadline (5 s)"),
        "{err}"
    );
    assert!(err.contains("Every changed object was rolled back"), "{err}");
    assert!(
        text.contains("container app: waiting: CrashLoopBackOff"),
        "why the pods are not ready:\n{text}"
    );
    assert!(
        text.contains("configmap/extra deleted (it did not exist before)"),
        "{text}"
    );
    assert!(
        text.contains("deployment.apps/web restored to its previous state"),
        "{text}"
    );
    assert!(text.contains("service/web unchanged"), "{text}");

    // As `kubectl rollout undo` leaves it: the v1 ReplicaSet serves again, as revision 3.
    assert_eq!(
        cluster.get(ns, "deployment/web", "{.spec.template.spec.containers[0].image}"),
        "registry.test/app:v1"
    );
    assert_eq!(
        cluster.get(
            ns,
            "deployment/web",
            "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"
        ),
        "3"
    );
    assert_eq!(
        cluster.get(ns, "deployment/web", "{.status.availableReplicas}"),
        "2"
    );
    let sets = cluster.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "rs",
        "-o",
        "jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}={.spec.replicas} {end}",
    ]);
    let mut sets: Vec<&str> = sets.split_whitespace().collect();
    sets.sort();
    assert_eq!(sets, ["registry.test/app:v1=2", "registry.test/app:v2=0"]);
    eventually("only v1 pods are left", || {
        cluster.get(ns, "pods", "{.items[*].spec.containers[0].image}")
            == "registry.test/app:v1 registry.test/app:v1"
    });
    let cm = cluster.kubectl(&["-n", ns, "get", "configmap", "extra"]);
    assert!(!cm.status.success(), "the new ConfigMap is gone");

    assert_eq!(cluster.get(ns, "configmap/settings", "{.data}"), r#"{"a":"1"}"#);

    // The next good deployment goes through (the rollback left no field conflict behind),
    // and what it leaves out goes: the restored fields are owned by the apply again.
    let v3 = format!(
        "{}---\n{SERVICE}---\n{}",
        web("registry.test/app:v3", ""),
        settings("{c: '3'}")
    );
    let (result, lines) = deploy(options(cluster, ns, &v3));
    result.unwrap_or_else(|e| panic!("v3: {e}\n{}", lines.join("\n")));
    assert_eq!(
        cluster.get(ns, "deployment/web", "{.spec.template.spec.containers[0].image}"),
        "registry.test/app:v3"
    );
    assert_eq!(cluster.get(ns, "configmap/settings", "{.data}"), r#"{"c":"3"}"#);
}

#[test]
fn an_object_the_api_server_refuses_stops_the_deployment_before_anything_changes() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let ns = "refused";
    // The selector does not match the template's labels: the API server's validation refuses it.
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: other}}\n    spec: {containers: [{name: app, image: x}]}\n";
    let (result, lines) = deploy(options(cluster, ns, bad));
    let err = result
        .expect_err("the dry run refuses the Deployment")
        .to_string();
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(err.contains("deployment.apps/web (app.yaml:6)"), "{err}");
    assert!(err.contains("selector"), "{err}");
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("created") && l.contains("configmap")),
        "{lines:?}"
    );
    assert!(
        !cluster
            .kubectl(&["-n", ns, "get", "configmap", "settings"])
            .status
            .success()
    );
    assert!(
        lines.contains(&format!("namespace/{ns} deleted (it did not exist before)")),
        "{lines:?}"
    );
}

#[test]
fn prune_deletes_what_left_the_manifests_and_only_with_prune() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let ns = "prune";
    let cm =
        |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{k: v}}\n");
    let mut first = options(
        cluster,
        ns,
        &format!("{}---\n{}---\n{}", cm("a"), cm("b"), cm("c")),
    );
    first.prune = true;
    deploy(first).0.expect("first deployment");
    // Without --prune, what left the manifests stays (and the inventory keeps it).
    let (result, _) = deploy(options(cluster, ns, &format!("{}---\n{}", cm("a"), cm("b"))));
    assert_eq!(result.unwrap().pruned, 0);
    assert!(
        cluster
            .kubectl(&["-n", ns, "get", "configmap", "c"])
            .status
            .success()
    );
    let mut pruning = options(cluster, ns, &cm("a"));
    pruning.prune = true;
    let (result, lines) = deploy(pruning);
    assert_eq!(result.unwrap().pruned, 2, "{lines:?}");
    assert!(lines.contains(&"configmap/b pruned".to_owned()), "{lines:?}");
    for gone in ["b", "c"] {
        assert!(
            !cluster
                .kubectl(&["-n", ns, "get", "configmap", gone])
                .status
                .success(),
            "{gone} pruned"
        );
    }
    assert!(
        cluster
            .kubectl(&["-n", ns, "get", "configmap", "a"])
            .status
            .success()
    );
    let inventory = cluster.get(ns, "configmap/gantry-inventory-app", "{.data.objects}");
    assert_eq!(
        inventory,
        r#"{"objects":[{"apiVersion":"v1","kind":"ConfigMap","namespace":"prune","name":"a"}]}"#
    );

    // An object another inventory has taken over is not pruned by this one.
    deploy(options(cluster, ns, &format!("{}---\n{}", cm("a"), cm("shared"))))
        .0
        .expect("app with shared");
    let mut other = options(cluster, ns, &cm("shared"));
    other.inventory = "other".into();
    deploy(other).0.expect("other takes shared over");
    let mut pruning = options(cluster, ns, &cm("a"));
    pruning.prune = true;
    let (result, lines) = deploy(pruning);
    assert_eq!(result.unwrap().pruned, 0, "{lines:?}");
    assert!(
        cluster
            .kubectl(&["-n", ns, "get", "configmap", "shared"])
            .status
            .success()
    );
}

#[test]
fn a_review_namespace_is_created_and_pods_get_the_registry_secret() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let ns = "review-feature-x";
    let mut opts = options(cluster, ns, &web("127.0.0.1:5000/group/app:abc", ""));
    opts.pull_secret = Some(PullSecret {
        name: "gantry-registry".into(),
        registry: "127.0.0.1:5000".into(),
        username: "gitlab-ci-token".into(),
        password: "job-token".into(),
    });
    let (result, lines) = deploy(opts);
    result.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert!(lines.contains(&format!("namespace/{ns} created")), "{lines:?}");
    assert!(
        lines.contains(&"secret/gantry-registry created".to_owned()),
        "{lines:?}"
    );
    assert_eq!(
        cluster.get(
            "",
            &format!("namespace/{ns}"),
            "{.metadata.labels.app\\.kubernetes\\.io/managed-by}"
        ),
        "gantry"
    );
    assert_eq!(
        cluster.get(ns, "secret/gantry-registry", "{.type}"),
        "kubernetes.io/dockerconfigjson"
    );
    assert_eq!(
        cluster.get(
            ns,
            "deployment/web",
            "{.spec.template.spec.imagePullSecrets[0].name}"
        ),
        "gantry-registry"
    );
}

#[test]
fn a_failing_job_fails_the_deployment_and_goes_away() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let ns = "jobs";
    let ok = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: m, image: x}]}\n";
    let (result, lines) = deploy(options(cluster, ns, ok));
    result.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("job.batch/migrate: rolled out (complete")),
        "{lines:?}"
    );
    let failing = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: seed}\nspec:\n  backoffLimit: 0\n  template:\n    metadata: {labels: {gantry.test/behaviour: fail}}\n    spec: {restartPolicy: Never, containers: [{name: s, image: x}]}\n";
    let (result, lines) = deploy(options(cluster, ns, failing));
    let err = result.expect_err("the job fails").to_string();
    assert!(
        err.contains("job.batch/seed: BackoffLimitExceeded"),
        "{err}\n{lines:?}"
    );
    assert!(
        lines.contains(&"job.batch/seed deleted (it did not exist before)".to_owned()),
        "{lines:?}"
    );
}

#[test]
fn a_kind_the_cluster_does_not_serve_is_reported_where_it_is_written() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
    let (result, _) = deploy(options(cluster, "unknown-kind", text));
    let err = result.expect_err("no such kind").to_string();
    assert_eq!(
        err,
        "app.yaml:5: the cluster has no kind Widget in example.com/v1 (a custom resource needs its definition applied first)"
    );
}

#[test]
fn cluster_wide_objects_deploy_and_their_inventory_lives_in_the_namespace_given() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let ns = "cluster-wide-only";
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: gantry-test-reader, namespace: ignored}\nrules: [{apiGroups: [''], resources: [pods], verbs: [get]}]\n";
    let (result, lines) = deploy(options(cluster, ns, role));
    assert_eq!(result.unwrap_or_else(|e| panic!("{e}\n{lines:?}")).created, 1);
    assert!(
        lines.contains(&"clusterrole.rbac.authorization.k8s.io/gantry-test-reader created".to_owned()),
        "{lines:?}"
    );
    let inventory = cluster.get(ns, "configmap/gantry-inventory-app", "{.data.objects}");
    assert!(
        inventory.contains(r#""kind":"ClusterRole""#) && !inventory.contains("ignored"),
        "{inventory}"
    );
}

const GADGET_CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gadgets.test.gantry.dev}\nspec:\n  group: test.gantry.dev\n  scope: Namespaced\n  names: {plural: gadgets, singular: gadget, kind: Gadget}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n";

#[test]
fn a_custom_resource_deploys_with_its_definition_and_goes_with_a_failed_deployment() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let ns = "custom";
    let gadget = "apiVersion: test.gantry.dev/v1\nkind: Gadget\nmetadata: {name: g1}\nsize: 3\n";
    // Written before its definition: it is applied once the definition is served.
    let text = format!("{gadget}---\n{GADGET_CRD}");
    let (result, lines) = deploy(options(cluster, ns, &text));
    result.unwrap_or_else(|e| panic!("{e}\n{lines:?}"));
    assert!(
        lines.contains(&"gadget.test.gantry.dev/g1 created".to_owned()),
        "{lines:?}"
    );
    assert_eq!(cluster.get(ns, "gadget/g1", "{.size}"), "3");

    // A second gadget with a workload that never becomes Ready: both are rolled back.
    let g2 = "apiVersion: test.gantry.dev/v1\nkind: Gadget\nmetadata: {name: g2}\nsize: 1\n";
    let text = format!(
        "{gadget}---\n{g2}---\n{GADGET_CRD}---\n{}",
        web("x:1", ", gantry.test/behaviour: never-ready")
    );
    let (result, lines) = deploy(options(cluster, ns, &text));
    assert!(result.is_err(), "{lines:?}");
    assert!(
        lines.contains(&"gadget.test.gantry.dev/g2 deleted (it did not exist before)".to_owned()),
        "{lines:?}"
    );
    assert!(
        !cluster
            .kubectl(&["-n", ns, "get", "gadget", "g2"])
            .status
            .success()
    );
    assert!(
        cluster
            .kubectl(&["-n", ns, "get", "gadget", "g1"])
            .status
            .success()
    );
}

#[test]
fn stateful_sets_and_daemon_sets_are_waited_for_and_rolled_back_too() {
    let Some(cluster) = gantry_testenv::cluster() else {
        return;
    };
    let ns = "sets";
    let sets = |image: &str, labels: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db}}\nspec:\n  serviceName: db\n  replicas: 2\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db{labels}}}}}\n    spec: {{containers: [{{name: db, image: \"{image}\"}}]}}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent}}\nspec:\n  selector: {{matchLabels: {{app: agent}}}}\n  template:\n    metadata: {{labels: {{app: agent}}}}\n    spec: {{containers: [{{name: agent, image: \"{image}\"}}]}}\n"
        )
    };
    let (result, lines) = deploy(options(cluster, ns, &sets("registry.test/db:v1", "")));
    result.unwrap_or_else(|e| panic!("{e}\n{lines:?}"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("statefulset.apps/db: rolled out (2 of 2 pods ready")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("daemonset.apps/agent: rolled out (1 of 1 pods available")),
        "{lines:?}"
    );

    // A StatefulSet has no progress deadline: the timeout decides, then both sets go back to v1.
    let mut bad = options(
        cluster,
        ns,
        &sets("registry.test/db:v2", ", gantry.test/behaviour: never-ready"),
    );
    bad.timeout = Duration::from_secs(8);
    let (result, lines) = deploy(bad);
    let err = result
        .expect_err("the StatefulSet never becomes ready")
        .to_string();
    assert!(
        err.contains("statefulset.apps/db: not rolled out before the timeout"),
        "{err}\n{lines:?}"
    );
    assert!(
        lines.contains(&"statefulset.apps/db restored to its previous state".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"daemonset.apps/agent restored to its previous state".to_owned()),
        "{lines:?}"
    );
    assert_eq!(
        cluster.get(ns, "statefulset/db", "{.spec.template.spec.containers[0].image}"),
        "registry.test/db:v1"
    );
    assert_eq!(
        cluster.get(ns, "daemonset/agent", "{.spec.template.spec.containers[0].image}"),
        "registry.test/db:v1"
    );
}
