//! Pipeline events: the server stores every engine event before applying it, and replays a
//! pipeline's events in order to rebuild its state machine after a restart.

use super::args::Args;
use super::connect::Db;
use super::error::{StoreError, query_error};
use super::jobs::{JobUpdate, job_update_statement};
use super::pipelines::{PipelineUpdate, pipeline_update_statement};
use sqlx::AssertSqlSafe;

/// What [`Db::record_events`] stores in one transaction.
#[derive(Clone, Debug, Default)]
pub struct EventBatch {
    /// Log bytes to append, each at its trace's current length.
    pub traces: Vec<TraceAppend>,
    /// Events (JSON), in order: they get the next sequence numbers.
    pub events: Vec<String>,
    /// Job rows to update.
    pub jobs: Vec<(i64, JobUpdate)>,
    /// The pipeline row's update.
    pub pipeline: Option<PipelineUpdate>,
}

/// Bytes to append to a job's trace.
#[derive(Clone, Debug)]
pub struct TraceAppend {
    /// The job (attempt) row.
    pub job_id: i64,
    /// Where they go: the trace's length as the writer knows it.
    pub offset: i64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What a stored batch was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The sequence number of the batch's last event (the pipeline's last one if the batch
    /// had none).
    pub last_seq: i64,
    /// The new length of each appended trace, in the batch's order.
    pub trace_lens: Vec<i64>,
}

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
        let batch = EventBatch {
            events: vec![event_json.to_owned()],
            traces: Vec::new(),
            jobs: jobs.to_vec(),
            pipeline: pipeline.cloned(),
        };
        let recorded = self.record_events(pipeline_id, &batch, now_ms).await?;
        Ok(recorded.last_seq)
    }

    /// Stores a batch in one transaction: the trace appends first (each as
    /// [`Db::append_trace`]), then the events in order, then the job and pipeline updates.
    /// After a crash either all of it is stored or none; any error (a trace offset that
    /// moved, a missing job) rolls all of it back.
    pub async fn record_events(
        &self,
        pipeline_id: i64,
        batch: &EventBatch,
        now_ms: i64,
    ) -> Result<Recorded, StoreError> {
        const OP: &str = "storing pipeline events";
        let mut w = self.begin_write(OP).await?;
        let mut trace_lens = Vec::with_capacity(batch.traces.len());
        for t in &batch.traces {
            trace_lens.push(super::traces::append_in(&mut w.tx, t.job_id, t.offset, &t.bytes).await?);
        }
        let count = i64::try_from(batch.events.len()).unwrap_or(i64::MAX);
        let last: Option<i64> = sqlx::query_scalar(
            "UPDATE pipelines SET last_event_seq = last_event_seq + $1 WHERE id = $2 RETURNING last_event_seq",
        )
        .bind(count)
        .bind(pipeline_id)
        .fetch_optional(&mut *w.tx)
        .await
        .map_err(query_error(OP))?;
        let last_seq = last.ok_or(StoreError::NotFound {
            entity: "pipeline",
            id: pipeline_id,
        })?;
        if !batch.events.is_empty() {
            let first = last_seq - count + 1;
            let mut args = Args::default();
            let rows: Vec<String> = batch
                .events
                .iter()
                .zip(first..)
                .map(|(json, seq)| {
                    format!(
                        "({}, {}, {}, {})",
                        args.add(pipeline_id),
                        args.add(seq),
                        args.add(json.clone()),
                        args.add(now_ms)
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO pipeline_events (pipeline_id, seq, event_json, created_at) VALUES {}",
                rows.join(", ")
            );
            sqlx::query_with(AssertSqlSafe(sql), args.finish(OP)?)
                .execute(&mut *w.tx)
                .await
                .map_err(query_error(OP))?;
        }
        let statements = batch
            .jobs
            .iter()
            .filter_map(|(id, update)| job_update_statement(*id, update).map(|s| ("job", *id, s)))
            .chain(
                batch
                    .pipeline
                    .as_ref()
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
        Ok(Recorded { last_seq, trace_lens })
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
