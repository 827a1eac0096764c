//! One pipeline's actor: owns the engine state machine of a pipeline, stores every event
//! before applying it, mirrors job and pipeline statuses into the database, runs `Run`
//! effects as runner job tasks (bounded by the server's job slots), appends their logs to the
//! job traces with masked values hidden, and stores their artifacts in the blob store.
//!
//! An actor lives while its pipeline can move by itself (jobs pending, running, scheduled)
//! and leaves when it settles; a later message (play, retry, cancel) brings it back by
//! compiling the pipeline again and replaying its stored events.

mod remote;
mod side_effects;

use super::variables::project_variables;
use super::{PipelineRequest, Scheduler, compile, events};
use crate::app::Core;
use crate::clock::now_ms;
use gantry_engine::{Effect, Event, FailureReason, JobId, JobResult, Status};
use gantry_executor::job::JobVariable;
use gantry_executor::mask::mask;
use gantry_plan::PlannedJob;
use gantry_plan::slug::slugify;
use gantry_runner::job::{JobEvent, JobTask, Shared, artifact_sources};
use gantry_runner::workspace::Workspace;
use gantry_store::db::{
    EventBatch, Job, JobUpdate, NewArtifact, Pipeline, PipelineUpdate, Project, StoreError, TraceAppend,
};
use remote::Remote;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A pending trace is written once it holds this many bytes (else on the next tick).
const TRACE_FLUSH_BYTES: usize = 64 << 10;
/// How often pending traces are written while jobs run.
const TRACE_TICK: Duration = Duration::from_millis(100);
/// Most messages handled (and their events stored) in one step.
const BATCH: usize = 256;

/// What reaches a pipeline's actor.
pub(crate) enum ActorMsg {
    /// Start (or resume) and do whatever is due.
    Wake,
    /// A job task's report.
    Job(JobEvent),
    /// A delayed job's time has come.
    Timer(JobId),
    /// Cancel the pipeline.
    Cancel,
    /// A newer pipeline on the same branch exists: cancel what `auto_cancel` says.
    AutoCancel,
    /// Retry a finished job; the new job's id goes back on the channel.
    Retry(JobId, Option<tokio::sync::oneshot::Sender<i64>>),
    /// Stop one running job.
    CancelJob(JobId),
    /// Retry the failed and canceled jobs.
    RetryPipeline,
    /// Play a manual job.
    Play(JobId),
    /// A runner took a queued job (it has yet to confirm).
    RunnerTook(JobId, i64),
    /// The runner of a job confirmed it (`PUT state=running`): the job runs.
    RunnerStarted(JobId, i64, Option<tokio::sync::oneshot::Sender<()>>),
    /// The runner of a job reported on it (a trace or a keep-alive).
    RunnerSeen(JobId, i64),
    /// The runner of a job (or the actor, for a runner gone silent) says how it ended.
    RunnerFinished(JobId, i64, JobResult),
    /// A runner's job (by name) reported dotenv variables.
    Dotenv(String, Vec<(String, String)>),
    /// The downstream pipeline of a trigger job (its attempt `row`) finished with a status.
    Downstream(JobId, i64, String),
}

impl From<JobEvent> for ActorMsg {
    fn from(event: JobEvent) -> Self {
        ActorMsg::Job(event)
    }
}

