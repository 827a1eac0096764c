//! How a server is started: where it listens, keeps its data, and how it names itself.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The server's settings (from `gantry server` flags).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Where repositories, the SQLite database, blobs, builds and the secret key live.
    pub data_dir: PathBuf,
    /// `postgres://...` or `sqlite://...`; SQLite in the data directory when `None`.
    pub database_url: Option<String>,
    /// The blob store: `file:///dir` or `s3://bucket?endpoint=...`; `<data dir>/blobs` when `None`.
    pub blob_url: Option<String>,
    /// The URL users and jobs reach the server at; `http://<listen address>` when `None`.
    pub external_url: Option<String>,
    /// How many jobs the in-process runner runs at once (0: none; every job waits for a
    /// runner asking over the runner protocol).
    pub concurrency: usize,
    /// How long a runner's `POST /jobs/request` is held when no job is ready.
    pub runner_poll_timeout: std::time::Duration,
    /// How long a runner has to confirm a job it took before the job is queued again.
    pub runner_ack_timeout: std::time::Duration,
    /// How long a running job's runner may stay silent before the job fails.
    pub runner_heartbeat_timeout: std::time::Duration,
    /// How long a job may wait for a runner before it fails as stuck (GitLab: a day).
    pub pending_job_timeout: std::time::Duration,
    /// The largest push accepted, in bytes.
    pub max_push_bytes: u64,
    /// The largest artifact a runner may upload, in bytes.
    pub max_artifacts_bytes: u64,
    /// The largest job log a runner may send, in bytes; past it the job fails
    /// (`trace_size_exceeded`).
    pub max_trace_bytes: u64,
    /// How often expired artifacts are looked for and deleted.
    pub sweep_interval: std::time::Duration,
    /// How often environments past their `auto_stop_in` are looked for.
    pub auto_stop_interval: std::time::Duration,
    /// The token of `root` when the first start creates it (else `GANTRY_INITIAL_ROOT_TOKEN`,
    /// else a random one).
    pub initial_root_token: Option<String>,
    /// The executors of the in-process runner (the shell unless set).
    pub executors: gantry_runner::container::Executors,
}

impl ServerConfig {
    /// Defaults for a data directory: listen on 127.0.0.1:8080, SQLite and files in `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir,
            database_url: None,
            blob_url: None,
            external_url: None,
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()).max(2),
            runner_poll_timeout: std::time::Duration::from_secs(50),
            runner_ack_timeout: std::time::Duration::from_secs(120),
            // The runner sends a keep-alive at least every 30 s while a job runs.
            runner_heartbeat_timeout: std::time::Duration::from_secs(120),
            pending_job_timeout: std::time::Duration::from_secs(24 * 3600),
            max_push_bytes: 2 << 30,
            // GitLab's default maximum artifacts size (100 MB).
            max_artifacts_bytes: 100 << 20,
            max_trace_bytes: 100 << 20,
            sweep_interval: std::time::Duration::from_secs(600),
            auto_stop_interval: std::time::Duration::from_secs(60),
            initial_root_token: None,
            executors: gantry_runner::container::Executors::shell(),
        }
    }
}
