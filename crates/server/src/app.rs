//! The server as a whole: its shared parts ([`Core`]), the HTTP router, and [`start`], which
//! opens the stores, creates the first administrator, resumes unfinished pipelines and serves.

use crate::config::ServerConfig;
use crate::git::Repositories;
use crate::metrics::Metrics;
use crate::scheduler::Scheduler;
use crate::secrets::{Secrets, SecretsError};
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use gantry_store::blob::{BlobError, BlobStore};
use gantry_store::db::{Db, Project, StoreError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Starting the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data directory or the listening socket.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The database.
    #[error("opening the database")]
    Store(#[from] StoreError),
    /// The blob store.
    #[error("opening the blob store")]
    Blob(#[from] BlobError),
    /// The server key.
    #[error("loading the server key")]
    Secrets(#[from] SecretsError),
    /// Resuming pipelines.
    #[error("resuming pipelines")]
    Schedule(#[from] crate::scheduler::ScheduleError),
}

/// What every part of the server shares.
pub struct Core {
    /// State.
    pub db: Db,
    /// Artifacts.
    pub blobs: BlobStore,
    /// The git repositories.
    pub repos: Repositories,
    /// Seals variable values.
    pub secrets: Secrets,
    /// The settings it was started with.
    pub config: ServerConfig,
    /// The URL users and jobs reach the server at, without a trailing `/`.
    pub external_url: String,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Stored changes, for the dashboard's live pages.
    pub live: crate::live::Live,
}

impl Core {
    /// Where the bare repositories live.
    pub fn repos_root(&self) -> PathBuf {
        self.repos.root().to_path_buf()
    }

    /// The bare repository of a project path.
    pub fn repo_dir(&self, project_path: &str) -> PathBuf {
        self.repos_root().join(format!("{project_path}.git"))
    }

    /// Whether a ref is protected: a branch one of the project's protected branch rules
    /// covers (a new project's default branch is). Tags are not protected (gantry has no
    /// protected tags yet). When the rules cannot be read, the ref counts as unprotected, so
    /// protected variables are withheld rather than leaked.
    pub async fn is_protected(&self, project: &Project, ref_name: &str, tag: bool) -> bool {
        if tag {
            return false;
        }
        match self.db.protected_branches(project.id).await {
            Ok(rules) => rules.iter().any(|r| r.matches(ref_name)),
            Err(e) => {
                tracing::error!(error = %e, project = %project.path, "reading protected branches");
                false
            }
        }
    }
}

/// The state every request handler gets.
pub struct AppState {
    /// The shared parts.
    pub core: Arc<Core>,
    /// Pipelines.
    pub scheduler: Scheduler,
}

/// Every route: the API, git over HTTP, health and metrics.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(crate::api::routes())
        .merge(crate::dashboard::routes())
        .merge(crate::registry::routes())
        .route("/-/health", get(|| async { "gantry OK" }))
        .route("/-/readiness", get(readiness))
        .route("/metrics", get(metrics))
        .fallback(crate::dashboard::fallback)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn readiness(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match state
        .core
        .db
        .list_projects(None, gantry_store::db::Page { page: 1, per_page: 1 })
        .await
    {
        Ok(_) => (axum::http::StatusCode::OK, r#"{"status":"ok"}"#),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"failed"}"#,
        ),
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.core.metrics.encode(),
    )
}

/// A started server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its external URL.
    pub url: String,
    /// The administrator's token when this start created it (print it once).
    pub root_token: Option<String>,
    /// How many unfinished pipelines were resumed.
    pub resumed: usize,
    /// The serving task.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Opens everything and serves on `config.listen` until the returned task is aborted.
pub async fn start(config: ServerConfig) -> Result<Running, ServerError> {
    let io = |what: String| move |source| ServerError::Io { what, source };
    let data = &config.data_dir;
    std::fs::create_dir_all(data).map_err(io(format!("creating {}", data.display())))?;
    let db_url = config
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data.join("gantry.db").display()));
    let db = Db::connect(&db_url).await?;
    let blobs = match &config.blob_url {
        Some(url) => BlobStore::from_url(url)?,
        None => BlobStore::filesystem(data.join("blobs"))?,
    };
    let secrets = Secrets::load(data)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(io(format!("listening on {}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(io("reading the listening address".into()))?;
    let url = config
        .external_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let repos = Repositories::new(data.join("repos"), config.max_push_bytes);
    let core = Arc::new(Core {
        db,
        blobs,
        repos,
        secrets,
        config,
        external_url: url.clone(),
        metrics: Metrics::new(),
        live: crate::live::Live::new(),
    });
    let root_token = crate::bootstrap::first_admin(&core).await?;
    let scheduler = Scheduler::new(core.clone());
    let resumed = scheduler.recover().await?;
    crate::housekeeping::spawn(core.clone());
    let state = Arc::new(AppState { core, scheduler });
    crate::environments::spawn_auto_stop(state.clone());
    let app = router(state);
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Running {
        addr,
        url,
        root_token,
        resumed,
        task,
    })
}
