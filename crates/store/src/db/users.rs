//! Users and their personal access tokens. Only the SHA-256 (hex) of a token is stored: the
//! server hashes what a request carries and looks the hash up.

use super::column::DbBool;
use super::connect::Db;
use super::error::{StoreError, query_error};

/// How stale `last_used_at` may get before a lookup rewrites it: an API call does not cost a
/// write each time (GitLab throttles the same update).
pub const TOKEN_LAST_USED_RESOLUTION_MS: i64 = 60_000;

macro_rules! user_columns {
    () => {
        "id, username, is_admin, created_at"
    };
}

macro_rules! token_columns {
    () => {
        "id, user_id, name, token_sha256, scopes, revoked, expires_at, last_used_at, created_at"
    };
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    /// Its id.
    pub id: i64,
    /// Its username, unique regardless of case.
    pub username: String,
    /// Whether it administers the instance.
    #[sqlx(try_from = "DbBool")]
    pub is_admin: bool,
    /// When it was created (epoch ms).
    pub created_at: i64,
}

/// A personal access token of a user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Token {
    /// Its id.
    pub id: i64,
    /// The user it authenticates.
    pub user_id: i64,
    /// The name its owner gave it.
    pub name: String,
    /// The SHA-256 of the token, in lowercase hex.
    pub token_sha256: String,
    /// Its scopes (`api`, `read_repository`, ...), separated by single spaces; see
    /// [`Token::scope_list`].
    pub scopes: String,
    /// Whether it was revoked.
    #[sqlx(try_from = "DbBool")]
    pub revoked: bool,
    /// When it stops working (epoch ms), if ever.
    pub expires_at: Option<i64>,
    /// When it was last used (epoch ms, to [`TOKEN_LAST_USED_RESOLUTION_MS`]).
    pub last_used_at: Option<i64>,
    /// When it was created (epoch ms).
    pub created_at: i64,
}

impl Token {
    /// Its scopes, one by one.
    pub fn scope_list(&self) -> impl Iterator<Item = &str> {
        self.scopes.split(' ').filter(|s| !s.is_empty())
    }

    /// Whether it has `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope_list().any(|s| s == scope)
    }

    /// Whether it authenticates at `now_ms`: not revoked and not expired.
    pub fn is_active(&self, now_ms: i64) -> bool {
        !self.revoked && self.expires_at.is_none_or(|at| now_ms < at)
    }
}

impl Db {
    /// Creates a user; [`StoreError::Conflict`] when the username is taken (in any case).
    pub async fn create_user(&self, username: &str, is_admin: bool, now_ms: i64) -> Result<User, StoreError> {
        const OP: &str = "creating a user";
        let _lock = self.write_lock().await;
        sqlx::query_as(concat!(
            "INSERT INTO users (username, is_admin, created_at) VALUES ($1, $2, $3) RETURNING ",
            user_columns!()
        ))
        .bind(username)
        .bind(is_admin)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error(OP))
    }

    /// The user with this id.
    pub async fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading a user"))
    }

    /// The user with this username, compared regardless of case.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE lower(username) = lower($1)"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a user by username"))
    }

    /// Stores a personal access token of `user_id` by its hash. Scopes may not contain
    /// whitespace ([`StoreError::Invalid`]); a hash already stored is a
    /// [`StoreError::Conflict`].
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        token_sha256: &str,
        scopes: &[String],
        expires_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<Token, StoreError> {
        const OP: &str = "creating a token";
        if let Some(bad) = scopes
            .iter()
            .find(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            return Err(StoreError::Invalid {
                what: "token scope",
                reason: format!("{bad:?} is empty or contains whitespace"),
            });
        }
        let _lock = self.write_lock().await;
        sqlx::query_as(concat!(
            "INSERT INTO personal_access_tokens (user_id, name, token_sha256, scopes, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            token_columns!()
        ))
        .bind(user_id)
        .bind(name)
        .bind(token_sha256)
        .bind(scopes.join(" "))
        .bind(expires_at_ms)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error(OP))
    }

    /// The user a token hash authenticates at `now_ms`, with the token: `None` when the hash
    /// is unknown, revoked or expired (a token expires at `expires_at`). Records the use in
    /// `last_used_at` when the stored value is older than [`TOKEN_LAST_USED_RESOLUTION_MS`].
    pub async fn user_by_token(
        &self,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<Option<(User, Token)>, StoreError> {
        const OP: &str = "authenticating a token";
        let token: Option<Token> = sqlx::query_as(concat!(
            "SELECT ",
            token_columns!(),
            " FROM personal_access_tokens WHERE token_sha256 = $1"
        ))
        .bind(token_sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error(OP))?;
        let Some(mut token) = token.filter(|t| t.is_active(now_ms)) else {
            return Ok(None);
        };
        if token
            .last_used_at
            .is_none_or(|at| now_ms - at >= TOKEN_LAST_USED_RESOLUTION_MS)
        {
            let _lock = self.write_lock().await;
            sqlx::query("UPDATE personal_access_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(token.id)
                .execute(&self.pool)
                .await
                .map_err(query_error(OP))?;
            token.last_used_at = Some(now_ms);
        }
        Ok(self.user(token.user_id).await?.map(|user| (user, token)))
    }

    /// Revokes a token; `false` when there is no such token.
    pub async fn revoke_token(&self, token_id: i64) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("UPDATE personal_access_tokens SET revoked = TRUE WHERE id = $1")
            .bind(token_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("revoking a token"))?;
        Ok(done.rows_affected() > 0)
    }

    /// The tokens of a user, oldest first, revoked and expired ones included.
    pub async fn tokens_of_user(&self, user_id: i64) -> Result<Vec<Token>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            token_columns!(),
            " FROM personal_access_tokens WHERE user_id = $1 ORDER BY id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing the tokens of a user"))
    }
}
