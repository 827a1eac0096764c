//! Runners that take jobs over the GitLab runner protocol: their settings, their
//! authentication tokens (only a SHA-256 is stored), and the job assignment a runner's
//! request makes (one job never goes to two runners).

use super::args::Args;
use super::column::DbBool;
use super::connect::Db;
use super::error::{StoreError, query_error};
use super::jobs::Job;
use sqlx::AssertSqlSafe;

macro_rules! runner_columns {
    () => {
        "id, token_sha256, description, runner_type, project_id, tags, run_untagged, paused, \
         locked, access_level, maximum_timeout, created_by, created_at, contacted_at, info_json"
    };
}

/// A runner.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Runner {
    /// Its id.
    pub id: i64,
    /// The SHA-256 of its authentication token, in lowercase hex.
    pub token_sha256: String,
    /// What its owner wrote about it.
    pub description: String,
    /// `instance_type` (jobs of every project) or `project_type` (of `project_id` only).
    pub runner_type: String,
    /// The project of a `project_type` runner.
    pub project_id: Option<i64>,
    /// Its tags, comma-separated and sorted (see [`Runner::tag_list`]).
    pub tags: String,
    /// Whether it takes jobs without tags.
    #[sqlx(try_from = "DbBool")]
    pub run_untagged: bool,
    /// A paused runner gets no jobs.
    #[sqlx(try_from = "DbBool")]
    pub paused: bool,
    /// A locked project runner cannot be enabled for other projects.
    #[sqlx(try_from = "DbBool")]
    pub locked: bool,
    /// `not_protected`, or `ref_protected`: only jobs of protected branches and tags.
    pub access_level: String,
    /// The longest job timeout it accepts, in seconds.
    pub maximum_timeout: Option<i64>,
    /// The user who created it.
    pub created_by: Option<i64>,
    /// When it was created (epoch ms).
    pub created_at: i64,
    /// When it last asked for a job (epoch ms).
    pub contacted_at: Option<i64>,
    /// What it said about itself on its last request (JSON: name, version, executor...).
    pub info_json: Option<String>,
}

impl Runner {
    /// Its tags.
    pub fn tag_list(&self) -> Vec<String> {
        self.tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A runner to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRunner {
    /// See [`Runner::description`].
    pub description: String,
    /// See [`Runner::runner_type`].
    pub runner_type: String,
    /// See [`Runner::project_id`].
    pub project_id: Option<i64>,
    /// Its tags (stored sorted, without duplicates or empty ones).
    pub tags: Vec<String>,
    /// See [`Runner::run_untagged`].
    pub run_untagged: bool,
    /// See [`Runner::paused`].
    pub paused: bool,
    /// See [`Runner::locked`].
    pub locked: bool,
    /// See [`Runner::access_level`].
    pub access_level: String,
    /// See [`Runner::maximum_timeout`].
    pub maximum_timeout: Option<i64>,
    /// See [`Runner::created_by`].
    pub created_by: Option<i64>,
}

/// What to change in a runner; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunnerUpdate {
    /// See [`Runner::description`].
    pub description: Option<String>,
    /// See [`Runner::tags`].
    pub tags: Option<Vec<String>>,
    /// See [`Runner::run_untagged`].
    pub run_untagged: Option<bool>,
    /// See [`Runner::paused`].
    pub paused: Option<bool>,
    /// See [`Runner::locked`].
    pub locked: Option<bool>,
    /// See [`Runner::access_level`].
    pub access_level: Option<String>,
    /// See [`Runner::maximum_timeout`] (`Some(None)` removes the limit).
    pub maximum_timeout: Option<Option<i64>>,
}

/// Tags as stored: trimmed, sorted, without duplicates or empty ones, comma-separated.
pub fn tags_text(tags: &[String]) -> String {
    let mut list: Vec<&str> = tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    list.sort_unstable();
    list.dedup();
    list.join(",")
}

impl Db {
    /// Stores a runner by its token's hash.
    pub async fn create_runner(
        &self,
        new: &NewRunner,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<Runner, StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query_as(concat!(
            "INSERT INTO runners (token_sha256, description, runner_type, project_id, tags, \
             run_untagged, paused, locked, access_level, maximum_timeout, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ",
            runner_columns!()
        ))
        .bind(token_sha256)
        .bind(&new.description)
        .bind(&new.runner_type)
        .bind(new.project_id)
        .bind(tags_text(&new.tags))
        .bind(new.run_untagged)
        .bind(new.paused)
        .bind(new.locked)
        .bind(&new.access_level)
        .bind(new.maximum_timeout)
        .bind(new.created_by)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("creating a runner"))
    }

