//! Runners: created by users (`POST /user/runners`, which hands out the `glrt-` token once),
//! listed, changed and deleted as GitLab's API does; and the calls a runner makes with its
//! own token (`POST /runners/verify` when `gitlab-runner register --token glrt-...` runs,
//! `DELETE /runners` and `/runners/managers` when it unregisters).

use super::find_project;
use crate::access::Level;
use crate::app::AppState;
use crate::auth::{CurrentUser, new_token, token_hash};
use crate::clock::iso;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use gantry_store::db::{NewRunner, Runner, RunnerUpdate, User};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// `tag_list`: GitLab takes an array or a comma-separated string.
#[derive(Deserialize, Debug, Default)]
#[serde(untagged)]
pub(super) enum TagList {
    #[default]
    None,
    List(Vec<String>),
    Text(String),
}

impl TagList {
    fn tags(&self) -> Option<Vec<String>> {
        match self {
            TagList::None => None,
            TagList::List(l) => Some(
                l.iter()
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
            ),
            TagList::Text(t) => Some(
                t.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
        }
    }
}

#[derive(Deserialize, Debug, Default)]
pub(super) struct RunnerBody {
    runner_type: Option<String>,
    project_id: Option<i64>,
    description: Option<String>,
    paused: Option<bool>,
    locked: Option<bool>,
    run_untagged: Option<bool>,
    #[serde(default)]
    tag_list: TagList,
    access_level: Option<String>,
    maximum_timeout: Option<i64>,
}

fn check_access_level(level: Option<&str>) -> Result<(), ApiError> {
    match level {
        None | Some("not_protected") | Some("ref_protected") => Ok(()),
        Some(other) => Err(ApiError::BadRequest(format!(
            "access_level does not have a valid value: {other:?} (not_protected, ref_protected)"
        ))),
    }
}

/// The runner `body` describes; `locked` unless it says otherwise when `locked_default`.
fn new_runner(
    body: &RunnerBody,
    runner_type: String,
    project_id: Option<i64>,
    created_by: Option<i64>,
    locked_default: bool,
) -> NewRunner {
    let tags = body.tag_list.tags().unwrap_or_default();
    NewRunner {
        description: body.description.clone().unwrap_or_default(),
        runner_type,
        project_id,
        run_untagged: body.run_untagged.unwrap_or(tags.is_empty()),
        tags,
        paused: body.paused.unwrap_or(false),
        locked: body.locked.unwrap_or(locked_default),
        access_level: body
            .access_level
            .clone()
            .unwrap_or_else(|| "not_protected".into()),
        maximum_timeout: body.maximum_timeout,
        created_by,
    }
}

/// `POST /user/runners`: administrators create instance runners, a project's maintainers
/// its project runners. The token is in this answer only.
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Json(body): Json<RunnerBody>,
) -> Result<impl IntoResponse, ApiError> {
    check_access_level(body.access_level.as_deref())?;
    let runner_type = body.runner_type.clone().unwrap_or_default();
    let project_id = match runner_type.as_str() {
        "instance_type" => {
            if !user.is_admin {
                return Err(ApiError::Forbidden);
            }
            None
        }
        "project_type" => {
            let id = body
                .project_id
                .ok_or_else(|| ApiError::BadRequest("project_id is missing".into()))?;
            Some(
                find_project(&state, &user, &id.to_string(), Level::Maintainer)
                    .await?
                    .id,
            )
        }
        "group_type" => {
            return Err(ApiError::BadRequest(
                "group runners are not supported: gantry has no groups".into(),
            ));
        }
        _ => {
            return Err(ApiError::BadRequest(
                "runner_type does not have a valid value (instance_type, project_type)".into(),
            ));
        }
    };
    let new = new_runner(&body, runner_type, project_id, Some(user.id), false);
    let token = new_token("glrt-");
    let runner = state
        .core
        .db
        .create_runner(&new, &token_hash(&token), crate::clock::now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": runner.id, "token": token, "token_expires_at": null})),
    ))
}

