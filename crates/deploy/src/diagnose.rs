//! Why a workload is not ready: its newest pods that are not Ready, with their phase, the
//! state of each container (waiting reason, last exit, restarts), and the warnings the cluster
//! recorded about them and about the workload.

use crate::object::ObjectRef;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Client;
use kube::api::{Api, ListParams};
use serde_json::Value;

/// Pods described at most, per workload.
const MAX_PODS: usize = 5;
/// Warning events shown at most, per object.
const MAX_EVENTS: usize = 3;

/// Lines saying why `workload` (as last read, `object`) is not ready; empty when nothing
/// could be found.
pub(crate) async fn why(client: &Client, workload: &ObjectRef, object: &Value) -> Vec<String> {
    let ns = &workload.namespace;
    let mut lines = warnings(client, ns, &workload.kind, &workload.name).await;
    let Some(mut selector) = match_labels(&object["spec"]["selector"]) else {
        return lines;
    };
    if workload.kind == "Deployment" {
        let Some(rs) = newest_replica_set(client, ns, object, &selector).await else {
            return lines;
        };
        let name = rs.metadata.name.clone().unwrap_or_default();
        lines.extend(warnings(client, ns, "ReplicaSet", &name).await);
        if let Some(hash) = rs
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("pod-template-hash"))
        {
            selector.push_str(&format!(",pod-template-hash={hash}"));
        }
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let Ok(list) = pods.list(&ListParams::default().labels(&selector)).await else {
        return lines;
    };
    let mut unready: Vec<&Pod> = list.items.iter().filter(|p| !is_ready(p)).collect();
    unready.sort_by_key(|p| std::cmp::Reverse(p.metadata.creation_timestamp.clone()));
    for pod in unready.iter().take(MAX_PODS) {
        lines.extend(describe(pod));
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        lines.extend(
            warnings(client, ns, "Pod", name)
                .await
                .into_iter()
                .map(|l| format!("  {l}")),
        );
    }
    if unready.len() > MAX_PODS {
        lines.push(format!(
            "... and {} more pods not ready",
            unready.len() - MAX_PODS
        ));
    }
    lines
}

/// `a=1,b=2` from a label selector's `matchLabels` (the part every workload has).
pub(crate) fn match_labels(selector: &Value) -> Option<String> {
    let labels = selector["matchLabels"].as_object()?;
    let parts: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

async fn newest_replica_set(
    client: &Client,
    ns: &str,
    deployment: &Value,
    selector: &str,
) -> Option<ReplicaSet> {
    let uid = deployment["metadata"]["uid"].as_str()?;
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), ns);
    let list = sets.list(&ListParams::default().labels(selector)).await.ok()?;
    let revision = |rs: &ReplicaSet| {
        rs.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .and_then(|r| r.parse::<u64>().ok())
            .unwrap_or(0)
    };
    list.items
        .into_iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|o| o.uid == uid)
        })
        .max_by_key(revision)
}

fn is_ready(pod: &Pod) -> bool {
    let conditions = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// `pod NAME: PHASE, not ready (REASON)` and one line per container that is not ready.
fn describe(pod: &Pod) -> Vec<String> {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let Some(status) = &pod.status else {
        return vec![format!("pod {name}: no status yet")];
    };
    let phase = status.phase.as_deref().unwrap_or("Unknown");
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let failing = conditions
        .iter()
        .find(|c| c.status != "True" && matches!(c.type_.as_str(), "PodScheduled" | "Ready" | "Initialized"));
    let mut head = format!("pod {name}: {phase}, not ready");
    if let Some(c) = failing {
        let reason = c.reason.as_deref().unwrap_or(&c.type_);
        match c.message.as_deref().filter(|m| !m.is_empty()) {
            Some(message) => head.push_str(&format!(" ({reason}: {message})")),
            None => head.push_str(&format!(" ({reason})")),
        }
    }
    let mut lines = vec![head];
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for c in containers.filter(|c| !c.ready) {
        let mut line = format!("  container {}", c.name);
        if let Some(state) = &c.state {
            if let Some(w) = &state.waiting {
                line.push_str(&format!(
                    ": waiting: {}",
                    w.reason.as_deref().unwrap_or("unknown reason")
                ));
                if let Some(m) = w.message.as_deref().filter(|m| !m.is_empty()) {
                    line.push_str(&format!(" ({m})"));
                }
            } else if let Some(t) = &state.terminated {
                let reason = t.reason.as_deref().unwrap_or("Terminated");
                line.push_str(&format!(": terminated: {reason}, exit code {}", t.exit_code));
            } else if state.running.is_some() {
                line.push_str(": running, readiness probe not passing");
            }
        }
        if let Some(t) = c.last_state.as_ref().and_then(|s| s.terminated.as_ref()) {
            let reason = t.reason.as_deref().unwrap_or("Terminated");
            line.push_str(&format!("; last exit: {reason}, code {}", t.exit_code));
        }
        if c.restart_count > 0 {
            line.push_str(&format!("; {} restarts", c.restart_count));
        }
        lines.push(line);
    }
    lines
}

/// The newest warning events about one object: `event REASON: MESSAGE`.
async fn warnings(client: &Client, ns: &str, kind: &str, name: &str) -> Vec<String> {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let fields = format!("involvedObject.kind={kind},involvedObject.name={name},type=Warning");
    let Ok(list) = events.list(&ListParams::default().fields(&fields)).await else {
        return Vec::new();
    };
    let mut items = list.items;
    items.sort_by_key(|e| std::cmp::Reverse(e.last_timestamp.clone().or(e.first_timestamp.clone())));
    items
        .iter()
        .take(MAX_EVENTS)
        .map(|e| {
            let reason = e.reason.as_deref().unwrap_or("Warning");
            let message = e.message.as_deref().unwrap_or_default().trim();
            format!("event {reason} on {} {name}: {message}", kind.to_lowercase())
        })
        .collect()
}
