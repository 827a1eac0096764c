//! `/users`: an administrator creates users and their personal access tokens (GitLab's
//! admin-only `POST /users` and `POST /users/:id/personal_access_tokens`); anyone signed in
//! reads a user.

use super::entities;
use crate::app::AppState;
use crate::auth::{CurrentUser, new_token, token_hash};
use crate::clock::{iso, now_ms};
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use gantry_store::db::{StoreError, User};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

fn admin(user: &User) -> Result<(), ApiError> {
    if user.is_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

#[derive(Deserialize)]
pub(super) struct NewUser {
    username: String,
    #[serde(default)]
    admin: bool,
    /// Signs in to the dashboard with it (at least 8 characters), as GitLab's `password`.
    #[serde(default)]
    password: Option<String>,
}

/// A user name as GitLab allows it: letters, digits, `_`, `-`, `.`, not starting with `-`
/// or `.`, at most 255 characters.
fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    CurrentUser(caller): CurrentUser,
    Json(body): Json<NewUser>,
) -> Result<impl IntoResponse, ApiError> {
    admin(&caller)?;
    if !valid_username(&body.username) {
        return Err(ApiError::BadRequest("username is invalid".into()));
    }
    let phc = match &body.password {
        Some(p) if p.chars().count() < 8 => {
            return Err(ApiError::BadRequest(
                "password is too short (minimum is 8 characters)".into(),
            ));
        }
        Some(p) => {
            let p = p.clone();
            Some(
                tokio::task::spawn_blocking(move || crate::dashboard::hash_password(&p))
                    .await
                    .map_err(ApiError::internal)??,
            )
        }
        None => None,
    };
    match state
        .core
        .db
        .create_user(&body.username, body.admin, now_ms())
        .await
    {
        Ok(user) => {
            if let Some(phc) = &phc {
                state.core.db.set_password_hash(user.id, Some(phc)).await?;
            }
            Ok((StatusCode::CREATED, Json(entities::user(&state.core, &user))))
        }
        Err(StoreError::Conflict(_)) => Err(ApiError::Conflict("Username has already been taken".into())),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    _caller: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let user = state.core.db.user(id).await?.ok_or(ApiError::NotFound("User"))?;
    Ok(Json(entities::user(&state.core, &user)))
}

#[derive(Deserialize)]
pub(super) struct NewToken {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    /// `YYYY-MM-DD`; the token stops working at the start of that day (UTC).
    expires_at: Option<String>,
}

pub(super) async fn create_token(
    State(state): State<Arc<AppState>>,
    CurrentUser(caller): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<NewToken>,
) -> Result<impl IntoResponse, ApiError> {
    admin(&caller)?;
    let user = state.core.db.user(id).await?.ok_or(ApiError::NotFound("User"))?;
    let expires_at = match &body.expires_at {
        None => None,
        Some(day) => Some(
            day_start_ms(day)
                .ok_or_else(|| ApiError::BadRequest("expires_at is invalid: use YYYY-MM-DD".into()))?,
        ),
    };
    let scopes = if body.scopes.is_empty() {
        vec!["api".to_owned()]
    } else {
        body.scopes
    };
    let token = new_token("glpat-");
    let now = now_ms();
    let stored = state
        .core
        .db
        .create_token(user.id, &body.name, &token_hash(&token), &scopes, expires_at, now)
        .await
        .map_err(|e| match e {
            StoreError::Invalid { reason, .. } => ApiError::BadRequest(reason),
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": stored.id,
            "name": body.name,
            "user_id": user.id,
            "scopes": scopes,
            "revoked": false,
            "active": true,
            "created_at": iso(now),
            "expires_at": body.expires_at,
            "token": token,
        })),
    ))
}

/// Epoch milliseconds at 00:00 UTC of a `YYYY-MM-DD` day.
fn day_start_ms(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_checked_as_gitlab_does() {
        for good in ["alice", "a.b-c_d", "u1"] {
            assert!(valid_username(good), "{good}");
        }
        for bad in ["", "-a", ".a", "a b", "a/b", "ä"] {
            assert!(!valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn an_expiry_day_starts_at_midnight_utc() {
        assert_eq!(day_start_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(day_start_ms("2026-13-01"), None);
    }
}
