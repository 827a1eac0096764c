//! Waiting for workloads to roll out: one watch per object (so a change is seen when it
//! happens, not at the next poll), judged by [`crate::rollout::state`], all at once, until
//! every one is done, one fails, or the deadline passes.

use crate::Say;
use crate::object::ObjectRef;
use crate::rollout::{self, Rollout};
use futures_util::TryStreamExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use std::pin::pin;
use tokio::time::Instant;

/// A workload that did not roll out, and why.
#[derive(Clone, Debug)]
pub(crate) struct NotRolledOut {
    pub(crate) object: ObjectRef,
    pub(crate) reason: String,
}

/// Waits for every workload of `items` until `deadline`. Returns the ones that failed (empty
/// when all rolled out); on the first failure it stops waiting for the others, which are
/// reported as not rolled out either.
pub(crate) async fn all(
    items: &[(ObjectRef, Api<DynamicObject>)],
    deadline: Instant,
    say: &Say<'_>,
) -> Vec<NotRolledOut> {
    let mut waits: FuturesUnordered<_> = items
        .iter()
        .map(|(object, api)| async move { (object, one(object, api, deadline, say).await) })
        .collect();
    let mut done = Vec::new();
    while let Some((object, result)) = waits.next().await {
        match result {
            Ok(()) => done.push(object.clone()),
            Err(reason) => {
                let mut failed = vec![NotRolledOut {
                    object: object.clone(),
                    reason,
                }];
                drop(waits);
                for (other, _) in items {
                    if other != object && !done.contains(other) {
                        failed.push(NotRolledOut {
                            object: other.clone(),
                            reason: "not rolled out yet when the deployment gave up".to_owned(),
                        });
                    }
                }
                return failed;
            }
        }
    }
    Vec::new()
}

async fn one(
    object: &ObjectRef,
    api: &Api<DynamicObject>,
    deadline: Instant,
    say: &Say<'_>,
) -> Result<(), String> {
    let config = watcher::Config::default().fields(&format!("metadata.name={}", object.name));
    let mut events = pin!(watcher(api.clone(), config).default_backoff().applied_objects());
    let mut last = String::new();
    let mut last_error: Option<String> = None;
    loop {
        let next = match tokio::time::timeout_at(deadline, events.try_next()).await {
            Err(_) => {
                let status = if last.is_empty() {
                    "no status yet".to_owned()
                } else {
                    last
                };
                let error = last_error
                    .map(|e| format!("; last watch error: {e}"))
                    .unwrap_or_default();
                return Err(format!("not rolled out before the timeout ({status}{error})"));
            }
            Ok(next) => next,
        };
        let found = match next {
            Ok(Some(found)) => found,
            Ok(None) => return Err("the watch on it ended".to_owned()),
            Err(e) => {
                // Refused access does not get better by waiting; anything else the watcher
                // retries by itself (with a backoff) until the deadline.
                if let watcher::Error::InitialListFailed(kube::Error::Api(s))
                | watcher::Error::WatchStartFailed(kube::Error::Api(s)) = &e
                    && matches!(s.code, 401 | 403 | 404)
                {
                    return Err(format!("cannot watch it: {}", s.message));
                }
                last_error = Some(e.to_string());
                continue;
            }
        };
        let value = match serde_json::to_value(&found) {
            Ok(v) => v,
            Err(e) => return Err(format!("cannot read it: {e}")),
        };
        match rollout::state(&object.api_version, &object.kind, &value) {
            Rollout::Done(message) => {
                say(&format!("{object}: rolled out ({message})"));
                return Ok(());
            }
            Rollout::Failed(message) => return Err(message),
            Rollout::Waiting(message) => {
                if message != last {
                    say(&format!("Waiting for {object}: {message}"));
                    last = message;
                }
            }
        }
    }
}
