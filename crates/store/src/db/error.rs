//! [`StoreError`]: every way a database operation can fail, named after what was being done.

use std::path::PathBuf;

/// A database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database (`sqlite:` or `postgres:`).
    #[error("unsupported database url {url:?}: expected sqlite:// or postgres://")]
    UnsupportedUrl {
        /// The URL, with any password removed.
        url: String,
    },
    /// The directory of the SQLite file could not be created.
    #[error("creating the database directory {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Connecting (or setting up a new connection) failed.
    #[error("connecting to the database {url}")]
    Connect {
        /// The URL, with any password removed.
        url: String,
        /// Why it failed.
        #[source]
        source: sqlx::Error,
    },
    /// Bringing the schema up to date failed.
    #[error("running the database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A query failed for another reason than the ones below.
    #[error("{op}")]
    Query {
        /// What was being done, as a lowercase phrase (`creating a pipeline`).
        op: &'static str,
        /// Why it failed.
        #[source]
        source: sqlx::Error,
    },
    /// The row the operation needs does not exist.
    #[error("{entity} {id} not found")]
    NotFound {
        /// What was looked for (`job`, `pipeline`, ...).
        entity: &'static str,
        /// Its id.
        id: i64,
    },
    /// A unique key is taken (a project path, a token hash, ...) or the row is in a state that
    /// forbids the operation (retrying a job that was already retried).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A trace append did not start at the trace's current length (GitLab answers `416 Range
    /// Not Satisfiable` with the length it has).
    #[error("trace offset {given} does not match the trace length {expected}")]
    TraceOffset {
        /// The length the trace has: where the next append must start.
        expected: i64,
        /// The offset that was given.
        given: i64,
    },
    /// An argument the database cannot store as given.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The argument.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl StoreError {
    /// Whether this is a [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }
}

/// The mapping for a failed query: unique violations become [`StoreError::Conflict`], the
/// rest [`StoreError::Query`] named `op`.
pub(crate) fn query_error(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| match &source {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("{op}: {}", db.message()))
        }
        _ => StoreError::Query { op, source },
    }
}
