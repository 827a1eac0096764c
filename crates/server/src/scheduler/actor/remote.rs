//! The part of a pipeline's actor for jobs that run on runners asking over the runner
//! protocol: queueing them with their payload, what the runners report, and the deadlines
//! (a job taken and not confirmed is queued again; a silent runner fails its job).

use super::{Actor, ActorMsg, result_word};
use crate::scheduler::dispatch::Queued;
use crate::scheduler::payload::{self, PayloadInput};
use gantry_engine::{Event, FailureReason, JobId, JobResult};
use gantry_executor::job::JobVariable;
use gantry_plan::PlannedJob;
use gantry_runner::job::artifact_sources;
use gantry_store::db::StoreError;
use std::sync::Arc;

/// A job that runs on a runner asking over the runner protocol.
pub(super) struct Remote {
    /// What the dispatch queue holds for it (queued again when a runner does not confirm).
    pub(super) queued: Queued,
    /// When a runner took it, until the runner confirms.
    pub(super) taken: Option<std::time::Instant>,
    /// Whether the runner confirmed it.
    pub(super) started: bool,
    /// When the runner last reported on it.
    pub(super) seen: std::time::Instant,
    /// When it was queued (or adopted after a restart): a job no runner takes within
    /// `--pending-job-timeout` fails as stuck.
    pub(super) queued_at: std::time::Instant,
}

impl Actor {
    /// Handles what a runner reported (or the actor noticed) about a remote job; its events
    /// go to `events`, the jobs whose logs must be stored with them to `traces`.
    pub(super) async fn runner_message(
        &mut self,
        msg: ActorMsg,
        events: &mut Vec<Event>,
        traces: &mut Vec<usize>,
        stored: &mut Vec<tokio::sync::oneshot::Sender<()>>,
    ) {
        // A message about another attempt of the job (an earlier one a runner lost) is old news.
        let current = |actor: &Actor, job: JobId, row: i64| {
            actor.remote.get(&job).is_some_and(|r| r.queued.job_id == row)
        };
        match msg {
            ActorMsg::RunnerTook(job, row) if current(self, job, row) => {
                if let Some(r) = self.remote.get_mut(&job) {
                    r.taken = Some(std::time::Instant::now());
                    r.seen = std::time::Instant::now();
                }
            }
            ActorMsg::RunnerStarted(job, row, tell) if current(self, job, row) => {
                if let Some(tell) = tell {
                    stored.push(tell);
                }
                if let Some(r) = self.remote.get_mut(&job)
                    && !r.started
                {
                    r.started = true;
                    r.taken = None;
                    r.seen = std::time::Instant::now();
                    self.core.metrics.job_started();
                    self.started.insert(job, std::time::Instant::now());
                    events.push(Event::Started(job));
                }
            }
            ActorMsg::RunnerSeen(job, row) if current(self, job, row) => {
                if let Some(r) = self.remote.get_mut(&job) {
                    r.seen = std::time::Instant::now();
                }
            }
            ActorMsg::RunnerFinished(job, row, result) if current(self, job, row) => {
                if let Some(r) = self.remote.remove(&job) {
                    self.tasks = self.tasks.saturating_sub(1);
                    let dispatch = self.scheduler.dispatch();
                    dispatch.remove(r.queued.job_id);
                    dispatch.forget(r.queued.job_id);
                    if let Err(e) = self.core.db.revoke_job_token(r.queued.job_id).await {
                        tracing::error!(error = %crate::error::ApiError::internal(e), "revoking a job token");
                    }
                    // What the server itself wrote into the job's log (a lost runner).
                    if !traces.contains(&job.0) {
                        traces.push(job.0);
                    }
                    let ran = self.started.remove(&job).map(|t| t.elapsed().as_secs_f64());
                    self.core.metrics.job_finished(result_word(result), ran);
                    events.push(Event::Finished(job, result));
                }
            }
            _ => {}
        }
    }

