//! One job attempt, end to end: a build directory, artifacts of earlier jobs and caches in,
//! the scripts through the shell or container executor, artifacts, dotenv reports and caches out.

use crate::container::{
    BUILDS_IN_CONTAINER, Choice, Executors, container_job, image_spec, project_dir_in_container,
    registry_credentials, service_specs,
};
use crate::files;
use crate::workspace::{GitStrategy, Workspace, project_subdir};
use gantry_engine::{FailureReason, JobId, JobResult};
use gantry_executor::job::{FailureKind, JobOutcome, JobSpec, JobVariable};
use gantry_plan::PlannedJob;
use gantry_plan::slug::slugify;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

/// GitLab's default job timeout when a job sets none (the project default).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);
/// gitlab-runner's default for `after_script`.
const AFTER_SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);
/// gitlab-runner's default log limit (4 MiB).
const LOG_LIMIT: usize = 4 << 20;

/// State shared by all job tasks of a pipeline.
pub struct Shared {
    /// Where the pipeline's jobs run.
    pub workspace: Workspace,
    /// Variables given when the pipeline was created (highest precedence).
    pub pipeline_variables: Vec<(String, String)>,
    /// `CI_JOB_URL` is this followed by the job id.
    pub job_url_prefix: String,
    /// `CI_PIPELINE_IID` (the workspace's pipeline id when `None`).
    pub pipeline_iid: Option<u64>,
    /// `reports:dotenv` variables by job name.
    pub dotenv: Mutex<HashMap<String, Vec<(String, String)>>>,
    /// The executors jobs run with (the shell unless set).
    pub executors: Executors,
    job_ids: AtomicU64,
}

impl Shared {
    /// The state of a pipeline run in `workspace` with the given pipeline variables.
    pub fn new(workspace: Workspace, pipeline_variables: Vec<(String, String)>) -> Self {
        let first = workspace.pipeline_id * 1000;
        Shared {
            workspace,
            pipeline_variables,
            job_url_prefix: "local://jobs/".to_owned(),
            pipeline_iid: None,
            dotenv: Mutex::new(HashMap::new()),
            executors: Executors::shell(),
            job_ids: AtomicU64::new(first),
        }
    }
}

/// What a job task tells whoever drives the pipeline, in this order: `Started`, any number
/// of `Log` lines, `Finished` (only `Finished` when canceled before it started).
#[derive(Debug)]
pub enum JobEvent {
    /// The job got a slot and starts.
    Started(JobId),
    /// A line of its log, without the newline.
    Log(JobId, String),
    /// It ended.
    Finished(JobId, JobResult),
}

/// One attempt of one job.
pub struct JobTask {
    /// The job in the engine.
    pub id: JobId,
    /// The job as planned.
    pub job: PlannedJob,
    /// Which attempt this is (1 for the first run).
    pub attempt: u32,
    /// The jobs whose artifacts this job downloads (see [`artifact_sources`]).
    pub sources: Vec<String>,
    /// `CI_JOB_ID` (a server's job id); numbered from the pipeline id when `None`.
    pub job_id: Option<u64>,
    /// Variables of the project or instance for this job (above dotenv and job variables,
    /// below pipeline variables); file-type ones are written to a file.
    pub variables: Vec<JobVariable>,
    /// Variables given when the manual job was played: GitLab ranks them with the pipeline
    /// variables, and they win over them.
    pub run_variables: Vec<(String, String)>,
}

