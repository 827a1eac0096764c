//! `/projects/:id/protected_branches`: list, show, protect, unprotect, with GitLab's fields.
//! The rules decide who may push ([`crate::access::may_push`]) and which refs are protected
//! for protected variables.

use super::find_project;
use crate::access::Level;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use gantry_store::db::{MAINTAINER_ACCESS, ProtectedBranch};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

fn levels(number: i64) -> Value {
    json!([{
        "access_level": number,
        "access_level_description": Level::description(number),
        "user_id": null,
        "group_id": null,
    }])
}

fn render(rule: &ProtectedBranch) -> Value {
    json!({
        "id": rule.id,
        "name": rule.name,
        "push_access_levels": levels(rule.push_access_level),
        "merge_access_levels": levels(rule.merge_access_level),
        "allow_force_push": false,
        "code_owner_approval_required": false,
    })
}

pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let rules = state.core.db.protected_branches(project.id).await?;
    Ok(Json(rules.iter().map(render).collect()))
}

pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Guest).await?;
    let rules = state.core.db.protected_branches(project.id).await?;
    let rule = rules
        .iter()
        .find(|r| r.name == name)
        .ok_or(ApiError::NotFound("Protected Branch"))?;
    Ok(Json(render(rule)))
}

#[derive(Deserialize)]
pub(super) struct Protect {
    name: String,
    push_access_level: Option<i64>,
}

pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<Protect>,
) -> Result<impl IntoResponse, ApiError> {
    let project = find_project(&state, &user, &id, Level::Maintainer).await?;
    let push = body.push_access_level.unwrap_or(MAINTAINER_ACCESS);
    if !matches!(push, 0 | 30 | 40 | 60) {
        return Err(ApiError::BadRequest(
            "push_access_level does not have a valid value".into(),
        ));
    }
    if body.name.trim().is_empty() {
        return Err(ApiError::BadRequest("name is missing".into()));
    }
    let rules = state.core.db.protected_branches(project.id).await?;
    if rules.iter().any(|r| r.name == body.name) {
        return Err(ApiError::Conflict(format!(
            "Protected branch '{}' already exists",
            body.name
        )));
    }
    let rule = state.core.db.protect_branch(project.id, &body.name, push).await?;
    Ok((StatusCode::CREATED, Json(render(&rule))))
}

pub(super) async fn delete(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let project = find_project(&state, &user, &id, Level::Maintainer).await?;
    if state.core.db.unprotect_branch(project.id, &name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("Protected Branch"))
    }
}
