//! The runner's main loop: `concurrent` slots, each asking its server for a job (a long
//! poll once the server's tick is known), running it, and asking again. Server errors and
//! lost connections back off from 1 s to at most 30 s, so a restarting server is back in
//! use within seconds, never after an hour.
//!
//! `drain` (SIGQUIT) stops asking for jobs and lets the running ones finish; `stop`
//! (SIGTERM, Ctrl-C) also cancels the running ones, which are reported failed.

use crate::client::{Client, Poll};
use crate::config::Config;
use crate::job::{self, Slot};
use gantry_executor::docker::Engine;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long the server may hold a poll (it holds at most its own limit, 50 s by default).
const HOLD: Duration = Duration::from_secs(60);
/// The pause after a poll the server answered at once with no job.
const CHECK_INTERVAL: Duration = Duration::from_secs(3);
/// The longest back-off after failed polls.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The container engine of each runner of `config` (`None` for shell runners), connected,
/// with what crashed runners left on it removed.
pub async fn engines(config: &Config) -> Result<Vec<Option<Engine>>, String> {
    let mut out = Vec::new();
    for runner in &config.runners {
        if runner.executor != "docker" {
            out.push(None);
            continue;
        }
        let settings = runner.docker.clone().unwrap_or_default().executor_config()?;
        let engine = Engine::connect(settings)
            .await
            .map_err(|e| format!("runner {:?}: {e}", runner.name))?;
        match engine.remove_leftovers().await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(runner = %runner.name, removed = n, "removed containers and networks of jobs that outlived their runner")
            }
            Err(e) => tracing::warn!(runner = %runner.name, error = %e, "looking for leftover containers"),
        }
        out.push(Some(engine));
    }
    Ok(out)
}

/// Runs the runners of `config` until `drain` or `stop` is cancelled and their jobs ended;
/// `engines` are those [`engines`] gave.
pub async fn run(
    config: &Config,
    config_path: &Path,
    engines: &[Option<Engine>],
    drain: CancellationToken,
    stop: CancellationToken,
) {
    let mut tasks = tokio::task::JoinSet::new();
    let mut index = 0;
    for (i, runner) in config.runners.iter().enumerate() {
        let (builds_dir, cache_dir) = runner.dirs(config_path);
        let client = Client::new(&runner.url, &runner.token);
        for _ in 0..config.concurrent.max(1) {
            let slot = Slot {
                index,
                builds_dir: builds_dir.clone(),
                cache_dir: cache_dir.clone(),
                docker: engines.get(i).cloned().flatten(),
            };
            index += 1;
            let (client, drain, stop, name) =
                (client.clone(), drain.clone(), stop.clone(), runner.name.clone());
            tasks.spawn(async move { poll_loop(&client, &slot, &name, &drain, &stop).await });
        }
    }
    while tasks.join_next().await.is_some() {}
}

async fn poll_loop(
    client: &Client,
    slot: &Slot,
    name: &str,
    drain: &CancellationToken,
    stop: &CancellationToken,
) {
    let mut last_update: Option<String> = None;
    let mut backoff = Duration::from_secs(1);
    // Polls in a row answered at once with no job.
    let mut quick = 0;
    loop {
        if drain.is_cancelled() || stop.is_cancelled() {
            return;
        }
        let asked = Instant::now();
        let poll = tokio::select! {
            p = client.request(last_update.as_deref(), HOLD) => p,
            _ = drain.cancelled() => return,
            _ = stop.cancelled() => return,
        };
        match poll {
            Ok(Poll::Job(payload)) => {
                backoff = Duration::from_secs(1);
                quick = 0;
                job::run(client, *payload, slot, stop).await;
            }
            Ok(Poll::Nothing(tick)) => {
                backoff = Duration::from_secs(1);
                // Answered at once: right after a first poll or one with an old tick, the
                // next poll, with the new tick, is held, so it goes at once. A server that
                // answered the current tick at once, or twice in a row, does not hold polls:
                // then wait between them.
                let at_once = asked.elapsed() < Duration::from_secs(1);
                let sent_current = last_update.as_deref() == Some(tick.as_str());
                last_update = Some(tick);
                if at_once {
                    quick += 1;
                    if sent_current || quick >= 2 {
                        quick = 0;
                        pause(CHECK_INTERVAL, drain, stop).await;
                    }
                } else {
                    quick = 0;
                }
            }
            Err(e) => {
                tracing::warn!(runner = name, slot = slot.index, error = %e, "asking for a job; trying again in {} s", backoff.as_secs());
                last_update = None;
                pause(backoff, drain, stop).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn pause(d: Duration, drain: &CancellationToken, stop: &CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = drain.cancelled() => {}
        _ = stop.cancelled() => {}
    }
}
