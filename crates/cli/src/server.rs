//! `gantry server`: starts the server on the flags' settings, prints where it listens (and
//! the administrator's token the first time), and serves until Ctrl-C.

use crate::cli::ServerArgs;
use anyhow::Context as _;
use gantry_server::config::ServerConfig;
use std::process::ExitCode;

pub(crate) fn run(args: &ServerArgs) -> anyhow::Result<ExitCode> {
    init_logs();
    let mut config = ServerConfig::new(args.data_dir.clone());
    config.listen = args.listen;
    config.database_url = args.database_url.clone();
    config.blob_url = args.blob_url.clone();
    config.external_url = args.external_url.clone();
    config.sweep_interval = std::time::Duration::from_secs(args.sweep_interval.max(1));
    config.auto_stop_interval = std::time::Duration::from_secs(args.auto_stop_interval.max(1));
    if let Some(n) = args.max_push_bytes {
        config.max_push_bytes = n;
    }
    if let Some(n) = args.max_artifacts_bytes {
        config.max_artifacts_bytes = n;
    }
    if let Some(n) = args.max_trace_bytes {
        config.max_trace_bytes = n;
    }
    if let Some(n) = args.concurrency {
        config.concurrency = n;
    }
    let seconds = std::time::Duration::from_secs;
    config.runner_poll_timeout = seconds(args.runner_poll_timeout);
    config.runner_ack_timeout = seconds(args.runner_ack_timeout.max(1));
    config.runner_heartbeat_timeout = seconds(args.runner_heartbeat_timeout.max(1));
    config.pending_job_timeout = seconds(args.pending_job_timeout.max(1));
    let runtime = crate::server::runtime()?;
    runtime.block_on(async {
        config.executors = crate::run::executors(args.executor, &args.docker, false).await?;
        let running = crate::server::start(config).await?;
        println!("gantry server listening on {}", running.url);
        if let Some(token) = &running.root_token {
            println!("administrator `root` created; its API token (shown once): {token}");
        }
        if running.resumed > 0 {
            println!("resumed {} unfinished pipeline(s)", running.resumed);
        }
        tokio::select! {
            served = running.task => {
                served.context("the server task")?.context("serving")?;
            }
            _ = tokio::signal::ctrl_c() => println!("gantry server: stopping"),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The multi-threaded runtime the server runs on.
/// Structured logs on stderr, `GANTRY_LOG` choosing what (default `info`).
pub(crate) fn init_logs() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GANTRY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
}

/// Starts the server (inside [`runtime`]).
pub(crate) async fn start(config: ServerConfig) -> anyhow::Result<gantry_server::app::Running> {
    // What a finished pipeline freed goes back to the OS (see gantry-alloc).
    tokio::spawn(async {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            every.tick().await;
            let _ = tokio::task::spawn_blocking(gantry_alloc::release_free_memory).await;
        }
    });
    gantry_server::app::start(config)
        .await
        .map_err(anyhow::Error::new)
        .context("starting the server")
}
