//! One container of a job from creation to removal: its output goes to the log as it
//! comes, a timeout or a cancel stops it (SIGTERM, then SIGKILL).

use super::Engine;
use crate::log::{Ended, Lines, LogSink};
use bollard::container::LogOutput;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a container gets between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// How long to keep reading output after the container stopped.
const DRAIN: Duration = Duration::from_secs(2);

/// Creates a container; its id.
pub(crate) async fn create(
    engine: &Engine,
    body: ContainerCreateBody,
    platform: Option<&str>,
) -> Result<String, bollard::errors::Error> {
    let mut options = CreateContainerOptionsBuilder::new();
    if let Some(p) = platform {
        options = options.platform(p);
    }
    Ok(engine
        .docker
        .create_container(Some(options.build()), body)
        .await?
        .id)
}

/// Removes a container and its anonymous volumes, whatever its state.
pub(crate) async fn remove(engine: &Engine, id: &str) {
    let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
    if let Err(e) = engine.docker.remove_container(id, Some(options)).await {
        tracing::warn!(container = id, error = %e, "removing a job container");
    }
}

/// Starts a created container and follows it to its end, its output into `sink`.
pub(crate) async fn run(
    engine: &Engine,
    id: &str,
    timeout: Duration,
    cancel: &CancellationToken,
    sink: &mut LogSink,
) -> Ended {
    if let Err(e) = engine.docker.start_container(id, None).await {
        return Ended::SpawnFailed(e.to_string());
    }
    let options = LogsOptionsBuilder::new()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut logs = engine.docker.logs(id, Some(options));
    let (mut out, mut err) = (Lines::default(), Lines::default());
    let mut take = |chunk: LogOutput, sink: &mut LogSink| {
        let lines = match chunk {
            LogOutput::StdErr { message } => err.push(&message),
            LogOutput::StdOut { message } | LogOutput::Console { message } => out.push(&message),
            LogOutput::StdIn { .. } => Vec::new(),
        };
        for line in lines {
            sink.line(&line);
        }
    };
    let ended = {
        let wait = async {
            tokio::select! {
                ended = exit_code(engine, id) => ended,
                _ = tokio::time::sleep(timeout) => Ended::TimedOut,
                _ = cancel.cancelled() => Ended::Canceled,
            }
        };
        tokio::pin!(wait);
        let mut open = true;
        loop {
            tokio::select! {
                ended = &mut wait => break ended,
                chunk = logs.next(), if open => match chunk {
                    Some(Ok(chunk)) => take(chunk, sink),
                    _ => open = false,
                },
            }
        }
    };
    if matches!(ended, Ended::TimedOut | Ended::Canceled) {
        stop(engine, id).await;
    }
    let deadline = tokio::time::sleep(DRAIN);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            chunk = logs.next() => match chunk {
                Some(Ok(chunk)) => take(chunk, sink),
                _ => break,
            },
            _ = &mut deadline => break,
        }
    }
    for rest in [out.finish(), err.finish()].into_iter().flatten() {
        sink.line(&rest);
    }
    ended
}

/// The container's exit code once it stopped. An engine that answers a wait only when the
/// container stops runs into the client's request timeout on long jobs: then it is asked again.
async fn exit_code(engine: &Engine, id: &str) -> Ended {
    loop {
        let mut waiting = engine.docker.wait_container(id, None);
        return match waiting.next().await {
            Some(Ok(s)) => Ended::Exited(i32::try_from(s.status_code).unwrap_or(1)),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
                Ended::Exited(i32::try_from(code).unwrap_or(1))
            }
            Some(Err(bollard::errors::Error::RequestTimeoutError)) => continue,
            Some(Err(e)) => Ended::SpawnFailed(e.to_string()),
            None => Ended::SpawnFailed("the engine stopped answering".into()),
        };
    }
}

/// SIGTERM, then SIGKILL after the grace (a shell as PID 1 ignores SIGTERM).
async fn stop(engine: &Engine, id: &str) {
    let signal = |s: &str| KillContainerOptionsBuilder::new().signal(s).build();
    if engine
        .docker
        .kill_container(id, Some(signal("SIGTERM")))
        .await
        .is_err()
    {
        return;
    }
    let mut waiting = engine.docker.wait_container(id, None);
    if tokio::time::timeout(KILL_GRACE, waiting.next()).await.is_err() {
        let _ = engine.docker.kill_container(id, Some(signal("SIGKILL"))).await;
    }
}
