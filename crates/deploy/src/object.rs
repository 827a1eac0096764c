//! Objects by identity: the reference that names one object in a cluster, the order objects are
//! applied in, what a previous state is restored from, and the inventory of what a deployment
//! made (for `--prune`).
//!
//! Pure: values in, values out.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Names one object: group/version, kind, namespace (empty for cluster-wide kinds) and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    /// `apiVersion`, such as `apps/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`, such as `Deployment`.
    pub kind: String,
    /// The namespace; empty for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// The reference of an object (its namespace as written in it).
    pub fn of(object: &Value) -> ObjectRef {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        ObjectRef {
            api_version: text(&object["apiVersion"]),
            kind: text(&object["kind"]),
            namespace: text(&object["metadata"]["namespace"]),
            name: text(&object["metadata"]["name"]),
        }
    }

    /// The API group: `apps` for `apps/v1`, empty for the core group (`v1`).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
}

/// As kubectl prints it: `deployment.apps/web`, `service/web` (with ` -n ns` when namespaced).
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.to_lowercase();
        match self.group() {
            "" => write!(f, "{kind}/{}", self.name),
            group => write!(f, "{kind}.{group}/{}", self.name),
        }
    }
}

/// Where a kind comes in the apply order: what others need first (namespaces, custom resource
/// definitions, accounts, configuration), then services, then workloads; unknown kinds
/// (custom resources) last. Deletion goes the other way.
pub fn apply_rank(kind: &str) -> u8 {
    const ORDER: &[&str] = &[
        "Namespace",
        "NetworkPolicy",
        "ResourceQuota",
        "LimitRange",
        "PodDisruptionBudget",
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "StorageClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Service",
        "DaemonSet",
        "Pod",
        "ReplicationController",
        "ReplicaSet",
        "Deployment",
        "HorizontalPodAutoscaler",
        "StatefulSet",
        "Job",
        "CronJob",
        "IngressClass",
        "Ingress",
        "APIService",
    ];
    ORDER
        .iter()
        .position(|k| *k == kind)
        .map_or(ORDER.len() as u8, |i| i as u8)
}

/// Metadata fields the API server owns: never sent back when an earlier state is restored.
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// Annotations controllers write: left as they are now when an earlier state is restored.
const CONTROLLER_ANNOTATIONS: &[&str] = &["deployment.kubernetes.io/revision"];

/// The object to write back so that `current` returns to `previous` (both as read from the
/// API server): `previous` without its status and server-owned metadata, with the
/// `resourceVersion` of `current` (so the write fails rather than overwrite a newer change)
/// and the controller annotations of `current`.
pub fn restore(previous: &Value, current: &Value) -> Value {
    let mut out = previous.clone();
    let Some(map) = out.as_object_mut() else {
        return out;
    };
    map.remove("status");
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(meta) = meta.as_object_mut() {
        for field in SERVER_METADATA {
            meta.remove(*field);
        }
        if let Some(rv) = current["metadata"]["resourceVersion"].as_str() {
            meta.insert("resourceVersion".into(), Value::String(rv.to_owned()));
        }
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(annotations) = annotations.as_object_mut() {
            for key in CONTROLLER_ANNOTATIONS {
                annotations.remove(*key);
                if let Some(v) = current["metadata"]["annotations"][*key].as_str() {
                    annotations.insert((*key).to_owned(), Value::String(v.to_owned()));
                }
            }
        }
        if meta["annotations"].as_object().is_some_and(|a| a.is_empty()) {
            meta.remove("annotations");
        }
    }
    out
}

/// The objects one deployment (by inventory name) made, stored in a ConfigMap in its namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Every object applied and not pruned since.
    pub objects: Vec<ObjectRef>,
}

/// The key of the inventory ConfigMap's data that holds the object list (JSON).
pub const INVENTORY_KEY: &str = "objects";

/// The ConfigMap name of inventory `name`.
pub fn inventory_config_map(name: &str) -> String {
    format!("gantry-inventory-{name}")
}

impl Inventory {
    /// The objects of `self` that `applied` no longer has, in deletion order (the reverse of
    /// the apply order).
    pub fn prunable(&self, applied: &[ObjectRef]) -> Vec<ObjectRef> {
        let mut gone: Vec<ObjectRef> = self
            .objects
            .iter()
            .filter(|o| !applied.iter().any(|a| same_object(a, o)))
            .cloned()
            .collect();
        gone.sort_by_key(|o| std::cmp::Reverse(apply_rank(&o.kind)));
        gone
    }

    /// The inventory after a deployment of `applied`: with `prune`, exactly those; without, the
    /// earlier objects too (a later `--prune` still knows them).
    pub fn after(&self, applied: &[ObjectRef], prune: bool) -> Inventory {
        let mut objects: Vec<ObjectRef> = applied.to_vec();
        if !prune {
            for o in &self.objects {
                if !objects.iter().any(|a| same_object(a, o)) {
                    objects.push(o.clone());
                }
            }
        }
        objects.sort();
        objects.dedup();
        Inventory { objects }
    }
}

/// Same object: same group, kind, namespace and name (the version may change between
/// deployments: `autoscaling/v1` and `autoscaling/v2` name the same object).
pub fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.group() == b.group() && a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
}

#[cfg(test)]
mod tests;