/// `POST /runners` (legacy registration, `gitlab-runner register --registration-token`):
/// a runner created with the instance's or a project's registration token.
#[derive(Deserialize, Debug, Default)]
pub(super) struct RegisterBody {
    token: Option<String>,
    /// The old name of `!paused`.
    active: Option<bool>,
    info: Option<Value>,
    #[serde(flatten)]
    settings: RunnerBody,
}

/// `POST /runners`: 201 with the new runner's `glrt-` token; 403 for a registration token
/// that is not (or no longer) the instance's or a project's.
pub(super) async fn register(
    State(state): State<Arc<AppState>>,
    Json(body): Json<RegisterBody>,
) -> Result<impl IntoResponse, ApiError> {
    let token = body.token.as_deref().ok_or(ApiError::Forbidden)?;
    let project_id = state
        .core
        .db
        .registration_scope(&token_hash(token.trim()))
        .await?
        .ok_or(ApiError::Forbidden)?;
    check_access_level(body.settings.access_level.as_deref())?;
    let mut settings = body.settings;
    settings.paused = settings.paused.or(body.active.map(|a| !a));
    let runner_type = if project_id.is_some() {
        "project_type"
    } else {
        "instance_type"
    };
    // A project runner registered with a token is locked to its project unless it says not.
    let new = new_runner(
        &settings,
        runner_type.into(),
        project_id,
        None,
        project_id.is_some(),
    );
    let token = new_token("glrt-");
    let now = crate::clock::now_ms();
    let db = &state.core.db;
    let runner = db.create_runner(&new, &token_hash(&token), now).await?;
    if let Some(info) = &body.info {
        db.touch_runner(runner.id, Some(&info.to_string()), now).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": runner.id, "token": token, "token_expires_at": null})),
    ))
}

/// `POST /runners/reset_registration_token` (administrators: the instance's) and
/// `POST /projects/:id/runners/reset_registration_token` (maintainers: the project's): a new
/// registration token, in this answer only; the old one stops registering runners.
pub(super) async fn reset_registration_token(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    project: Option<Path<String>>,
) -> Result<impl IntoResponse, ApiError> {
    let project_id = match project {
        Some(Path(id)) => Some(find_project(&state, &user, &id, Level::Maintainer).await?.id),
        None if user.is_admin => None,
        None => return Err(ApiError::Forbidden),
    };
    let token = new_token(REGISTRATION_TOKEN_PREFIX);
    state
        .core
        .db
        .reset_registration_token(project_id, &token_hash(&token), crate::clock::now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "token_expires_at": null})),
    ))
}

/// What GitLab's registration tokens start with (runners recognise them by it).
const REGISTRATION_TOKEN_PREFIX: &str = "GR1348941";

/// A runner as GitLab's API shows it.
fn entity(state: &AppState, r: &Runner) -> Value {
    let info: Value = r
        .info_json
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null);
    let online = r
        .contacted_at
        .is_some_and(|t| crate::clock::now_ms() - t < 2 * 3600 * 1000);
    json!({
        "id": r.id,
        "description": r.description,
        "runner_type": r.runner_type,
        "paused": r.paused,
        "active": !r.paused,
        "is_shared": r.runner_type == "instance_type",
        "locked": r.locked,
        "run_untagged": r.run_untagged,
        "tag_list": r.tag_list(),
        "access_level": r.access_level,
        "maximum_timeout": r.maximum_timeout,
        "online": online,
        "status": if r.contacted_at.is_none() { "never_contacted" } else if online { "online" } else { "offline" },
        "contacted_at": r.contacted_at.map(iso),
        "created_at": iso(r.created_at),
        "version": info.get("version"),
        "platform": info.get("platform"),
        "architecture": info.get("architecture"),
        "executor": info.get("executor"),
        "projects": r.project_id.map(|id| vec![json!({"id": id})]).unwrap_or_default(),
        "web_url": format!("{}/admin/runners/{}", state.core.external_url, r.id),
    })
}

