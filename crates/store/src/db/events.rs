//! Pipeline events: the server stores every engine event before applying it, and replays a
//! pipeline's events in order to rebuild its state machine after a restart.

use super::connect::Db;
use super::error::{StoreError, query_error};
use super::jobs::{JobUpdate, job_update_statement};
use super::pipelines::{PipelineUpdate, pipeline_update_statement};
use sqlx::AssertSqlSafe;

impl Db {
    /// Stores an event of a pipeline and returns its sequence number: 1, 2, 3... per
    /// pipeline, assigned under the pipeline row's lock. [`StoreError::NotFound`] for an
    /// unknown pipeline.
    pub async fn append_event(
        &self,
        pipeline_id: i64,
        event_json: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        self.record_event(pipeline_id, event_json, &[], None, now_ms)
            .await
    }

    /// Appends an event and writes the job and pipeline changes it caused, in one
    /// transaction: after a crash either all of it is stored or none. Its sequence number.
    pub async fn record_event(
        &self,
        pipeline_id: i64,
        event_json: &str,
        jobs: &[(i64, JobUpdate)],
        pipeline: Option<&PipelineUpdate>,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        const OP: &str = "storing a pipeline event";
        let mut w = self.begin_write(OP).await?;
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE pipelines SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING last_event_seq",
        )
        .bind(pipeline_id)
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        let seq = seq.ok_or(StoreError::NotFound {
            entity: "pipeline",
            id: pipeline_id,
        })?;
        sqlx::query(
            "INSERT INTO pipeline_events (pipeline_id, seq, event_json, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(pipeline_id)
        .bind(seq)
        .bind(event_json)
        .bind(now_ms)
        .execute(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        let statements = jobs
            .iter()
            .filter_map(|(id, update)| job_update_statement(*id, update).map(|s| ("job", *id, s)))
            .chain(
                pipeline
                    .and_then(|u| pipeline_update_statement(pipeline_id, u))
                    .map(|s| ("pipeline", pipeline_id, s)),
            );
        for (entity, id, (sql, args)) in statements {
            let done = sqlx::query_with(AssertSqlSafe(sql), args.finish(OP)?)
                .execute(&mut *w.tx)
                .await
                .map_err(query_error(OP))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { entity, id });
            }
        }
        w.commit(OP).await?;
        Ok(seq)
    }

    /// The events of a pipeline in order, as `(seq, event_json)`.
    pub async fn events(&self, pipeline_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
        sqlx::query_as("SELECT seq, event_json FROM pipeline_events WHERE pipeline_id = $1 ORDER BY seq")
            .bind(pipeline_id)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading pipeline events"))
    }
}
