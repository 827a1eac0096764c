//! `gantry runner register|run`: the runner that takes jobs from a server over the runner
//! protocol (`gantry-agent`), with its configuration file.

use crate::cli::{CreateArgs, RegisterArgs, RunnerCommand, RunnerRunArgs, RunnerSettings};
use anyhow::Context as _;
use gantry_agent::client::Client;
use gantry_agent::config::{Config, RunnerConfig};
use serde_json::{Value, json};
use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

pub(crate) fn run(command: &RunnerCommand) -> anyhow::Result<ExitCode> {
    crate::server::init_logs();
    let runtime = crate::server::runtime()?;
    match command {
        RunnerCommand::Register(args) => runtime.block_on(register(args)),
        RunnerCommand::Run(args) => runtime.block_on(serve(args)),
        RunnerCommand::Create(args) => runtime.block_on(create(args)),
    }
}

/// The JSON body the server takes for a new runner's settings.
fn settings_json(s: &RunnerSettings) -> Value {
    let tags: Vec<&str> = s
        .tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    let mut body = json!({
        "tag_list": tags,
        "run_untagged": s.run_untagged || tags.is_empty(),
        "paused": s.paused,
        "access_level": if s.protected { "ref_protected" } else { "not_protected" },
    });
    // Unsaid, the server decides (a project runner registered with a token is locked).
    if s.locked {
        body["locked"] = json!(true);
    }
    if let Some(d) = &s.description {
        body["description"] = json!(d);
    }
    if let Some(t) = s.maximum_timeout {
        body["maximum_timeout"] = json!(t);
    }
    body
}

async fn create(args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.url, &args.token);
    let mut body = settings_json(&args.settings);
    match &args.project {
        Some(project) => {
            let id = match project.parse::<i64>() {
                Ok(id) => id,
                Err(_) => client
                    .project_id(project)
                    .await
                    .with_context(|| format!("finding the project {project}"))?,
            };
            body["runner_type"] = json!("project_type");
            body["project_id"] = json!(id);
        }
        None => body["runner_type"] = json!("instance_type"),
    }
    let (id, token) = client
        .create(&body)
        .await
        .with_context(|| format!("creating a runner on {}", args.url))?;
    eprintln!(
        "runner {id} created; its token, shown only now, follows. Register it with: \
         gantry runner register --url {} --token <token>",
        args.url
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

async fn register(args: &RegisterArgs) -> anyhow::Result<ExitCode> {
    // Read first: a runner created below is not lost to a broken file.
    let config = Config::load(&args.config)?;
    let (token, created) = match (&args.token, &args.registration_token) {
        (Some(token), _) => (token.clone(), false),
        (None, Some(registration)) => {
            let (id, token) = Client::new(&args.url, registration)
                .register(&settings_json(&args.settings))
                .await
                .with_context(|| format!("registering a runner on {}", args.url))?;
            eprintln!("runner {id} created with the registration token");
            (token, true)
        }
        (None, None) => anyhow::bail!("--token or --registration-token is needed"),
    };
    let saved = save_runner(args, config, &token).await;
    if saved.is_err() && created {
        // The runner exists on the server: its token, so that it is not lost.
        eprintln!("the runner was created but not saved; register it again with --token {token}");
    }
    saved
}

/// Verifies `token` and writes the runner into the configuration.
async fn save_runner(args: &RegisterArgs, mut config: Config, token: &str) -> anyhow::Result<ExitCode> {
    let token = token.to_owned();
    let id = Client::new(&args.url, &token)
        .verify()
        .await
        .with_context(|| format!("the server at {} does not take this token", args.url))?;
    config.runners.retain(|r| r.token != token);
    config.runners.push(RunnerConfig {
        name: args.name.clone(),
        url: args.url.clone(),
        token,
        executor: args.executor.clone(),
        builds_dir: args.builds_dir.clone(),
        cache_dir: args.cache_dir.clone(),
        docker: (args.executor == "docker").then(|| args.docker.section()),
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
    let engines = gantry_agent::run::engines(&config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    gantry_agent::run::run(&config, &args.config, &engines, drain, stop).await;
    println!("gantry runner: stopped");
    Ok(ExitCode::SUCCESS)
}
