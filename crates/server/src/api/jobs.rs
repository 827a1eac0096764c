//! `/projects/:id/jobs` and a pipeline's jobs: show, trace, retry, cancel, play, artifacts.

use super::pipelines::find_pipeline;
use super::{entities, find_project, paging};
use crate::access::Level;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use axum::Json;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gantry_store::db::{Job, Page, Project};
use serde_json::Value;
use std::sync::Arc;

/// `scope[]=failed&scope[]=success` (or `scope=failed`), and the page.
fn scopes_and_page(query: Option<&str>) -> (Vec<String>, Page) {
    let pairs: Vec<(String, String)> = query
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    let scopes = pairs
        .iter()
        .filter(|(k, _)| k == "scope[]" || k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let number = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
    };
    let page = Page {
        page: number("page").unwrap_or(1).max(1),
        per_page: number("per_page").unwrap_or(20).clamp(1, 100),
    };
    (scopes, page)
}

async fn render(state: &AppState, project: &Project, jobs: &[Job]) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(jobs.len());
    let runners = if jobs.iter().any(|j| j.runner_id.is_some()) {
        state.core.db.runners().await?
    } else {
        Vec::new()
    };
    for job in jobs {
        let pipeline = find_pipeline(state, project, job.pipeline_id).await?;
        let artifacts = state.core.db.artifacts_of_job(job.id).await?;
        let runner = runners.iter().find(|r| Some(r.id) == job.runner_id);
        out.push(entities::job(
            &state.core,
            project,
            &pipeline,
            job,
            &artifacts,
            runner,
        ));
    }
    Ok(out)
}

pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    OriginalUri(uri): OriginalUri,
) -> Result<impl IntoResponse, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let (scopes, page) = scopes_and_page(query.as_deref());
    let (jobs, total) = state.core.db.list_project_jobs(project.id, &scopes, page).await?;
    let body = render(&state, &project, &jobs).await?;
    let url = format!("{}{}", state.core.external_url, uri.path());
    Ok((paging::headers(&page, total, &url), Json(body)))
}

pub(super) async fn of_pipeline(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, pipeline_id)): Path<(String, i64)>,
    RawQuery(query): RawQuery,
    OriginalUri(uri): OriginalUri,
) -> Result<impl IntoResponse, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let pipeline = find_pipeline(&state, &project, pipeline_id).await?;
    let (scopes, page) = scopes_and_page(query.as_deref());
    let include_retried = query
        .as_deref()
        .is_some_and(|q| q.contains("include_retried=true"));
    let jobs: Vec<Job> = state
        .core
        .db
        .jobs_of_pipeline(pipeline.id, include_retried)
        .await?
        .into_iter()
        .filter(|j| scopes.is_empty() || scopes.contains(&j.status))
        .collect();
    // Paged as GitLab does (20 by default, at most 100).
    let total = jobs.len() as i64;
    let from = usize::try_from((page.page - 1).saturating_mul(page.limit())).unwrap_or(usize::MAX);
    let shown: Vec<Job> = jobs
        .into_iter()
        .skip(from)
        .take(usize::try_from(page.limit()).unwrap_or(100))
        .collect();
    let body = render(&state, &project, &shown).await?;
    let url = format!("{}{}", state.core.external_url, uri.path());
    Ok((paging::headers(&page, total, &url), Json(body)))
}

/// The project `id` (at `need` for `user`) and its job `job_id`.
async fn project_and_job(
    state: &AppState,
    user: &gantry_store::db::User,
    (id, job_id): (String, i64),
    need: Level,
) -> Result<(Project, Job), ApiError> {
    let project = find_project(state, user, &id, need).await?;
    let job = find_job(state, &project, job_id).await?;
    Ok((project, job))
}

/// One job as the API shows it.
async fn render_one(state: &AppState, project: &Project, job: &Job) -> Result<Value, ApiError> {
    let mut rendered = render(state, project, std::slice::from_ref(job)).await?;
    Ok(rendered.pop().unwrap_or(Value::Null))
}

/// The job `job_id` of `project`.
pub(crate) async fn find_job(state: &AppState, project: &Project, job_id: i64) -> Result<Job, ApiError> {
    state
        .core
        .db
        .job(job_id)
        .await?
        .filter(|j| j.project_id == project.id)
        .ok_or(ApiError::NotFound("Job"))
}

pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(ids): Path<(String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let (project, job) = project_and_job(&state, &user, ids, Level::Guest).await?;
    Ok(Json(render_one(&state, &project, &job).await?))
}

/// The job's log as stored so far (a running job's grows; read again to follow it).
pub(super) async fn trace(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(ids): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    let (_, job) = project_and_job(&state, &user, ids, Level::Guest).await?;
    let bytes = state.core.db.trace(job.id, 0).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], bytes).into_response())
}

