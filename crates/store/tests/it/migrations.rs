//! Connecting: URLs, migrations run at connect and again harmlessly, SQLite's file setup.

use crate::backend::each_backend_url;
use gantry_store::db::{Backend, Db, StoreError};

#[tokio::test]
async fn connecting_twice_keeps_the_schema_and_the_rows() {
    each_backend_url(async |url| {
        let first = Db::connect(url).await.expect("first connect");
        let user = first.create_user("alice", true, crate::NOW).await.expect("user");
        first.close().await;
        let second = Db::connect(url).await.expect("second connect");
        assert_eq!(second.user(user.id).await.expect("read"), Some(user));
        let expected = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        assert_eq!(second.backend(), expected);
        // Two pools at once, as two server processes would have.
        let third = Db::connect(url).await.expect("third connect");
        assert!(third.user_by_username("ALICE").await.expect("read").is_some());
        second.close().await;
        third.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_sqlite_file_and_its_directory_are_created_in_wal_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("data/sub/gantry.db");
    let db = Db::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("connect");
    db.create_user("bob", false, crate::NOW).await.expect("user");
    assert!(file.exists());
    // The write-ahead log sits beside the database while connections are open.
    assert!(dir.path().join("data/sub/gantry.db-wal").exists());
    db.close().await;
}

#[tokio::test]
async fn an_in_memory_sqlite_database_keeps_its_rows_across_calls() {
    let db = Db::connect("sqlite::memory:").await.expect("connect");
    let user = db.create_user("carol", false, crate::NOW).await.expect("user");
    assert_eq!(db.user(user.id).await.expect("read"), Some(user));
}

#[tokio::test]
async fn unsupported_urls_are_refused_without_their_password() {
    let err = Db::connect("mysql://root:hunter2@localhost/db")
        .await
        .expect_err("mysql");
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}