/// The runner `id` if `user` may manage it: administrators every runner, a project's
/// maintainers its project runners; others get 404 for runners they may not see.
async fn manageable(state: &AppState, user: &User, id: i64) -> Result<Runner, ApiError> {
    let runner = state
        .core
        .db
        .runner(id)
        .await?
        .ok_or(ApiError::NotFound("Runner"))?;
    if user.is_admin {
        return Ok(runner);
    }
    match runner.project_id {
        Some(project) => {
            find_project(state, user, &project.to_string(), Level::Maintainer)
                .await
                .map_err(|_| ApiError::NotFound("Runner"))?;
            Ok(runner)
        }
        None => Err(ApiError::NotFound("Runner")),
    }
}

/// `GET /runners/all` (administrators) and `GET /runners` (the runners the caller manages).
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for r in state.core.db.runners().await? {
        if manageable(&state, &user, r.id).await.is_ok() {
            out.push(entity(&state, &r));
        }
    }
    Ok(Json(Value::Array(out)))
}

/// `GET /runners/all`: every runner (administrators).
pub(super) async fn list_all(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, ApiError> {
    if !user.is_admin {
        return Err(ApiError::Forbidden);
    }
    let runners = state.core.db.runners().await?;
    Ok(Json(Value::Array(
        runners.iter().map(|r| entity(&state, r)).collect(),
    )))
}

/// `GET /runners/:id`.
pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let runner = manageable(&state, &user, id).await?;
    Ok(Json(entity(&state, &runner)))
}

/// `PUT /runners/:id`: pause, tags, protection, timeout.
pub(super) async fn update(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<RunnerBody>,
) -> Result<Json<Value>, ApiError> {
    manageable(&state, &user, id).await?;
    check_access_level(body.access_level.as_deref())?;
    let update = RunnerUpdate {
        description: body.description,
        tags: body.tag_list.tags(),
        run_untagged: body.run_untagged,
        paused: body.paused,
        locked: body.locked,
        access_level: body.access_level,
        maximum_timeout: body.maximum_timeout.map(Some),
    };
    let runner = state.core.db.update_runner(id, &update).await?;
    Ok(Json(entity(&state, &runner)))
}

/// `DELETE /runners/:id`.
pub(super) async fn delete(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    manageable(&state, &user, id).await?;
    state.core.db.delete_runner(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a runner sends with its own token.
#[derive(Deserialize, Debug, Default)]
pub(crate) struct RunnerAuth {
    pub(crate) token: Option<String>,
    pub(crate) info: Option<Value>,
}

/// The runner a request's token names (body `token`, else header `RUNNER-TOKEN`); 403 for
/// an unknown one, as GitLab answers.
pub(crate) async fn runner_of(
    state: &AppState,
    headers: &HeaderMap,
    body_token: Option<&str>,
) -> Result<Runner, ApiError> {
    let token = body_token
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get("runner-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .ok_or(ApiError::Forbidden)?;
    state
        .core
        .db
        .runner_by_token(&token_hash(token.trim()))
        .await?
        .ok_or(ApiError::Forbidden)
}

/// `POST /runners/verify`: 200 with the runner's id for a valid token.
pub(super) async fn verify(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<RunnerAuth>,
) -> Result<Json<Value>, ApiError> {
    let runner = runner_of(&state, &headers, body.token.as_deref()).await?;
    let info = body.info.as_ref().map(Value::to_string);
    state
        .core
        .db
        .touch_runner(runner.id, info.as_deref(), crate::clock::now_ms())
        .await?;
    Ok(Json(json!({
        "id": runner.id,
        "token": body.token.unwrap_or_default(),
        "token_expires_at": null,
    })))
}

/// `DELETE /runners`: a runner unregisters itself (its record goes).
pub(super) async fn unregister(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<RunnerAuth>,
) -> Result<StatusCode, ApiError> {
    let runner = runner_of(&state, &headers, body.token.as_deref()).await?;
    state.core.db.delete_runner(runner.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /runners/managers`: a host stops using a `glrt-` token; the runner record stays
/// (it belongs to whoever created it), as in GitLab.
pub(super) async fn unregister_manager(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<RunnerAuth>,
) -> Result<StatusCode, ApiError> {
    runner_of(&state, &headers, body.token.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
