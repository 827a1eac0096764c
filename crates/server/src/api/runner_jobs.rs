//! The job side of the runner protocol (docs: `gitlab-runner-protocol.md` §3, §5, §6):
//! `POST /jobs/request` (a long poll that answers a job as soon as one is queued),
//! `PUT /jobs/:id` (the runner confirms, keeps alive and ends a job) and
//! `PATCH /jobs/:id/trace` (the log, appended at the offset the server has).
//!
//! A runner authenticates with its `glrt-` token, then uses the job's token, valid while the
//! runner holds the job. Answers carry `Job-Status` (`canceling` once someone asked to stop
//! the job) and `X-GitLab-Trace-Update-Interval`.

use super::runners::runner_of;
use crate::app::AppState;
use crate::auth::{new_token, token_hash};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gantry_engine::{FailureReason, JobResult};
use gantry_store::db::{Job, StoreError};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// How often a runner sends its log (seconds), unless someone watches it.
const TRACE_UPDATE_INTERVAL: &str = "3";
/// How often a poll records the runner's contact at most.
const CONTACT_RESOLUTION_MS: i64 = 15_000;

#[derive(Deserialize, Debug, Default)]
pub(super) struct RequestBody {
    token: Option<String>,
    last_update: Option<String>,
    info: Option<Value>,
}

