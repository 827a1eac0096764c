//! `/projects/:id/variables`: CI/CD variables, sealed with the server key before they are
//! stored. Values come back only to administrators; other callers see `null`.

use super::find_project;
use crate::access::Level;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use gantry_store::db::{User, Variable};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Deserialize)]
pub(super) struct Body {
    key: Option<String>,
    value: String,
    variable_type: Option<String>,
    protected: Option<bool>,
    masked: Option<bool>,
    raw: Option<bool>,
    environment_scope: Option<String>,
}

fn render(state: &AppState, user: &User, v: &Variable) -> Value {
    let value = if user.is_admin {
        state
            .core
            .secrets
            .open(&v.value)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    } else {
        None
    };
    json!({
        "key": v.key,
        "value": value,
        "variable_type": v.variable_type,
        "protected": v.protected,
        "masked": v.masked,
        "raw": v.raw,
        "environment_scope": v.environment_scope,
    })
}

/// GitLab's rules: keys are `[A-Za-z0-9_]{1,255}`; a masked value has at least 8
/// characters and fits on one line.
fn validate(key: &str, value: &str, masked: bool) -> Result<(), ApiError> {
    let key_ok =
        !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !key_ok {
        return Err(ApiError::BadRequest(
            json!({"key": ["can contain only letters, digits and '_'."]}).to_string(),
        ));
    }
    if masked && (value.chars().count() < 8 || value.contains('\n')) {
        return Err(ApiError::BadRequest(
            json!({"value": ["is invalid: a masked value needs at least 8 characters on one line"]})
                .to_string(),
        ));
    }
    Ok(())
}

fn variable(state: &AppState, project_id: i64, key: String, body: &Body, old: Option<&Variable>) -> Variable {
    Variable {
        project_id,
        key,
        value: state.core.secrets.seal(body.value.as_bytes()),
        variable_type: body
            .variable_type
            .clone()
            .or_else(|| old.map(|o| o.variable_type.clone()))
            .unwrap_or_else(|| "env_var".into()),
        protected: body.protected.or(old.map(|o| o.protected)).unwrap_or(false),
        masked: body.masked.or(old.map(|o| o.masked)).unwrap_or(false),
        raw: body.raw.or(old.map(|o| o.raw)).unwrap_or(false),
        environment_scope: body
            .environment_scope
            .clone()
            .or_else(|| old.map(|o| o.environment_scope.clone()))
            .unwrap_or_else(|| "*".into()),
    }
}

pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Maintainer).await?;
    let vars = state.core.db.variables(project.id).await?;
    Ok(Json(vars.iter().map(|v| render(&state, &user, v)).collect()))
}

/// The variable `key` in `scope` (`filter[environment_scope]`, `*` by default).
async fn find(state: &AppState, project_id: i64, key: &str, scope: &str) -> Result<Variable, ApiError> {
    state
        .core
        .db
        .variables(project_id)
        .await?
        .into_iter()
        .find(|v| v.key == key && v.environment_scope == scope)
        .ok_or(ApiError::NotFound("Variable"))
}

fn scope_of(query: &HashMap<String, String>) -> String {
    query
        .get("filter[environment_scope]")
        .cloned()
        .unwrap_or_else(|| "*".into())
}

pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, key)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Maintainer).await?;
    let v = find(&state, project.id, &key, &scope_of(&query)).await?;
    Ok(Json(render(&state, &user, &v)))
}

pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<Body>,
) -> Result<impl IntoResponse, ApiError> {
    let project = find_project(&state, &user, &id, Level::Maintainer).await?;
    let key = body
        .key
        .clone()
        .ok_or_else(|| ApiError::BadRequest("key is missing".into()))?;
    validate(&key, &body.value, body.masked.unwrap_or(false))?;
    let scope = body.environment_scope.clone().unwrap_or_else(|| "*".into());
    if find(&state, project.id, &key, &scope).await.is_ok() {
        return Err(ApiError::BadRequest(
            json!({"key": [format!("({key}) has already been taken")]}).to_string(),
        ));
    }
    let v = variable(&state, project.id, key, &body, None);
    state.core.db.upsert_variable(&v).await?;
    Ok((StatusCode::CREATED, Json(render(&state, &user, &v))))
}

pub(super) async fn update(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, key)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    Json(body): Json<Body>,
) -> Result<Json<Value>, ApiError> {
    let project = find_project(&state, &user, &id, Level::Maintainer).await?;
    let old = find(&state, project.id, &key, &scope_of(&query)).await?;
    let v = variable(&state, project.id, key.clone(), &body, Some(&old));
    validate(&key, &body.value, v.masked)?;
    if v.environment_scope != old.environment_scope {
        state
            .core
            .db
            .delete_variable(project.id, &key, &old.environment_scope)
            .await?;
    }
    state.core.db.upsert_variable(&v).await?;
    Ok(Json(render(&state, &user, &v)))
}

pub(super) async fn delete(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path((id, key)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    let project = find_project(&state, &user, &id, Level::Maintainer).await?;
    if state
        .core
        .db
        .delete_variable(project.id, &key, &scope_of(&query))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("Variable"))
    }
}