/// Runs the actor of `pipeline_id` until its pipeline settles.
pub(crate) async fn run(
    scheduler: Scheduler,
    pipeline_id: i64,
    tx: mpsc::UnboundedSender<ActorMsg>,
    mut rx: mpsc::UnboundedReceiver<ActorMsg>,
) {
    let mut actor = match Actor::load(&scheduler, pipeline_id, tx).await {
        Ok(Some(actor)) => actor,
        Ok(None) => {
            while scheduler.leave(pipeline_id, &mut rx).is_some() {}
            return;
        }
        Err(e) => {
            tracing::error!(pipeline_id, error = %crate::error::ApiError::internal(e), "cannot load the pipeline");
            while scheduler.leave(pipeline_id, &mut rx).is_some() {}
            return;
        }
    };
    let mut tick = tokio::time::interval(TRACE_TICK);
    loop {
        if actor.idle() {
            actor.flush_all().await;
            // Before leaving, so that no other actor of this pipeline runs meanwhile.
            actor.remove_builds().await;
            match scheduler.leave(pipeline_id, &mut rx) {
                Some(msg) => actor.handle(vec![msg]).await,
                None => return,
            }
            continue;
        }
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(msg) => {
                    // Whatever else has arrived is handled and stored with it.
                    let mut batch = vec![msg];
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(msg) => batch.push(msg),
                            Err(_) => break,
                        }
                    }
                    actor.handle(batch).await
                }
                None => return,
            },
            _ = tick.tick() => {
                actor.flush_all().await;
                actor.check_runners().await;
            }
        }
    }
}

struct Actor {
    core: Arc<Core>,
    scheduler: Scheduler,
    pipeline: Pipeline,
    jobs: Vec<PlannedJob>,
    /// The current row (latest attempt) of each planned job.
    rows: Vec<Job>,
    /// The status last written to each current row.
    written: Vec<Status>,
    engine: gantry_engine::Pipeline,
    /// `workflow:auto_cancel:on_new_commit` of this pipeline.
    auto_cancel: gantry_engine::AutoCancel,
    shared: Arc<Shared>,
    variables: Vec<Vec<JobVariable>>,
    masks: Vec<String>,
    tokens: HashMap<JobId, CancellationToken>,
    /// When each running attempt started (for the duration metric).
    started: HashMap<JobId, std::time::Instant>,
    tasks: usize,
    /// Jobs queued for or held by remote runners.
    remote: HashMap<JobId, Remote>,
    /// Jobs that failed as stuck while queued for a runner: their retry gets a new row.
    stuck: HashSet<JobId>,
    /// `strategy: depend` trigger jobs waiting for their downstream pipeline's end.
    depending: HashSet<JobId>,
    project: Project,
    protected: bool,
    traces: Vec<Vec<u8>>,
    trace_len: Vec<i64>,
    tx: mpsc::UnboundedSender<ActorMsg>,
}