impl JobTask {
    /// Waits for a slot of `semaphore` (or the cancel), runs the attempt and reports on `tx`.
    pub async fn run<M: From<JobEvent> + Send + 'static>(
        self,
        shared: Arc<Shared>,
        tx: mpsc::UnboundedSender<M>,
        semaphore: Arc<Semaphore>,
        cancel: CancellationToken,
    ) {
        let permit = tokio::select! {
            p = semaphore.acquire_owned() => p.ok(),
            _ = cancel.cancelled() => None,
        };
        if permit.is_none() {
            let _ = tx.send(JobEvent::Finished(self.id, JobResult::Canceled).into());
            return;
        }
        let _ = tx.send(JobEvent::Started(self.id).into());
        let (log_tx, mut log_rx) = mpsc::unbounded_channel::<String>();
        let id = self.id;
        let forward_tx = tx.clone();
        let forward = tokio::spawn(async move {
            while let Some(line) = log_rx.recv().await {
                let _ = forward_tx.send(JobEvent::Log(id, line).into());
            }
        });
        let result = self.execute(&shared, &log_tx, &cancel).await;
        drop(log_tx);
        let _ = forward.await;
        let _ = tx.send(JobEvent::Finished(self.id, result).into());
        drop(permit);
    }

    async fn execute(
        &self,
        shared: &Shared,
        log: &mpsc::UnboundedSender<String>,
        cancel: &CancellationToken,
    ) -> JobResult {
        let say = |line: String| {
            let _ = log.send(line);
        };
        let job = &self.job;
        if job.config.trigger.is_some() {
            say("NOTICE: trigger jobs (downstream pipelines) are not run locally; marked as passed".into());
            return JobResult::Success;
        }
        let choice = shared.executors.choose(job.config.image.as_ref());
        match &choice {
            Choice::Shell(Some(notice)) => say(notice.clone()),
            Choice::Impossible(why) => {
                say(format!("ERROR: Job failed (system failure): {why}"));
                return JobResult::Failed {
                    exit_code: None,
                    reason: FailureReason::RunnerSystemFailure,
                };
            }
            Choice::Shell(None) | Choice::Docker(..) => {}
        }
        let ws = &shared.workspace;
        let slot = ws.slot();
        let values = job.variables.expanded();
        let project_path = values.get("CI_PROJECT_PATH").map_or("project", String::as_str);
        let build_dir = ws.build_dir(&slot, project_path);
        let strategy = GitStrategy::from_variable(values.get("GIT_STRATEGY").map(String::as_str));
        say(gantry_executor::section::start(
            "get_sources",
            "Getting source from Git repository",
        ));
        let prepared = tokio::task::block_in_place(|| ws.prepare(&build_dir, strategy));
        match &prepared {
            Ok(how) => say(format!("Build directory {}: {how}", build_dir.display())),
            Err(e) => say(format!(
                "ERROR: preparing the build directory {} failed: {e}",
                build_dir.display()
            )),
        }
        say(gantry_executor::section::end("get_sources"));
        if prepared.is_err() {
            return JobResult::Failed {
                exit_code: None,
                reason: FailureReason::RunnerSystemFailure,
            };
        }
        let sources = &self.sources;
        let mut dotenv = Vec::new();
        for source in sources {
            let zip = ws.artifacts_dir().join(format!("{}.zip", slugify(source)));
            if zip.exists() {
                say(format!("Downloading artifacts from {source}"));
                if let Err(e) = tokio::task::block_in_place(|| files::extract(&zip, &build_dir)) {
                    say(format!("ERROR: extracting the artifacts of {source} failed: {e}"));
                    return JobResult::Failed {
                        exit_code: None,
                        reason: FailureReason::RunnerSystemFailure,
                    };
                }
            }
            if let Some(vars) = shared.dotenv.lock().ok().and_then(|m| m.get(source).cloned()) {
                dotenv.extend(vars);
            }
        }
        let mut vars = job.variables.clone();
        for (k, v) in &dotenv {
            vars.set(k, v, false);
        }
        for var in &self.variables {
            vars.set(&var.name, &var.value, false);
        }
        for (k, v) in shared.pipeline_variables.iter().chain(&self.run_variables) {
            vars.set(k, v, false);
        }
        let job_id = self
            .job_id
            .unwrap_or_else(|| shared.job_ids.fetch_add(1, Ordering::Relaxed) + 1);
        vars.set("CI_JOB_ID", &job_id.to_string(), true);
        let in_container = matches!(choice, Choice::Docker(..));
        let subdir = project_subdir(project_path).to_string_lossy().into_owned();
        if in_container {
            vars.set("CI_PROJECT_DIR", &project_dir_in_container(&subdir), true);
            vars.set("CI_BUILDS_DIR", BUILDS_IN_CONTAINER, true);
        } else {
            vars.set("CI_PROJECT_DIR", &build_dir.to_string_lossy(), true);
            vars.set("CI_BUILDS_DIR", &ws.builds_dir().to_string_lossy(), true);
        }
        vars.set("CI_CONCURRENT_ID", &slot.index().to_string(), true);
        vars.set("CI_CONCURRENT_PROJECT_ID", &slot.index().to_string(), true);
        vars.set("CI_JOB_URL", &format!("{}{job_id}", shared.job_url_prefix), true);
        vars.set("CI_PIPELINE_ID", &ws.pipeline_id.to_string(), true);
        let iid = shared.pipeline_iid.unwrap_or(ws.pipeline_id);
        vars.set("CI_PIPELINE_IID", &iid.to_string(), true);
        if let Choice::Docker(_, image) = &choice {
            let name = crate::expand_with(&image.name, &vars.expanded());
            vars.set("CI_JOB_IMAGE", &name, true);
        }
        let expanded = vars.expanded();
        let caches = files::restore_caches(job, &expanded, &build_dir, &ws.cache_dir(), &say);
        let tmp_dir = Workspace::tmp_dir(&build_dir);
        let spec = JobSpec {
            name: job.name.clone(),
            build_dir: build_dir.clone(),
            tmp_dir,
            before_script: job.config.before_script.clone(),
            script: job.config.script.clone(),
            after_script: job.config.after_script.clone(),
            variables: expanded
                .iter()
                .map(|(k, v)| JobVariable {
                    name: k.clone(),
                    value: v.clone(),
                    file: self.variables.iter().any(|p| p.file && &p.name == k),
                })
                .collect(),
            timeout: job.config.timeout.map_or(DEFAULT_TIMEOUT, Duration::from_secs),
            after_script_timeout: AFTER_SCRIPT_TIMEOUT,
            log_limit: LOG_LIMIT,
            container: match &choice {
                Choice::Docker(_, image) => Some(container_job(
                    image_spec(image, &expanded),
                    service_specs(&job.config.services, &expanded),
                    &subdir,
                    Some(ws.cache_dir()),
                    registry_credentials(&expanded),
                )),
                _ => None,
            },
        };
        let outcome = match &choice {
            Choice::Docker(engine, _) => gantry_executor::docker::run(engine, &spec, log, cancel).await,
            _ => gantry_executor::shell::run(&spec, log, cancel).await,
        };
        tokio::task::block_in_place(|| {
            files::upload_artifacts(job, outcome, &build_dir, &ws.artifacts_dir(), &say);
            if let Some(vars) = files::read_dotenv(job, outcome, &build_dir, &say)
                && let Ok(mut m) = shared.dotenv.lock()
            {
                m.insert(job.name.clone(), vars);
            }
            files::save_caches(
                job,
                &caches,
                outcome,
                &expanded,
                &build_dir,
                &ws.cache_dir(),
                &say,
            );
        });
        match outcome {
            JobOutcome::Success => JobResult::Success,
            JobOutcome::Canceled => JobResult::Canceled,
            JobOutcome::Failed { exit_code, kind } => JobResult::Failed {
                exit_code: exit_code.map(i64::from),
                reason: match kind {
                    FailureKind::Script => FailureReason::ScriptFailure,
                    FailureKind::Timeout => FailureReason::JobExecutionTimeout,
                    FailureKind::System => FailureReason::RunnerSystemFailure,
                    FailureKind::ImagePull => FailureReason::ImagePullFailure,
                },
            },
        }
    }
}

/// The jobs whose artifacts this job downloads: `dependencies`, else `needs` with
/// `artifacts: true`, else every job of an earlier stage.
pub fn artifact_sources(job: &PlannedJob, all: &[&PlannedJob]) -> Vec<String> {
    if let Some(deps) = &job.dependencies {
        return deps.clone();
    }
    if let Some(needs) = &job.needs {
        return needs
            .iter()
            .filter(|n| n.artifacts)
            .map(|n| n.job.clone())
            .collect();
    }
    all.iter()
        .filter(|j| j.stage_index < job.stage_index)
        .map(|j| j.name.clone())
        .collect()
}
