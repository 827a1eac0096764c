//! The REST API under `/api/v4`, shaped like GitLab's: the same paths, fields, status words,
//! pagination headers and error bodies, so scripts written for GitLab's API mostly work.

mod entities;
mod environments;
pub(crate) mod jobs;
mod openapi;
mod openapi_schemas;
mod paging;
pub(crate) mod pipelines;
mod projects;
mod protected_branches;
mod runner_artifacts;
mod runner_jobs;
mod runners;
mod users;
mod variables;

use crate::access::{self, Level};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{delete, get, patch, post, put};
use gantry_store::db::{Project, User};
use serde_json::{Value, json};
use std::sync::Arc;

/// The `/api/v4` routes.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v4/version", get(version))
        .route(
            "/api/v4/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/api/v4/user", get(current_user))
        .route("/api/v4/users", post(users::create))
        .route("/api/v4/users/{user}", get(users::show))
        .route(
            "/api/v4/users/{user}/personal_access_tokens",
            post(users::create_token),
        )
        .route("/api/v4/user/runners", post(runners::create))
        .route(
            "/api/v4/runners",
            get(runners::list)
                .post(runners::register)
                .delete(runners::unregister),
        )
        .route(
            "/api/v4/runners/reset_registration_token",
            post(runners::reset_registration_token),
        )
        .route(
            "/api/v4/projects/{id}/runners/reset_registration_token",
            post(runners::reset_registration_token),
        )
        .route("/api/v4/runners/all", get(runners::list_all))
        .route(
            "/api/v4/runners/{runner}",
            get(runners::show).put(runners::update).delete(runners::delete),
        )
        .route("/api/v4/runners/verify", post(runners::verify))
        .route("/api/v4/runners/managers", delete(runners::unregister_manager))
        .route("/api/v4/jobs/request", post(runner_jobs::request))
        .route("/api/v4/jobs/{job}", put(runner_jobs::update))
        .route("/api/v4/jobs/{job}/trace", patch(runner_jobs::trace))
        .route(
            "/api/v4/jobs/{job}/artifacts",
            get(runner_artifacts::download)
                .post(runner_artifacts::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/v4/projects", get(projects::list).post(projects::create))
        .route("/api/v4/projects/{id}", get(projects::show))
        .route("/api/v4/projects/{id}/pipelines", get(pipelines::list))
        .route("/api/v4/projects/{id}/pipeline", post(pipelines::create))
        .route("/api/v4/projects/{id}/pipelines/{pipeline}", get(pipelines::show))
        .route(
            "/api/v4/projects/{id}/pipelines/{pipeline}/cancel",
            post(pipelines::cancel),
        )
        .route(
            "/api/v4/projects/{id}/pipelines/{pipeline}/retry",
            post(pipelines::retry),
        )
        .route(
            "/api/v4/projects/{id}/pipelines/{pipeline}/jobs",
            get(jobs::of_pipeline),
        )
        .route(
            "/api/v4/projects/{id}/pipelines/{pipeline}/bridges",
            get(pipelines::bridges),
        )
        .route("/api/v4/projects/{id}/triggers", post(pipelines::create_trigger))
        .route("/api/v4/projects/{id}/trigger/pipeline", post(pipelines::trigger))
        .route("/api/v4/projects/{id}/jobs", get(jobs::list))
        .route("/api/v4/projects/{id}/jobs/{job}", get(jobs::show))
        .route("/api/v4/projects/{id}/jobs/{job}/trace", get(jobs::trace))
        .route("/api/v4/projects/{id}/jobs/{job}/retry", post(jobs::retry))
        .route("/api/v4/projects/{id}/jobs/{job}/cancel", post(jobs::cancel))
        .route("/api/v4/projects/{id}/jobs/{job}/play", post(jobs::play))
        .route("/api/v4/projects/{id}/jobs/{job}/artifacts", get(jobs::artifacts))
        .route(
            "/api/v4/projects/{id}/protected_branches",
            get(protected_branches::list).post(protected_branches::create),
        )
        .route(
            "/api/v4/projects/{id}/protected_branches/{name}",
            get(protected_branches::show).delete(protected_branches::delete),
        )
        .route("/api/v4/projects/{id}/environments", get(environments::list))
        .route(
            "/api/v4/projects/{id}/environments/{environment}",
            get(environments::show),
        )
        .route(
            "/api/v4/projects/{id}/environments/{environment}/stop",
            post(environments::stop),
        )
        .route(
            "/api/v4/projects/{id}/deployments",
            get(environments::deployments),
        )
        .route(
            "/api/v4/projects/{id}/deployments/{deployment}",
            get(environments::deployment_show),
        )
        .route(
            "/api/v4/projects/{id}/variables",
            get(variables::list).post(variables::create),
        )
        .route(
            "/api/v4/projects/{id}/variables/{key}",
            get(variables::show)
                .put(variables::update)
                .delete(variables::delete),
        )
}

async fn version(_user: CurrentUser) -> Json<Value> {
    Json(json!({"version": env!("CARGO_PKG_VERSION"), "revision": "gantry", "kas": {"enabled": false}}))
}

async fn current_user(State(state): State<Arc<AppState>>, CurrentUser(user): CurrentUser) -> Json<Value> {
    Json(entities::user(&state.core, &user))
}

/// A project by numeric id or by URL-encoded path (`group%2Fname`), as GitLab accepts both,
/// whoever asks.
pub(crate) async fn lookup_project(state: &AppState, id: &str) -> Result<Project, ApiError> {
    let found = match id.parse::<i64>() {
        Ok(n) => state.core.db.project(n).await?,
        Err(_) => state.core.db.project_by_path(id.trim_matches('/')).await?,
    };
    found.ok_or(ApiError::NotFound("Project"))
}

/// The project `id` if `user` may act on it at `need`: 404 when they cannot see it at all
/// (GitLab does not reveal it exists), 403 when they see it but lack the level.
pub(crate) async fn find_project(
    state: &AppState,
    user: &User,
    id: &str,
    need: Level,
) -> Result<Project, ApiError> {
    let project = lookup_project(state, id).await?;
    match access::level(Some(user), &project) {
        Level::None => Err(ApiError::NotFound("Project")),
        have if have < need => Err(ApiError::Forbidden),
        _ => Ok(project),
    }
}
