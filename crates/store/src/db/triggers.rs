//! Pipeline trigger tokens: a project's tokens that start pipelines through
//! `POST /projects/:id/trigger/pipeline`. Only the SHA-256 (hex) of a token is stored.

use super::connect::Db;
use super::error::{StoreError, query_error};
use super::projects::Project;

macro_rules! trigger_columns {
    () => {
        "id, project_id, token_sha256, description, created_at"
    };
}

/// A pipeline trigger token of a project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Trigger {
    /// Its id.
    pub id: i64,
    /// The project it starts pipelines in.
    pub project_id: i64,
    /// The SHA-256 of the token, in lowercase hex.
    pub token_sha256: String,
    /// What its owner wrote about it.
    pub description: String,
    /// When it was created (epoch ms).
    pub created_at: i64,
}

impl Db {
    /// Stores a trigger token of a project by its hash; [`StoreError::Conflict`] when the
    /// hash is already stored.
    pub async fn create_trigger(
        &self,
        project_id: i64,
        token_sha256: &str,
        description: &str,
        now_ms: i64,
    ) -> Result<Trigger, StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query_as(concat!(
            "INSERT INTO pipeline_triggers (project_id, token_sha256, description, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING ",
            trigger_columns!()
        ))
        .bind(project_id)
        .bind(token_sha256)
        .bind(description)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("creating a trigger"))
    }

    /// The project a trigger token hash belongs to, with the trigger.
    pub async fn project_by_trigger(
        &self,
        token_sha256: &str,
    ) -> Result<Option<(Project, Trigger)>, StoreError> {
        let trigger: Option<Trigger> = sqlx::query_as(concat!(
            "SELECT ",
            trigger_columns!(),
            " FROM pipeline_triggers WHERE token_sha256 = $1"
        ))
        .bind(token_sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a trigger"))?;
        let Some(trigger) = trigger else {
            return Ok(None);
        };
        Ok(self.project(trigger.project_id).await?.map(|p| (p, trigger)))
    }

    /// The trigger tokens of a project, oldest first.
    pub async fn triggers(&self, project_id: i64) -> Result<Vec<Trigger>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            trigger_columns!(),
            " FROM pipeline_triggers WHERE project_id = $1 ORDER BY id"
        ))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing triggers"))
    }

    /// Deletes a trigger token; `false` when there was none.
    pub async fn delete_trigger(&self, id: i64) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("DELETE FROM pipeline_triggers WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("deleting a trigger"))?;
        Ok(done.rows_affected() > 0)
    }
}
