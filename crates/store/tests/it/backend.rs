//! Runs a test once per available database: SQLite always, PostgreSQL when
//! `GANTRY_TEST_POSTGRES_URL` names a server where the test may create databases. Each
//! PostgreSQL run gets its own database `gantry_test_<unique>`, dropped afterwards, so tests
//! run in parallel.

use futures_util::FutureExt;
use gantry_store::db::{Db, NewProject, Project};
use sqlx::{AssertSqlSafe, Connection};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether a missing test service fails the test (in CI) rather than skipping it.
pub(crate) fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The PostgreSQL server URL to test against, if any (see the module docs).
fn postgres_admin_url() -> Option<String> {
    match std::env::var("GANTRY_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => panic!(
            "GANTRY_TEST_POSTGRES_URL is not set and CI=true: the store tests must also run on \
             PostgreSQL in CI; start it with `eval \"$(bash scripts/services.sh start)\"`"
        ),
        _ => {
            eprintln!(
                "skipped: the PostgreSQL run (GANTRY_TEST_POSTGRES_URL is not set; see scripts/services.sh)"
            );
            None
        }
    }
}

/// A name no other test process or test uses.
pub(crate) fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}_{nanos}_{n}", std::process::id())
}

/// `url` with its database name replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Runs `test` with the URL of an empty database of each available backend.
pub(crate) async fn each_backend_url(test: impl AsyncFn(&str)) {
    let dir = tempfile::tempdir().expect("temporary directory");
    eprintln!("backend: sqlite");
    test(&format!("sqlite://{}/gantry.db", dir.path().display())).await;
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    eprintln!("backend: postgres");
    let name = unique_name("gantry_test_");
    let mut conn = sqlx::postgres::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("connecting to GANTRY_TEST_POSTGRES_URL: {e}"));
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("creating the test database");
    let outcome = AssertUnwindSafe(test(&with_database(&admin, &name)))
        .catch_unwind()
        .await;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
        .execute(&mut conn)
        .await
        .expect("dropping the test database");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Runs `test` with a connected, migrated, empty [`Db`] of each available backend.
pub(crate) async fn each_backend(test: impl AsyncFn(Db)) {
    each_backend_url(async |url| {
        let db = Db::connect(url).await.expect("connecting");
        test(db.clone()).await;
        db.close().await;
    })
    .await;
}

/// A user and a project `group/<name>` of theirs.
pub(crate) async fn project(db: &Db, name: &str) -> Project {
    let user = match db.user_by_username("owner").await.expect("user") {
        Some(u) => u,
        None => db
            .create_user("owner", false, crate::NOW)
            .await
            .expect("create user"),
    };
    let new = NewProject {
        namespace: "group".to_owned(),
        name: name.to_owned(),
        default_branch: "main".to_owned(),
        visibility: "private".to_owned(),
        creator_id: user.id,
    };
    db.create_project(&new, crate::NOW).await.expect("create project")
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t"),
        "postgres://postgres@127.0.0.1:5432/t"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "t"),
        "postgres://u:p@h/t?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "t"), "postgres://h/t");
}
