//! What jobs involve beyond running a script: a trigger job creates its downstream pipeline
//! (a child from the files its `include:` names, or another project's pipeline) and, with
//! `strategy: depend`, ends as that pipeline ends (the finished child tells its trigger); a
//! deploying job's status is recorded on its environment; a played job gets the variables it
//! was played with.

use super::{Actor, ActorMsg};
use crate::access::{self, Level};
use crate::scheduler::PipelineRequest;
use gantry_config::yaml::{Node, Value};
use gantry_engine::{FailureReason, JobId, JobResult};
use gantry_runner::job::JobEvent;
use gantry_store::db::{JobUpdate, Pipeline, PipelineUpdate, StoreError};

/// A value of a `forward:` setting (`yaml_variables` is on by default, `pipeline_variables`
/// off).
fn forward(node: Option<&Node>, key: &str, default: bool) -> bool {
    node.and_then(Node::as_map)
        .and_then(|m| m.get(key))
        .map_or(default, |e| matches!(e.value.value, Value::Bool(true)))
}

/// A YAML string (JSON's quoting is YAML's).
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// The configuration of a child pipeline: an `include:` of what the trigger names (local
/// files, other projects' files); `Err` says what cannot be included.
pub(crate) fn child_config(include: &Node) -> Result<String, String> {
    let items: Vec<&Node> = match &include.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![include],
    };
    let mut out = String::from("include:\n");
    for item in items {
        if let Some(path) = item.as_str() {
            out.push_str(&format!("  - local: {}\n", quoted(path)));
            continue;
        }
        let Some(map) = item.as_map() else {
            return Err("trigger:include takes file paths or maps".into());
        };
        let text = |k: &str| map.get(k).and_then(|e| e.value.as_str()).map(str::to_owned);
        if let Some(path) = text("local") {
            out.push_str(&format!("  - local: {}\n", quoted(&path)));
        } else if let Some(project) = text("project") {
            let files: Vec<String> = match map.get("file").map(|e| &e.value.value) {
                Some(Value::Str(f)) => vec![f.clone()],
                Some(Value::Seq(fs)) => fs.iter().filter_map(|f| f.as_str().map(str::to_owned)).collect(),
                _ => return Err(format!("trigger:include of project `{project}` names no file")),
            };
            for file in files {
                out.push_str(&format!(
                    "  - project: {}\n    file: {}\n",
                    quoted(&project),
                    quoted(&file)
                ));
                if let Some(r) = text("ref") {
                    out.push_str(&format!("    ref: {}\n", quoted(&r)));
                }
            }
        } else if let Some(t) = text("template") {
            out.push_str(&format!("  - template: {}\n", quoted(&t)));
        } else if map.contains_key("artifact") {
            return Err(
                "trigger:include:artifact (a configuration a job generates) is not supported yet".into(),
            );
        } else {
            return Err("trigger:include: unknown kind of include".into());
        }
    }
    Ok(out)
}

/// How a trigger job fails when its downstream pipeline cannot be created.
const CREATION_FAILED: JobResult = JobResult::Failed {
    exit_code: None,
    reason: FailureReason::DownstreamPipelineCreationFailed,
};

impl Actor {
    /// Runs a trigger job: its downstream pipeline is created and linked; the job then
    /// passes, or with `strategy: depend` waits for that pipeline's end. A pipeline that
    /// cannot be created (or linked) fails it as `downstream_pipeline_creation_failed`.
    pub(super) async fn trigger(&mut self, job: JobId) -> Result<(), StoreError> {
        let Some(trigger) = self.jobs[job.0].config.trigger.clone() else {
            return Ok(());
        };
        // Counted as a task: its end comes as a task's does.
        self.tasks += 1;
        let _ = self.tx.send(ActorMsg::Job(JobEvent::Started(job)));
        let result = match self.create_and_link(job, &trigger).await {
            Ok(result) => result,
            Err(e) => {
                tracing::error!(error = %crate::error::ApiError::internal(e), "linking a downstream pipeline");
                self.say(
                    job,
                    "\u{1b}[31;1mCannot link the downstream pipeline: the database failed\u{1b}[0;m",
                );
                Some(CREATION_FAILED)
            }
        };
        match result {
            Some(result) => {
                let _ = self.tx.send(ActorMsg::Job(JobEvent::Finished(job, result)));
            }
            None => {
                self.depending.insert(job);
            }
        }
        Ok(())
    }

