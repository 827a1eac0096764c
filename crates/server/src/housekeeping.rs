//! Background upkeep: expired dashboard sessions are deleted, the registry's unreferenced
//! blobs and abandoned uploads are collected, and artifacts whose
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

/// How old an unreferenced registry blob must be before it is collected: a push uploads
/// its blobs before the manifest that refers to them.
const REGISTRY_GRACE_MS: i64 = 3600 * 1000;
/// How long an upload may go without bytes before it counts as abandoned.
const UPLOAD_IDLE_MS: i64 = 24 * 3600 * 1000;

/// The registry's garbage collection: blobs nothing refers to (rows first, then bytes: a
/// crash between the two leaves bytes nobody can reach, never a row without bytes) and
/// abandoned uploads. Returns how many blobs and uploads it removed.
pub(crate) async fn sweep_registry(core: &Core) -> Result<(usize, usize), StoreError> {
    let now = now_ms();
    let mut blobs = 0;
    // No push stores bytes or links rows meanwhile (`registry::COLLECTION`).
    let _collection = crate::registry::COLLECTION.write().await;
    loop {
        let digests = core
            .db
            .collect_registry_blobs(now - REGISTRY_GRACE_MS, BATCH)
            .await?;
        for d in &digests {
            if let Ok(digest) = gantry_oci::Digest::parse(d)
                && let Err(e) = core.blobs.delete(&crate::registry::blob_key(&digest)).await
            {
                tracing::warn!(digest = %d, error = %e, "deleting an unreferenced registry blob");
            }
        }
        blobs += digests.len();
        if i64::try_from(digests.len()).unwrap_or(i64::MAX) < BATCH {
            break;
        }
    }
    drop(_collection);
    let mut uploads = 0;
    for u in core
        .db
        .stale_registry_uploads(now - UPLOAD_IDLE_MS, BATCH)
        .await?
    {
        crate::registry::forget_upload(&u.id);
        core.db.delete_registry_upload(&u.id).await?;
        let _ = tokio::fs::remove_file(crate::registry::upload_file(&core.config.data_dir, &u.id)).await;
        uploads += 1;
    }
    Ok((blobs, uploads))
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
            match sweep_registry(&core).await {
                Ok((0, 0)) => {}
                Ok((blobs, uploads)) => tracing::info!(blobs, uploads, "registry garbage collected"),
                Err(e) => tracing::error!(error = %e, "collecting registry garbage"),
            }
            match core.db.delete_expired_sessions(now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "expired dashboard sessions deleted"),
                Err(e) => tracing::error!(error = %e, "deleting expired dashboard sessions"),
            }
        }
    });
}
