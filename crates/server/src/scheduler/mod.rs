//! Pipelines on the server: [`Scheduler::create`] compiles a commit's configuration and
//! stores the pipeline and its jobs; each live pipeline is then driven by one actor task
//! ([`actor`]) that owns its engine state machine and runs its jobs through the runner code
//! `gantry run` uses. Every event an actor applies is stored first, so after a restart the
//! actor is rebuilt by compiling the same inputs again and replaying the events.

mod actor;
pub(crate) mod dispatch;
mod events;
pub(crate) mod payload;
pub mod source;
mod variables;

use crate::app::Core;
use crate::clock::now_ms;
use actor::ActorMsg;
pub(crate) use actor::status_of;
use gantry_engine::JobId;
use gantry_store::db::{NewJob, NewPipeline, Pipeline, Project, StoreError};
use source::RepoSource;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc};

/// Creating or driving a pipeline failed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The database failed.
    #[error("pipeline state")]
    Store(#[from] StoreError),
    /// A blocking task failed to finish.
    #[error("compiling the pipeline: {0}")]
    Compile(String),
    /// The pipeline or job is not there.
    #[error("no such {0}")]
    Missing(&'static str),
}

/// What a pipeline is created for.
#[derive(Clone, Debug)]
pub struct PipelineRequest {
    /// The branch or tag.
    pub ref_name: String,
    /// Whether `ref_name` is a tag.
    pub tag: bool,
    /// The commit.
    pub sha: String,
    /// The ref's commit before a push (forty zeros for a new ref; `None` outside pushes).
    pub before_sha: Option<String>,
    /// `CI_PIPELINE_SOURCE`: push, api, web, trigger.
    pub source: String,
    /// Pipeline variables (highest precedence).
    pub variables: Vec<(String, String)>,
    /// Who it runs for (the pusher, the API caller), if anyone.
    pub user_id: Option<i64>,
    /// The trigger job it is the downstream pipeline of.
    pub parent_job_id: Option<i64>,
    /// A child pipeline's configuration, instead of the commit's `.gitlab-ci.yml`.
    pub root_config: Option<String>,
}

/// The compiled inputs of a pipeline, rebuilt the same way after a restart.
pub(crate) struct Compiled {
    pub(crate) jobs: Vec<gantry_plan::PlannedJob>,
    /// How a newer pipeline on the same branch cancels this one.
    pub(crate) auto_cancel: gantry_engine::AutoCancel,
    pub(crate) created: bool,
    pub(crate) errors: Vec<String>,
    /// The first line of the commit's message.
    pub(crate) commit_title: String,
}

/// Starts and reaches pipeline actors.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    core: Arc<Core>,
    actors: Mutex<HashMap<i64, mpsc::UnboundedSender<ActorMsg>>>,
    slots: Arc<Semaphore>,
    dispatch: dispatch::Dispatch,
}

impl Scheduler {
    /// A scheduler running at most `config.concurrency` jobs at once.
    pub fn new(core: Arc<Core>) -> Self {
        let slots = Arc::new(Semaphore::new(core.config.concurrency.max(1)));
        Scheduler {
            inner: Arc::new(Inner {
                core,
                actors: Mutex::new(HashMap::new()),
                slots,
                dispatch: dispatch::Dispatch::new(),
            }),
        }
    }