impl Actor {
    /// Compiles the pipeline again, replays its stored events and resumes what was cut short.
    async fn load(
        scheduler: &Scheduler,
        pipeline_id: i64,
        tx: mpsc::UnboundedSender<ActorMsg>,
    ) -> Result<Option<Actor>, super::ScheduleError> {
        let core = scheduler.inner.core.clone();
        let db = &core.db;
        let Some(pipeline) = db.pipeline(pipeline_id).await? else {
            return Ok(None);
        };
        if pipeline.config_errors.is_some() {
            return Ok(None);
        }
        let Some(project) = db.project(pipeline.project_id).await? else {
            return Ok(None);
        };
        let variables: Vec<(String, String)> =
            serde_json::from_str(&pipeline.variables_json).unwrap_or_default();
        let request = PipelineRequest {
            ref_name: pipeline.ref_name.clone(),
            tag: pipeline.tag,
            sha: pipeline.sha.clone(),
            before_sha: Some(pipeline.before_sha.clone()),
            source: pipeline.source.clone(),
            variables: variables.clone(),
            user_id: pipeline.user_id,
            parent_job_id: pipeline.parent_job_id,
            root_config: pipeline.root_config.clone(),
        };
        let id = u64::try_from(pipeline.id).unwrap_or(0);
        let iid = u64::try_from(pipeline.iid).unwrap_or(0);
        let compiled = compile(&core, &project, &request, id, iid).await?;
        let Some(compiled) = compiled.filter(|c| c.errors.is_empty()) else {
            db.update_pipeline(
                pipeline.id,
                &PipelineUpdate {
                    status: Some("failed".into()),
                    finished_at: Some(now_ms()),
                    ..PipelineUpdate::default()
                },
            )
            .await?;
            return Ok(None);
        };
        let jobs = compiled.jobs;
        let auto_cancel = compiled.auto_cancel;
        let mut rows: Vec<Option<Job>> = vec![None; jobs.len()];
        for row in db.jobs_of_pipeline(pipeline.id, false).await? {
            if let Some(slot) = usize::try_from(row.plan_index).ok().and_then(|i| rows.get_mut(i)) {
                *slot = Some(row);
            }
        }
        let Some(rows) = rows.into_iter().collect::<Option<Vec<Job>>>() else {
            return Err(super::ScheduleError::Missing("job row for every planned job"));
        };
        let refs: Vec<&PlannedJob> = jobs.iter().collect();
        let mut engine = gantry_engine::Pipeline::new(gantry_runner::defs::engine_defs(&refs));
        let mut effects = engine.start();
        let stored = db.events(pipeline.id).await?;
        let replaying = !stored.is_empty();
        for (_, text) in &stored {
            if let Some(event) = events::decode(text, jobs.len()) {
                effects = engine.apply(event);
            }
        }
        let workspace = Workspace::for_pipeline(
            &core.repo_dir(&project.path),
            &scheduler.pipeline_dir(pipeline.id),
            &pipeline.sha,
            id,
        )
        .map_err(|e| super::ScheduleError::Compile(e.to_string()))?;
        // Caches outlive the pipeline: every pipeline of the project shares them, as GitLab's
        // runners share theirs.
        let mut workspace = workspace;
        workspace.cache_root = Some(core.config.data_dir.join("cache").join(project.id.to_string()));
        let mut shared = Shared::new(workspace, variables);
        shared.job_url_prefix = format!("{}/{}/-/jobs/", core.external_url, project.path);
        shared.pipeline_iid = Some(iid);
        shared.executors = core.config.executors.clone();
        let protected = core
            .is_protected(&project, &pipeline.ref_name, pipeline.tag)
            .await;
        let (variables, masks) = project_variables(&core, &project, &jobs, protected).await?;
        let mut trace_len = Vec::with_capacity(rows.len());
        for row in &rows {
            trace_len.push(db.trace_len(row.id).await?);
        }
        let written = rows.iter().map(|r| status_of(&r.status)).collect();
        let n = jobs.len();
        let mut actor = Actor {
            core,
            scheduler: scheduler.clone(),
            pipeline,
            jobs,
            rows,
            written,
            engine,
            auto_cancel,
            shared: Arc::new(shared),
            variables,
            masks,
            tokens: HashMap::new(),
            started: HashMap::new(),
            tasks: 0,
            remote: HashMap::new(),
            stuck: HashSet::new(),
            depending: HashSet::new(),
            project,
            protected,
            traces: vec![Vec::new(); n],
            trace_len,
            tx,
        };
        // The statuses first (a job a runner may take is `pending`), then the effects, then
        // what they changed.
        actor.sync().await?;
        if replaying {
            actor.resume().await?;
        } else {
            actor.effects(effects).await?;
        }
        actor.sync().await?;
        Ok(Some(actor))
    }

    /// After a replay: jobs that were running in this process are lost and fail as a system
    /// failure (a runner that still holds its job goes on with it); pending jobs run;
    /// delayed jobs wait again.
    async fn resume(&mut self) -> Result<(), StoreError> {
        let mut effects = Vec::new();
        for i in 0..self.jobs.len() {
            let job = JobId(i);
            let status = self.engine.state(job).status;
            match status {
                Status::Running if self.runs_remotely(i) && self.adopt(job).await? => {}
                Status::Running if self.adopt_trigger(job).await? => {}
                Status::Running => {
                    self.traces[i].extend_from_slice(
                        b"ERROR: the server stopped while this job ran; the job failed as a system failure\n",
                    );
                    self.flush(i).await?;
                    let lost = JobResult::Failed {
                        exit_code: None,
                        reason: FailureReason::RunnerSystemFailure,
                    };
                    self.store_event(&Event::Finished(job, lost)).await?;
                    effects.extend(self.engine.apply(Event::Finished(job, lost)));
                }
                Status::Pending => effects.push(Effect::Run(job)),
                Status::Scheduled => {
                    effects.push(Effect::Timer(job, self.jobs[i].start_in.unwrap_or(0)));
                }
                _ => {}
            }
        }
        self.effects(effects).await
    }

