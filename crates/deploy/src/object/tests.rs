//! Tests of object references, the apply order, restores and the inventory.

use super::*;
use serde_json::json;

fn r(api_version: &str, kind: &str, ns: &str, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

#[test]
fn references_print_as_kubectl_prints_them() {
    assert_eq!(
        r("apps/v1", "Deployment", "x", "web").to_string(),
        "deployment.apps/web"
    );
    assert_eq!(r("v1", "Service", "x", "web").to_string(), "service/web");
    let of = ObjectRef::of(
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}),
    );
    assert_eq!(of, r("v1", "ConfigMap", "n", "c"));
}

#[test]
fn namespaces_and_configuration_come_before_workloads() {
    let mut kinds = [
        "Deployment",
        "Widget",
        "Service",
        "Namespace",
        "ConfigMap",
        "CustomResourceDefinition",
    ];
    kinds.sort_by_key(|k| apply_rank(k));
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ConfigMap",
            "CustomResourceDefinition",
            "Service",
            "Deployment",
            "Widget"
        ]
    );
}

#[test]
fn a_restore_is_the_previous_object_at_the_current_version() {
    let previous = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "uid": "u1", "resourceVersion": "10", "generation": 1,
                     "creationTimestamp": "t", "managedFields": [{}],
                     "annotations": {"deployment.kubernetes.io/revision": "1", "team": "a"}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:v1"}]}}},
        "status": {"replicas": 2},
    });
    let current = json!({
        "metadata": {"resourceVersion": "17", "annotations": {"deployment.kubernetes.io/revision": "2"}},
    });
    assert_eq!(
        restore(&previous, &current),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "resourceVersion": "17",
                         "annotations": {"team": "a", "deployment.kubernetes.io/revision": "2"}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:v1"}]}}},
        })
    );
    let bare = restore(
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
        &json!({}),
    );
    assert_eq!(
        bare,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    );
}

#[test]
fn the_inventory_prunes_what_left_the_manifests_workloads_first() {
    let old = Inventory {
        objects: vec![
            r("v1", "ConfigMap", "n", "old-config"),
            r("apps/v1", "Deployment", "n", "old"),
            r("autoscaling/v1", "HorizontalPodAutoscaler", "n", "web"),
            r("apps/v1", "Deployment", "n", "web"),
        ],
    };
    let applied = [
        r("apps/v1", "Deployment", "n", "web"),
        r("autoscaling/v2", "HorizontalPodAutoscaler", "n", "web"),
    ];
    assert_eq!(
        old.prunable(&applied),
        [
            r("apps/v1", "Deployment", "n", "old"),
            r("v1", "ConfigMap", "n", "old-config")
        ]
    );
    assert_eq!(old.after(&applied, true).objects.len(), 2);
    let kept = old.after(&applied, false);
    assert_eq!(kept.objects.len(), 4, "{kept:?}");
    assert!(
        kept.objects
            .contains(&r("autoscaling/v2", "HorizontalPodAutoscaler", "n", "web"))
    );
}
