//! One deployment, start to end: resolve kinds, make sure the namespace exists, a server-side
//! dry run of everything (nothing changes if the API server refuses any object), read each
//! object's current state, apply in order, wait for the workloads, and on any failure put back
//! every object that changed (delete what did not exist before); on success prune what left the
//! manifests and record the inventory.

use crate::cluster::Cluster;
use crate::manifest::Manifest;
use crate::object::{self, INVENTORY_KEY, Inventory, ObjectRef};
use crate::{DeployError, Options, Say, Summary, diagnose, pull_secret, rollout, wait};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// The field manager of every change gantry makes.
pub const FIELD_MANAGER: &str = "gantry";

/// One object to apply.
struct Target {
    source: String,
    object: Value,
    oref: ObjectRef,
    api: Api<DynamicObject>,
    before: Option<Value>,
    changed: bool,
    /// What this deployment's apply returned (to tell a later writer's change from ours).
    applied: Option<Value>,
}

/// The annotation naming the inventory an object belongs to: `--prune` deletes only objects
/// of its own inventory.
pub const INVENTORY_ANNOTATION: &str = "gantry.dev/inventory";

pub(crate) async fn run(options: Options, say: &Say<'_>) -> Result<Summary, DeployError> {
    let started = Instant::now();
    if options.manifests.is_empty() {
        return Err(DeployError::NoManifests);
    }
    let mut cluster = Cluster::connect(options.kubeconfig.as_deref(), options.context.as_deref()).await?;
    let namespace = options
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| cluster.default_namespace.clone());
    let mut manifests = options.manifests;
    if let Some(secret) = &options.pull_secret {
        for m in &mut manifests {
            pull_secret::add_to_pods(&mut m.object, &secret.name);
        }
        manifests.push(Manifest {
            source: "--image-pull-secret".to_owned(),
            object: pull_secret::secret(secret),
        });
    }
    for m in &mut manifests {
        m.object["metadata"]["annotations"][INVENTORY_ANNOTATION] = json!(options.inventory);
    }
    manifests.sort_by_key(|m| object::apply_rank(m.object["kind"].as_str().unwrap_or_default()));
    say(&format!(
        "Deploying {} to namespace {namespace} on {}",
        count(manifests.len(), "object"),
        cluster.url
    ));

    // Kinds this deployment defines itself (custom resource definitions): their objects are
    // resolved and applied once the definitions are served.
    let defined: Vec<(String, String)> = manifests
        .iter()
        .filter(|m| m.object["kind"] == "CustomResourceDefinition")
        .map(|m| {
            let spec = &m.object["spec"];
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&spec["group"]), text(&spec["names"]["kind"]))
        })
        .collect();
    let mut targets = Vec::with_capacity(manifests.len());
    let mut deferred = Vec::new();
    for m in manifests {
        match resolve(&mut cluster, m, &namespace).await? {
            Ok(t) => targets.push(t),
            Err(m) => {
                let oref = ObjectRef::of(&m.object);
                if defined.iter().any(|(g, k)| g == oref.group() && *k == oref.kind) {
                    deferred.push(m);
                } else {
                    return Err(unknown_kind(m));
                }
            }
        }
    }
    for (i, t) in targets.iter().enumerate() {
        if let Some(other) = targets[..i]
            .iter()
            .find(|o| object::same_object(&o.oref, &t.oref))
        {
            return Err(DeployError::Manifest(crate::manifest::ManifestError {
                location: t.source.clone(),
                message: format!("{} is also at {}", t.oref, other.source),
            }));
        }
    }
    let declared: Vec<String> = targets
        .iter()
        .filter(|t| t.oref.kind == "Namespace")
        .map(|t| t.oref.name.clone())
        .collect();
    let mut absent_namespaces = Vec::new();
    let mut created_namespaces = Vec::new();
    // The deployment's namespace holds the inventory even when every object is cluster-wide.
    let mut wanted = namespaces_of(&targets);
    if !wanted.contains(&namespace) {
        wanted.push(namespace.clone());
    }
    for ns in wanted {
        if !namespace_exists(&cluster, &ns).await? {
            if declared.contains(&ns) {
                absent_namespaces.push(ns);
            } else {
                create_namespace(&cluster, &ns, say).await?;
                created_namespaces.push(ns);
            }
        }
    }

    // A dry run first, so that an object the API server refuses changes nothing at all.
    let mut refused = Vec::new();
    for t in &targets {
        if absent_namespaces.contains(&t.oref.namespace) {
            continue;
        }
        let params = PatchParams {
            dry_run: true,
            ..PatchParams::apply(FIELD_MANAGER).force()
        };
        if let Err(e) = t.api.patch(&t.oref.name, &params, &Patch::Apply(&t.object)).await {
            refused.push(format!("{} ({}): {}", t.oref, t.source, api_message(&e)));
        }
    }
    if !refused.is_empty() {
        delete_namespaces(&cluster, &created_namespaces, say).await;
        return Err(DeployError::Refused(refused));
    }

    for t in &mut targets {
        t.before = get(&t.api, &t.oref).await?;
    }
    let mut summary = Summary::default();
    for i in 0..targets.len() {
        if let Err(reason) = apply_one(&mut targets[i], &mut summary, say).await {
            return Err(rolled_back(
                &cluster,
                &targets,
                &created_namespaces,
                vec![reason],
                options.timeout,
                say,
            )
            .await);
        }
    }
    for m in deferred {
        let applied = match served(&mut cluster, m, &namespace).await {
            Ok(t) => {
                targets.push(t);
                let last = targets.len() - 1;
                apply_one(&mut targets[last], &mut summary, say).await
            }
            Err(reason) => Err(reason),
        };
        if let Err(reason) = applied {
            return Err(rolled_back(
                &cluster,
                &targets,
                &created_namespaces,
                vec![reason],
                options.timeout,
                say,
            )
            .await);
        }
    }

    if options.wait {
        let workloads: Vec<(ObjectRef, Api<DynamicObject>)> = targets
            .iter()
            .filter(|t| rollout::is_workload(&t.oref.api_version, &t.oref.kind))
            // A Job applied without a change ran before: its old result is not this deployment's.
            .filter(|t| t.changed || t.oref.kind != "Job")
            .map(|t| (t.oref.clone(), t.api.clone()))
            .collect();
        let failed = wait::all(&workloads, Instant::now() + options.timeout, say).await;
        if !failed.is_empty() {
            let mut reasons = Vec::new();
            for f in &failed {
                let reason = format!("{}: {}", f.object, f.reason);
                say(&format!("error: {reason}"));
                reasons.push(reason);
                let target = targets
                    .iter()
                    .find(|t| t.oref == f.object)
                    .expect("waited for targets only");
                if let Ok(Some(now)) = get(&target.api, &target.oref).await {
                    for line in diagnose::why(&cluster.client, &f.object, &now).await {
                        say(&format!("  {line}"));
                    }
                }
            }
            return Err(rolled_back(
                &cluster,
                &targets,
                &created_namespaces,
                reasons,
                options.timeout,
                say,
            )
            .await);
        }
    }

    let applied: Vec<ObjectRef> = targets.iter().map(|t| t.oref.clone()).collect();
    summary.pruned = record_inventory(
        &mut cluster,
        &namespace,
        &options.inventory,
        &applied,
        options.prune,
        say,
    )
    .await
    .map_err(|e| DeployError::AfterRollout(e.to_string()))?;
    say(&format!("Deployed in {:.1} s", started.elapsed().as_secs_f64()));
    Ok(summary)
}

