//! Signing in to the dashboard: a password (checked against its Argon2id hash) or a personal
//! access token opens a session; its cookie is HTTP-only and `SameSite=Lax`, and the
//! session's CSRF token goes into every page for the requests that change something.

use crate::app::AppState;
use crate::auth::{SESSION_COOKIE, new_token, session_user, token_hash};
use crate::clock::now_ms;
use crate::error::ApiError;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gantry_store::db::User;
use gantry_web::views::SignIn;
use serde::Deserialize;
use std::sync::Arc;

/// How long a session lasts.
const SESSION_MS: i64 = 7 * 24 * 3600 * 1000;

/// Who is looking at a page: the signed-in user (if any), their CSRF token and the hash of
/// their session cookie (live streams check that the session still holds).
pub(crate) struct Viewer {
    pub(crate) user: Option<User>,
    pub(crate) csrf: String,
    pub(crate) session: Option<String>,
}

impl Viewer {
    /// The viewer of a request with these headers (signed out without a valid session).
    pub(crate) async fn of(state: &AppState, headers: &HeaderMap) -> Result<Viewer, ApiError> {
        Ok(match session_user(state, headers).await? {
            Some((user, session)) => Viewer {
                user: Some(user),
                csrf: session.csrf_token,
                session: crate::auth::cookie(headers, SESSION_COOKIE).map(|c| token_hash(&c)),
            },
            None => Viewer {
                user: None,
                csrf: String::new(),
                session: None,
            },
        })
    }
}

impl FromRequestParts<Arc<AppState>> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        Viewer::of(state, &parts.headers).await
    }
}

/// The PHC string (Argon2id, random salt) of a password.
pub(crate) fn hash_password(password: &str) -> Result<String, ApiError> {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the PHC string `phc`.
pub(crate) fn verify_password(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct SignInQuery {
    #[serde(default)]
    redirect: String,
}

/// Only a path of this server: `/x`, not `//host`, `https://host` or `/\t/host` (browsers
/// drop tabs and newlines from URLs and read a backslash as a slash).
fn local_path(to: &str) -> &str {
    let plain = !to.contains(|c: char| c == '\\' || c.is_whitespace() || c.is_control());
    if plain && to.starts_with('/') && !to.starts_with("//") {
        to
    } else {
        "/"
    }
}

fn page(error: Option<String>, username: String, redirect: String) -> SignIn {
    SignIn {
        chrome: super::chrome(None, String::new(), "Sign in", None),
        error,
        username,
        redirect,
    }
}

pub(crate) async fn form(Query(q): Query<SignInQuery>) -> Response {
    super::render(&page(None, String::new(), local_path(&q.redirect).to_owned()))
}

#[derive(Deserialize)]
pub(crate) struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    redirect: String,
}

/// Whether the browser says a request comes from another site's page (`Sec-Fetch-Site`):
/// such a sign-in would log the victim into the attacker's account (login CSRF). Clients
/// that send no such header (curl, scripts) are not browsers being tricked.
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site.eq_ignore_ascii_case("cross-site"))
}

pub(crate) async fn sign_in(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(c): Form<Credentials>,
) -> Result<Response, ApiError> {
    if cross_site(&headers) {
        return Err(ApiError::Forbidden);
    }
    let now = now_ms();
    // A session opened with a token ends when the token does.
    let mut expires_at = now + SESSION_MS;
    let user = if !c.token.trim().is_empty() {
        let found = state
            .core
            .db
            .user_by_token(&token_hash(c.token.trim()), now)
            .await?;
        found.map(|(user, token)| {
            if let Some(end) = token.expires_at {
                expires_at = expires_at.min(end);
            }
            user
        })
    } else {
        match state.core.db.password_hash(c.username.trim()).await? {
            Some((user, Some(phc))) => {
                let password = c.password.clone();
                let ok = tokio::task::spawn_blocking(move || verify_password(&phc, &password))
                    .await
                    .unwrap_or(false);
                ok.then_some(user)
            }
            _ => None,
        }
    };
    let Some(user) = user else {
        let mut response = super::render(&page(
            Some("Invalid username, password or token.".into()),
            c.username,
            local_path(&c.redirect).to_owned(),
        ));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(response);
    };
    let cookie = new_token("");
    state
        .core
        .db
        .create_session(user.id, &token_hash(&cookie), &new_token(""), now, expires_at)
        .await?;
    let secure = if state.core.external_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let set = format!(
        "{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        (expires_at - now).max(0) / 1000
    );
    Ok(([(header::SET_COOKIE, set)], Redirect::to(local_path(&c.redirect))).into_response())
}

#[derive(Deserialize)]
pub(crate) struct SignOut {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn sign_out(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<SignOut>,
) -> Result<Response, ApiError> {
    if viewer.user.is_some() {
        if f.csrf != viewer.csrf {
            return Err(ApiError::Forbidden);
        }
        if let Some(cookie) = crate::auth::cookie(&headers, SESSION_COOKIE) {
            state.core.db.delete_session(&token_hash(&cookie)).await?;
        }
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/users/sign_in")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let phc = hash_password("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password(&phc, "correct horse"));
        assert!(!verify_password(&phc, "correct horsE"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn only_a_cross_site_sign_in_is_refused() {
        let mut h = HeaderMap::new();
        assert!(!cross_site(&h), "no header: not a browser");
        for (site, refused) in [("same-origin", false), ("none", false), ("cross-site", true)] {
            h.insert("sec-fetch-site", site.parse().expect("header"));
            assert_eq!(cross_site(&h), refused, "{site}");
        }
    }

    #[test]
    fn redirects_stay_on_this_server() {
        assert_eq!(local_path("/g/p/-/pipelines"), "/g/p/-/pipelines");
        assert_eq!(local_path("//evil.example"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("/\\evil"), "/");
        assert_eq!(local_path("/\t/evil.example"), "/");
        assert_eq!(local_path("/\n/evil.example"), "/");
        assert_eq!(local_path("/ /evil.example"), "/");
    }
}