    /// Stops a job queued for or held by a runner: a queued one ends at once, a runner
    /// learns it from `Job-Status: canceling` and ends the job itself.
    pub(super) fn stop_remote(&self, job: JobId) {
        if let Some(r) = self.remote.get(&job) {
            let dispatch = self.scheduler.dispatch();
            if dispatch.remove(r.queued.job_id) {
                let _ = self.tx.send(ActorMsg::RunnerFinished(
                    job,
                    r.queued.job_id,
                    JobResult::Canceled,
                ));
            } else {
                dispatch.cancel(r.queued.job_id);
            }
        }
    }

    /// Whether a job goes to a runner asking over the runner protocol rather than the
    /// in-process runner: when it has tags, or when the server runs no jobs itself.
    pub(super) fn runs_remotely(&self, i: usize) -> bool {
        let job = &self.jobs[i];
        job.config.trigger.is_none() && (!job.config.tags.is_empty() || self.core.config.concurrency == 0)
    }

    /// Queues a job for the runners (a runner that took it before a restart lost it).
    pub(super) async fn queue(&mut self, job: JobId) -> Result<(), StoreError> {
        self.core.db.release_job(self.rows[job.0].id).await?;
        let queued = self.queued(job).await?;
        self.scheduler.dispatch().push(queued.clone());
        self.remote.insert(
            job,
            Remote {
                queued,
                taken: None,
                started: false,
                seen: std::time::Instant::now(),
                queued_at: std::time::Instant::now(),
            },
        );
        self.tasks += 1;
        self.core.metrics.job_queued();
        Ok(())
    }

    /// After a restart: a running job a runner still holds (its token is valid) stays with
    /// that runner, which goes on reporting to this process; whether it was held.
    pub(super) async fn adopt(&mut self, job: JobId) -> Result<bool, StoreError> {
        if !self.core.db.job_held(self.rows[job.0].id).await? {
            return Ok(false);
        }
        let queued = self.queued(job).await?;
        self.remote.insert(
            job,
            Remote {
                queued,
                taken: None,
                started: true,
                seen: std::time::Instant::now(),
                queued_at: std::time::Instant::now(),
            },
        );
        self.tasks += 1;
        self.started.insert(job, std::time::Instant::now());
        Ok(true)
    }

    /// What the dispatch queue holds for a job: its payload and what decides which runners
    /// may take it.
    async fn queued(&self, job: JobId) -> Result<Queued, StoreError> {
        let i = job.0;
        let row = self.rows[i].id;
        // What the jobs it depends on left: archives to download, dotenv variables.
        let refs: Vec<&PlannedJob> = self.jobs.iter().collect();
        let mut dependencies = Vec::new();
        let mut dotenv = Vec::new();
        for name in artifact_sources(&self.jobs[i], &refs) {
            if let Some(k) = self.jobs.iter().position(|j| j.name == name) {
                let source = self.rows[k].id;
                let archive = self
                    .core
                    .db
                    .artifacts_of_job(source)
                    .await?
                    .into_iter()
                    .find(|a| a.file_type == "archive");
                if let Some(a) = archive {
                    dependencies.push(serde_json::json!({
                        "id": source, "name": name, "token": "",
                        "artifacts_file": {"filename": a.filename, "size": a.size},
                    }));
                }
            }
            if let Some(vars) = self.shared.dotenv.lock().ok().and_then(|m| m.get(&name).cloned()) {
                dotenv.extend(vars.into_iter().map(|(name, value)| JobVariable {
                    name,
                    value,
                    file: false,
                }));
            }
        }
        let run_variables = self.run_variables(i).await;
        let input = PayloadInput {
            job: &self.jobs[i],
            job_id: row,
            pipeline: &self.pipeline,
            project: &self.project,
            server_url: &self.core.external_url,
            dependencies,
            variables: dotenv
                .into_iter()
                .chain(self.variables[i].iter().cloned())
                .chain(
                    self.shared
                        .pipeline_variables
                        .iter()
                        .chain(&run_variables)
                        .map(|(k, v)| JobVariable {
                            name: k.clone(),
                            value: v.clone(),
                            file: false,
                        }),
                )
                .collect(),
            masks: &self.masks,
            protected: self.protected,
        };
        Ok(Queued {
            job_id: row,
            pipeline_id: self.pipeline.id,
            plan_index: i,
            project_id: self.project.id,
            tags: self.jobs[i].config.tags.clone(),
            protected: self.protected,
            payload: Arc::new(payload::build(&input)),
        })
    }