/// Applies one object (server-side apply), says what happened, and notes whether it changed;
/// the error is the reason, for the rollback's message.
async fn apply_one(t: &mut Target, summary: &mut Summary, say: &Say<'_>) -> Result<(), String> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    match t.api.patch(&t.oref.name, &params, &Patch::Apply(&t.object)).await {
        Ok(after) => {
            let before_version = t
                .before
                .as_ref()
                .and_then(|b| b["metadata"]["resourceVersion"].as_str().map(str::to_owned));
            let changed = t.before.is_none() || before_version != after.metadata.resource_version;
            let verb = match (&t.before, changed) {
                (None, _) => {
                    summary.created += 1;
                    "created"
                }
                (Some(_), true) => {
                    summary.configured += 1;
                    "configured"
                }
                (Some(_), false) => {
                    summary.unchanged += 1;
                    "unchanged"
                }
            };
            say(&format!("{} {verb}", t.oref));
            t.changed = changed;
            t.applied = serde_json::to_value(&after).ok();
            Ok(())
        }
        Err(e) => {
            let reason = format!("{} ({}): {}", t.oref, t.source, api_message(&e));
            say(&format!("error: {reason}"));
            Err(reason)
        }
    }
}

/// A custom resource of a definition this deployment applied, once the API server serves
/// its kind (30 s at most), with its current state.
async fn served(cluster: &mut Cluster, m: Manifest, namespace: &str) -> Result<Target, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut m = m;
    loop {
        match resolve(cluster, m, namespace).await {
            Ok(Ok(mut t)) => {
                t.before = get(&t.api, &t.oref).await.map_err(|e| e.to_string())?;
                return Ok(t);
            }
            Ok(Err(back)) if Instant::now() < deadline => {
                m = back;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Err(back)) => return Err(unknown_kind(back).to_string()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn unknown_kind(m: Manifest) -> DeployError {
    let oref = ObjectRef::of(&m.object);
    DeployError::Manifest(crate::manifest::ManifestError {
        location: m.source,
        message: format!(
            "the cluster has no kind {} in {} (a custom resource needs its definition applied first)",
            oref.kind, oref.api_version
        ),
    })
}

/// The object with its namespace settled, and the API it is written through; `Err` gives
/// the manifest back when the cluster does not serve its kind.
async fn resolve(
    cluster: &mut Cluster,
    m: Manifest,
    namespace: &str,
) -> Result<Result<Target, Manifest>, DeployError> {
    let wanted = ObjectRef::of(&m.object);
    let Some((resource, namespaced)) = cluster.kind(&wanted.api_version, &wanted.kind).await? else {
        return Ok(Err(m));
    };
    let mut object = m.object;
    let oref = ObjectRef::of(&object);
    let api = if namespaced {
        if !oref.namespace.is_empty() && oref.namespace != namespace {
            return Err(DeployError::Manifest(crate::manifest::ManifestError {
                location: m.source,
                message: format!(
                    "{oref} is in namespace {}, but the deployment goes to {namespace} (leave `metadata.namespace` out, or deploy to that namespace)",
                    oref.namespace
                ),
            }));
        }
        object["metadata"]["namespace"] = json!(namespace);
        Api::namespaced_with(cluster.client.clone(), namespace, &resource)
    } else {
        if let Some(meta) = object["metadata"].as_object_mut() {
            meta.remove("namespace");
        }
        Api::all_with(cluster.client.clone(), &resource)
    };
    Ok(Ok(Target {
        source: m.source,
        oref: ObjectRef::of(&object),
        object,
        api,
        before: None,
        changed: false,
        applied: None,
    }))
}

fn namespaces_of(targets: &[Target]) -> Vec<String> {
    let mut out: Vec<String> = targets
        .iter()
        .map(|t| t.oref.namespace.clone())
        .filter(|n| !n.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

async fn namespace_exists(cluster: &Cluster, name: &str) -> Result<bool, DeployError> {
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    match api.get_opt(name).await {
        Ok(found) => Ok(found.is_some()),
        Err(e) => Err(DeployError::Cluster(format!(
            "cannot read namespace {name}: {}",
            api_message(&e)
        ))),
    }
}

/// Creates the namespace the deployment goes to, and waits (10 s at most) for its default
/// ServiceAccount: until the controller made it, no pod can be created there.
async fn create_namespace(cluster: &Cluster, name: &str, say: &Say<'_>) -> Result<(), DeployError> {
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    let ns = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": FIELD_MANAGER}},
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(name, &params, &Patch::Apply(&ns))
        .await
        .map_err(|e| DeployError::Cluster(format!("cannot create namespace {name}: {}", api_message(&e))))?;
    say(&format!("namespace/{name} created"));
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), name);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = accounts.get_opt("default").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

async fn get(api: &Api<DynamicObject>, oref: &ObjectRef) -> Result<Option<Value>, DeployError> {
    match api.get_opt(&oref.name).await {
        Ok(found) => Ok(found.map(|o| serde_json::to_value(o).unwrap_or(Value::Null))),
        Err(e) => Err(DeployError::Cluster(format!(
            "cannot read {oref}: {}",
            api_message(&e)
        ))),
    }
}

/// The error of a failed deployment, once everything it changed is put back: the changed
/// targets (one not applied yet, or whose apply failed, has not changed) and the namespaces
/// it created.
async fn rolled_back(
    cluster: &Cluster,
    targets: &[Target],
    created_namespaces: &[String],
    reasons: Vec<String>,
    timeout: Duration,
    say: &Say<'_>,
) -> DeployError {
    let mut problems = roll_back(targets, timeout, say).await;
    problems.extend(delete_namespaces(cluster, created_namespaces, say).await);
    DeployError::RolledBack {
        reasons,
        rollback_problems: problems,
    }
}

/// Puts every changed object of `targets` back as it was, in reverse order: deletes those that
/// did not exist, writes back the earlier state of the others; then waits for the restored
/// workloads. Returns what could not be restored.
async fn roll_back(targets: &[Target], timeout: Duration, say: &Say<'_>) -> Vec<String> {
    let changed: Vec<&Target> = targets.iter().filter(|t| t.changed).collect();
    if changed.is_empty() {
        say("Nothing to roll back: no object had changed");
        return Vec::new();
    }
    say(&format!(
        "Rolling back {}",
        count(changed.len(), "changed object")
    ));
    let mut problems = Vec::new();
    let mut restored = Vec::new();
    for t in changed.iter().rev() {
        match &t.before {
            None => match t.api.delete(&t.oref.name, &DeleteParams::background()).await {
                Ok(_) => say(&format!("{} deleted (it did not exist before)", t.oref)),
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => problems.push(format!("{}: cannot delete it: {}", t.oref, api_message(&e))),
            },
            Some(previous) => match restore(t, previous).await {
                Ok(failed_revision) => {
                    say(&format!("{} restored to its previous state", t.oref));
                    if let Some(revision) = failed_revision {
                        delete_pods_of_revision(t, previous, &revision, say).await;
                    }
                    if rollout::is_workload(&t.oref.api_version, &t.oref.kind) {
                        restored.push((t.oref.clone(), t.api.clone()));
                    }
                }
                Err(e) => problems.push(format!("{}: cannot restore it: {e}", t.oref)),
            },
        }
    }
    for f in wait::all(&restored, Instant::now() + timeout, say).await {
        problems.push(format!(
            "{}: the restored version did not roll out: {}",
            f.object, f.reason
        ));
    }
    problems
}

/// Writes `previous` back over the object (retrying when another writer got there between the
/// read and the write). For a StatefulSet that was rolling out another revision, returns that
/// revision: its pods must go (below).
async fn restore(t: &Target, previous: &Value) -> Result<Option<String>, String> {
    for _ in 0..5 {
        let current = match t.api.get_opt(&t.oref.name).await {
            Ok(Some(c)) => serde_json::to_value(c).map_err(|e| e.to_string())?,
            Ok(None) => json!({}),
            Err(e) => return Err(api_message(&e)),
        };
        if moved_on(t.applied.as_ref(), &current) {
            return Err(
                "someone else changed it after this deployment applied it, so it is left as it is".to_owned(),
            );
        }
        let failed_revision = (t.oref.kind == "StatefulSet")
            .then(|| current["status"]["updateRevision"].as_str())
            .flatten()
            .filter(|r| Some(*r) != previous["status"]["updateRevision"].as_str())
            .map(str::to_owned);
        let mut body: DynamicObject =
            serde_json::from_value(object::restore(previous, &current)).map_err(|e| e.to_string())?;
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PostParams::default()
        };
        let result = if current["metadata"]["resourceVersion"].is_string() {
            t.api.replace(&t.oref.name, &params, &body).await
        } else {
            body.metadata.resource_version = None;
            t.api.create(&params, &body).await
        };
        match result {
            Ok(_) => {
                restore_field_owners(t, previous).await?;
                return Ok(failed_revision);
            }
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(api_message(&e)),
        }
    }
    Err("it kept changing while it was being restored".to_owned())
}

/// True when `current` has a change made after this deployment's apply (`applied`): a new
/// generation (spec changes; status updates do not count), or for kinds without generations
/// a new resource version.
fn moved_on(applied: Option<&Value>, current: &Value) -> bool {
    let Some(applied) = applied else { return false };
    let field = |v: &Value, f: &str| v["metadata"][f].clone();
    match (field(applied, "generation"), field(current, "generation")) {
        (Value::Number(a), Value::Number(c)) => a != c,
        _ => field(applied, "resourceVersion") != field(current, "resourceVersion"),
    }
}

/// Gives the restored fields back to the managers that owned them before (the write above
/// made them the update manager's): a patch of `managedFields` alone, which the API server
/// takes as it is. Without it a field the earlier apply set would stay owned by the update
/// and survive the next apply that leaves it out.
async fn restore_field_owners(t: &Target, previous: &Value) -> Result<(), String> {
    let owners = &previous["metadata"]["managedFields"];
    if owners.as_array().is_none_or(|a| a.is_empty()) {
        return Ok(());
    }
    let patch = json!({"metadata": {"managedFields": owners}});
    t.api
        .patch(&t.oref.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
        .map_err(|e| format!("restored, but its field owners could not be: {}", api_message(&e)))
}

/// Deletes the namespaces this deployment created (after a failure), saying so; returns
/// what could not be deleted.
async fn delete_namespaces(cluster: &Cluster, names: &[String], say: &Say<'_>) -> Vec<String> {
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    let mut problems = Vec::new();
    for name in names {
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => say(&format!("namespace/{name} deleted (it did not exist before)")),
            Err(e) => problems.push(format!("namespace/{name}: cannot delete it: {}", api_message(&e))),
        }
    }
    problems
}

/// Deletes the pods a StatefulSet made from a revision that is rolled back. Kubernetes' own
/// advice ("forced rollback"): the controller does not replace a pod of the bad revision
/// that never became Ready, so reverting the template alone leaves the rollout stuck.
async fn delete_pods_of_revision(t: &Target, previous: &Value, revision: &str, say: &Say<'_>) {
    let selector = &previous["spec"]["selector"];
    if !selector["matchLabels"].is_object() {
        return;
    }
    let selector: Vec<String> = diagnose::match_labels(selector)
        .into_iter()
        .chain([format!("controller-revision-hash={revision}")])
        .collect();
    let pods: Api<Pod> = Api::namespaced(t.api.clone().into_client(), &t.oref.namespace);
    let Ok(list) = pods
        .list(&ListParams::default().labels(&selector.join(",")))
        .await
    else {
        return;
    };
    for pod in list.items {
        let name = pod.metadata.name.unwrap_or_default();
        if pods.delete(&name, &DeleteParams::default()).await.is_ok() {
            say(&format!(
                "pod/{name} deleted (it runs the rolled-back revision, which a StatefulSet does not replace by itself)"
            ));
        }
    }
}

/// Prunes (with `prune`) what the inventory has and `applied` does not, then stores the new
/// inventory. Returns how many objects were pruned.
async fn record_inventory(
    cluster: &mut Cluster,
    namespace: &str,
    name: &str,
    applied: &[ObjectRef],
    prune: bool,
    say: &Say<'_>,
) -> Result<usize, DeployError> {
    let maps: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    let map_name = object::inventory_config_map(name);
    let old: Inventory = match maps.get_opt(&map_name).await {
        Ok(Some(cm)) => cm
            .data
            .as_ref()
            .and_then(|d| d.get(INVENTORY_KEY))
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default(),
        Ok(None) => Inventory::default(),
        Err(e) => {
            return Err(DeployError::Cluster(format!(
                "cannot read the inventory {map_name}: {}",
                api_message(&e)
            )));
        }
    };
    let mut pruned = 0;
    if prune {
        for gone in old.prunable(applied) {
            // A namespace that holds what was just applied (or the inventory) stays.
            if gone.kind == "Namespace"
                && (gone.name == namespace || applied.iter().any(|a| a.namespace == gone.name))
            {
                continue;
            }
            match prune_one(cluster, &gone, name).await {
                Ok(true) => {
                    say(&format!("{gone} pruned"));
                    pruned += 1;
                }
                Ok(false) => {}
                Err(e) => return Err(DeployError::Cluster(format!("cannot prune {gone}: {e}"))),
            }
        }
    }
    let new = old.after(applied, prune);
    let text = serde_json::to_string(&new).map_err(|e| DeployError::Cluster(e.to_string()))?;
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": map_name, "labels": {"app.kubernetes.io/managed-by": FIELD_MANAGER}},
        "data": {INVENTORY_KEY: text},
    });
    maps.patch(
        &map_name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&cm),
    )
    .await
    .map_err(|e| {
        DeployError::Cluster(format!(
            "cannot store the inventory {map_name}: {}",
            api_message(&e)
        ))
    })?;
    Ok(pruned)
}

/// Deletes an object gantry applied for `inventory` (it must list gantry among its field
/// managers and carry the inventory's annotation: an object someone else took over, or
/// another inventory's, is left alone). Returns whether it was deleted.
async fn prune_one(cluster: &mut Cluster, gone: &ObjectRef, inventory: &str) -> Result<bool, String> {
    let Some((resource, namespaced)) = cluster
        .kind(&gone.api_version, &gone.kind)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(false);
    };
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(cluster.client.clone(), &gone.namespace, &resource)
    } else {
        Api::all_with(cluster.client.clone(), &resource)
    };
    let Some(found) = api.get_opt(&gone.name).await.map_err(|e| api_message(&e))? else {
        return Ok(false);
    };
    let ours = found
        .metadata
        .managed_fields
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|f| f.manager.as_deref() == Some(FIELD_MANAGER));
    let same_inventory = found
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(INVENTORY_ANNOTATION))
        .is_some_and(|i| i == inventory);
    if !ours || !same_inventory {
        return Ok(false);
    }
    match api.delete(&gone.name, &DeleteParams::background()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(api_message(&e)),
    }
}

/// `1 object`, `2 objects`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The API server's own message for a refused request (its `Status.message`), else the error.
fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}
