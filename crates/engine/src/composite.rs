//! GitLab's composite status: one status for a set of jobs (a stage, the jobs before a
//! job, its needs, or the whole pipeline), following `Ci::Status::Composite`.

use crate::job::Status;

/// A job's contribution: its status, or one of the two allowed-failure forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Plain(Status),
    /// Failed or canceled, but allowed to fail.
    SuccessWithWarnings,
    /// A manual job that is allowed to fail and was not played.
    Ignored,
}

/// The composite status of `(status, allowed_failure)` pairs; `None` for no jobs.
/// With `dag`, any skipped or ignored job makes the result `skipped`: a job whose needs
/// did not all run is skipped.
pub fn composite(jobs: impl IntoIterator<Item = (Status, bool)>, dag: bool) -> Option<Status> {
    let mut set: Vec<Key> = Vec::new();
    for (status, allowed) in jobs {
        let key = match status {
            Status::Failed | Status::Canceled if allowed => Key::SuccessWithWarnings,
            Status::Manual if allowed => Key::Ignored,
            s => Key::Plain(s),
        };
        if !set.contains(&key) {
            set.push(key);
        }
    }
    if set.is_empty() {
        return None;
    }
    let has = |k: Key| set.contains(&k);
    let any = |ss: &[Status]| ss.iter().any(|s| has(Key::Plain(*s)));
    let only = |ss: &[Status], warnings: bool, ignored: bool| {
        set.iter().all(|k| match k {
            Key::Plain(s) => ss.contains(s),
            Key::SuccessWithWarnings => warnings,
            Key::Ignored => ignored,
        })
    };
    use Status::*;
    // With `dag`, a job whose needs did not all run is skipped.
    let dag_skipped = dag && (has(Key::Plain(Skipped)) || has(Key::Ignored));
    let status = if dag_skipped || only(&[Skipped], false, true) {
        Skipped
    } else if only(&[Success, Skipped], true, true) {
        Success
    } else if only(&[Created], true, true) {
        Created
    } else if only(&[Canceled, Success, Skipped], true, true) {
        Canceled
    } else if only(&[Pending, Created, Skipped], true, true) {
        Pending
    } else if any(&[Running, Pending]) {
        Running
    } else if any(&[WaitingForResource]) {
        WaitingForResource
    } else if any(&[Manual]) {
        Manual
    } else if any(&[Scheduled]) {
        Scheduled
    } else if any(&[Created]) {
        Running
    } else {
        Failed
    };
    Some(status)
}
