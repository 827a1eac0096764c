//! CI/CD variables of a project. A value is stored as the server gives it (sealed: the
//! server encrypts before calling and decrypts after reading); a key is unique per project
//! and environment scope.

use super::column::DbBool;
use super::connect::Db;
use super::error::{StoreError, query_error};

macro_rules! variable_columns {
    () => {
        "project_id, key, value, variable_type, protected, masked, raw, environment_scope"
    };
}

/// A CI/CD variable of a project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Variable {
    /// The project.
    pub project_id: i64,
    /// Its name.
    pub key: String,
    /// Its value, sealed by the server.
    pub value: Vec<u8>,
    /// `env_var` or `file`.
    pub variable_type: String,
    /// Whether only pipelines of protected refs get it.
    #[sqlx(try_from = "DbBool")]
    pub protected: bool,
    /// Whether traces hide its value.
    #[sqlx(try_from = "DbBool")]
    pub masked: bool,
    /// Whether `$` in its value is left unexpanded.
    #[sqlx(try_from = "DbBool")]
    pub raw: bool,
    /// The environments it applies to (`*`, `production`, `review/*`).
    pub environment_scope: String,
}

impl Db {
    /// Creates the variable or replaces the one with the same project, key and scope.
    pub async fn upsert_variable(&self, v: &Variable) -> Result<(), StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query(concat!(
            "INSERT INTO ci_variables (",
            variable_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (project_id, key, environment_scope) DO UPDATE SET value = excluded.value, \
             variable_type = excluded.variable_type, protected = excluded.protected, \
             masked = excluded.masked, raw = excluded.raw"
        ))
        .bind(v.project_id)
        .bind(&v.key)
        .bind(&v.value)
        .bind(&v.variable_type)
        .bind(v.protected)
        .bind(v.masked)
        .bind(v.raw)
        .bind(&v.environment_scope)
        .execute(&self.pool)
        .await
        .map_err(query_error("storing a variable"))?;
        Ok(())
    }

    /// The variables of a project, by key, then scope.
    pub async fn variables(&self, project_id: i64) -> Result<Vec<Variable>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            variable_columns!(),
            " FROM ci_variables WHERE project_id = $1 ORDER BY key, environment_scope"
        ))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing variables"))
    }

    /// The variable of a project with this key and scope.
    pub async fn variable(
        &self,
        project_id: i64,
        key: &str,
        environment_scope: &str,
    ) -> Result<Option<Variable>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            variable_columns!(),
            " FROM ci_variables WHERE project_id = $1 AND key = $2 AND environment_scope = $3"
        ))
        .bind(project_id)
        .bind(key)
        .bind(environment_scope)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a variable"))
    }

    /// Deletes the variable with this key and scope; `false` when there was none.
    pub async fn delete_variable(
        &self,
        project_id: i64,
        key: &str,
        environment_scope: &str,
    ) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query(
            "DELETE FROM ci_variables WHERE project_id = $1 AND key = $2 AND environment_scope = $3",
        )
        .bind(project_id)
        .bind(key)
        .bind(environment_scope)
        .execute(&self.pool)
        .await
        .map_err(query_error("deleting a variable"))?;
        Ok(done.rows_affected() > 0)
    }
}