    fn say(&self, job: JobId, line: &str) {
        let _ = self.tx.send(ActorMsg::Job(JobEvent::Log(job, line.to_owned())));
    }

    /// Creates the downstream pipeline and links it to the job: the job's result, or `None`
    /// while it waits (`strategy: depend`).
    async fn create_and_link(
        &mut self,
        job: JobId,
        trigger: &gantry_config::model::Trigger,
    ) -> Result<Option<JobResult>, StoreError> {
        let i = job.0;
        let child = match self.create_downstream(i, trigger).await {
            Ok(child) => child,
            Err(why) => {
                self.say(
                    job,
                    &format!("\u{1b}[31;1mCannot create the downstream pipeline: {why}\u{1b}[0;m"),
                );
                return Ok(Some(CREATION_FAILED));
            }
        };
        self.core.db.set_downstream(self.rows[i].id, child.id).await?;
        self.rows[i].downstream_pipeline_id = Some(child.id);
        let path = self
            .core
            .db
            .project(child.project_id)
            .await?
            .map(|p| p.path)
            .unwrap_or_default();
        self.say(
            job,
            &format!(
                "Created downstream pipeline #{} ({}/{path}/-/pipelines/{})",
                child.iid, self.core.external_url, child.id
            ),
        );
        Ok(if child.config_errors.is_some() {
            self.say(
                job,
                "\u{1b}[31;1mThe downstream pipeline's configuration is invalid\u{1b}[0;m",
            );
            Some(CREATION_FAILED)
        } else if trigger.strategy.as_deref() == Some("depend") {
            self.say(job, "Waiting for it to finish (strategy: depend)");
            None
        } else {
            Some(JobResult::Success)
        })
    }

    /// After a restart: a `strategy: depend` trigger job that was waiting waits again (and
    /// ends at once when its pipeline ended meanwhile); false when the job is no such wait.
    pub(super) async fn adopt_trigger(&mut self, job: JobId) -> Result<bool, StoreError> {
        let depend = self.jobs[job.0]
            .config
            .trigger
            .as_ref()
            .and_then(|t| t.strategy.as_deref())
            == Some("depend");
        let Some(child) = self.rows[job.0].downstream_pipeline_id.filter(|_| depend) else {
            return Ok(false);
        };
        self.tasks += 1;
        self.started.insert(job, std::time::Instant::now());
        self.depending.insert(job);
        if let Some(p) = self.core.db.pipeline(child).await?
            && crate::scheduler::status_of(&p.status).is_completed()
        {
            let row = self.rows[job.0].id;
            self.downstream_finished(job, row, &p.status);
        }
        Ok(true)
    }