    /// Runners that went quiet: a job taken but not confirmed in time is queued again; a
    /// running job whose runner stopped reporting fails as a system failure (and is retried
    /// when its `retry` says so).
    pub(super) async fn check_runners(&mut self) {
        let config = &self.core.config;
        let mut lost = Vec::new();
        let mut ended = Vec::new();
        let mut stuck = Vec::new();
        for (job, r) in &mut self.remote {
            if let Some(taken) = r.taken
                && taken.elapsed() > config.runner_ack_timeout
            {
                r.taken = None;
                if self.scheduler.dispatch().is_canceling(r.queued.job_id) {
                    // Canceled meanwhile: it ends here rather than going to another runner.
                    ended.push((*job, r.queued.job_id, JobResult::Canceled));
                    continue;
                }
                tracing::warn!(
                    job_id = r.queued.job_id,
                    "a runner took a job and did not confirm it: queued again"
                );
                if let Err(e) = self.core.db.release_job(r.queued.job_id).await {
                    tracing::error!(error = %crate::error::ApiError::internal(e), "taking a job back");
                    continue;
                }
                self.scheduler.dispatch().push(r.queued.clone());
            } else if r.started && r.seen.elapsed() > config.runner_heartbeat_timeout {
                if self.scheduler.dispatch().is_canceling(r.queued.job_id) {
                    // Someone asked to stop it and its runner went quiet: it ends canceled.
                    ended.push((*job, r.queued.job_id, JobResult::Canceled));
                } else {
                    lost.push((*job, r.queued.job_id));
                }
            } else if !r.started
                && r.taken.is_none()
                && r.queued_at.elapsed() > config.pending_job_timeout
                // Out of the queue first, so that no runner takes it while it fails.
                && self.scheduler.dispatch().remove(r.queued.job_id)
            {
                stuck.push(*job);
                ended.push((
                    *job,
                    r.queued.job_id,
                    JobResult::Failed {
                        exit_code: None,
                        reason: FailureReason::StuckOrTimeoutFailure,
                    },
                ));
            }
        }
        for job in stuck {
            // Its retry, if any, is an attempt of its own (see `Actor::start`).
            self.stuck.insert(job);
            let line = format!(
                "ERROR: no runner took this job within {} s (is a runner with its tags online and unpaused?); the job failed as stuck\n",
                config.pending_job_timeout.as_secs()
            );
            self.traces[job.0].extend_from_slice(line.as_bytes());
        }
        for (job, row, result) in ended {
            let _ = self.tx.send(ActorMsg::RunnerFinished(job, row, result));
        }
        for (job, row) in lost {
            // The runner's token ends now: a late report of the lost attempt gets 403.
            if let Err(e) = self.core.db.revoke_job_token(row).await {
                tracing::error!(error = %crate::error::ApiError::internal(e), "revoking a job token");
            }
            let line = format!(
                "ERROR: the runner stopped reporting on this job for {} s; the job failed as a system failure\n",
                self.core.config.runner_heartbeat_timeout.as_secs()
            );
            self.traces[job.0].extend_from_slice(line.as_bytes());
            if let Some(r) = self.remote.get_mut(&job) {
                // Reported once: a late message of the runner does not count.
                r.seen = std::time::Instant::now();
            }
            let _ = self.tx.send(ActorMsg::RunnerFinished(
                job,
                row,
                JobResult::Failed {
                    exit_code: None,
                    reason: FailureReason::RunnerSystemFailure,
                },
            ));
        }
    }
}
