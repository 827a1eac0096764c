//! Browser sessions of the dashboard and users' passwords. A session is found by the SHA-256
//! of its cookie; it carries the token that forms and API calls made with the cookie must
//! send back (against cross-site requests). Passwords are kept as the PHC string the server
//! computed (Argon2id); this module never sees a password.

use super::connect::Db;
use super::error::{StoreError, query_error};
use super::users::User;

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    /// Its id.
    pub id: i64,
    /// Whose it is.
    pub user_id: i64,
    /// The token requests that change something must carry.
    pub csrf_token: String,
    /// When it was created (epoch ms).
    pub created_at: i64,
    /// When it stops working (epoch ms).
    pub expires_at: i64,
}

impl Db {
    /// Stores a session of `user_id` by its cookie's hash.
    pub async fn create_session(
        &self,
        user_id: i64,
        token_sha256: &str,
        csrf_token: &str,
        now_ms: i64,
        expires_at: i64,
    ) -> Result<Session, StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query_as(
            "INSERT INTO sessions (user_id, token_sha256, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id, user_id, csrf_token, created_at, expires_at",
        )
        .bind(user_id)
        .bind(token_sha256)
        .bind(csrf_token)
        .bind(now_ms)
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("creating a session"))
    }

    /// The user and session a cookie hash stands for at `now_ms` (`None` when unknown or
    /// expired).
    pub async fn session(
        &self,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<Option<(User, Session)>, StoreError> {
        let session: Option<Session> = sqlx::query_as(
            "SELECT id, user_id, csrf_token, created_at, expires_at FROM sessions \
             WHERE token_sha256 = $1 AND expires_at > $2",
        )
        .bind(token_sha256)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a session"))?;
        let Some(session) = session else { return Ok(None) };
        Ok(self.user(session.user_id).await?.map(|u| (u, session)))
    }

    /// Ends a session (signing out); `false` when there was none.
    pub async fn delete_session(&self, token_sha256: &str) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
            .bind(token_sha256)
            .execute(&self.pool)
            .await
            .map_err(query_error("deleting a session"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes the sessions expired at `now_ms`; returns how many.
    pub async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(query_error("deleting expired sessions"))?;
        Ok(done.rows_affected())
    }

    /// Sets (or with `None` removes) a user's password hash; `false` for an unknown user.
    pub async fn set_password_hash(&self, user_id: i64, phc: Option<&str>) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(phc)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("setting a password"))?;
        Ok(done.rows_affected() > 0)
    }

    /// The user called `username` (regardless of case) and their password hash, if set.
    pub async fn password_hash(&self, username: &str) -> Result<Option<(User, Option<String>)>, StoreError> {
        let Some(user) = self.user_by_username(username).await? else {
            return Ok(None);
        };
        let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.id)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("reading a password hash"))?;
        Ok(Some((user, hash)))
    }
}
