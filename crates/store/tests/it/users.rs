//! Users and personal access tokens.

use crate::NOW;
use crate::backend::each_backend;
use gantry_store::db::{StoreError, TOKEN_LAST_USED_RESOLUTION_MS};

#[tokio::test]
async fn users_are_found_by_id_and_by_username_regardless_of_case() {
    each_backend(async |db| {
        let root = db.create_user("Root", true, NOW).await.expect("create");
        assert!(root.is_admin);
        assert_eq!(root.created_at, NOW);
        assert_eq!(db.user(root.id).await.expect("by id"), Some(root.clone()));
        assert_eq!(
            db.user_by_username("root").await.expect("by name"),
            Some(root.clone())
        );
        assert_eq!(db.user(root.id + 100).await.expect("missing"), None);
        let err = db.create_user("ROOT", false, NOW).await.expect_err("taken");
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let plain = db.create_user("dev", false, NOW).await.expect("create");
        assert!(!plain.is_admin);
    })
    .await;
}

#[tokio::test]
async fn token_lookup_honours_revocation_and_expiry_and_records_use() {
    each_backend(async |db| {
        let user = db.create_user("alice", false, NOW).await.expect("user");
        let scopes = vec!["api".to_owned(), "read_repository".to_owned()];
        let token = db
            .create_token(user.id, "ci", &"a".repeat(64), &scopes, Some(NOW + 1000), NOW)
            .await
            .expect("token");
        assert_eq!(token.scope_list().collect::<Vec<_>>(), ["api", "read_repository"]);
        assert!(token.has_scope("api") && !token.has_scope("sudo"));
        assert_eq!(token.last_used_at, None);

        let (found, used) = db
            .user_by_token(&"a".repeat(64), NOW + 10)
            .await
            .expect("lookup")
            .expect("valid");
        assert_eq!(found, user);
        assert_eq!(used.last_used_at, Some(NOW + 10));
        // Within the resolution, the stored time stays.
        db.user_by_token(&"a".repeat(64), NOW + 20)
            .await
            .expect("lookup")
            .expect("valid");
        let stored = &db.tokens_of_user(user.id).await.expect("list")[0];
        assert_eq!(stored.last_used_at, Some(NOW + 10));

        // A token expires at expires_at.
        assert!(
            db.user_by_token(&"a".repeat(64), NOW + 1000)
                .await
                .expect("lookup")
                .is_none()
        );
        assert!(
            db.user_by_token(&"b".repeat(64), NOW)
                .await
                .expect("lookup")
                .is_none()
        );

        let forever = db
            .create_token(user.id, "forever", &"c".repeat(64), &scopes, None, NOW)
            .await
            .expect("token");
        let later = NOW + 10 * TOKEN_LAST_USED_RESOLUTION_MS;
        let (_, used) = db
            .user_by_token(&"c".repeat(64), later)
            .await
            .expect("lookup")
            .expect("valid");
        assert_eq!(used.last_used_at, Some(later));
        assert!(db.revoke_token(forever.id).await.expect("revoke"));
        assert!(
            db.user_by_token(&"c".repeat(64), later)
                .await
                .expect("lookup")
                .is_none()
        );
        assert!(!db.revoke_token(forever.id + 100).await.expect("revoke missing"));
    })
    .await;
}

#[tokio::test]
async fn token_hashes_are_unique_and_scopes_are_words() {
    each_backend(async |db| {
        let user = db.create_user("alice", false, NOW).await.expect("user");
        let api = vec!["api".to_owned()];
        db.create_token(user.id, "one", "h", &api, None, NOW)
            .await
            .expect("token");
        let err = db
            .create_token(user.id, "two", "h", &api, None, NOW)
            .await
            .expect_err("same hash");
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let err = db
            .create_token(user.id, "bad", "h2", &["read api".to_owned()], None, NOW)
            .await
            .expect_err("scope with a space");
        assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    })
    .await;
}
