//! Environments and deployments. A job that deploys (`environment:` with the `start` action)
//! records one deployment per attempt, created with its environment if that is new; the
//! deployment's status follows the job's. Environments are `available`, `stopping` (its stop
//! job runs) or `stopped`.

use super::connect::Db;
use super::error::{StoreError, query_error};

macro_rules! environment_columns {
    () => {
        "id, project_id, name, slug, external_url, tier, state, auto_stop_at, created_at, updated_at"
    };
}

macro_rules! deployment_columns {
    () => {
        "id, project_id, environment_id, iid, job_id, pipeline_id, ref_name, sha, status, on_stop, \
         created_at, finished_at"
    };
}

/// An environment of a project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Environment {
    /// Its id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// Its name (`production`, `review/feature-x`).
    pub name: String,
    /// `CI_ENVIRONMENT_SLUG`.
    pub slug: String,
    /// Where it is reached, if known.
    pub external_url: Option<String>,
    /// `production`, `staging`, `testing`, `development` or `other`.
    pub tier: String,
    /// `available`, `stopping` or `stopped`.
    pub state: String,
    /// When it stops by itself (`auto_stop_in`), epoch ms.
    pub auto_stop_at: Option<i64>,
    /// When it was created (epoch ms).
    pub created_at: i64,
    /// When it last changed (epoch ms).
    pub updated_at: i64,
}

/// One deployment: an attempt of a job that deploys to an environment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Deployment {
    /// Its id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The environment.
    pub environment_id: i64,
    /// Its number in the project.
    pub iid: i64,
    /// The job attempt.
    pub job_id: i64,
    /// The job's pipeline.
    pub pipeline_id: i64,
    /// The branch or tag deployed.
    pub ref_name: String,
    /// The commit deployed.
    pub sha: String,
    /// `created`, `running`, `success`, `failed`, `canceled`, `skipped`.
    pub status: String,
    /// The job (in the same pipeline) that stops the environment.
    pub on_stop: Option<String>,
    /// When it was created (epoch ms).
    pub created_at: i64,
    /// When it finished (epoch ms).
    pub finished_at: Option<i64>,
}

/// What a deploying job's status change records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRecord {
    /// The project.
    pub project_id: i64,
    /// The environment's name.
    pub environment: String,
    /// Its slug.
    pub slug: String,
    /// Its URL, if the job gives one.
    pub external_url: Option<String>,
    /// Its tier.
    pub tier: String,
    /// The job attempt.
    pub job_id: i64,
    /// Its pipeline.
    pub pipeline_id: i64,
    /// Branch or tag.
    pub ref_name: String,
    /// Commit.
    pub sha: String,
    /// The deployment's status.
    pub status: String,
    /// The stop job's name.
    pub on_stop: Option<String>,
}

/// The deployment statuses after which nothing more happens.
const FINISHED: [&str; 4] = ["success", "failed", "canceled", "skipped"];