    /// Deletes the pipeline's checkout, build and scratch directories once it has finished (a
    /// retry later checks the commit out again); the artifact archives stay for the jobs a
    /// retry may run. A pipeline waiting for a manual job keeps everything.
    async fn remove_builds(&self) {
        if !self.engine.status().is_completed() {
            return;
        }
        let shared = self.shared.clone();
        let removed = tokio::task::spawn_blocking(move || shared.workspace.clear_builds()).await;
        if let Ok(Err(e)) = removed {
            tracing::warn!(pipeline_id = self.pipeline.id, error = %e, "removing the build directories");
        }
    }

    fn idle(&self) -> bool {
        self.tasks == 0 && self.engine.is_settled()
    }

    /// Handles messages in order; their events are applied and stored together.
    async fn handle(&mut self, msgs: Vec<ActorMsg>) {
        let mut events = Vec::new();
        // Traces stored with the events: those of finished jobs and long pending ones.
        let mut traces = Vec::new();
        let mut replies = Vec::new();
        // Told once the batch is stored (a runner's confirmation must survive a restart).
        let mut stored: Vec<tokio::sync::oneshot::Sender<()>> = Vec::new();
        for msg in msgs {
            match msg {
                ActorMsg::Wake => {}
                ActorMsg::Job(JobEvent::Started(job)) => {
                    self.core.metrics.job_started();
                    self.started.insert(job, std::time::Instant::now());
                    events.push(Event::Started(job));
                }
                ActorMsg::Job(JobEvent::Log(job, line)) => {
                    let line = mask(&line, &self.masks);
                    let buf = &mut self.traces[job.0];
                    buf.extend_from_slice(line.as_bytes());
                    buf.push(b'\n');
                    if buf.len() >= TRACE_FLUSH_BYTES && !traces.contains(&job.0) {
                        traces.push(job.0);
                    }
                }
                ActorMsg::Job(JobEvent::Finished(job, result)) => {
                    self.tasks = self.tasks.saturating_sub(1);
                    self.tokens.remove(&job);
                    if let Err(e) = self.store_artifacts(job.0, result).await {
                        tracing::error!(error = %crate::error::ApiError::internal(e), "storing a job's artifacts");
                    }
                    if !traces.contains(&job.0) {
                        traces.push(job.0);
                    }
                    let ran = self.started.remove(&job).map(|t| t.elapsed().as_secs_f64());
                    self.core.metrics.job_finished(result_word(result), ran);
                    events.push(Event::Finished(job, result));
                }
                ActorMsg::Timer(job) => events.push(Event::TimerFired(job)),
                ActorMsg::Cancel => events.push(Event::Cancel),
                ActorMsg::AutoCancel => events.push(Event::AutoCancel(self.auto_cancel)),
                ActorMsg::Retry(job, reply) if job.0 < self.jobs.len() => {
                    replies.push((job, self.rows[job.0].id, reply));
                    events.push(Event::Retry(job));
                }
                ActorMsg::CancelJob(job) => {
                    if let Some(token) = self.tokens.get(&job) {
                        token.cancel();
                    }
                    self.stop_remote(job);
                    self.stop_trigger(job);
                }
                ActorMsg::Play(job) if job.0 < self.jobs.len() => events.push(Event::Play(job)),
                ActorMsg::Retry(..) | ActorMsg::Play(_) => {}
                ActorMsg::RetryPipeline => events.push(Event::RetryPipeline),
                ActorMsg::RunnerTook(..)
                | ActorMsg::RunnerStarted(..)
                | ActorMsg::RunnerSeen(..)
                | ActorMsg::RunnerFinished(..) => {
                    self.runner_message(msg, &mut events, &mut traces, &mut stored)
                        .await
                }
                ActorMsg::Downstream(job, row, status) => self.downstream_finished(job, row, &status),
                ActorMsg::Dotenv(name, vars) => {
                    if let Ok(mut map) = self.shared.dotenv.lock() {
                        map.insert(name, vars);
                    }
                }
            }
        }
        match self.apply(&events, &traces).await {
            Ok(()) => {
                for tell in stored {
                    let _ = tell.send(());
                }
            }
            Err(e) => {
                tracing::error!(pipeline_id = self.pipeline.id, error = %crate::error::ApiError::internal(e), "pipeline actor");
            }
        }
        for (job, before, reply) in replies {
            if let Some(reply) = reply
                && self.rows[job.0].id != before
            {
                let _ = reply.send(self.rows[job.0].id);
            }
        }
    }

