//! Job artifacts' metadata: which blob holds which file of which job, and until when. The
//! bytes live in the blob store ([`crate::blob`]) under `blob_key`.

use super::connect::Db;
use super::error::{StoreError, query_error};

macro_rules! artifact_columns {
    () => {
        "id, job_id, file_type, file_format, filename, blob_key, size, sha256, expire_at, created_at"
    };
}

/// An artifact to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtifact {
    /// The job attempt that produced it.
    pub job_id: i64,
    /// GitLab's file type: `archive`, `metadata`, `trace`, `dotenv`, `junit`, ...
    pub file_type: String,
    /// GitLab's file format: `zip`, `gzip`, `raw`.
    pub file_format: String,
    /// The file name a download gets (`artifacts.zip`).
    pub filename: String,
    /// Where the bytes are in the blob store (unique).
    pub blob_key: String,
    /// Its size in bytes.
    pub size: i64,
    /// The SHA-256 of the bytes, in lowercase hex, when known.
    pub sha256: Option<String>,
    /// When it expires (epoch ms); never when `None`.
    pub expire_at: Option<i64>,
}

/// A recorded artifact.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Artifact {
    /// Its id.
    pub id: i64,
    /// The job attempt that produced it.
    pub job_id: i64,
    /// GitLab's file type.
    pub file_type: String,
    /// GitLab's file format.
    pub file_format: String,
    /// The file name a download gets.
    pub filename: String,
    /// Where the bytes are in the blob store.
    pub blob_key: String,
    /// Its size in bytes.
    pub size: i64,
    /// The SHA-256 of the bytes, in lowercase hex, when known.
    pub sha256: Option<String>,
    /// When it expires (epoch ms).
    pub expire_at: Option<i64>,
    /// When it was recorded (epoch ms).
    pub created_at: i64,
}

impl Db {
    /// Records an artifact. A job has at most one artifact per file type, and a blob key
    /// belongs to one artifact: [`StoreError::Conflict`] otherwise.
    pub async fn add_artifact(&self, a: &NewArtifact, now_ms: i64) -> Result<Artifact, StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query_as(concat!(
            "INSERT INTO job_artifacts (job_id, file_type, file_format, filename, blob_key, size, sha256, \
             expire_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
            artifact_columns!()
        ))
        .bind(a.job_id)
        .bind(&a.file_type)
        .bind(&a.file_format)
        .bind(&a.filename)
        .bind(&a.blob_key)
        .bind(a.size)
        .bind(&a.sha256)
        .bind(a.expire_at)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("recording an artifact"))
    }

    /// The artifact with this id.
    pub async fn artifact(&self, id: i64) -> Result<Option<Artifact>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            artifact_columns!(),
            " FROM job_artifacts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading an artifact"))
    }

    /// The artifacts of a job attempt, in the order they were recorded.
    pub async fn artifacts_of_job(&self, job_id: i64) -> Result<Vec<Artifact>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            artifact_columns!(),
            " FROM job_artifacts WHERE job_id = $1 ORDER BY id"
        ))
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing the artifacts of a job"))
    }

    /// Up to `limit` artifacts expired at `now_ms` (`expire_at <= now_ms`), the longest
    /// expired first: what a cleanup deletes, blob then row.
    pub async fn expired_artifacts(&self, now_ms: i64, limit: i64) -> Result<Vec<Artifact>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            artifact_columns!(),
            " FROM job_artifacts WHERE expire_at IS NOT NULL AND expire_at <= $1 \
             ORDER BY expire_at, id LIMIT $2"
        ))
        .bind(now_ms)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing expired artifacts"))
    }

    /// Deletes an artifact's row (its blob is the caller's to delete). Deleting a missing
    /// row is not an error, so a cleanup can be repeated.
    pub async fn delete_artifact(&self, id: i64) -> Result<(), StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query("DELETE FROM job_artifacts WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("deleting an artifact"))?;
        Ok(())
    }
}
