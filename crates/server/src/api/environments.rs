//! `/projects/:id/environments` (list, show, stop) and `/projects/:id/deployments` (list, by
//! `environment` and `status`, and one), with GitLab's fields. Stopping takes a developer and
//! runs the environment's `on_stop` job; re-deploying an earlier deployment is retrying its
//! job (`POST /projects/:id/jobs/:job/retry`), as in GitLab.

use super::find_project;
use crate::access::Level;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::clock::iso;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use gantry_store::db::{Deployment, Environment, Project};
use serde_json::{Value, json};
use std::sync::Arc;

fn deployment(
    state: &AppState,
    project: &Project,
    d: &Deployment,
    job: Option<&gantry_store::db::Job>,
) -> Value {
    json!({
        "id": d.id,
        "iid": d.iid,
        "ref": d.ref_name,
        "sha": d.sha,
        "status": d.status,
        "created_at": iso(d.created_at),
        "updated_at": iso(d.finished_at.unwrap_or(d.created_at)),
        "finished_at": d.finished_at.map(iso),
        "deployable": job.map(|j| json!({
            "id": j.id,
            "name": j.name,
            "status": j.status,
            "stage": j.stage,
            "web_url": format!("{}/{}/-/jobs/{}", state.core.external_url, project.path, j.id),
        })),
    })
}

async fn environment(state: &AppState, project: &Project, e: &Environment) -> Result<Value, ApiError> {
    let last = state.core.db.deployments_of(e.id, 1).await?;
    let last = match last.first() {
        Some(d) => {
            let job = state.core.db.job(d.job_id).await?;
            Some(deployment(state, project, d, job.as_ref()))
        }
        None => None,
    };
    Ok(json!({
        "id": e.id,
        "name": e.name,
        "slug": e.slug,
        "external_url": e.external_url,
        "state": e.state,
        "tier": e.tier,
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
        "auto_stop_at": e.auto_stop_at.map(iso),
        "last_deployment": last,
    }))
}

async fn find(state: &AppState, project: &Project, id: i64) -> Result<Environment, ApiError> {
    state
        .core
        .db
        .environment(id)
        .await?
        .filter(|e| e.project_id == project.id)
        .ok_or(ApiError::NotFound("Environment"))
}

pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let mut out = Vec::new();
    for e in state.core.db.environments(project.id).await? {
        out.push(environment(&state, &project, &e).await?);
    }
    Ok(Json(Value::Array(out)))
}

pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, env)): Path<(String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let e = find(&state, &project, env).await?;
    Ok(Json(environment(&state, &project, &e).await?))
}

pub(super) async fn stop(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, env)): Path<(String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Developer).await?;
    let e = find(&state, &project, env).await?;
    let stopped = crate::environments::stop(&state, &e).await?;
    Ok(Json(environment(&state, &project, &stopped).await?))
}

/// `?environment=NAME&status=STATUS` of the deployments list.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct DeploymentsQuery {
    environment: Option<String>,
    status: Option<String>,
}

/// A deployment with its job, environment and the user who deployed (the pipeline's).
async fn deployment_full(state: &AppState, project: &Project, d: &Deployment) -> Result<Value, ApiError> {
    let job = state.core.db.job(d.job_id).await?;
    let mut v = deployment(state, project, d, job.as_ref());
    if let Some(e) = state.core.db.environment(d.environment_id).await? {
        v["environment"] = json!({"id": e.id, "name": e.name, "external_url": e.external_url});
    }
    let pipeline = state.core.db.pipeline(d.pipeline_id).await?;
    let user = match pipeline.and_then(|p| p.user_id) {
        Some(uid) => state.core.db.user(uid).await?,
        None => None,
    };
    v["user"] = user.map_or(Value::Null, |u| super::entities::user(&state.core, &u));
    Ok(v)
}

pub(super) async fn deployments(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<DeploymentsQuery>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let deployments = match &q.environment {
        Some(name) => match state
            .core
            .db
            .environments(project.id)
            .await?
            .into_iter()
            .find(|e| &e.name == name)
        {
            Some(e) => state.core.db.deployments_of(e.id, 100).await?,
            None => Vec::new(),
        },
        None => state.core.db.deployments(project.id, 100).await?,
    };
    let mut out = Vec::new();
    for d in deployments {
        if q.status.as_ref().is_some_and(|s| *s != d.status) {
            continue;
        }
        out.push(deployment_full(&state, &project, &d).await?);
    }
    Ok(Json(Value::Array(out)))
}

pub(super) async fn deployment_show(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, deployment)): Path<(String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let found = state
        .core
        .db
        .deployment(project.id, deployment)
        .await?
        .ok_or(ApiError::NotFound("Deployment"))?;
    Ok(Json(deployment_full(&state, &project, &found).await?))
}