    /// A runner by id.
    pub async fn runner(&self, id: i64) -> Result<Option<Runner>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            runner_columns!(),
            " FROM runners WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a runner"))
    }

    /// The runner whose token has this hash.
    pub async fn runner_by_token(&self, token_sha256: &str) -> Result<Option<Runner>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            runner_columns!(),
            " FROM runners WHERE token_sha256 = $1"
        ))
        .bind(token_sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a runner"))
    }

    /// Every runner, oldest first.
    pub async fn runners(&self) -> Result<Vec<Runner>, StoreError> {
        sqlx::query_as(concat!("SELECT ", runner_columns!(), " FROM runners ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("listing runners"))
    }

    /// Changes a runner's settings; the runner as it is now ([`StoreError::NotFound`] when
    /// there is none).
    pub async fn update_runner(&self, id: i64, update: &RunnerUpdate) -> Result<Runner, StoreError> {
        const OP: &str = "updating a runner";
        let mut args = Args::default();
        let mut sets = Vec::new();
        if let Some(v) = &update.description {
            sets.push(format!("description = {}", args.add(v.clone())));
        }
        if let Some(v) = &update.tags {
            sets.push(format!("tags = {}", args.add(tags_text(v))));
        }
        for (column, value) in [
            ("run_untagged", update.run_untagged),
            ("paused", update.paused),
            ("locked", update.locked),
        ] {
            if let Some(v) = value {
                sets.push(format!("{column} = {}", args.add(v)));
            }
        }
        if let Some(v) = &update.access_level {
            sets.push(format!("access_level = {}", args.add(v.clone())));
        }
        if let Some(v) = update.maximum_timeout {
            sets.push(format!("maximum_timeout = {}", args.add(v)));
        }
        if !sets.is_empty() {
            let _lock = self.write_lock().await;
            let sql = format!(
                "UPDATE runners SET {} WHERE id = {}",
                sets.join(", "),
                args.add(id)
            );
            sqlx::query_with(AssertSqlSafe(sql), args.finish(OP)?)
                .execute(&self.pool)
                .await
                .map_err(query_error(OP))?;
        }
        self.runner(id)
            .await?
            .ok_or(StoreError::NotFound { entity: "runner", id })
    }

    /// Deletes a runner; whether there was one.
    pub async fn delete_runner(&self, id: i64) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("DELETE FROM runners WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("deleting a runner"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Records that a runner asked for a job, and what it said about itself.
    pub async fn touch_runner(
        &self,
        id: i64,
        info_json: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query(
            "UPDATE runners SET contacted_at = $1, info_json = COALESCE($2, info_json) WHERE id = $3",
        )
        .bind(now_ms)
        .bind(info_json)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(query_error("recording a runner's contact"))?;
        Ok(())
    }

    /// Gives a job that has not started to a runner with a new job token (by its hash),
    /// unless another runner has it already or it ended: whether this runner got it. The job stays `pending` until the
    /// runner confirms it (its first `PUT state=running`).
    pub async fn assign_job(
        &self,
        job_id: i64,
        runner_id: i64,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query(
            "UPDATE jobs SET runner_id = $1, token_sha256 = $2, queued_at = COALESCE(queued_at, $3) \
             WHERE id = $4 AND status IN ('created', 'pending') AND token_sha256 IS NULL",
        )
        .bind(runner_id)
        .bind(token_sha256)
        .bind(now_ms)
        .bind(job_id)
        .execute(&self.pool)
        .await
        .map_err(query_error("assigning a job"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Takes a job back from a runner that did not confirm it (or whose job ended): it has no
    /// runner and no token any more.
    pub async fn release_job(&self, job_id: i64) -> Result<(), StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query("UPDATE jobs SET runner_id = NULL, token_sha256 = NULL WHERE id = $1")
            .bind(job_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("taking a job back"))?;
        Ok(())
    }

    /// Ends a job token's validity (the job has finished).
    pub async fn revoke_job_token(&self, job_id: i64) -> Result<(), StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query("UPDATE jobs SET token_sha256 = NULL WHERE id = $1")
            .bind(job_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("revoking a job token"))?;
        Ok(())
    }

    /// Whether a runner holds the job (its token is valid).
    pub async fn job_held(&self, job_id: i64) -> Result<bool, StoreError> {
        let held: Option<i64> =
            sqlx::query_scalar("SELECT id FROM jobs WHERE id = $1 AND token_sha256 IS NOT NULL")
                .bind(job_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("reading a job's runner"))?;
        Ok(held.is_some())
    }

    /// The job whose token has this hash (only jobs a runner holds have one).
    pub async fn job_by_token(&self, token_sha256: &str) -> Result<Option<Job>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM jobs WHERE token_sha256 = $1")
            .bind(token_sha256)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading a job by its token"))?;
        match id {
            Some(id) => self.job(id).await,
            None => Ok(None),
        }
    }
}