    /// Creates the pipeline GitLab would create for `request` in `project`: `None` when the
    /// commit has no `.gitlab-ci.yml` or its workflow rules create none; a failed pipeline
    /// holding the diagnostics when the configuration is invalid; else a running pipeline.
    pub async fn create(
        &self,
        project: &Project,
        request: PipelineRequest,
    ) -> Result<Option<Pipeline>, ScheduleError> {
        let core = &self.inner.core;
        let compiled = compile(core, project, &request, 0, 0).await?;
        let Some(compiled) = compiled else { return Ok(None) };
        if compiled.errors.is_empty() && !compiled.created {
            return Ok(None);
        }
        let now = now_ms();
        let failed = !compiled.errors.is_empty();
        let new = NewPipeline {
            project_id: project.id,
            ref_name: request.ref_name.clone(),
            tag: request.tag,
            sha: request.sha.clone(),
            before_sha: request
                .before_sha
                .clone()
                .unwrap_or_else(|| source::NULL_SHA.to_owned()),
            source: request.source.clone(),
            status: if failed { "failed" } else { "created" }.to_owned(),
            config_errors: failed.then(|| serde_json::to_string(&compiled.errors).unwrap_or_default()),
            variables_json: serde_json::to_string(&request.variables).unwrap_or_else(|_| "[]".into()),
            user_id: request.user_id,
            commit_title: compiled.commit_title.clone(),
            parent_job_id: request.parent_job_id,
            root_config: request.root_config.clone(),
        };
        let pipeline = core.db.create_pipeline(&new, now).await?;
        core.metrics.pipeline_created(&pipeline.source);
        if failed {
            return Ok(Some(pipeline));
        }
        let new_jobs: Vec<NewJob> = compiled
            .jobs
            .iter()
            .enumerate()
            .map(|(i, j)| NewJob {
                name: j.name.clone(),
                stage: j.stage.clone(),
                stage_idx: i64::try_from(j.stage_index).unwrap_or(0),
                status: "created".to_owned(),
                allow_failure: j.allow_failure,
                when: when_word(j.when).to_owned(),
                plan_index: i64::try_from(i).unwrap_or(0),
                needs_json: serde_json::to_string(
                    &j.needs
                        .iter()
                        .flatten()
                        .map(|n| n.job.as_str())
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_else(|_| "[]".into()),
                variable_names: serde_json::to_string(
                    &j.variables
                        .iter()
                        .map(|(name, _)| name)
                        .filter(|n| !is_predefined(n))
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_else(|_| "[]".into()),
            })
            .collect();
        core.db.create_jobs(pipeline.id, &new_jobs, now).await?;
        core.live.send(crate::live::Change::Pipeline {
            project_id: project.id,
            pipeline_id: pipeline.id,
        });
        // Before any job is queued: runners fetch the commit by this ref.
        let pipeline_ref = format!("refs/pipelines/{}", pipeline.id);
        let kept = match core.repos.open(&project.path) {
            Ok(repo) => repo.set_ref(&pipeline_ref, &pipeline.sha).await,
            Err(e) => Err(e),
        };
        if let Err(e) = kept {
            tracing::warn!(pipeline_id = pipeline.id, error = %e, "keeping the pipeline's ref");
        }
        self.send(pipeline.id, ActorMsg::Wake);
        // A downstream pipeline is its trigger's business: it makes nothing redundant.
        if !pipeline.tag && pipeline.parent_job_id.is_none() {
            self.cancel_redundant(&pipeline).await?;
        }
        Ok(Some(pipeline))
    }

    /// GitLab's auto-cancel of redundant pipelines: every older pipeline still running on the
    /// same branch of the project, for another commit, is told a newer one exists; each
    /// cancels what its own `workflow:auto_cancel:on_new_commit` says (by default all of it,
    /// unless a job that is not `interruptible` has started). Blocked (`manual`) pipelines
    /// are left alone.
    async fn cancel_redundant(&self, newer: &Pipeline) -> Result<(), ScheduleError> {
        let older = self.inner.core.db.unfinished_pipelines().await?;
        for p in older.iter().filter(|p| {
            p.project_id == newer.project_id
                && p.id < newer.id
                && !p.tag
                && p.ref_name == newer.ref_name
                && p.sha != newer.sha
                && p.status != "manual"
        }) {
            tracing::info!(
                pipeline_id = p.id,
                newer = newer.id,
                "auto-canceling a redundant pipeline"
            );
            self.send(p.id, ActorMsg::AutoCancel);
        }
        Ok(())
    }

    /// Cancels a pipeline: running jobs are stopped, the others canceled.
    pub fn cancel(&self, pipeline_id: i64) {
        self.send(pipeline_id, ActorMsg::Cancel);
    }

    /// Retries the failed and canceled jobs of a pipeline.
    pub fn retry_pipeline(&self, pipeline_id: i64) {
        self.send(pipeline_id, ActorMsg::RetryPipeline);
    }

    /// Retries one finished job (by its plan position in the pipeline); the new job's id,
    /// or `None` when the job cannot be retried now.
    pub async fn retry_job(&self, pipeline_id: i64, plan_index: usize) -> Option<i64> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(pipeline_id, ActorMsg::Retry(JobId(plan_index), Some(tx)));
        rx.await.ok()
    }

    /// Stops one running job (it ends canceled).
    pub fn cancel_job(&self, pipeline_id: i64, plan_index: usize) {
        self.send(pipeline_id, ActorMsg::CancelJob(JobId(plan_index)));
    }

    /// Plays a manual job.
    pub fn play_job(&self, pipeline_id: i64, plan_index: usize) {
        self.send(pipeline_id, ActorMsg::Play(JobId(plan_index)));
    }

    /// The jobs waiting for runners that ask over the runner protocol.
    pub(crate) fn dispatch(&self) -> &dispatch::Dispatch {
        &self.inner.dispatch
    }

    /// A runner took a queued job (the attempt `row` of the job at `plan_index`).
    pub(crate) fn runner_took(&self, pipeline_id: i64, plan_index: usize, row: i64) {
        self.send(pipeline_id, ActorMsg::RunnerTook(JobId(plan_index), row));
    }

    /// A runner confirmed a job it took; returns once that is stored (a restart keeps it).
    pub(crate) async fn runner_started(&self, pipeline_id: i64, plan_index: usize, row: i64) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(
            pipeline_id,
            ActorMsg::RunnerStarted(JobId(plan_index), row, Some(tx)),
        );
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), rx).await;
    }

    /// A runner reported on a running job.
    pub(crate) fn runner_seen(&self, pipeline_id: i64, plan_index: usize, row: i64) {
        self.send(pipeline_id, ActorMsg::RunnerSeen(JobId(plan_index), row));
    }

    /// A runner says how a job ended.
    pub(crate) fn runner_finished(
        &self,
        pipeline_id: i64,
        plan_index: usize,
        row: i64,
        result: gantry_engine::JobResult,
    ) {
        self.send(
            pipeline_id,
            ActorMsg::RunnerFinished(JobId(plan_index), row, result),
        );
    }

    /// A runner's job reported dotenv variables (for the jobs after it).
    pub(crate) fn dotenv(&self, pipeline_id: i64, name: String, vars: Vec<(String, String)>) {
        self.send(pipeline_id, ActorMsg::Dotenv(name, vars));
    }

    /// Where a pipeline's builds, checkout and local artifact copies live.
    pub(crate) fn pipeline_dir(&self, pipeline_id: i64) -> std::path::PathBuf {
        self.inner
            .core
            .config
            .data_dir
            .join("builds")
            .join(pipeline_id.to_string())
    }

    /// Where the in-process runner's jobs of a pipeline find the archives of earlier jobs
    /// (`<slug>.zip`), as the pipeline's workspace lays them out.
    pub(crate) fn artifacts_dir(&self, pipeline_id: i64) -> std::path::PathBuf {
        gantry_runner::workspace::Workspace::artifacts_dir_in(
            &self.pipeline_dir(pipeline_id),
            u64::try_from(pipeline_id).unwrap_or(0),
        )
    }

    /// After a start: every pipeline the database says is unfinished gets its actor back;
    /// jobs that were running when the server stopped fail as a system failure (and are
    /// retried when their `retry` says so).
    pub async fn recover(&self) -> Result<usize, ScheduleError> {
        let pipelines = self.inner.core.db.unfinished_pipelines().await?;
        for p in &pipelines {
            self.send(p.id, ActorMsg::Wake);
        }
        Ok(pipelines.len())
    }

    /// Delivers a message to the pipeline's actor, starting (or resuming) it when it is not
    /// running. Senders are taken and used under the lock, and an actor only leaves the map
    /// under the same lock with an empty mailbox, so no message is lost.
    fn send(&self, pipeline_id: i64, msg: ActorMsg) {
        let Ok(mut actors) = self.inner.actors.lock() else {
            return;
        };
        let msg = match actors.get(&pipeline_id) {
            Some(tx) => match tx.send(msg) {
                Ok(()) => return,
                Err(mpsc::error::SendError(msg)) => msg,
            },
            None => msg,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(msg);
        actors.insert(pipeline_id, tx.clone());
        let scheduler = self.clone();
        tokio::spawn(async move {
            actor::run(scheduler, pipeline_id, tx, rx).await;
        });
    }

    /// Removes the actor's mailbox if it is empty; false when a message arrived meanwhile.
    fn leave(&self, pipeline_id: i64, rx: &mut mpsc::UnboundedReceiver<ActorMsg>) -> Option<ActorMsg> {
        let Ok(mut actors) = self.inner.actors.lock() else {
            return None;
        };
        match rx.try_recv() {
            Ok(msg) => Some(msg),
            Err(_) => {
                actors.remove(&pipeline_id);
                None
            }
        }
    }
}

