//! [`Db`]: the connection pool, opened on SQLite or PostgreSQL from a URL, with the schema
//! migrated at connect; and the write transactions every module uses.
//!
//! SQLite has one writer at a time. Write transactions on it start with `BEGIN IMMEDIATE`
//! (so a transaction that reads and then writes never fails with `SQLITE_BUSY` half way), and
//! writers of this process queue on an in-process lock instead of polling the file lock, so
//! a burst of writers is served in order. PostgreSQL takes row locks instead.

use super::error::{StoreError, query_error};
use sqlx::AnyPool;
use sqlx::any::{Any, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Executor, Transaction};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a SQLite statement waits for another process's write lock before failing.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

/// How long a pooled SQLite connection beyond the first may stay idle before it is closed.
const SQLITE_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (the default, in the data directory).
    Sqlite,
    /// A PostgreSQL server (at scale).
    Postgres,
}

impl Backend {
    /// The backend a URL names: `sqlite:` or `postgres:`/`postgresql:`.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The database: a connection pool on SQLite or PostgreSQL. Cheap to clone (clones share
/// the pool). Every method takes the times it writes as arguments (epoch milliseconds).
#[derive(Debug, Clone)]
pub struct Db {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// Serializes this process's SQLite writers (unused on PostgreSQL).
    writers: Arc<Mutex<()>>,
}

impl Db {
    /// Opens the database and brings its schema up to date.
    ///
    /// URLs: `sqlite:///abs/path/gantry.db`, `sqlite://relative.db` (the file and its
    /// directory are created when missing, unless the URL gives its own `mode=`),
    /// `sqlite::memory:` (one connection, for tests), and
    /// `postgres://user:password@host:port/database`. SQLite files are put in WAL mode, with
    /// foreign keys on and a busy timeout. Connecting twice is harmless: migrations already
    /// applied are skipped.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let shown = redact(url);
        let backend =
            Backend::of_url(url).ok_or_else(|| StoreError::UnsupportedUrl { url: shown.clone() })?;
        let connect_error = |source| StoreError::Connect {
            url: shown.clone(),
            source,
        };
        let (pool, migrator) = match backend {
            Backend::Sqlite => {
                let target = SqliteTarget::parse(url)?;
                // Connections beyond the first close after a while idle, and each keeps a small
                // page cache: an idle server holds little memory (the OS caches the file).
                let mut options = AnyPoolOptions::new()
                    .max_connections(if target.memory { 1 } else { 8 })
                    .min_connections(1)
                    .idle_timeout(Some(SQLITE_IDLE_TIMEOUT))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute(sqlx::AssertSqlSafe(format!(
                                "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"
                            )))
                            .await?;
                            // With WAL, NORMAL stays consistent after a crash; a power cut
                            // may lose the last commits.
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA cache_size = -1024").await?;
                            Ok(())
                        })
                    });
                if target.memory {
                    // Each connection to `:memory:` is its own database: keep the one alive.
                    options = options.min_connections(1).idle_timeout(None).max_lifetime(None);
                }
                let pool = options.connect(&target.url).await.map_err(connect_error)?;
                if !target.memory {
                    pool.execute("PRAGMA journal_mode = WAL")
                        .await
                        .map_err(connect_error)?;
                }
                (pool, &SQLITE_MIGRATIONS)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .connect(url)
                    .await
                    .map_err(connect_error)?;
                (pool, &POSTGRES_MIGRATIONS)
            }
        };
        migrator.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(Db {
            pool,
            backend,
            writers: Arc::new(Mutex::new(())),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; calls made afterwards fail. Waits for calls in flight.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// On SQLite, waits for this process's other writers; on PostgreSQL, nothing. Hold the
    /// guard across a single-statement write.
    pub(crate) async fn write_lock(&self) -> Option<MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writers.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite, after [`Db::write_lock`]).
    pub(crate) async fn begin_write(&self, op: &'static str) -> Result<Write<'_>, StoreError> {
        let lock = self.write_lock().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(query_error(op))?;
        Ok(Write { tx, _lock: lock })
    }
}

/// A write transaction; dropping it without [`Write::commit`] rolls it back.
pub(crate) struct Write<'a> {
    /// The transaction (declared first: it ends before the lock is released).
    pub(crate) tx: Transaction<'static, Any>,
    _lock: Option<MutexGuard<'a, ()>>,
}

impl Write<'_> {
    /// Commits, then lets the next writer in.
    pub(crate) async fn commit(self, op: &'static str) -> Result<(), StoreError> {
        let Write { tx, _lock } = self;
        tx.commit().await.map_err(query_error(op))
    }
}

/// A SQLite URL made ready for sqlx: `mode=rwc` added unless a mode is given, so a missing
/// file is created.
struct SqliteTarget {
    url: String,
    memory: bool,
}

impl SqliteTarget {
    fn parse(url: &str) -> Result<SqliteTarget, StoreError> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        let memory = path == ":memory:" || params.contains(&"mode=memory");
        if memory {
            // `sqlite::memory:` is already what sqlx wants; `sqlite://:memory:` would not parse.
            return Ok(SqliteTarget {
                url: url.to_owned(),
                memory,
            });
        }
        let mut params: Vec<String> = params.iter().map(|p| (*p).to_owned()).collect();
        if !params.iter().any(|p| p.starts_with("mode=")) {
            params.push("mode=rwc".to_owned());
        }
        if params.iter().any(|p| p == "mode=rwc") {
            create_parent_dir(Path::new(path))?;
        }
        let url = if params.is_empty() {
            format!("sqlite://{path}")
        } else {
            format!("sqlite://{path}?{}", params.join("&"))
        };
        Ok(SqliteTarget { url, memory })
    }
}

fn create_parent_dir(file: &Path) -> Result<(), StoreError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })
        }
        _ => Ok(()),
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }

    #[test]
    fn sqlite_files_are_created_unless_a_mode_is_given() {
        let t = SqliteTarget::parse("sqlite::memory:").expect("memory");
        assert!(t.memory);
        let dir = std::env::temp_dir().join(format!("gantry-store-url-{}", std::process::id()));
        let file = dir.join("sub/g.db");
        let t = SqliteTarget::parse(&format!("sqlite://{}", file.display())).expect("parse");
        assert_eq!(t.url, format!("sqlite://{}?mode=rwc", file.display()));
        assert!(file.parent().is_some_and(Path::exists));
        let t = SqliteTarget::parse("sqlite://x.db?mode=ro").expect("parse");
        assert_eq!(t.url, "sqlite://x.db?mode=ro");
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
