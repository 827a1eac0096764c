//! Background upkeep: expired dashboard sessions are deleted, and artifacts whose
//! `expire_in` has passed are deleted (blob first, then
//! the row, so a crash between the two leaves a row whose blob is gone, which the next sweep
//! deletes again, never a blob nobody can find). The sweep runs at start-up and then every
//! [`crate::config::ServerConfig::sweep_interval`].

use crate::app::Core;
use crate::clock::now_ms;
use gantry_store::db::StoreError;
use std::sync::Arc;

/// How many expired artifacts one pass deletes at most before it looks again.
const BATCH: i64 = 100;

/// Deletes every artifact expired now; how many it deleted.
pub(crate) async fn sweep_artifacts(core: &Core) -> Result<usize, StoreError> {
    let mut deleted = 0;
    loop {
        let expired = core.db.expired_artifacts(now_ms(), BATCH).await?;
        let full = i64::try_from(expired.len()).unwrap_or(i64::MAX) >= BATCH;
        let mut progressed = false;
        for artifact in expired {
            if let Err(e) = core.blobs.delete(&artifact.blob_key).await {
                tracing::warn!(key = %artifact.blob_key, error = %e, "deleting an expired artifact's blob");
                continue;
            }
            core.db.delete_artifact(artifact.id).await?;
            deleted += 1;
            progressed = true;
        }
        if !full || !progressed {
            return Ok(deleted);
        }
    }
}

/// Runs the sweeps for as long as the server runs.
pub(crate) fn spawn(core: Arc<Core>) {
    let every = core.config.sweep_interval;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep_artifacts(&core).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "expired artifacts deleted"),
                Err(e) => tracing::error!(error = %e, "sweeping expired artifacts"),
            }
            match core.db.delete_expired_sessions(now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "expired dashboard sessions deleted"),
                Err(e) => tracing::error!(error = %e, "deleting expired dashboard sessions"),
            }
        }
    });
}
