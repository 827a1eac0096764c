//! Legacy runner registration tokens: one for the instance and one per project at most,
//! kept by their SHA-256 only; a reset replaces the scope's token.

use super::connect::Db;
use super::error::{StoreError, query_error};

impl Db {
    /// Makes `token_sha256` the registration token of the instance (`project_id` None) or
    /// of a project, replacing the one it had.
    pub async fn reset_registration_token(
        &self,
        project_id: Option<i64>,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        const OP: &str = "resetting a registration token";
        let mut w = self.begin_write(OP).await?;
        sqlx::query("DELETE FROM runner_registration_tokens WHERE COALESCE(project_id, 0) = $1")
            .bind(project_id.unwrap_or(0))
            .execute(&mut *w.tx)
            .await
            .map_err(query_error(OP))?;
        sqlx::query(
            "INSERT INTO runner_registration_tokens (project_id, token_sha256, created_at) \
             VALUES ($1, $2, $3)",
        )
        .bind(project_id)
        .bind(token_sha256)
        .bind(now_ms)
        .execute(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        w.commit(OP).await
    }

    /// Where the registration token with this hash registers runners: `Some(None)` for
    /// the instance, `Some(Some(project))` for a project, `None` for no such token.
    pub async fn registration_scope(&self, token_sha256: &str) -> Result<Option<Option<i64>>, StoreError> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT project_id FROM runner_registration_tokens WHERE token_sha256 = $1")
                .bind(token_sha256)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("reading a registration token"))?;
        Ok(row.map(|(p,)| p))
    }
}