    async fn store_event(&self, event: &Event) -> Result<(), StoreError> {
        self.core
            .db
            .append_event(self.pipeline.id, &events::encode(event), now_ms())
            .await
            .map(|_| ())
    }

    /// Applies events in order, stores them with the statuses they change and the pending
    /// log bytes of `traces`' jobs, then carries out their effects and writes what those
    /// changed.
    async fn apply(&mut self, events: &[Event], traces: &[usize]) -> Result<(), StoreError> {
        if events.is_empty() {
            for &i in traces {
                self.flush(i).await?;
            }
            return Ok(());
        }
        // The events, the statuses they change and the logs written before them are stored
        // in one transaction before any of their effects is carried out; the engine moves on
        // only once they are.
        let mut next = self.engine.clone();
        let mut effects = Vec::new();
        for event in events {
            effects.extend(next.apply(*event));
        }
        let now = now_ms();
        let (jobs, pipeline) = self.changes(&next, now);
        let included: Vec<usize> = traces
            .iter()
            .copied()
            .filter(|&i| !self.traces[i].is_empty())
            .collect();
        let mut batch = EventBatch {
            traces: included
                .iter()
                .map(|&i| TraceAppend {
                    job_id: self.rows[i].id,
                    offset: self.trace_len[i],
                    bytes: self.traces[i].clone(),
                })
                .collect(),
            events: events.iter().map(events::encode).collect(),
            jobs: jobs.iter().map(|(i, u)| (self.rows[*i].id, u.clone())).collect(),
            pipeline: pipeline.clone(),
        };
        let core = self.core.clone();
        match core.db.record_events(self.pipeline.id, &batch, now).await {
            Ok(recorded) => {
                for (&i, len) in included.iter().zip(recorded.trace_lens) {
                    self.trace_len[i] = len;
                    self.traces[i].clear();
                    self.core.live.send(crate::live::Change::Trace {
                        job_id: self.rows[i].id,
                    });
                }
            }
            Err(StoreError::TraceOffset { .. }) => {
                // A trace moved under us (an earlier writer of this pipeline): append each
                // where it now ends, then store the rest.
                for &i in &included {
                    self.flush(i).await?;
                }
                batch.traces.clear();
                core.db.record_events(self.pipeline.id, &batch, now).await?;
            }
            Err(e) => return Err(e),
        }
        self.engine = next;
        self.wrote(&jobs, pipeline.as_ref());
        self.after_write(&jobs, pipeline.as_ref()).await;
        self.effects(effects).await?;
        // What the effects changed (a retried job's new row).
        self.sync().await
    }