impl Db {
    /// Records a deploying job's status: the environment is created (or its URL and tier
    /// updated; it becomes `available` again once a deployment runs), the job's deployment is
    /// created (numbered per project) or its status updated. Returns the deployment.
    pub async fn record_deployment(
        &self,
        r: &DeploymentRecord,
        now_ms: i64,
    ) -> Result<Deployment, StoreError> {
        const OP: &str = "recording a deployment";
        let mut w = self.begin_write(OP).await?;
        let deploying = matches!(r.status.as_str(), "running" | "success");
        let env: Environment = sqlx::query_as(concat!(
            "INSERT INTO environments (project_id, name, slug, external_url, tier, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (project_id, name) DO UPDATE SET \
             external_url = COALESCE(excluded.external_url, environments.external_url), \
             tier = excluded.tier, updated_at = excluded.updated_at, \
             state = CASE WHEN $7 THEN 'available' ELSE environments.state END \
             RETURNING ",
            environment_columns!()
        ))
        .bind(r.project_id)
        .bind(&r.environment)
        .bind(&r.slug)
        .bind(&r.external_url)
        .bind(&r.tier)
        .bind(now_ms)
        .bind(deploying)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        let finished_at = FINISHED.contains(&r.status.as_str()).then_some(now_ms);
        let updated: Option<Deployment> = sqlx::query_as(concat!(
            "UPDATE deployments SET status = $1, finished_at = COALESCE(finished_at, $2) WHERE job_id = $3 RETURNING ",
            deployment_columns!()
        ))
        .bind(&r.status)
        .bind(finished_at)
        .bind(r.job_id)
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        let deployment = match updated {
            Some(d) => d,
            None => {
                let iid: i64 = sqlx::query_scalar(
                    "UPDATE projects SET last_deployment_iid = last_deployment_iid + 1 WHERE id = $1 \
                     RETURNING last_deployment_iid",
                )
                .bind(r.project_id)
                .fetch_one(&mut *w.tx)
                .await
                .map_err(query_error(OP))?;
                sqlx::query_as(concat!(
                    "INSERT INTO deployments (project_id, environment_id, iid, job_id, pipeline_id, ref_name, sha, \
                     status, on_stop, created_at, finished_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ",
                    deployment_columns!()
                ))
                .bind(r.project_id)
                .bind(env.id)
                .bind(iid)
                .bind(r.job_id)
                .bind(r.pipeline_id)
                .bind(&r.ref_name)
                .bind(&r.sha)
                .bind(&r.status)
                .bind(&r.on_stop)
                .bind(now_ms)
                .bind(finished_at)
                .fetch_one(&mut *w.tx)
                .await
                .map_err(query_error(OP))?
            }
        };
        w.commit(OP).await?;
        Ok(deployment)
    }

    /// The project's environments, by name.
    pub async fn environments(&self, project_id: i64) -> Result<Vec<Environment>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            environment_columns!(),
            " FROM environments WHERE project_id = $1 ORDER BY name"
        ))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing environments"))
    }

    /// The environment with this id.
    pub async fn environment(&self, id: i64) -> Result<Option<Environment>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            environment_columns!(),
            " FROM environments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading an environment"))
    }

    /// The project's environment called `name`.
    pub async fn environment_by_name(
        &self,
        project_id: i64,
        name: &str,
    ) -> Result<Option<Environment>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            environment_columns!(),
            " FROM environments WHERE project_id = $1 AND name = $2"
        ))
        .bind(project_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading an environment"))
    }

    /// Sets an environment's state and its auto-stop time; `false` for an unknown one.
    pub async fn set_environment_state(
        &self,
        id: i64,
        state: &str,
        auto_stop_at: Option<i64>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query(
            "UPDATE environments SET state = $1, auto_stop_at = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(state)
        .bind(auto_stop_at)
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(query_error("changing an environment"))?;
        Ok(done.rows_affected() > 0)
    }

    /// The available environments whose auto-stop time has come at `now_ms`.
    pub async fn environments_to_stop(&self, now_ms: i64) -> Result<Vec<Environment>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            environment_columns!(),
            " FROM environments WHERE state = 'available' AND auto_stop_at IS NOT NULL AND auto_stop_at <= $1"
        ))
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing environments to stop"))
    }

    /// An environment's deployments, newest first, at most `limit`.
    pub async fn deployments_of(
        &self,
        environment_id: i64,
        limit: i64,
    ) -> Result<Vec<Deployment>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            deployment_columns!(),
            " FROM deployments WHERE environment_id = $1 ORDER BY iid DESC LIMIT $2"
        ))
        .bind(environment_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing deployments"))
    }

    /// The project's deployments, newest first, at most `limit`.
    pub async fn deployments(&self, project_id: i64, limit: i64) -> Result<Vec<Deployment>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            deployment_columns!(),
            " FROM deployments WHERE project_id = $1 ORDER BY iid DESC LIMIT $2"
        ))
        .bind(project_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing deployments"))
    }

    /// One deployment of a project, by id.
    pub async fn deployment(&self, project_id: i64, id: i64) -> Result<Option<Deployment>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            deployment_columns!(),
            " FROM deployments WHERE project_id = $1 AND id = $2"
        ))
        .bind(project_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a deployment"))
    }

    /// The deployment of a job attempt.
    pub async fn deployment_of_job(&self, job_id: i64) -> Result<Option<Deployment>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            deployment_columns!(),
            " FROM deployments WHERE job_id = $1"
        ))
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a deployment"))
    }
}
