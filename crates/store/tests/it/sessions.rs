//! Browser sessions and password hashes.

use crate::NOW;
use crate::backend::each_backend;

#[tokio::test]
async fn sessions_are_found_by_hash_until_they_expire_or_are_deleted() {
    each_backend(async |db| {
        let user = db.create_user("alice", false, NOW).await.expect("user");
        let s = db
            .create_session(user.id, &"s".repeat(64), "csrf1", NOW, NOW + 1000)
            .await
            .expect("session");
        assert_eq!(s.csrf_token, "csrf1");
        let (found, session) = db
            .session(&"s".repeat(64), NOW + 999)
            .await
            .expect("read")
            .expect("valid");
        assert_eq!((found.id, session.id), (user.id, s.id));
        assert_eq!(
            db.session(&"s".repeat(64), NOW + 1000).await.expect("read"),
            None,
            "expired"
        );
        assert_eq!(
            db.session(&"t".repeat(64), NOW).await.expect("read"),
            None,
            "unknown"
        );
        assert_eq!(db.delete_expired_sessions(NOW + 1000).await.expect("sweep"), 1);
        db.create_session(user.id, &"u".repeat(64), "csrf2", NOW, NOW + 1000)
            .await
            .expect("session");
        assert!(db.delete_session(&"u".repeat(64)).await.expect("delete"));
        assert!(!db.delete_session(&"u".repeat(64)).await.expect("delete again"));
        assert_eq!(
            db.session(&"u".repeat(64), NOW).await.expect("read"),
            None,
            "signed out"
        );
    })
    .await;
}

#[tokio::test]
async fn a_password_hash_is_set_read_by_username_and_removed() {
    each_backend(async |db| {
        let user = db.create_user("Bob", false, NOW).await.expect("user");
        assert_eq!(
            db.password_hash("bob").await.expect("read"),
            Some((user.clone(), None))
        );
        assert!(
            db.set_password_hash(user.id, Some("$argon2id$v=19$x"))
                .await
                .expect("set")
        );
        let (_, hash) = db.password_hash("BOB").await.expect("read").expect("user");
        assert_eq!(hash.as_deref(), Some("$argon2id$v=19$x"));
        assert!(db.set_password_hash(user.id, None).await.expect("unset"));
        assert_eq!(
            db.password_hash("bob").await.expect("read").map(|(_, h)| h),
            Some(None)
        );
        assert!(
            !db.set_password_hash(user.id + 9, None)
                .await
                .expect("missing user")
        );
        assert_eq!(db.password_hash("nobody").await.expect("read"), None);
    })
    .await;
}