/// `POST /jobs/request`: 201 with a job, or 204 with `X-GitLab-Last-Update` when none came.
/// A poll whose `last_update` is the current tick is held until a job is queued (or the
/// poll timeout passes); a first poll, or one with an older tick, is answered at once.
pub(super) async fn request(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Option<axum::Json<RequestBody>>,
) -> Result<Response, ApiError> {
    let body = body.map(|b| b.0).unwrap_or_default();
    let runner = runner_of(&state, &headers, body.token.as_deref()).await?;
    let db = &state.core.db;
    let now = crate::clock::now_ms();
    // What the runner says of itself (its features decide how it is canceled) is stored
    // when it changes, its contact at most every 15 s.
    let info = body.info.as_ref().map(Value::to_string);
    let changed = info.is_some() && info != runner.info_json;
    if changed
        || runner
            .contacted_at
            .is_none_or(|t| now - t >= CONTACT_RESOLUTION_MS)
    {
        db.touch_runner(runner.id, info.as_deref(), now).await?;
    }
    let dispatch = state.scheduler.dispatch();
    let deadline = Instant::now() + state.core.config.runner_poll_timeout;
    let mut ticks = dispatch.subscribe();
    let hold = body.last_update.as_deref() == Some(dispatch.tick().as_str());
    // A runner that does not confirm (no `two_phase_job_commit`) runs a job as soon as it
    // gets it, so the job is running from then on, as GitLab has it.
    let confirms = feature(body.info.as_ref(), "two_phase_job_commit");
    loop {
        ticks.borrow_and_update();
        while let Some(taken) = dispatch.take(&runner) {
            let token = new_token("glcbt-");
            let assigned = db
                .assign_job(
                    taken.job().job_id,
                    runner.id,
                    &token_hash(&token),
                    crate::clock::now_ms(),
                )
                .await?;
            let queued = taken.keep();
            if !assigned {
                // It ended meanwhile (canceled).
                continue;
            }
            state
                .scheduler
                .runner_took(queued.pipeline_id, queued.plan_index, queued.job_id);
            if !confirms {
                state
                    .scheduler
                    .runner_started(queued.pipeline_id, queued.plan_index, queued.job_id)
                    .await;
            }
            let project_path = queued.payload["job_info"]["project_full_path"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let payload = crate::scheduler::payload::with_token(
                &queued.payload,
                &token,
                &state.core.external_url,
                &project_path,
                runner.maximum_timeout,
            );
            tracing::info!(
                job_id = queued.job_id,
                runner_id = runner.id,
                "a runner took a job"
            );
            return Ok((StatusCode::CREATED, axum::Json(payload)).into_response());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if !hold || left.is_zero() {
            break;
        }
        tokio::select! {
            changed = ticks.changed() => if changed.is_err() { break },
            _ = tokio::time::sleep(left) => break,
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(tick) = HeaderValue::from_str(&dispatch.tick()) {
        response.headers_mut().insert("x-gitlab-last-update", tick);
    }
    Ok(response)
}

/// Whether a runner's `info.features` has `name` set.
fn feature(info: Option<&Value>, name: &str) -> bool {
    info.and_then(|i| i["features"][name].as_bool()) == Some(true)
}

/// The job `id` if `token` is its job token now; 403 otherwise (the runner then drops it).
pub(super) async fn job_for_token(state: &AppState, id: i64, token: Option<&str>) -> Result<Job, ApiError> {
    let token = token.ok_or(ApiError::Forbidden)?;
    match state.core.db.job_by_token(&token_hash(token.trim())).await? {
        Some(job) if job.id == id => Ok(job),
        _ => Err(ApiError::Forbidden),
    }
}

fn header_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get("job-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The `Job-Status` a runner is told.
async fn job_status(state: &AppState, job: &Job) -> &'static str {
    if state.scheduler.dispatch().is_canceling(job.id) {
        return cancel(state, job).await;
    }
    match job.status.as_str() {
        "success" => "success",
        "failed" => "failed",
        "canceled" => "canceled",
        "pending" => "pending",
        _ => "running",
    }
}

/// What a runner holding a job someone asked to stop is told: `canceling` when it
/// cancels gracefully (it runs `after_script` and reports `failed`, which ends the job
/// as canceled); otherwise `canceled`, and the job ends canceled now, as the runner
/// stops it without a word (protocol doc §7).
async fn cancel(state: &AppState, job: &Job) -> &'static str {
    let graceful = match job.runner_id {
        Some(id) => match state.core.db.runner(id).await {
            Ok(Some(runner)) => {
                let info = runner
                    .info_json
                    .as_deref()
                    .and_then(|j| serde_json::from_str::<Value>(j).ok());
                feature(info.as_ref(), "cancel_gracefully")
            }
            // On a store error, keep the job for its runner's final report.
            Err(_) => true,
            Ok(None) => false,
        },
        None => false,
    };
    if graceful {
        return "canceling";
    }
    let plan_index = usize::try_from(job.plan_index).unwrap_or(usize::MAX);
    state
        .scheduler
        .runner_finished(job.pipeline_id, plan_index, job.id, JobResult::Canceled);
    "canceled"
}

fn with_status(mut response: Response, status: &str) -> Response {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(status) {
        headers.insert("job-status", v);
    }
    headers.insert(
        "x-gitlab-trace-update-interval",
        HeaderValue::from_static(TRACE_UPDATE_INTERVAL),
    );
    response
}

#[derive(Deserialize, Debug, Default)]
pub(super) struct UpdateBody {
    token: Option<String>,
    state: Option<String>,
    failure_reason: Option<String>,
    exit_code: Option<i64>,
}

/// `PUT /jobs/:id`: `running` (the confirmation, then keep-alives), `pending` (a
/// keep-alive before it starts), `success` or `failed` (the end, once the log is sent).
pub(super) async fn update(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<UpdateBody>,
) -> Result<Response, ApiError> {
    let token = body.token.clone().or_else(|| header_token(&headers));
    let job = job_for_token(&state, id, token.as_deref()).await?;
    let plan_index = usize::try_from(job.plan_index).unwrap_or(usize::MAX);
    let scheduler = &state.scheduler;
    let canceling = scheduler.dispatch().is_canceling(job.id);
    let told = match body.state.as_deref() {
        // The confirmation of a job someone canceled meanwhile: the runner gives it up
        // (protocol doc §5), so it ends canceled here.
        Some("running") if canceling && job.status != "running" => {
            scheduler.runner_finished(job.pipeline_id, plan_index, job.id, JobResult::Canceled);
            "canceled"
        }
        Some("running") => {
            if job.status != "running" {
                scheduler
                    .runner_started(job.pipeline_id, plan_index, job.id)
                    .await;
            }
            scheduler.runner_seen(job.pipeline_id, plan_index, job.id);
            if canceling {
                cancel(&state, &job).await
            } else {
                "running"
            }
        }
        Some("pending") => {
            scheduler.runner_seen(job.pipeline_id, plan_index, job.id);
            job_status(&state, &job).await
        }
        Some("success") => {
            scheduler.runner_finished(job.pipeline_id, plan_index, job.id, JobResult::Success);
            "success"
        }
        Some("failed") => {
            let result = if canceling {
                JobResult::Canceled
            } else {
                JobResult::Failed {
                    exit_code: body.exit_code,
                    reason: failure_reason(body.failure_reason.as_deref()),
                }
            };
            scheduler.runner_finished(job.pipeline_id, plan_index, job.id, result);
            if canceling { "canceled" } else { "failed" }
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "state does not have a valid value: {other:?} (pending, running, success, failed)"
            )));
        }
    };
    Ok(with_status(StatusCode::OK.into_response(), told))
}

