//! `/projects`: list (what the caller may see), create (with its git repository and its
//! default branch protected), show.

use super::{entities, find_project, paging};
use crate::access::Level;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::clock::now_ms;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use gantry_store::db::{MAINTAINER_ACCESS, NewProject, StoreError};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<paging::PageQuery>,
    OriginalUri(uri): OriginalUri,
) -> Result<impl IntoResponse, ApiError> {
    let page = q.page();
    let viewer = (!user.is_admin).then_some(user.id);
    let (projects, total) = state.core.db.list_projects(viewer, page).await?;
    let body: Vec<Value> = projects
        .iter()
        .map(|p| entities::project(&state.core, p))
        .collect();
    let url = format!("{}{}", state.core.external_url, uri.path());
    Ok((paging::headers(&page, total, &url), Json(body)))
}

pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    Ok(Json(entities::project(&state.core, &project)))
}

#[derive(Deserialize)]
pub(super) struct CreateProject {
    name: Option<String>,
    path: Option<String>,
    /// The namespace's full path (gantry has no numeric namespaces); the caller's own
    /// namespace (their username) when absent, as GitLab does.
    namespace: Option<String>,
    default_branch: Option<String>,
    visibility: Option<String>,
}

pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Json(body): Json<CreateProject>,
) -> Result<impl IntoResponse, ApiError> {
    let name = body
        .path
        .or(body.name)
        .ok_or_else(|| ApiError::BadRequest("name or path is missing".into()))?;
    let namespace = body.namespace.unwrap_or_else(|| user.username.clone());
    let namespace = namespace.trim_matches('/').to_owned();
    let path = format!("{namespace}/{name}");
    let default_branch = body.default_branch.unwrap_or_else(|| "main".into());
    let visibility = body.visibility.unwrap_or_else(|| "private".into());
    if !matches!(visibility.as_str(), "private" | "internal" | "public") {
        return Err(ApiError::BadRequest(
            "visibility does not have a valid value".into(),
        ));
    }
    let taken = || ApiError::BadRequest(format!("path `{path}` has already been taken"));
    if state.core.db.project_by_path(&path).await?.is_some() {
        return Err(taken());
    }
    state
        .core
        .repos
        .create(&path, &default_branch)
        .await
        .map_err(|e| ApiError::BadRequest(format!("path is invalid: {e}")))?;
    let new = NewProject {
        namespace,
        name,
        default_branch,
        visibility,
        creator_id: user.id,
    };
    match state.core.db.create_project(&new, now_ms()).await {
        Ok(project) => {
            // The default branch starts protected, as in a new GitLab project.
            state
                .core
                .db
                .protect_branch(project.id, &project.default_branch, MAINTAINER_ACCESS)
                .await?;
            Ok((
                StatusCode::CREATED,
                Json(entities::project(&state.core, &project)),
            ))
        }
        Err(StoreError::Conflict(_)) => Err(taken()),
        Err(e) => Err(e.into()),
    }
}
