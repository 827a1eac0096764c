//! Pipelines: one per trigger of a project (push, API, schedule, trigger token), numbered per
//! project by `iid`, with the status the server mirrors from its engine.

use super::args::Args;
use super::column::DbBool;
use super::connect::Db;
use super::error::{StoreError, query_error};
use super::page::Page;
use sqlx::AssertSqlSafe;

/// The pipeline statuses after which nothing more happens (GitLab's completed statuses).
pub const FINISHED_PIPELINE_STATUSES: [&str; 4] = ["success", "failed", "canceled", "skipped"];

macro_rules! pipeline_columns {
    () => {
        "id, project_id, iid, ref_name, tag, sha, before_sha, source, status, config_errors, \
         variables_json, created_at, updated_at, started_at, finished_at, duration, user_id, commit_title, parent_job_id, root_config"
    };
}

/// A pipeline to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPipeline {
    /// The project.
    pub project_id: i64,
    /// The branch or tag name.
    pub ref_name: String,
    /// Whether `ref_name` is a tag.
    pub tag: bool,
    /// The commit.
    pub sha: String,
    /// The commit the ref pointed to before the push (forty zeros when none).
    pub before_sha: String,
    /// GitLab's source word: `push`, `web`, `api`, `trigger`, `schedule`, ...
    pub source: String,
    /// The first status (`created`, or `failed` for a configuration with errors).
    pub status: String,
    /// The configuration errors, as JSON text, when the configuration is invalid.
    pub config_errors: Option<String>,
    /// The pipeline variables given with the trigger, as JSON text.
    pub variables_json: String,
    /// The user it runs for (who pushed, or called the API), if any.
    pub user_id: Option<i64>,
    /// The first line of its commit's message.
    pub commit_title: String,
    /// The trigger job it is the downstream pipeline of, if any.
    pub parent_job_id: Option<i64>,
    /// A child pipeline's configuration (its root file's text).
    pub root_config: Option<String>,
}

/// A pipeline.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pipeline {
    /// Its id, unique in the instance.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// Its number in the project: 1, 2, 3...
    pub iid: i64,
    /// The branch or tag name.
    pub ref_name: String,
    /// Whether `ref_name` is a tag.
    #[sqlx(try_from = "DbBool")]
    pub tag: bool,
    /// The commit.
    pub sha: String,
    /// The commit the ref pointed to before the push.
    pub before_sha: String,
    /// GitLab's source word.
    pub source: String,
    /// GitLab's status word (`created`, `pending`, `running`, `success`, `failed`, ...).
    pub status: String,
    /// The configuration errors, as JSON text.
    pub config_errors: Option<String>,
    /// The pipeline variables, as JSON text.
    pub variables_json: String,
    /// When it was created (epoch ms).
    pub created_at: i64,
    /// When it last changed (epoch ms).
    pub updated_at: i64,
    /// When its first job started (epoch ms).
    pub started_at: Option<i64>,
    /// When it finished (epoch ms).
    pub finished_at: Option<i64>,
    /// How long it ran, in seconds, as GitLab reports it.
    pub duration: Option<i64>,
    /// The user it runs for, if any.
    pub user_id: Option<i64>,
    /// The first line of its commit's message.
    pub commit_title: String,
    /// The trigger job it is the downstream pipeline of, if any.
    pub parent_job_id: Option<i64>,
    /// A child pipeline's configuration (its root file's text).
    pub root_config: Option<String>,
}

impl Pipeline {
    /// Whether its status is one of [`FINISHED_PIPELINE_STATUSES`].
    pub fn is_finished(&self) -> bool {
        FINISHED_PIPELINE_STATUSES.contains(&self.status.as_str())
    }
}

/// Which pipelines of a project to list; `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineFilter {
    /// Only this branch or tag.
    pub ref_name: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this commit.
    pub sha: Option<String>,
    /// Only this source.
    pub source: Option<String>,
    /// Leave out child pipelines (those a trigger job of the same project created), as
    /// GitLab's pipeline list shows them under their parent only.
    pub without_children: bool,
}

/// What to change in a pipeline; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineUpdate {
    /// The new status.
    pub status: Option<String>,
    /// When its first job started (epoch ms).
    pub started_at: Option<i64>,
    /// When it finished (epoch ms).
    pub finished_at: Option<i64>,
    /// How long it ran, in seconds.
    pub duration: Option<i64>,
    /// The configuration errors, as JSON text.
    pub config_errors: Option<String>,
    /// When this change happened (epoch ms). When `None`, the latest of `started_at` and
    /// `finished_at` is taken if one is given; otherwise `updated_at` stays.
    pub updated_at: Option<i64>,
}

