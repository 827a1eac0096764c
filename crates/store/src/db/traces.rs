//! Job traces (logs): append-only byte chunks per job attempt. An append must start at the
//! trace's current length, so a writer that lost track (a restart, a duplicate request) is
//! told where to resume; readers read from any byte offset while the job runs.

use super::connect::Db;
use super::error::{StoreError, query_error};
use sqlx::{Any, Row, Transaction};

impl Db {
    /// Appends `bytes` to the trace of `job_id` at `offset`, which must be the trace's
    /// current length ([`StoreError::TraceOffset`] otherwise, with the length); returns the
    /// new length. Appending nothing at the right offset changes nothing.
    pub async fn append_trace(&self, job_id: i64, offset: i64, bytes: &[u8]) -> Result<i64, StoreError> {
        const OP: &str = "appending to a trace";
        let mut w = self.begin_write(OP).await?;
        let len = append_in(&mut w.tx, job_id, offset, bytes).await?;
        w.commit(OP).await?;
        Ok(len)
    }

    /// The trace of `job_id` from byte `from` to its current end (empty when `from` is at or
    /// past the end). [`StoreError::NotFound`] for an unknown job.
    pub async fn trace(&self, job_id: i64, from: i64) -> Result<Vec<u8>, StoreError> {
        const OP: &str = "reading a trace";
        let from = from.max(0);
        let rows = sqlx::query(
            "SELECT start_offset, data FROM trace_chunks \
             WHERE job_id = $1 AND start_offset + size > $2 ORDER BY start_offset",
        )
        .bind(job_id)
        .bind(from)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error(OP))?;
        if rows.is_empty() {
            // Tell an empty trace from a missing job.
            self.trace_len(job_id).await?;
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for row in rows {
            let start: i64 = row.try_get(0).map_err(query_error(OP))?;
            let data: Vec<u8> = row.try_get(1).map_err(query_error(OP))?;
            let skip = usize::try_from(from - start).unwrap_or(0).min(data.len());
            out.extend_from_slice(&data[skip..]);
        }
        Ok(out)
    }

    /// The length of the trace of `job_id` in bytes: where the next append starts.
    /// [`StoreError::NotFound`] for an unknown job.
    pub async fn trace_len(&self, job_id: i64) -> Result<i64, StoreError> {
        let len: Option<i64> = sqlx::query_scalar("SELECT trace_len FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading a trace length"))?;
        len.ok_or(StoreError::NotFound {
            entity: "job",
            id: job_id,
        })
    }
}

/// [`Db::append_trace`] inside a write transaction (rolled back by the caller on an error).
pub(super) async fn append_in(
    tx: &mut Transaction<'static, Any>,
    job_id: i64,
    offset: i64,
    bytes: &[u8],
) -> Result<i64, StoreError> {
    const OP: &str = "appending to a trace";
    let size = i64::try_from(bytes.len()).map_err(|_| StoreError::Invalid {
        what: "trace chunk",
        reason: "longer than i64::MAX bytes".to_owned(),
    })?;
    // The length moves only if it is still `offset`: of two appenders at the same offset,
    // one wins and the other is told the new length.
    let len: Option<i64> = sqlx::query_scalar(
        "UPDATE jobs SET trace_len = trace_len + $1 WHERE id = $2 AND trace_len = $3 RETURNING trace_len",
    )
    .bind(size)
    .bind(job_id)
    .bind(offset)
    .fetch_optional(&mut **tx)
    .await
    .map_err(query_error(OP))?;
    let Some(len) = len else {
        let current: Option<i64> = sqlx::query_scalar("SELECT trace_len FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(query_error(OP))?;
        return Err(match current {
            Some(expected) => StoreError::TraceOffset {
                expected,
                given: offset,
            },
            None => StoreError::NotFound {
                entity: "job",
                id: job_id,
            },
        });
    };
    if size > 0 {
        sqlx::query("INSERT INTO trace_chunks (job_id, start_offset, size, data) VALUES ($1, $2, $3, $4)")
            .bind(job_id)
            .bind(offset)
            .bind(size)
            .bind(bytes)
            .execute(&mut **tx)
            .await
            .map_err(query_error(OP))?;
    }
    Ok(len)
}