    /// The row and pipeline updates that bring the database to `engine`'s statuses. A job
    /// about to run again whose row already ran is left out: [`Actor::start`] gives it a new
    /// row first.
    fn changes(
        &self,
        engine: &gantry_engine::Pipeline,
        now: i64,
    ) -> (Vec<(usize, JobUpdate)>, Option<PipelineUpdate>) {
        let mut jobs = Vec::new();
        for i in 0..self.jobs.len() {
            let state = engine.state(JobId(i));
            let written = self.written[i];
            if state.status == written {
                continue;
            }
            let rerun = state.status == Status::Pending
                && matches!(
                    written,
                    Status::Running | Status::Success | Status::Failed | Status::Canceled
                );
            if rerun {
                continue;
            }
            let completed = state.status.is_completed();
            jobs.push((
                i,
                JobUpdate {
                    status: Some(state.status.as_str().to_owned()),
                    started_at: (state.status == Status::Running).then_some(now),
                    finished_at: completed.then_some(now),
                    exit_code: if completed { state.exit_code } else { None },
                    failure_reason: if state.status == Status::Failed {
                        state.failure.map(|f| f.as_str().to_owned())
                    } else {
                        None
                    },
                    ..JobUpdate::default()
                },
            ));
        }
        let status = engine.status();
        let pipeline = (status.as_str() != self.pipeline.status).then(|| PipelineUpdate {
            status: Some(status.as_str().to_owned()),
            started_at: (status == Status::Running && self.pipeline.started_at.is_none()).then_some(now),
            finished_at: status.is_completed().then_some(now),
            ..PipelineUpdate::default()
        });
        (jobs, pipeline)
    }

    /// Records that these updates are in the database.
    fn wrote(&mut self, jobs: &[(usize, JobUpdate)], pipeline: Option<&PipelineUpdate>) {
        if !jobs.is_empty() || pipeline.is_some() {
            self.core.live.send(crate::live::Change::Pipeline {
                project_id: self.pipeline.project_id,
                pipeline_id: self.pipeline.id,
            });
        }
        for (i, update) in jobs {
            if let Some(status) = &update.status {
                self.written[*i] = status_of(status);
            }
        }
        if let Some(update) = pipeline {
            if let Some(t) = update.started_at {
                self.pipeline.started_at = Some(t);
            }
            if let Some(status) = &update.status {
                self.pipeline.status = status.clone();
            }
        }
    }