impl Db {
    /// Creates a pipeline with the project's next `iid`. The counter is bumped in the same
    /// transaction, under the project row's lock, so concurrent creations get distinct,
    /// gapless numbers on both backends. [`StoreError::NotFound`] for an unknown project.
    pub async fn create_pipeline(&self, new: &NewPipeline, now_ms: i64) -> Result<Pipeline, StoreError> {
        const OP: &str = "creating a pipeline";
        let mut w = self.begin_write(OP).await?;
        let iid: Option<i64> = sqlx::query_scalar(
            "UPDATE projects SET last_pipeline_iid = last_pipeline_iid + 1 WHERE id = $1 \
             RETURNING last_pipeline_iid",
        )
        .bind(new.project_id)
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        let iid = iid.ok_or(StoreError::NotFound {
            entity: "project",
            id: new.project_id,
        })?;
        let pipeline = sqlx::query_as(concat!(
            "INSERT INTO pipelines (project_id, iid, ref_name, tag, sha, before_sha, source, status, \
             config_errors, variables_json, created_at, updated_at, user_id, commit_title, parent_job_id, root_config) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15) RETURNING ",
            pipeline_columns!()
        ))
        .bind(new.project_id)
        .bind(iid)
        .bind(&new.ref_name)
        .bind(new.tag)
        .bind(&new.sha)
        .bind(&new.before_sha)
        .bind(&new.source)
        .bind(&new.status)
        .bind(&new.config_errors)
        .bind(&new.variables_json)
        .bind(now_ms)
        .bind(new.user_id)
        .bind(&new.commit_title)
        .bind(new.parent_job_id)
        .bind(&new.root_config)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        w.commit(OP).await?;
        Ok(pipeline)
    }

    /// The pipeline with this id.
    pub async fn pipeline(&self, id: i64) -> Result<Option<Pipeline>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            pipeline_columns!(),
            " FROM pipelines WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a pipeline"))
    }

    /// The pipeline of a project with this `iid`.
    pub async fn pipeline_by_iid(&self, project_id: i64, iid: i64) -> Result<Option<Pipeline>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            pipeline_columns!(),
            " FROM pipelines WHERE project_id = $1 AND iid = $2"
        ))
        .bind(project_id)
        .bind(iid)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a pipeline by iid"))
    }

    /// A page of a project's pipelines matching `filter`, newest first, and how many match.
    pub async fn list_pipelines(
        &self,
        project_id: i64,
        filter: &PipelineFilter,
        page: Page,
    ) -> Result<(Vec<Pipeline>, i64), StoreError> {
        const OP: &str = "listing pipelines";
        let conditions = |args: &mut Args| {
            let mut sql = format!("project_id = {}", args.add(project_id));
            let columns = [
                ("ref_name", &filter.ref_name),
                ("status", &filter.status),
                ("sha", &filter.sha),
                ("source", &filter.source),
            ];
            for (column, value) in columns {
                if let Some(value) = value {
                    sql.push_str(&format!(" AND {column} = {}", args.add(value.clone())));
                }
            }
            if filter.without_children {
                sql.push_str(" AND source <> 'parent_pipeline'");
            }
            sql
        };
        self.paged(pipeline_columns!(), "pipelines", conditions, page, OP)
            .await
    }

    /// Changes the columns `update` gives; [`StoreError::NotFound`] for an unknown pipeline.
    pub async fn update_pipeline(&self, id: i64, update: &PipelineUpdate) -> Result<(), StoreError> {
        const OP: &str = "updating a pipeline";
        let Some((sql, args)) = pipeline_update_statement(id, update) else {
            return match self.pipeline(id).await? {
                Some(_) => Ok(()),
                None => Err(StoreError::NotFound {
                    entity: "pipeline",
                    id,
                }),
            };
        };
        let _lock = self.write_lock().await;
        let done = sqlx::query_with(AssertSqlSafe(sql), args.finish(OP)?)
            .execute(&self.pool)
            .await
            .map_err(query_error(OP))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "pipeline",
                id,
            });
        }
        Ok(())
    }

    /// Every pipeline that has not finished (status not in [`FINISHED_PIPELINE_STATUSES`]),
    /// oldest first: what the server resumes after a restart.
    pub async fn unfinished_pipelines(&self) -> Result<Vec<Pipeline>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            pipeline_columns!(),
            " FROM pipelines WHERE status NOT IN ('success', 'failed', 'canceled', 'skipped') ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing unfinished pipelines"))
    }
}

/// The `UPDATE` that applies `update` to pipeline `id` (`updated_at` follows the latest time
/// given); `None` when it changes nothing.
pub(crate) fn pipeline_update_statement(id: i64, update: &PipelineUpdate) -> Option<(String, Args)> {
    let mut args = Args::default();
    let mut sets = Vec::new();
    if let Some(v) = &update.status {
        sets.push(format!("status = {}", args.add(v.clone())));
    }
    let times = [
        ("started_at", update.started_at),
        ("finished_at", update.finished_at),
        ("duration", update.duration),
    ];
    for (column, value) in times {
        if let Some(v) = value {
            sets.push(format!("{column} = {}", args.add(v)));
        }
    }
    if let Some(v) = &update.config_errors {
        sets.push(format!("config_errors = {}", args.add(v.clone())));
    }
    let updated_at = update
        .updated_at
        .or_else(|| update.started_at.max(update.finished_at));
    if let Some(v) = updated_at {
        sets.push(format!("updated_at = {}", args.add(v)));
    }
    if sets.is_empty() {
        return None;
    }
    let sql = format!(
        "UPDATE pipelines SET {} WHERE id = {}",
        sets.join(", "),
        args.add(id)
    );
    Some((sql, args))
}
