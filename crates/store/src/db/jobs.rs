//! Jobs (GitLab's builds): one row per attempt. Retrying a job inserts a new row for the next
//! attempt and marks the old one `retried`, as GitLab does; the queue of pending jobs is
//! claimed by runners one job at a time.

use super::args::Args;
use super::column::DbBool;
use super::connect::{Backend, Db};
use super::error::{StoreError, query_error};
use super::page::Page;
use sqlx::AssertSqlSafe;

macro_rules! job_columns {
    () => {
        "id, pipeline_id, project_id, name, stage, stage_idx, status, allow_failure, \"when\", \
         plan_index, attempt, retried, exit_code, failure_reason, runner_id, created_at, queued_at, \
         started_at, finished_at, needs_json, variable_names, downstream_pipeline_id"
    };
}

/// A job of a new pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Its name (`test 1/3`).
    pub name: String,
    /// Its stage.
    pub stage: String,
    /// The stage's position in the pipeline's stages.
    pub stage_idx: i64,
    /// The first status (`created`; `pending` jobs are queued at once).
    pub status: String,
    /// Whether its failure lets the pipeline succeed.
    pub allow_failure: bool,
    /// GitLab's `when` word: `on_success`, `manual`, `delayed`, `always`, ...
    pub when: String,
    /// Its position in the server's compiled plan, to find its definition again.
    pub plan_index: i64,
    /// The names of the jobs it `needs`, as a JSON array (`[]` for none).
    pub needs_json: String,
    /// The names of the variables its configuration defines, as a JSON array.
    pub variable_names: String,
}

/// One attempt of a job.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Job {
    /// Its id, unique in the instance (each attempt has its own).
    pub id: i64,
    /// The pipeline.
    pub pipeline_id: i64,
    /// The pipeline's project.
    pub project_id: i64,
    /// Its name.
    pub name: String,
    /// Its stage.
    pub stage: String,
    /// The stage's position.
    pub stage_idx: i64,
    /// GitLab's status word (`created`, `pending`, `running`, `success`, `failed`, `manual`...).
    pub status: String,
    /// Whether its failure lets the pipeline succeed.
    #[sqlx(try_from = "DbBool")]
    pub allow_failure: bool,
    /// GitLab's `when` word.
    pub when: String,
    /// Its position in the server's compiled plan.
    pub plan_index: i64,
    /// Which attempt this is, from 1.
    pub attempt: i64,
    /// Whether a later attempt replaced it.
    #[sqlx(try_from = "DbBool")]
    pub retried: bool,
    /// The script's exit code, once finished.
    pub exit_code: Option<i64>,
    /// GitLab's failure reason word (`script_failure`, `runner_system_failure`, ...).
    pub failure_reason: Option<String>,
    /// The runner that took it.
    pub runner_id: Option<i64>,
    /// When it was created (epoch ms).
    pub created_at: i64,
    /// When it became pending (epoch ms).
    pub queued_at: Option<i64>,
    /// When it started running (epoch ms).
    pub started_at: Option<i64>,
    /// When it finished (epoch ms).
    pub finished_at: Option<i64>,
    /// The names of the jobs it `needs`, as a JSON array.
    pub needs_json: String,
    /// The names of the variables its configuration defines, as a JSON array.
    pub variable_names: String,
    /// The pipeline a trigger job created.
    pub downstream_pipeline_id: Option<i64>,
}

/// What to change in a job; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobUpdate {
    /// The new status.
    pub status: Option<String>,
    /// When it became pending (epoch ms).
    pub queued_at: Option<i64>,
    /// When it started (epoch ms).
    pub started_at: Option<i64>,
    /// When it finished (epoch ms).
    pub finished_at: Option<i64>,
    /// The script's exit code.
    pub exit_code: Option<i64>,
    /// GitLab's failure reason word.
    pub failure_reason: Option<String>,
    /// The runner that took it.
    pub runner_id: Option<i64>,
}

