//! Tests of the rollout checks: the objects the controllers report, step by step.

use super::*;
use serde_json::json;

/// The state of an object that names its own kind.
fn state(object: &Value) -> Rollout {
    let text = |k: &str| object[k].as_str().unwrap_or_default().to_owned();
    super::state(&text("apiVersion"), &text("kind"), object)
}

fn deploy(generation: i64, replicas: i64, status: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": replicas, "progressDeadlineSeconds": 10,
                 "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}},
        "status": status,
    })
}

#[test]
fn a_deployment_is_done_when_every_new_replica_is_available() {
    let waiting = |generation, status| match state(&deploy(generation, 2, status)) {
        Rollout::Waiting(m) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(waiting(2, json!({"observedGeneration": 1})), SPEC_UPDATE);
    assert_eq!(
        waiting(
            2,
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1})
        ),
        "1 of 2 new replicas updated"
    );
    assert_eq!(
        waiting(
            2,
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2})
        ),
        "1 old replicas pending termination"
    );
    assert_eq!(
        waiting(
            2,
            json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 1})
        ),
        "1 of 2 updated replicas available (2 ready)"
    );
    let done = state(&deploy(
        2,
        2,
        json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}),
    ));
    assert_eq!(done, Rollout::Done("2 of 2 replicas available".into()));
}

#[test]
fn a_deployment_past_its_progress_deadline_failed() {
    let status = json!({
        "observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
        "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                        "message": "ReplicaSet \"web-2\" has timed out progressing."}],
    });
    assert_eq!(
        state(&deploy(2, 2, status)),
        Rollout::Failed(
            "exceeded its progress deadline (10 s): ReplicaSet \"web-2\" has timed out progressing.".into()
        )
    );
}

#[test]
fn a_stateful_set_waits_for_ready_pods_and_the_new_revision() {
    let sts = |status: Value, strategy: Value| {
        state(&json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "generation": 3},
            "spec": {"replicas": 3, "serviceName": "db", "selector": {}, "template": {}, "updateStrategy": strategy},
            "status": status,
        }))
    };
    let rolling = json!({"type": "RollingUpdate"});
    assert_eq!(
        sts(
            json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 2}),
            rolling.clone()
        ),
        Rollout::Waiting("2 of 3 pods ready".into())
    );
    assert_eq!(
        sts(
            json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 1,
                   "currentRevision": "db-1", "updateRevision": "db-2"}),
            rolling.clone()
        ),
        Rollout::Waiting("1 of 3 pods at the new revision".into())
    );
    assert!(matches!(
        sts(
            json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 3,
                   "currentRevision": "db-2", "updateRevision": "db-2"}),
            rolling
        ),
        Rollout::Done(_)
    ));
    let partitioned = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}});
    assert!(matches!(
        sts(
            json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 1,
                   "currentRevision": "db-1", "updateRevision": "db-2"}),
            partitioned
        ),
        Rollout::Done(_)
    ));
    assert!(matches!(
        sts(json!({}), json!({"type": "OnDelete"})),
        Rollout::Done(_)
    ));
}

#[test]
fn a_daemon_set_waits_for_every_scheduled_pod() {
    let ds = |status: Value| {
        state(&json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "generation": 1},
            "spec": {"selector": {}, "template": {}}, "status": status,
        }))
    };
    let base = json!({"observedGeneration": 1, "currentNumberScheduled": 2, "numberMisscheduled": 0,
                      "desiredNumberScheduled": 2, "numberReady": 2});
    let mut s = base.clone();
    s["updatedNumberScheduled"] = json!(1);
    assert_eq!(ds(s), Rollout::Waiting("1 of 2 new pods scheduled".into()));
    let mut s = base.clone();
    s["updatedNumberScheduled"] = json!(2);
    s["numberAvailable"] = json!(1);
    assert_eq!(ds(s), Rollout::Waiting("1 of 2 updated pods available".into()));
    let mut s = base;
    s["updatedNumberScheduled"] = json!(2);
    s["numberAvailable"] = json!(2);
    assert!(matches!(ds(s), Rollout::Done(_)));
}

#[test]
fn a_job_is_done_when_complete_and_failed_when_failed() {
    let job = |status: Value| {
        state(
            &json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
                      "spec": {"template": {}}, "status": status}),
        )
    };
    assert_eq!(
        job(json!({"active": 1})),
        Rollout::Waiting("1 active, 0 succeeded, 0 failed".into())
    );
    assert_eq!(
        job(json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]})),
        Rollout::Done("complete (1 succeeded)".into())
    );
    assert_eq!(
        job(
            json!({"failed": 7, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                                "message": "Job has reached the specified backoff limit"}]})
        ),
        Rollout::Failed("BackoffLimitExceeded: Job has reached the specified backoff limit".into())
    );
}

#[test]
fn other_kinds_are_done_once_applied() {
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}});
    assert_eq!(state(&svc), Rollout::Done("applied".into()));
    assert!(!is_workload("v1", "Service"));
    assert!(is_workload("apps/v1", "Deployment"));
}
