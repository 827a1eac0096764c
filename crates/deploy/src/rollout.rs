//! When a workload has rolled out: the checks `kubectl rollout status` makes, on the object as
//! the API server returns it (status included), for Deployments, StatefulSets, DaemonSets and
//! Jobs. Every other kind is done once applied.
//!
//! Pure: the caller fetches the object; [`state`] only reads it.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where a workload's rollout stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rollout {
    /// Rolled out: every replica of the new version is ready and available (a Job: complete).
    Done(String),
    /// Still going, with what it waits for.
    Waiting(String),
    /// It will not finish by itself: a Deployment past its progress deadline, a failed Job.
    Failed(String),
}

impl Rollout {
    /// The message, whatever the state.
    pub fn message(&self) -> &str {
        match self {
            Rollout::Done(m) | Rollout::Waiting(m) | Rollout::Failed(m) => m,
        }
    }
}

/// True for the kinds whose rollout is waited for.
pub fn is_workload(api_version: &str, kind: &str) -> bool {
    matches!(
        (api_version, kind),
        ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet") | ("batch/v1", "Job")
    )
}

/// The rollout state of `object`, an object of `api_version`/`kind` (given apart: objects in
/// a list or a watch's first list carry no kind of their own).
pub fn state(api_version: &str, kind: &str, object: &Value) -> Rollout {
    match (api_version, kind) {
        ("apps/v1", "Deployment") => typed(object, deployment),
        ("apps/v1", "StatefulSet") => typed(object, stateful_set),
        ("apps/v1", "DaemonSet") => typed(object, daemon_set),
        ("batch/v1", "Job") => typed(object, job),
        _ => Rollout::Done("applied".to_owned()),
    }
}

fn typed<T: DeserializeOwned>(object: &Value, check: fn(&T) -> Rollout) -> Rollout {
    match T::deserialize(object) {
        Ok(t) => check(&t),
        Err(e) => Rollout::Failed(format!(
            "the API server returned an object gantry cannot read: {e}"
        )),
    }
}

const SPEC_UPDATE: &str = "the controller has not seen the new spec yet";

fn deployment(d: &Deployment) -> Rollout {
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(status) = &d.status else {
        return Rollout::Waiting(SPEC_UPDATE.to_owned());
    };
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Waiting(SPEC_UPDATE.to_owned());
    }
    let conditions = status.conditions.as_deref().unwrap_or_default();
    if let Some(c) = conditions
        .iter()
        .find(|c| c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
    {
        let deadline = d
            .spec
            .as_ref()
            .and_then(|s| s.progress_deadline_seconds)
            .unwrap_or(600);
        let detail = c.message.as_deref().unwrap_or_default();
        return Rollout::Failed(format!("exceeded its progress deadline ({deadline} s): {detail}"));
    }
    let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let replicas = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    if updated < wanted {
        return Rollout::Waiting(format!("{updated} of {wanted} new replicas updated"));
    }
    if replicas > updated {
        return Rollout::Waiting(format!("{} old replicas pending termination", replicas - updated));
    }
    if available < updated {
        return Rollout::Waiting(format!(
            "{available} of {updated} updated replicas available ({ready} ready)"
        ));
    }
    Rollout::Done(format!("{available} of {wanted} replicas available"))
}

fn stateful_set(s: &StatefulSet) -> Rollout {
    let spec = s.spec.as_ref();
    let strategy = spec.and_then(|sp| sp.update_strategy.as_ref());
    if strategy
        .and_then(|u| u.type_.as_deref())
        .is_some_and(|t| t != "RollingUpdate")
    {
        return Rollout::Done("updateStrategy OnDelete: pods change when they are deleted".to_owned());
    }
    let generation = s.metadata.generation.unwrap_or(0);
    let Some(status) = &s.status else {
        return Rollout::Waiting(SPEC_UPDATE.to_owned());
    };
    let observed = status.observed_generation.unwrap_or(0);
    if observed == 0 || observed < generation {
        return Rollout::Waiting(SPEC_UPDATE.to_owned());
    }
    let wanted = spec.and_then(|sp| sp.replicas).unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    if ready < wanted {
        return Rollout::Waiting(format!("{ready} of {wanted} pods ready"));
    }
    let partition = strategy
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0);
    if partition > 0 {
        let updated = status.updated_replicas.unwrap_or(0);
        let due = (wanted - partition).max(0);
        if updated < due {
            return Rollout::Waiting(format!(
                "{updated} of {due} pods above partition {partition} updated"
            ));
        }
        return Rollout::Done(format!("partitioned rollout: {updated} new pods"));
    }
    if status.update_revision.is_some() && status.update_revision != status.current_revision {
        let updated = status.updated_replicas.unwrap_or(0);
        return Rollout::Waiting(format!("{updated} of {wanted} pods at the new revision"));
    }
    Rollout::Done(format!("{ready} of {wanted} pods ready"))
}

fn daemon_set(d: &DaemonSet) -> Rollout {
    let strategy = d.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
    if strategy
        .and_then(|u| u.type_.as_deref())
        .is_some_and(|t| t != "RollingUpdate")
    {
        return Rollout::Done("updateStrategy OnDelete: pods change when they are deleted".to_owned());
    }
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(status) = &d.status else {
        return Rollout::Waiting(SPEC_UPDATE.to_owned());
    };
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Waiting(SPEC_UPDATE.to_owned());
    }
    let desired = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let available = status.number_available.unwrap_or(0);
    if updated < desired {
        return Rollout::Waiting(format!("{updated} of {desired} new pods scheduled"));
    }
    if available < desired {
        return Rollout::Waiting(format!("{available} of {desired} updated pods available"));
    }
    Rollout::Done(format!("{available} of {desired} pods available"))
}

fn job(j: &Job) -> Rollout {
    let Some(status) = &j.status else {
        return Rollout::Waiting("not started".to_owned());
    };
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let holds = |kind: &str| conditions.iter().find(|c| c.type_ == kind && c.status == "True");
    if let Some(c) = holds("Failed") {
        let reason = c.reason.as_deref().unwrap_or("Failed");
        let message = c.message.as_deref().unwrap_or_default();
        return Rollout::Failed(
            format!("{reason}: {message}")
                .trim_end_matches([':', ' '])
                .to_owned(),
        );
    }
    let succeeded = status.succeeded.unwrap_or(0);
    if holds("Complete").is_some() {
        return Rollout::Done(format!("complete ({succeeded} succeeded)"));
    }
    let active = status.active.unwrap_or(0);
    let failed = status.failed.unwrap_or(0);
    Rollout::Waiting(format!("{active} active, {succeeded} succeeded, {failed} failed"))
}

#[cfg(test)]
mod tests;