/// A runner's failure reason in the engine's terms (what `retry:when` matches).
fn failure_reason(word: Option<&str>) -> FailureReason {
    match word {
        Some("script_failure") | None => FailureReason::ScriptFailure,
        Some("job_execution_timeout") => FailureReason::JobExecutionTimeout,
        Some("stuck_or_timeout_failure") => FailureReason::StuckOrTimeoutFailure,
        Some("image_pull_failure") => FailureReason::ImagePullFailure,
        Some(
            "runner_system_failure"
            | "api_failure"
            | "runner_unsupported"
            | "scheduler_failure"
            | "data_integrity_failure",
        ) => FailureReason::RunnerSystemFailure,
        Some(_) => FailureReason::UnknownFailure,
    }
}

/// `PATCH /jobs/:id/trace`: appends the body at `Content-Range`'s start, which must be the
/// stored length (416 with the length otherwise); 202 with `Range: 0-<length>`.
pub(super) async fn trace(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let job = job_for_token(&state, id, header_token(&headers).as_deref()).await?;
    let start = headers
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.trim().split('-').next())
        .and_then(|s| s.trim().parse::<i64>().ok())
        .ok_or_else(|| ApiError::BadRequest("Content-Range is missing or not `<start>-<end>`".into()))?;
    let plan_index = usize::try_from(job.plan_index).unwrap_or(usize::MAX);
    let limit = state.core.config.max_trace_bytes;
    if u64::try_from(start)
        .unwrap_or(0)
        .saturating_add(bytes.len() as u64)
        > limit
    {
        // As GitLab: the job is dropped, and the runner, told 403, aborts it.
        let result = if state.scheduler.dispatch().is_canceling(job.id) {
            JobResult::Canceled
        } else {
            let line = format!(
                "\nERROR: the job's log exceeded the server's limit of {limit} bytes; the job failed\n"
            );
            let db = &state.core.db;
            let end = db.trace_len(job.id).await?;
            if let Err(e) = db.append_trace(job.id, end, line.as_bytes()).await {
                tracing::warn!(job_id = job.id, error = %e, "noting the log limit in the log");
            }
            JobResult::Failed {
                exit_code: None,
                reason: FailureReason::TraceSizeExceeded,
            }
        };
        state
            .scheduler
            .runner_finished(job.pipeline_id, plan_index, job.id, result);
        return Ok(with_status(StatusCode::FORBIDDEN.into_response(), "failed"));
    }
    state.scheduler.runner_seen(job.pipeline_id, plan_index, job.id);
    let (code, len) = match state.core.db.append_trace(job.id, start, &bytes).await {
        Ok(len) => {
            state
                .core
                .live
                .send(crate::live::Change::Trace { job_id: job.id });
            (StatusCode::ACCEPTED, len)
        }
        Err(StoreError::TraceOffset { expected, .. }) => (StatusCode::RANGE_NOT_SATISFIABLE, expected),
        Err(e) => return Err(e.into()),
    };
    let status = job_status(&state, &job).await;
    let mut response = code.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("0-{len}")) {
        response.headers_mut().insert(header::RANGE, v);
    }
    Ok(with_status(response, status))
}