    async fn effects(&mut self, effects: Vec<Effect>) -> Result<(), StoreError> {
        for effect in effects {
            match effect {
                Effect::Run(job) => self.start(job).await?,
                Effect::Timer(job, secs) => {
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs(secs)).await;
                        let _ = tx.send(ActorMsg::Timer(job));
                    });
                }
                Effect::Stop(job) => {
                    if let Some(token) = self.tokens.get(&job) {
                        token.cancel();
                    }
                    self.stop_remote(job);
                    self.stop_trigger(job);
                }
            }
        }
        Ok(())
    }

    /// Runs an attempt: a new row when the current one already ran (a retry).
    async fn start(&mut self, job: JobId) -> Result<(), StoreError> {
        let i = job.0;
        let db = &self.core.db;
        let written = self.written[i];
        // A queued attempt that ended without running (stuck: no runner took it) is an
        // attempt too: its retry gets a row of its own, as in GitLab.
        let ended_queued = self.stuck.remove(&job);
        if ended_queued
            || matches!(
                written,
                Status::Running | Status::Success | Status::Failed | Status::Canceled
            )
        {
            if written == Status::Running || ended_queued {
                // An automatic retry: the attempt that just ended failed.
                let state = self.engine.state(job);
                db.update_job(
                    self.rows[i].id,
                    &JobUpdate {
                        status: Some("failed".into()),
                        finished_at: Some(now_ms()),
                        exit_code: state.exit_code,
                        failure_reason: state.failure.map(|f| f.as_str().to_owned()),
                        ..JobUpdate::default()
                    },
                )
                .await?;
            }
            self.rows[i] = db.create_retry(self.rows[i].id, now_ms()).await?;
            self.written[i] = Status::Pending;
            self.trace_len[i] = 0;
            self.traces[i].clear();
        }
        if self.jobs[i].config.trigger.is_some() {
            return self.trigger(job).await;
        }
        if self.runs_remotely(i) {
            return self.queue(job).await;
        }
        let refs: Vec<&PlannedJob> = self.jobs.iter().collect();
        let run_variables = self.run_variables(i).await;
        let task = JobTask {
            id: job,
            job: self.jobs[i].clone(),
            attempt: self.engine.state(job).attempts,
            sources: artifact_sources(&self.jobs[i], &refs),
            job_id: u64::try_from(self.rows[i].id).ok(),
            variables: self.variables[i].clone(),
            run_variables,
        };
        let token = CancellationToken::new();
        self.tokens.insert(job, token.clone());
        self.tasks += 1;
        self.core.metrics.job_queued();
        let slots = self.scheduler.inner.slots.clone();
        tokio::spawn(task.run(self.shared.clone(), self.tx.clone(), slots, token));
        Ok(())
    }

    /// Writes every status that changed since the last write, and the pipeline's.
    async fn sync(&mut self) -> Result<(), StoreError> {
        let (jobs, pipeline) = self.changes(&self.engine, now_ms());
        for (i, update) in &jobs {
            self.core.db.update_job(self.rows[*i].id, update).await?;
        }
        if let Some(update) = &pipeline {
            self.core.db.update_pipeline(self.pipeline.id, update).await?;
        }
        self.wrote(&jobs, pipeline.as_ref());
        self.after_write(&jobs, pipeline.as_ref()).await;
        Ok(())
    }

    async fn flush_all(&mut self) {
        for i in 0..self.traces.len() {
            if let Err(e) = self.flush(i).await {
                tracing::error!(error = %crate::error::ApiError::internal(e), "writing a trace");
            }
        }
    }

    /// Appends the job's pending log bytes to its trace.
    async fn flush(&mut self, i: usize) -> Result<(), StoreError> {
        if self.traces[i].is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.traces[i]);
        let row = self.rows[i].id;
        let len = match self.core.db.append_trace(row, self.trace_len[i], &bytes).await {
            Ok(len) => len,
            Err(StoreError::TraceOffset { .. }) => {
                let at = self.core.db.trace_len(row).await?;
                self.core.db.append_trace(row, at, &bytes).await?
            }
            Err(e) => return Err(e),
        };
        self.trace_len[i] = len;
        self.core.live.send(crate::live::Change::Trace { job_id: row });
        Ok(())
    }

    /// Puts the archive the attempt left (if any) into the blob store, with its expiry.
    async fn store_artifacts(&self, i: usize, _result: JobResult) -> Result<(), StoreError> {
        let job = &self.jobs[i];
        let zip = self
            .shared
            .workspace
            .artifacts_dir()
            .join(format!("{}.zip", slugify(&job.name)));
        let Ok(meta) = tokio::fs::metadata(&zip).await else {
            return Ok(());
        };
        let row = &self.rows[i];
        let key = format!("artifacts/{}/{}/artifacts.zip", self.pipeline.project_id, row.id);
        if let Err(e) = self.core.blobs.put_file(&key, &zip).await {
            tracing::error!(error = %crate::error::ApiError::internal(e), "storing artifacts");
            return Ok(());
        }
        let now = now_ms();
        let expire_in = job
            .config
            .artifacts
            .as_ref()
            .and_then(|a| a.expire_in)
            .unwrap_or(Some(30 * 24 * 3600));
        let artifact = NewArtifact {
            job_id: row.id,
            file_type: "archive".into(),
            file_format: "zip".into(),
            filename: "artifacts.zip".into(),
            blob_key: key,
            size: i64::try_from(meta.len()).unwrap_or(i64::MAX),
            sha256: super::file_sha256(&zip).await,
            expire_at: expire_in.map(|s| now + i64::try_from(s).unwrap_or(0) * 1000),
        };
        self.core.db.add_artifact(&artifact, now).await.map(|_| ())
    }
}

/// The engine status of a stored status word.
pub(crate) fn status_of(word: &str) -> Status {
    match word {
        "pending" => Status::Pending,
        "running" => Status::Running,
        "success" => Status::Success,
        "failed" => Status::Failed,
        "canceled" => Status::Canceled,
        "skipped" => Status::Skipped,
        "manual" => Status::Manual,
        "scheduled" => Status::Scheduled,
        "waiting_for_resource" => Status::WaitingForResource,
        _ => Status::Created,
    }
}

fn result_word(result: JobResult) -> &'static str {
    match result {
        JobResult::Success => "success",
        JobResult::Failed { .. } => "failed",
        JobResult::Canceled => "canceled",
    }
}