pub(super) async fn retry(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(ids): Path<(String, i64)>,
) -> Result<impl IntoResponse, ApiError> {
    let (project, job) = project_and_job(&state, &user, ids, Level::Developer).await?;
    if job.retried || !matches!(job.status.as_str(), "success" | "failed" | "canceled") {
        return Err(ApiError::Forbidden);
    }
    let index = usize::try_from(job.plan_index).unwrap_or(usize::MAX);
    let new_id = state
        .scheduler
        .retry_job(job.pipeline_id, index)
        .await
        .ok_or(ApiError::Forbidden)?;
    let new_job = find_job(&state, &project, new_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(render_one(&state, &project, &new_job).await?),
    ))
}

pub(super) async fn cancel(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(ids): Path<(String, i64)>,
) -> Result<impl IntoResponse, ApiError> {
    let (project, job) = project_and_job(&state, &user, ids, Level::Developer).await?;
    let index = usize::try_from(job.plan_index).unwrap_or(usize::MAX);
    state.scheduler.cancel_job(job.pipeline_id, index);
    Ok((
        StatusCode::CREATED,
        Json(render_one(&state, &project, &job).await?),
    ))
}

#[derive(serde::Deserialize, Default)]
struct PlayBody {
    #[serde(default)]
    job_variables_attributes: Vec<PlayVariable>,
}

#[derive(serde::Deserialize)]
struct PlayVariable {
    key: String,
    #[serde(default)]
    value: String,
}

/// The variables of a play request (`job_variables_attributes`, GitLab's field); an empty
/// body has none.
fn play_variables(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let body: PlayBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid: {e}")))?;
    body.job_variables_attributes
        .into_iter()
        .map(|v| {
            let valid = !v.key.is_empty()
                && v.key.len() <= 255
                && v.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if valid {
                Ok((v.key, v.value))
            } else {
                Err(ApiError::BadRequest(format!(
                    "job_variables_attributes: invalid key {:?}",
                    v.key
                )))
            }
        })
        .collect()
}

pub(super) async fn play(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(ids): Path<(String, i64)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (project, job) = project_and_job(&state, &user, ids, Level::Developer).await?;
    if job.status != "manual" {
        return Err(ApiError::BadRequest("Unplayable Job".into()));
    }
    let variables = play_variables(&body)?;
    let sealed = (!variables.is_empty()).then(|| {
        let json = serde_json::to_vec(&variables).unwrap_or_default();
        state.core.secrets.seal(&json)
    });
    state
        .core
        .db
        .set_play_variables(job.id, sealed.as_deref())
        .await?;
    let index = usize::try_from(job.plan_index).unwrap_or(usize::MAX);
    state.scheduler.play_job(job.pipeline_id, index);
    Ok(Json(render_one(&state, &project, &job).await?))
}

/// The job's artifacts archive (zip).
pub(super) async fn artifacts(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(ids): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    let (_, job) = project_and_job(&state, &user, ids, Level::Guest).await?;
    archive_download(&state, job.id).await
}

/// The artifacts archive of job `job_id` (404 when it has none).
pub(crate) async fn archive_of(
    state: &AppState,
    job_id: i64,
) -> Result<gantry_store::db::Artifact, ApiError> {
    state
        .core
        .db
        .artifacts_of_job(job_id)
        .await?
        .into_iter()
        .find(|a| a.file_type == "archive")
        .ok_or(ApiError::NotFound("Artifact"))
}

/// The archive of job `job_id` as a download, streamed from the blob store (404 when the
/// job has none).
pub(crate) async fn archive_download(state: &AppState, job_id: i64) -> Result<Response, ApiError> {
    let archive = archive_of(state, job_id).await?;
    let (size, stream) = state
        .core
        .blobs
        .get_stream(&archive.blob_key)
        .await
        .map_err(|_| ApiError::NotFound("Artifact"))?;
    Response::builder()
        .header(header::CONTENT_TYPE, "application/zip")
        .header(header::CONTENT_LENGTH, size)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", archive.filename),
        )
        .body(Body::from_stream(stream))
        .map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn play_variables_are_read_from_gitlabs_field_and_keys_are_checked() {
        assert_eq!(play_variables(b"").expect("empty"), []);
        let vars = play_variables(br#"{"job_variables_attributes": [{"key": "A_1", "value": "x y"}]}"#)
            .expect("valid");
        assert_eq!(vars, [("A_1".to_owned(), "x y".to_owned())]);
        assert!(play_variables(br#"{"job_variables_attributes": [{"key": "a-b"}]}"#).is_err());
        assert!(play_variables(b"not json").is_err());
    }
}
