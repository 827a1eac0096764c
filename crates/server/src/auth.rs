//! Who is calling: personal access tokens in `PRIVATE-TOKEN` or `Authorization: Bearer`, as
//! GitLab takes them; git over HTTP sends them as the Basic-auth password; the dashboard's
//! session cookie, whose requests that change something must also carry the session's
//! `X-CSRF-Token` (a page of another site cannot read it). Only the SHA-256 of a token or
//! cookie is stored, and lookups compare hashes.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use gantry_store::db::{Session, User};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A new random token with GitLab's prefix for its kind (`glpat-` for personal access
/// tokens, `glptt-` for trigger tokens): 20 more characters from `[A-Za-z0-9]`.
pub fn new_token(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let bytes: [u8; 20] = rand::random();
    let tail: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{prefix}{tail}")
}

/// The SHA-256 of a token, in hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token a request carries in `PRIVATE-TOKEN` or `Authorization: Bearer`.
pub fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned());
    }
    let auth = headers.get("authorization")?.to_str().ok()?;
    let (scheme, rest) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_owned())
}

/// The user a token belongs to, if it is valid now.
pub async fn user_for_token(state: &AppState, token: &str) -> Result<Option<User>, ApiError> {
    let found = state
        .core
        .db
        .user_by_token(&token_hash(token), crate::clock::now_ms())
        .await?;
    Ok(found.map(|(user, _)| user))
}

/// The name of the dashboard's session cookie.
pub const SESSION_COOKIE: &str = "gantry_session";

/// The value of the cookie `name` in a request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The signed-in user and session of a request's session cookie, if valid now.
pub async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(User, Session)>, ApiError> {
    let Some(value) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state
        .core
        .db
        .session(&token_hash(&value), crate::clock::now_ms())
        .await?)
}

/// Whether a request with this method only reads.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The authenticated caller of an API route (401 without a valid token or session; 403 for
/// a session's changing request without its CSRF token).
pub struct CurrentUser(pub User);

impl FromRequestParts<Arc<AppState>> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        if let Some(token) = request_token(&parts.headers) {
            let user = user_for_token(state, &token)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            return Ok(CurrentUser(user));
        }
        let (user, session) = session_user(state, &parts.headers)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if !is_safe(&parts.method) {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !bool::from(sent.as_bytes().ct_eq(session.csrf_token.as_bytes())) {
                return Err(ApiError::Forbidden);
            }
        }
        Ok(CurrentUser(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = new_token("glpat-");
        let b = new_token("glpat-");
        assert!(a.starts_with("glpat-") && a.len() == 26, "{a}");
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn cookies_are_found_by_name_among_several() {
        let mut h = HeaderMap::new();
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
        h.append("cookie", "a=1; gantry_session=abc".parse().expect("header"));
        h.append("cookie", "b=2".parse().expect("header"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "gantry"), None);
    }

    #[test]
    fn a_token_is_read_from_private_token_or_bearer() {
        let mut h = HeaderMap::new();
        assert_eq!(request_token(&h), None);
        h.insert("authorization", "Bearer abc".parse().expect("header"));
        assert_eq!(request_token(&h).as_deref(), Some("abc"));
        h.insert("private-token", "xyz".parse().expect("header"));
        assert_eq!(request_token(&h).as_deref(), Some("xyz"));
    }
}