impl Db {
    /// Creates the jobs of a pipeline in one transaction, in the order given; `pending` jobs
    /// get `queued_at = now_ms`. [`StoreError::NotFound`] for an unknown pipeline.
    pub async fn create_jobs(
        &self,
        pipeline_id: i64,
        jobs: &[NewJob],
        now_ms: i64,
    ) -> Result<Vec<Job>, StoreError> {
        const OP: &str = "creating jobs";
        let mut w = self.begin_write(OP).await?;
        let project_id: Option<i64> = sqlx::query_scalar("SELECT project_id FROM pipelines WHERE id = $1")
            .bind(pipeline_id)
            .fetch_optional(&mut *w.tx)
            .await
            .map_err(query_error(OP))?;
        let project_id = project_id.ok_or(StoreError::NotFound {
            entity: "pipeline",
            id: pipeline_id,
        })?;
        let mut created = Vec::with_capacity(jobs.len());
        for job in jobs {
            let row: Job = sqlx::query_as(concat!(
                "INSERT INTO jobs (pipeline_id, project_id, name, stage, stage_idx, status, allow_failure, \
                 \"when\", plan_index, created_at, queued_at, needs_json, variable_names) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ",
                job_columns!()
            ))
            .bind(pipeline_id)
            .bind(project_id)
            .bind(&job.name)
            .bind(&job.stage)
            .bind(job.stage_idx)
            .bind(&job.status)
            .bind(job.allow_failure)
            .bind(&job.when)
            .bind(job.plan_index)
            .bind(now_ms)
            .bind((job.status == "pending").then_some(now_ms))
            .bind(&job.needs_json)
            .bind(&job.variable_names)
            .fetch_one(&mut *w.tx)
            .await
            .map_err(query_error(OP))?;
            created.push(row);
        }
        w.commit(OP).await?;
        Ok(created)
    }

