//! Who is calling: personal access tokens in `PRIVATE-TOKEN` or `Authorization: Bearer`, as
//! GitLab takes them; git over HTTP sends them as the Basic-auth password. Only the SHA-256
//! of a token is stored, and lookups compare hashes.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use gantry_store::db::User;
use sha2::{Digest, Sha256};
use std::sync::Arc;

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

/// The authenticated caller of an API route (401 without a valid token).
pub struct CurrentUser(pub User);

impl FromRequestParts<Arc<AppState>> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let token = request_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let user = user_for_token(state, &token)
            .await?
            .ok_or(ApiError::Unauthorized)?;
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
    fn a_token_is_read_from_private_token_or_bearer() {
        let mut h = HeaderMap::new();
        assert_eq!(request_token(&h), None);
        h.insert("authorization", "Bearer abc".parse().expect("header"));
        assert_eq!(request_token(&h).as_deref(), Some("abc"));
        h.insert("private-token", "xyz".parse().expect("header"));
        assert_eq!(request_token(&h).as_deref(), Some("xyz"));
    }
}
