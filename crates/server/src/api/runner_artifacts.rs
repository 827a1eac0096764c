//! Artifacts over the runner protocol (docs: `gitlab-runner-protocol.md` §8): a runner
//! uploads what a job made (`POST /jobs/:id/artifacts`, multipart, streamed to disk, at most
//! `--max-artifacts-bytes`), and downloads what the jobs it depends on made
//! (`GET /jobs/:id/artifacts` with its own running job's token, same project).
//!
//! An `archive` goes to the blob store, where the API and later jobs find it, and beside the
//! pipeline's builds, where the in-process runner's jobs find it; a `dotenv` report's
//! variables go to the jobs after it.

use super::runner_jobs::job_for_token;
use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gantry_plan::slug::slugify;
use gantry_store::db::{Job, NewArtifact};
use serde::Deserialize;
use std::io::Read;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

#[derive(Deserialize, Debug, Default)]
pub(super) struct UploadQuery {
    artifact_format: Option<String>,
    artifact_type: Option<String>,
    expire_in: Option<String>,
}

fn token(headers: &HeaderMap) -> Option<String> {
    headers
        .get("job-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `POST /jobs/:id/artifacts`: 201 once stored; 413 past the size limit. The parameters
/// come in the query string (gitlab-runner) or as form fields, before or after the file
/// (other clients), as GitLab accepts both; the query wins.
pub(super) async fn upload(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    Query(mut query): Query<UploadQuery>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let job = job_for_token(&state, id, token(&headers).as_deref()).await?;
    let limit = state.core.config.max_artifacts_bytes;
    let uploads = state.core.config.data_dir.join("uploads");
    tokio::fs::create_dir_all(&uploads)
        .await
        .map_err(ApiError::internal)?;
    let mut file: Option<Received> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(format!("reading the upload: {e}")))?
    {
        let slot = match field.name() {
            Some("file") if file.is_none() => {
                let mut part = Received {
                    path: uploads.join(format!("{}-{}", job.id, crate::auth::new_token(""))),
                    filename: field
                        .file_name()
                        .map(|n| n.rsplit('/').next().unwrap_or(n).to_owned())
                        .filter(|n| !n.is_empty() && n != "." && n != ".."),
                    size: 0,
                };
                match receive(&mut field, &part.path, limit).await {
                    Ok(size) => part.size = size,
                    Err(e) => {
                        if matches!(e, ApiError::TooLarge(_)) {
                            drain(&mut field, limit).await;
                        }
                        return Err(e);
                    }
                }
                file = Some(part);
                continue;
            }
            Some("artifact_type") => &mut query.artifact_type,
            Some("artifact_format") => &mut query.artifact_format,
            Some("expire_in") => &mut query.expire_in,
            _ => continue,
        };
        // A parameter is a word: read at most 1 KiB of it (the body itself has no limit).
        let mut text = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| ApiError::BadRequest(format!("reading the upload: {e}")))?
        {
            text.extend_from_slice(&chunk);
            if text.len() > 1024 {
                return Err(ApiError::BadRequest(format!(
                    "the form field {:?} is longer than 1 KiB",
                    field.name().unwrap_or_default()
                )));
            }
        }
        if slot.is_none() {
            *slot = Some(String::from_utf8_lossy(&text).into_owned());
        }
    }
    let Some(part) = file else {
        return Err(ApiError::BadRequest("the `file` part is missing".into()));
    };
    let kind = query.artifact_type.unwrap_or_else(|| "archive".into());
    let format = query.artifact_format.unwrap_or_else(|| "zip".into());
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(ApiError::BadRequest(format!(
            "artifact_type {kind:?} is not valid"
        )));
    }
    let filename = part
        .filename
        .clone()
        .unwrap_or_else(|| format!("{kind}.{format}"));
    store(
        &state,
        &job,
        &kind,
        &format,
        &filename,
        &part.path,
        part.size,
        query.expire_in.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(serde_json::json!({}))).into_response())
}

/// A file part received into `uploads/`; the file goes when this does, however the
/// request ends.
struct Received {
    path: std::path::PathBuf,
    filename: Option<String>,
    size: u64,
}