    /// Retries a job: marks it `retried` and inserts its next attempt (same name, stage,
    /// `when`, plan index...; attempt + 1; `pending`, queued at `now_ms`), which it returns.
    /// [`StoreError::Conflict`] when the job was already retried.
    pub async fn create_retry(&self, old_job_id: i64, now_ms: i64) -> Result<Job, StoreError> {
        const OP: &str = "retrying a job";
        let mut w = self.begin_write(OP).await?;
        let old: Option<Job> = sqlx::query_as(concat!(
            "UPDATE jobs SET retried = TRUE WHERE id = $1 AND retried = FALSE RETURNING ",
            job_columns!()
        ))
        .bind(old_job_id)
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        let Some(old) = old else {
            drop(w);
            return Err(match self.job(old_job_id).await? {
                Some(_) => StoreError::Conflict(format!("job {old_job_id} was already retried")),
                None => StoreError::NotFound {
                    entity: "job",
                    id: old_job_id,
                },
            });
        };
        let new: Job = sqlx::query_as(concat!(
            "INSERT INTO jobs (pipeline_id, project_id, name, stage, stage_idx, status, allow_failure, \
             \"when\", plan_index, attempt, created_at, queued_at, needs_json, variable_names) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $10, $11, $12) RETURNING ",
            job_columns!()
        ))
        .bind(old.pipeline_id)
        .bind(old.project_id)
        .bind(&old.name)
        .bind(&old.stage)
        .bind(old.stage_idx)
        .bind(old.allow_failure)
        .bind(&old.when)
        .bind(old.plan_index)
        .bind(old.attempt + 1)
        .bind(now_ms)
        .bind(&old.needs_json)
        .bind(&old.variable_names)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        // A played job's retry runs with the variables it was played with, as GitLab's does.
        sqlx::query(
            "UPDATE jobs SET play_variables = (SELECT play_variables FROM jobs WHERE id = $1) WHERE id = $2",
        )
        .bind(old.id)
        .bind(new.id)
        .execute(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        w.commit(OP).await?;
        Ok(new)
    }

    /// The job attempt with this id.
    pub async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        sqlx::query_as(concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading a job"))
    }

    /// The jobs of a pipeline by plan index, then attempt; retried attempts only when asked.
    pub async fn jobs_of_pipeline(
        &self,
        pipeline_id: i64,
        include_retried: bool,
    ) -> Result<Vec<Job>, StoreError> {
        let sql = if include_retried {
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE pipeline_id = $1 ORDER BY plan_index, id"
            )
        } else {
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE pipeline_id = $1 AND retried = FALSE ORDER BY plan_index, id"
            )
        };
        sqlx::query_as(sql)
            .bind(pipeline_id)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("listing the jobs of a pipeline"))
    }

    /// A page of a project's job attempts (retried ones included), newest first, with
    /// their total; `scopes` keeps only these statuses (GitLab's `scope[]`), none keeps all.
    pub async fn list_project_jobs(
        &self,
        project_id: i64,
        scopes: &[String],
        page: Page,
    ) -> Result<(Vec<Job>, i64), StoreError> {
        const OP: &str = "listing the jobs of a project";
        let conditions = |args: &mut Args| {
            let mut sql = format!("project_id = {}", args.add(project_id));
            if !scopes.is_empty() {
                sql.push_str(&format!(" AND status IN ({})", args.add_list(scopes)));
            }
            sql
        };
        self.paged(job_columns!(), "jobs", conditions, page, OP).await
    }

    /// Changes the columns `update` gives; [`StoreError::NotFound`] for an unknown job.
    pub async fn update_job(&self, id: i64, update: &JobUpdate) -> Result<(), StoreError> {
        const OP: &str = "updating a job";
        let Some((sql, args)) = job_update_statement(id, update) else {
            return match self.job(id).await? {
                Some(_) => Ok(()),
                None => Err(StoreError::NotFound { entity: "job", id }),
            };
        };
        let _lock = self.write_lock().await;
        let done = sqlx::query_with(AssertSqlSafe(sql), args.finish(OP)?)
            .execute(&self.pool)
            .await
            .map_err(query_error(OP))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "job", id });
        }
        Ok(())
    }

    /// Takes the oldest pending job for `runner_id`: it becomes `running`, started at
    /// `now_ms`, and is returned; `None` when no job is pending. Concurrent claimers never
    /// get the same job: on PostgreSQL the candidate row is locked with `FOR UPDATE SKIP
    /// LOCKED` (a claimer passes over rows another one holds), on SQLite the claim is one
    /// statement under the single writer.
    pub async fn claim_pending_job(&self, runner_id: i64, now_ms: i64) -> Result<Option<Job>, StoreError> {
        let sql = match self.backend() {
            Backend::Postgres => concat!(
                "UPDATE jobs SET status = 'running', runner_id = $1, started_at = $2 \
                 WHERE status = 'pending' AND id = (SELECT id FROM jobs \
                 WHERE status = 'pending' AND retried = FALSE ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING ",
                job_columns!()
            ),
            Backend::Sqlite => concat!(
                "UPDATE jobs SET status = 'running', runner_id = $1, started_at = $2 \
                 WHERE status = 'pending' AND id = (SELECT id FROM jobs \
                 WHERE status = 'pending' AND retried = FALSE ORDER BY id LIMIT 1) \
                 RETURNING ",
                job_columns!()
            ),
        };
        let _lock = self.write_lock().await;
        sqlx::query_as(sql)
            .bind(runner_id)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("claiming a pending job"))
    }

    /// Records the pipeline a trigger job created; `false` for an unknown job.
    pub async fn set_downstream(&self, job_id: i64, pipeline_id: i64) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("UPDATE jobs SET downstream_pipeline_id = $1 WHERE id = $2")
            .bind(pipeline_id)
            .bind(job_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("recording a downstream pipeline"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Keeps the (sealed) variables a manual job is played with; `false` for an unknown job.
    pub async fn set_play_variables(&self, job_id: i64, sealed: Option<&[u8]>) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("UPDATE jobs SET play_variables = $1 WHERE id = $2")
            .bind(sealed)
            .bind(job_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("keeping a job's play variables"))?;
        Ok(done.rows_affected() > 0)
    }

    /// The sealed variables a job was played with, if any.
    pub async fn play_variables(&self, job_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let v: Option<Option<Vec<u8>>> = sqlx::query_scalar("SELECT play_variables FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading a job's play variables"))?;
        Ok(v.flatten())
    }
}

/// The `UPDATE` that applies `update` to job `id`; `None` when it changes nothing.
pub(crate) fn job_update_statement(id: i64, update: &JobUpdate) -> Option<(String, Args)> {
    let mut args = Args::default();
    let mut sets = Vec::new();
    let texts = [
        ("status", &update.status),
        ("failure_reason", &update.failure_reason),
    ];
    for (column, value) in texts {
        if let Some(v) = value {
            sets.push(format!("{column} = {}", args.add(v.clone())));
        }
    }
    let numbers = [
        ("queued_at", update.queued_at),
        ("started_at", update.started_at),
        ("finished_at", update.finished_at),
        ("exit_code", update.exit_code),
        ("runner_id", update.runner_id),
    ];
    for (column, value) in numbers {
        if let Some(v) = value {
            sets.push(format!("{column} = {}", args.add(v)));
        }
    }
    if sets.is_empty() {
        return None;
    }
    let sql = format!("UPDATE jobs SET {} WHERE id = {}", sets.join(", "), args.add(id));
    Some((sql, args))
}