    async fn create_downstream(
        &self,
        i: usize,
        trigger: &gantry_config::model::Trigger,
    ) -> Result<Pipeline, String> {
        let planned = &self.jobs[i];
        let mut variables: Vec<(String, String)> = Vec::new();
        if forward(trigger.forward.as_ref(), "yaml_variables", true) {
            variables.extend(
                planned
                    .variables
                    .iter()
                    .filter(|(n, _)| !crate::scheduler::is_predefined(n))
                    .map(|(n, v)| (n.to_owned(), v.value.clone())),
            );
        }
        if forward(trigger.forward.as_ref(), "pipeline_variables", false) {
            variables.extend(self.shared.pipeline_variables.iter().cloned());
        }
        let p = &self.pipeline;
        let (project, request) = match (&trigger.include, &trigger.project) {
            (Some(include), _) => (
                self.project.clone(),
                PipelineRequest {
                    ref_name: p.ref_name.clone(),
                    tag: p.tag,
                    sha: p.sha.clone(),
                    before_sha: None,
                    source: "parent_pipeline".into(),
                    variables,
                    user_id: p.user_id,
                    parent_job_id: Some(self.rows[i].id),
                    root_config: Some(child_config(include)?),
                },
            ),
            (None, Some(path)) => {
                let db = &self.core.db;
                let target = db
                    .project_by_path(path.trim_matches('/'))
                    .await
                    .map_err(|e| e.to_string())?;
                let user = match p.user_id {
                    Some(id) => db.user(id).await.map_err(|e| e.to_string())?,
                    None => None,
                };
                // The same words whether it is missing or hidden.
                let target = target
                    .filter(|t| access::level(user.as_ref(), t) >= Level::Developer)
                    .ok_or_else(|| format!("project `{path}` not found or access denied"))?;
                let branch = trigger
                    .branch
                    .clone()
                    .unwrap_or_else(|| target.default_branch.clone());
                let repo = self.core.repos.open(&target.path).map_err(|e| e.to_string())?;
                let refs = repo.refs().await.map_err(|e| e.to_string())?;
                let sha = refs
                    .get(&format!("refs/heads/{branch}"))
                    .cloned()
                    .ok_or_else(|| format!("project `{path}` has no branch `{branch}`"))?;
                (
                    target,
                    PipelineRequest {
                        ref_name: branch,
                        tag: false,
                        sha,
                        before_sha: None,
                        source: "pipeline".into(),
                        variables,
                        user_id: p.user_id,
                        parent_job_id: Some(self.rows[i].id),
                        root_config: None,
                    },
                )
            }
            (None, None) => return Err("the trigger names neither a project nor an include".into()),
        };
        match self.scheduler.create(&project, request).await {
            Ok(Some(child)) => Ok(child),
            Ok(None) => Err("its configuration creates no jobs for this ref (or there is none)".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A `strategy: depend` trigger's downstream pipeline ended: the job ends as it did (once:
    /// the wait is over when its end is sent, before it is applied).
    pub(super) fn downstream_finished(&mut self, job: JobId, row: i64, status: &str) {
        if self.rows.get(job.0).map(|r| r.id) != Some(row) || !self.depending.remove(&job) {
            return;
        }
        let result = match status {
            "success" => JobResult::Success,
            "canceled" => JobResult::Canceled,
            _ => JobResult::Failed {
                exit_code: None,
                reason: FailureReason::UnknownFailure,
            },
        };
        let _ = self.tx.send(ActorMsg::Job(JobEvent::Log(
            job,
            format!("The downstream pipeline ended: {status}"),
        )));
        let _ = self.tx.send(ActorMsg::Job(JobEvent::Finished(job, result)));
    }

    /// A waiting trigger job is stopped: its downstream pipeline is canceled, and it ends
    /// canceled.
    pub(super) fn stop_trigger(&mut self, job: JobId) {
        if !self.depending.remove(&job) {
            return;
        }
        if let Some(child) = self.rows[job.0].downstream_pipeline_id {
            self.scheduler.cancel(child);
        }
        let _ = self
            .tx
            .send(ActorMsg::Job(JobEvent::Finished(job, JobResult::Canceled)));
    }

    /// After statuses were written: deployments, and a finished downstream pipeline tells
    /// its trigger job.
    pub(super) async fn after_write(&self, jobs: &[(usize, JobUpdate)], pipeline: Option<&PipelineUpdate>) {
        self.deployments(jobs).await;
        let finished = pipeline
            .and_then(|u| u.status.as_deref())
            .filter(|s| crate::scheduler::status_of(s).is_completed());
        let (Some(status), Some(parent)) = (finished, self.pipeline.parent_job_id) else {
            return;
        };
        match self.core.db.job(parent).await {
            Ok(Some(trigger)) => {
                let index = usize::try_from(trigger.plan_index).unwrap_or(usize::MAX);
                self.scheduler.send(
                    trigger.pipeline_id,
                    ActorMsg::Downstream(JobId(index), trigger.id, status.to_owned()),
                );
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %crate::error::ApiError::internal(e), "telling a trigger job its pipeline ended")
            }
        }
    }

    /// The variables the job's current attempt was played with (none when it was not, or
    /// they cannot be read: the job then runs without them, as it would have unplayed).
    pub(super) async fn run_variables(&self, i: usize) -> Vec<(String, String)> {
        match self.core.db.play_variables(self.rows[i].id).await {
            Ok(Some(sealed)) => self
                .core
                .secrets
                .open(&sealed)
                .ok()
                .and_then(|plain| serde_json::from_slice(&plain).ok())
                .unwrap_or_default(),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::error!(error = %crate::error::ApiError::internal(e), "reading a job's play variables");
                Vec::new()
            }
        }
    }

    /// What the written statuses of deploying jobs mean for their environments.
    pub(super) async fn deployments(&self, jobs: &[(usize, JobUpdate)]) {
        for (i, update) in jobs {
            let (Some(status), Some(env)) = (&update.status, &self.jobs[*i].environment) else {
                continue;
            };
            if let Err(e) =
                crate::environments::job_changed(&self.core, &self.pipeline, &self.rows[*i], env, status)
                    .await
            {
                tracing::error!(error = %crate::error::ApiError::internal(e), environment = %env.name, "recording a deployment");
            }
        }
    }
}