impl Drop for Received {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Streams a part to `path`, refusing more than `limit` bytes (413).
async fn receive(
    field: &mut axum::extract::multipart::Field<'_>,
    path: &std::path::Path,
    limit: u64,
) -> Result<u64, ApiError> {
    let mut file = tokio::fs::File::create(path).await.map_err(ApiError::internal)?;
    let mut size = 0u64;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::BadRequest(format!("reading the upload: {e}")))?
    {
        size += chunk.len() as u64;
        if size > limit {
            return Err(ApiError::TooLarge(format!(
                "413 Request Entity Too Large: artifacts are limited to {limit} bytes"
            )));
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)?;
    Ok(size)
}

/// Reads and drops the rest of a refused part, so the client, still sending,
/// reads the 413 instead of a reset connection. Bounded: past four times the
/// limit (at least 64 MiB more) or 30 s, the connection is dropped.
async fn drain(field: &mut axum::extract::multipart::Field<'_>, limit: u64) {
    let budget = limit.saturating_mul(4).max(64 << 20);
    let read = async {
        let mut seen = 0u64;
        while let Ok(Some(chunk)) = field.chunk().await {
            seen += chunk.len() as u64;
            if seen > budget {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), read).await;
}

#[allow(clippy::too_many_arguments)]
async fn store(
    state: &AppState,
    job: &Job,
    kind: &str,
    format: &str,
    filename: &str,
    tmp: &std::path::Path,
    size: u64,
    expire_in: Option<&str>,
) -> Result<(), ApiError> {
    let core = &state.core;
    let key = if kind == "archive" {
        format!("artifacts/{}/{}/artifacts.zip", job.project_id, job.id)
    } else {
        format!("artifacts/{}/{}/{kind}/{filename}", job.project_id, job.id)
    };
    core.blobs.put_file(&key, tmp).await.map_err(ApiError::internal)?;
    let now = crate::clock::now_ms();
    let expire_at = match expire_in.map(str::trim) {
        Some("never") => None,
        Some(text) if !text.is_empty() => {
            let secs = gantry_config::duration::parse_duration(text)
                .ok_or_else(|| ApiError::BadRequest(format!("expire_in {text:?} is not a duration")))?;
            Some(now + i64::try_from(secs).unwrap_or(i64::MAX / 2_000) * 1000)
        }
        // GitLab's instance default.
        _ => Some(now + 30 * 24 * 3600 * 1000),
    };
    core.db
        .add_artifact(
            &NewArtifact {
                job_id: job.id,
                file_type: kind.to_owned(),
                file_format: format.to_owned(),
                filename: filename.to_owned(),
                blob_key: key,
                size: i64::try_from(size).unwrap_or(i64::MAX),
                sha256: crate::scheduler::file_sha256(tmp).await,
                expire_at,
            },
            now,
        )
        .await?;
    match kind {
        "archive" => {
            // Where the in-process runner's jobs of this pipeline look for it.
            let target = state
                .scheduler
                .artifacts_dir(job.pipeline_id)
                .join(format!("{}.zip", slugify(&job.name)));
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(ApiError::internal)?;
            }
            tokio::fs::copy(tmp, &target).await.map_err(ApiError::internal)?;
        }
        "dotenv" => {
            let text = read_report(tmp, format).await?;
            let vars = gantry_executor::dotenv::parse(&text)
                .map_err(|e| ApiError::BadRequest(format!("the dotenv report: {e}")))?;
            state.scheduler.dotenv(job.pipeline_id, job.name.clone(), vars);
        }
        _ => {}
    }
    Ok(())
}

/// A report's text: gunzipped when its format is `gzip`.
async fn read_report(path: &std::path::Path, format: &str) -> Result<String, ApiError> {
    let bytes = tokio::fs::read(path).await.map_err(ApiError::internal)?;
    let text = if format == "gzip" {
        let mut out = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .take(1 << 20)
            .read_to_string(&mut out)
            .map_err(|e| ApiError::BadRequest(format!("the report is not gzip text: {e}")))?;
        out
    } else {
        String::from_utf8(bytes).map_err(|_| ApiError::BadRequest("the report is not UTF-8".into()))?
    };
    Ok(text)
}

/// `GET /jobs/:id/artifacts`: the archive of job `id`, for a running job of the same project
/// (its token in `JOB-TOKEN`).
pub(super) async fn download(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = token(&headers).ok_or(ApiError::Unauthorized)?;
    let caller = state
        .core
        .db
        .job_by_token(&crate::auth::token_hash(token.trim()))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let target = state
        .core
        .db
        .job(id)
        .await?
        .filter(|j| j.project_id == caller.project_id)
        .ok_or(ApiError::NotFound("Job"))?;
    super::jobs::archive_download(&state, target.id).await
}
