//! `/projects/:id/pipelines`, `/pipeline` (create), cancel, retry, and trigger tokens.

use super::{entities, find_project, lookup_project, paging};
use crate::access::{self, Level};
use crate::app::AppState;
use crate::auth::{CurrentUser, new_token, token_hash};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::scheduler::PipelineRequest;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use gantry_store::db::{Pipeline, PipelineFilter, Project};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(rename = "ref")]
    ref_name: Option<String>,
    status: Option<String>,
    sha: Option<String>,
    source: Option<String>,
    #[serde(flatten)]
    page: paging::PageQuery,
}

pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
    OriginalUri(uri): OriginalUri,
) -> Result<impl IntoResponse, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let filter = PipelineFilter {
        ref_name: q.ref_name,
        status: q.status,
        sha: q.sha,
        source: q.source,
        without_children: false,
    };
    let page = q.page.page();
    let (pipelines, total) = state.core.db.list_pipelines(project.id, &filter, page).await?;
    let body: Vec<Value> = pipelines
        .iter()
        .map(|p| entities::pipeline_basic(&state.core, &project, p))
        .collect();
    let url = format!("{}{}", state.core.external_url, uri.path());
    Ok((paging::headers(&page, total, &url), Json(body)))
}

/// The pipeline `pipeline_id` of `project` (404 when it belongs elsewhere).
pub(crate) async fn find_pipeline(
    state: &AppState,
    project: &Project,
    pipeline_id: i64,
) -> Result<Pipeline, ApiError> {
    state
        .core
        .db
        .pipeline(pipeline_id)
        .await?
        .filter(|p| p.project_id == project.id)
        .ok_or(ApiError::NotFound("Pipeline"))
}

pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, pipeline_id)): Path<(String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let pipeline = find_pipeline(&state, &project, pipeline_id).await?;
    Ok(Json(entities::pipeline(&state.core, &project, &pipeline)))
}

#[derive(Deserialize)]
pub(super) struct Variable {
    key: String,
    value: String,
}

#[derive(Deserialize)]
pub(super) struct CreateBody {
    #[serde(rename = "ref")]
    ref_name: String,
    #[serde(default)]
    variables: Vec<Variable>,
}

pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let project = find_project(&state, &user, &id, Level::Developer).await?;
    let vars = body.variables.into_iter().map(|v| (v.key, v.value)).collect();
    let pipeline = start(&state, &project, &body.ref_name, "api", vars, Some(user.id)).await?;
    Ok((
        StatusCode::CREATED,
        Json(entities::pipeline(&state.core, &project, &pipeline)),
    ))
}

/// Creates a pipeline for a branch or tag of the project; 400 as GitLab answers when the
/// ref is unknown or no pipeline is created.
async fn start(
    state: &AppState,
    project: &Project,
    ref_name: &str,
    source: &str,
    variables: Vec<(String, String)>,
    user_id: Option<i64>,
) -> Result<Pipeline, ApiError> {
    let repo = state
        .core
        .repos
        .open(&project.path)
        .map_err(|_| ApiError::NotFound("Project"))?;
    let refs = repo.refs().await.map_err(ApiError::internal)?;
    let (sha, tag) = if let Some(sha) = refs.get(&format!("refs/heads/{ref_name}")) {
        (sha.clone(), false)
    } else if let Some(sha) = refs.get(&format!("refs/tags/{ref_name}")) {
        (sha.clone(), true)
    } else {
        return Err(ApiError::BadRequest(
            json!({"base": ["Reference not found"]}).to_string(),
        ));
    };
    let request = PipelineRequest {
        ref_name: ref_name.to_owned(),
        tag,
        sha,
        before_sha: None,
        source: source.to_owned(),
        variables,
        user_id,
        parent_job_id: None,
        root_config: None,
    };
    match state.scheduler.create(project, request).await {
        Ok(Some(pipeline)) => Ok(pipeline),
        Ok(None) => Err(ApiError::BadRequest(
            json!({"base": ["Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline."]}).to_string(),
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

pub(super) async fn cancel(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, pipeline_id)): Path<(String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Developer).await?;
    let pipeline = find_pipeline(&state, &project, pipeline_id).await?;
    state.scheduler.cancel(pipeline.id);
    Ok(Json(entities::pipeline(&state.core, &project, &pipeline)))
}

pub(super) async fn retry(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, pipeline_id)): Path<(String, i64)>,
) -> Result<impl IntoResponse, ApiError> {
    let project = find_project(&state, &user, &id, Level::Developer).await?;
    let pipeline = find_pipeline(&state, &project, pipeline_id).await?;
    state.scheduler.retry_pipeline(pipeline.id);
    Ok((
        StatusCode::CREATED,
        Json(entities::pipeline(&state.core, &project, &pipeline)),
    ))
}

