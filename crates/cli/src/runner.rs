//! `gantry runner register|run`: the runner that takes jobs from a server over the runner
//! protocol (`gantry-agent`), with its configuration file.

use crate::cli::{RegisterArgs, RunnerCommand, RunnerRunArgs};
use anyhow::Context as _;
use gantry_agent::client::Client;
use gantry_agent::config::{Config, RunnerConfig};
use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

pub(crate) fn run(command: &RunnerCommand) -> anyhow::Result<ExitCode> {
    crate::server::init_logs();
    let runtime = crate::server::runtime()?;
    match command {
        RunnerCommand::Register(args) => runtime.block_on(register(args)),
        RunnerCommand::Run(args) => runtime.block_on(serve(args)),
    }
}

async fn register(args: &RegisterArgs) -> anyhow::Result<ExitCode> {
    let id = Client::new(&args.url, &args.token)
        .verify()
        .await
        .with_context(|| format!("the server at {} does not take this token", args.url))?;
    let mut config = Config::load(&args.config)?;
    config.runners.retain(|r| r.token != args.token);
    config.runners.push(RunnerConfig {
        name: args.name.clone(),
        url: args.url.clone(),
        token: args.token.clone(),
        executor: args.executor.clone(),
        builds_dir: args.builds_dir.clone(),
        cache_dir: args.cache_dir.clone(),
    });
    config.save(&args.config)?;
    // Loading it again checks what was written (the executor, the TOML).
    Config::load(&args.config)?;
    println!(
        "runner {id} ({}) registered in {}; start it with: gantry runner run --config {}",
        args.name,
        args.config.display(),
        args.config.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: &RunnerRunArgs) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(&args.config)?;
    anyhow::ensure!(
        !config.runners.is_empty(),
        "{} has no runner: add one with `gantry runner register`",
        args.config.display()
    );
    if let Some(n) = args.concurrency {
        config.concurrent = n.max(1);
    }
    let drain = CancellationToken::new();
    let stop = CancellationToken::new();
    let mut quit = signal(SignalKind::quit()).context("listening for SIGQUIT")?;
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    {
        let (drain, stop) = (drain.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = quit.recv() => {
                        eprintln!("gantry runner: SIGQUIT: finishing the running jobs, taking no new ones");
                        drain.cancel();
                    }
                    _ = term.recv() => {
                        eprintln!("gantry runner: SIGTERM: canceling the running jobs");
                        stop.cancel();
                    }
                    _ = tokio::signal::ctrl_c() => {
                        eprintln!("gantry runner: interrupted: canceling the running jobs");
                        stop.cancel();
                    }
                }
            }
        });
    }
    println!(
        "gantry runner: {} runner(s), {} job(s) at once",
        config.runners.len(),
        config.concurrent
    );
    gantry_agent::run::run(&config, &args.config, drain, stop).await;
    println!("gantry runner: stopped");
    Ok(ExitCode::SUCCESS)
}
