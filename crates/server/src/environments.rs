//! Environments as GitLab keeps them: a job whose `environment:` has the `start` action (the
//! default) records a deployment per attempt, its status following the job's; a successful
//! one makes the environment available and starts its `auto_stop_in` clock. A job with the
//! `stop` action marks the environment `stopping` while it runs and `stopped` once it
//! succeeds. Stopping by hand (the API, the dashboard, the auto-stop clock) plays the last
//! deployment's `on_stop` job, or marks the environment stopped when there is none.

use crate::app::{AppState, Core};
use crate::clock::now_ms;
use crate::error::ApiError;
use gantry_plan::PlannedEnvironment;
use gantry_store::db::{DeploymentRecord, Environment, Job, Pipeline, StoreError};
use std::sync::Arc;

/// A deployment's status for a job's.
fn deployment_status(job_status: &str) -> &'static str {
    match job_status {
        "running" => "running",
        "success" => "success",
        "failed" => "failed",
        "canceled" => "canceled",
        "skipped" => "skipped",
        _ => "created",
    }
}

/// Records what a deploying job's new `status` means for its environment.
pub(crate) async fn job_changed(
    core: &Core,
    pipeline: &Pipeline,
    job: &Job,
    env: &PlannedEnvironment,
    status: &str,
) -> Result<(), StoreError> {
    let now = now_ms();
    match env.action.as_str() {
        "" | "start" => {
            let record = DeploymentRecord {
                project_id: pipeline.project_id,
                environment: env.name.clone(),
                slug: env.slug.clone(),
                external_url: env.url.clone(),
                tier: env.tier.clone(),
                job_id: job.id,
                pipeline_id: pipeline.id,
                ref_name: pipeline.ref_name.clone(),
                sha: pipeline.sha.clone(),
                status: deployment_status(status).to_owned(),
                on_stop: env.on_stop.clone(),
            };
            let deployment = core.db.record_deployment(&record, now).await?;
            if status == "success" {
                let stop_at = env
                    .auto_stop_in
                    .as_deref()
                    .and_then(gantry_config::duration::parse_duration)
                    .map(|secs| now + i64::try_from(secs).unwrap_or(i64::MAX / 2000) * 1000);
                core.db
                    .set_environment_state(deployment.environment_id, "available", stop_at, now)
                    .await?;
            }
        }
        "stop" => {
            let Some(found) = core
                .db
                .environment_by_name(pipeline.project_id, &env.name)
                .await?
            else {
                return Ok(());
            };
            let state = match status {
                "running" | "pending" => "stopping",
                "success" => "stopped",
                // A stop job that failed leaves the environment as it was.
                _ if found.state == "stopping" => "available",
                _ => return Ok(()),
            };
            core.db.set_environment_state(found.id, state, None, now).await?;
        }
        _ => {}
    }
    core.live.send(crate::live::Change::Pipeline {
        project_id: pipeline.project_id,
        pipeline_id: pipeline.id,
    });
    Ok(())
}

/// Stops an environment: plays (or runs again) the `on_stop` job of its last deployment,
/// which marks it stopped when it succeeds; without one it is stopped at once.
pub(crate) async fn stop(state: &AppState, env: &Environment) -> Result<Environment, ApiError> {
    let core = &state.core;
    let last = core.db.deployments_of(env.id, 20).await?;
    let last = last.iter().find(|d| d.status == "success").or(last.first());
    let stop_job = match last.and_then(|d| d.on_stop.clone().map(|name| (d, name))) {
        Some((d, name)) => core
            .db
            .jobs_of_pipeline(d.pipeline_id, false)
            .await?
            .into_iter()
            .find(|j| j.name == name),
        None => None,
    };
    let plan_index = |j: &Job| usize::try_from(j.plan_index).unwrap_or(usize::MAX);
    match stop_job {
        Some(job) if job.status == "manual" => {
            core.db
                .set_environment_state(env.id, "stopping", None, now_ms())
                .await?;
            state.scheduler.play_job(job.pipeline_id, plan_index(&job));
        }
        Some(job) if matches!(job.status.as_str(), "success" | "failed" | "canceled") => {
            core.db
                .set_environment_state(env.id, "stopping", None, now_ms())
                .await?;
            state.scheduler.retry_job(job.pipeline_id, plan_index(&job)).await;
        }
        _ => {
            core.db
                .set_environment_state(env.id, "stopped", None, now_ms())
                .await?;
        }
    }
    core.live.send(crate::live::Change::Pipeline {
        project_id: env.project_id,
        pipeline_id: 0,
    });
    Ok(core.db.environment(env.id).await?.unwrap_or_else(|| env.clone()))
}

/// Stops the available environments of `project` whose last deployment came from `branch`
/// (a review app's branch was deleted): their `on_stop` job runs, as GitLab does.
pub(crate) async fn stop_for_deleted_branch(
    state: &AppState,
    project: &gantry_store::db::Project,
    branch: &str,
) {
    let environments = match state.core.db.environments(project.id).await {
        Ok(envs) => envs,
        Err(e) => {
            tracing::warn!(error = %e, project = %project.path, "environments of a deleted branch");
            return;
        }
    };
    for env in environments.into_iter().filter(|e| e.state == "available") {
        let last = match state.core.db.deployments_of(env.id, 1).await {
            Ok(list) => list.into_iter().next(),
            Err(e) => {
                tracing::warn!(error = %e, environment = %env.name, "deployments of an environment");
                continue;
            }
        };
        if last.is_some_and(|d| d.ref_name == branch) {
            tracing::info!(environment = %env.name, branch, "stopping the environment of a deleted branch");
            if let Err(e) = stop(state, &env).await {
                tracing::warn!(environment = %env.name, error = %e, "stopping the environment of a deleted branch");
            }
        }
    }
}

/// Stops, every `auto_stop_interval` (a minute by default), the environments whose
/// `auto_stop_in` has passed.
pub(crate) fn spawn_auto_stop(state: Arc<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.core.config.auto_stop_interval);
        loop {
            tick.tick().await;
            match state.core.db.environments_to_stop(now_ms()).await {
                Ok(due) => {
                    for env in due {
                        tracing::info!(environment = %env.name, project_id = env.project_id, "auto-stopping an environment");
                        if let Err(e) = stop(&state, &env).await {
                            tracing::warn!(environment = %env.name, error = %e, "auto-stopping an environment");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "looking for environments to stop"),
            }
        }
    });
}