#[derive(Deserialize)]
pub(super) struct TriggerBody {
    #[serde(default)]
    description: String,
}

pub(super) async fn create_trigger(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<TriggerBody>,
) -> Result<impl IntoResponse, ApiError> {
    let project = find_project(&state, &user, &id, Level::Maintainer).await?;
    let token = new_token("glptt-");
    let trigger = state
        .core
        .db
        .create_trigger(project.id, &token_hash(&token), &body.description, now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": trigger.id, "token": token, "description": body.description})),
    ))
}

/// `POST /projects/:id/trigger/pipeline` with `token`, `ref` and `variables[KEY]=value`,
/// as a form or as JSON; no other authentication.
pub(super) async fn trigger(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let mut fields: BTreeMap<String, String> = query;
    if json_body {
        let v: Value = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        for (k, val) in v.as_object().into_iter().flatten() {
            match val {
                Value::Object(vars) if k == "variables" => {
                    for (vk, vv) in vars {
                        fields.insert(
                            format!("variables[{vk}]"),
                            vv.as_str().unwrap_or_default().to_owned(),
                        );
                    }
                }
                _ => {
                    fields.insert(
                        k.clone(),
                        val.as_str().map(str::to_owned).unwrap_or_else(|| val.to_string()),
                    );
                }
            }
        }
    } else {
        for (k, v) in form_urlencoded(&body) {
            fields.insert(k, v);
        }
    }
    let token = fields.get("token").ok_or(ApiError::Unauthorized)?;
    let ref_name = fields
        .get("ref")
        .ok_or_else(|| ApiError::BadRequest("ref is missing".into()))?
        .clone();
    let (project, _) = state
        .core
        .db
        .project_by_trigger(&token_hash(token))
        .await?
        .ok_or(ApiError::NotFound("Project"))?;
    if lookup_project(&state, &id).await?.id != project.id {
        return Err(ApiError::NotFound("Project"));
    }
    let variables = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("variables[")
                .and_then(|r| r.strip_suffix(']'))
                .map(|name| (name.to_owned(), v.clone()))
        })
        .collect();
    let pipeline = start(&state, &project, &ref_name, "trigger", variables, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(entities::pipeline(&state.core, &project, &pipeline)),
    ))
}

/// `application/x-www-form-urlencoded` pairs.
fn form_urlencoded(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// GitLab's bridges: the pipeline's trigger jobs, each with the pipeline it created.
pub(super) async fn bridges(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, pipeline_id)): Path<(String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let pipeline = find_pipeline(&state, &project, pipeline_id).await?;
    let mut out = Vec::new();
    for job in state.core.db.jobs_of_pipeline(pipeline.id, false).await? {
        let Some(down) = job.downstream_pipeline_id else {
            continue;
        };
        let Some(child) = state.core.db.pipeline(down).await? else {
            continue;
        };
        // A multi-project trigger's pipeline is listed only to those who may see its project.
        let Some(child_project) = state
            .core
            .db
            .project(child.project_id)
            .await?
            .filter(|p| access::level(Some(&user), p) > Level::None)
        else {
            continue;
        };
        out.push(json!({
            "id": job.id,
            "name": job.name,
            "stage": job.stage,
            "status": job.status,
            "pipeline": entities::pipeline_basic(&state.core, &project, &pipeline),
            "downstream_pipeline": entities::pipeline_basic(&state.core, &child_project, &child),
        }));
    }
    Ok(Json(Value::Array(out)))
}