/// Whether `name` is one of GitLab's predefined variables (`CI`, `CI_*`, `GITLAB_*`) rather
/// than one the configuration defines.
pub(crate) fn is_predefined(name: &str) -> bool {
    name == "CI" || name.starts_with("CI_") || name.starts_with("GITLAB_")
}

/// GitLab's word for a job's `when`.
fn when_word(when: gantry_config::model::When) -> &'static str {
    use gantry_config::model::When;
    match when {
        When::OnSuccess => "on_success",
        When::OnFailure => "on_failure",
        When::Always => "always",
        When::Manual => "manual",
        When::Delayed => "delayed",
        When::Never => "never",
    }
}

/// Compiles the configuration of `request`'s commit; `None` without a `.gitlab-ci.yml`.
pub(crate) async fn compile(
    core: &Core,
    project: &Project,
    request: &PipelineRequest,
    pipeline_id: u64,
    pipeline_iid: u64,
) -> Result<Option<Compiled>, ScheduleError> {
    let git_dir = core.repo_dir(&project.path);
    let repos_root = core.repos_root();
    let project = project.clone();
    let request = request.clone();
    let server_url = core.external_url.clone();
    let protected = core.is_protected(&project, &request.ref_name, request.tag).await;
    // `include:project` reads what the project's owner may read (gantry does not record who
    // pushed): its own projects, internal and public ones.
    let owner = match project.creator_id {
        Some(id) => core.db.user(id).await?,
        None => None,
    };
    let db = core.db.clone();
    let handle = tokio::runtime::Handle::current();
    let may_read: source::MayRead =
        Box::new(
            move |path: &str| match handle.block_on(db.project_by_path(path)) {
                Ok(Some(included)) => {
                    crate::access::level(owner.as_ref(), &included) >= crate::access::Level::Guest
                }
                _ => false,
            },
        );
    tokio::task::spawn_blocking(move || {
        let mut source = RepoSource::new(git_dir, repos_root, request.sha.clone()).with_access(may_read);
        let root = match request.root_config.clone() {
            Some(text) => {
                source = source.with_root(text);
                source::DOWNSTREAM_ROOT
            }
            None if source.files().iter().any(|f| f == ".gitlab-ci.yml") => ".gitlab-ci.yml",
            None => return None,
        };
        let (message, author, timestamp) = source.commit();
        let commit_title = message.lines().next().unwrap_or_default().to_owned();
        let before = request.before_sha.clone().unwrap_or_default();
        let ctx = gantry_plan::Context {
            source: request.source.clone(),
            ref_name: request.ref_name.clone(),
            is_tag: request.tag,
            default_branch: project.default_branch.clone(),
            sha: request.sha.clone(),
            before_sha: if before.is_empty() {
                source::NULL_SHA.to_owned()
            } else {
                before.clone()
            },
            commit_message: message,
            commit_author: author,
            commit_timestamp: timestamp,
            changed_files: if request.source == "push" {
                source.changed_since_sha(&before)
            } else {
                None
            },
            project_files: source.files().to_vec(),
            pipeline_variables: request.variables.clone(),
            project_path: project.path.clone(),
            project_dir: format!("/builds/{}", project.path),
            pipeline_id,
            pipeline_iid,
            server_url,
            protected,
        };
        let compiled = gantry_plan::compile(root, &source, &ctx, &source);
        let errors: Vec<String> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.display(&compiled.files).to_string())
            .collect();
        let (jobs, created, auto_cancel) = match compiled.plan {
            Some(plan) => {
                let mode = match plan.auto_cancel_on_new_commit.as_str() {
                    "interruptible" => gantry_engine::AutoCancel::Interruptible,
                    "none" => gantry_engine::AutoCancel::None,
                    _ => gantry_engine::AutoCancel::Conservative,
                };
                (plan.jobs, plan.created, mode)
            }
            None => (Vec::new(), false, gantry_engine::AutoCancel::default()),
        };
        Some(Compiled {
            jobs,
            auto_cancel,
            created,
            errors,
            commit_title,
        })
    })
    .await
    .map_err(|e| ScheduleError::Compile(e.to_string()))
}

/// The SHA-256 of a file in lowercase hex (`None` when it cannot be read).
pub(crate) async fn file_sha256(path: &std::path::Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(path).ok()?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Some(hex::encode(hasher.finalize()))
    })
    .await
    .ok()
    .flatten()
}
