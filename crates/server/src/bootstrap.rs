//! The first start: the administrator `root` and its token, as GitLab's first start creates
//! its root user. The token is the configured one or `GANTRY_INITIAL_ROOT_TOKEN` when set (so
//! scripts and tests can start a server without reading its output), else a random one that
//! is shown once. `GANTRY_INITIAL_ROOT_PASSWORD` (at least 8 characters) also gives root a
//! password for the dashboard.

use crate::app::Core;
use crate::auth::{new_token, token_hash};
use crate::clock::now_ms;
use gantry_store::db::StoreError;

/// Creates `root` when there is no such user; returns the token when it was generated here.
pub(crate) async fn first_admin(core: &Core) -> Result<Option<String>, StoreError> {
    if core.db.user_by_username("root").await?.is_some() {
        return Ok(None);
    }
    let now = now_ms();
    let root = core.db.create_user("root", true, now).await?;
    let given = core
        .config
        .initial_root_token
        .clone()
        .or_else(|| std::env::var("GANTRY_INITIAL_ROOT_TOKEN").ok())
        .filter(|t| !t.trim().is_empty());
    let token = given.clone().unwrap_or_else(|| new_token("glpat-"));
    if let Some(password) = std::env::var("GANTRY_INITIAL_ROOT_PASSWORD")
        .ok()
        .filter(|p| p.chars().count() >= 8)
    {
        match crate::dashboard::hash_password(&password) {
            Ok(phc) => {
                core.db.set_password_hash(root.id, Some(&phc)).await?;
            }
            Err(e) => tracing::error!(error = %e, "setting root's password"),
        }
    }
    core.db
        .create_token(
            root.id,
            "initial root token",
            &token_hash(token.trim()),
            &["api".to_owned()],
            None,
            now,
        )
        .await?;
    Ok(if given.is_some() { None } else { Some(token) })
}
