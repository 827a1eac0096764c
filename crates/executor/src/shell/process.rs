//! Running a generated program in its own process group, with timeout, cancel and a
//! bounded log; every process of the group is gone when a run returns.

use super::script::render_main;
use crate::job::{FailureKind, JobOutcome, JobSpec};
use crate::log::{Ended, LogSink, after_script};
use crate::vars::{prepare_env, remove_file_variables, rewrite};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// How long a process group gets between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// How long to keep reading output after the shell exited (a daemon may hold the pipe).
const DRAIN: Duration = Duration::from_millis(500);

/// Runs one attempt of a job: `before_script` + `script`, then `after_script`.
/// Log lines (without newline) go to `log`; at most `spec.log_limit` bytes are sent.
pub async fn run(spec: &JobSpec, log: &UnboundedSender<String>, cancel: &CancellationToken) -> JobOutcome {
    let mut sink = LogSink::new(log, spec.log_limit);
    let bash = which("bash");
    let shell = if bash { "bash" } else { "sh" };
    let env = match prepare_env(spec, &spec.tmp_dir) {
        Ok(env) => env,
        Err(e) => {
            sink.line(&format!("ERROR: preparing the job's variables failed: {e}"));
            remove_file_variables(spec);
            return JobOutcome::Failed {
                exit_code: None,
                kind: FailureKind::System,
            };
        }
    };
    let main = spec.tmp_dir.join("script.sh");
    let outcome = match rewrite(&main, render_main(&spec.before_script, &spec.script, bash)) {
        Err(e) => {
            sink.line(&format!("ERROR: writing the job script failed: {e}"));
            JobOutcome::Failed {
                exit_code: None,
                kind: FailureKind::System,
            }
        }
        Ok(()) => {
            let ended = step_script(shell, &main, spec, &env, cancel, &mut sink).await;
            ended.outcome(spec, shell, &mut sink)
        }
    };
    after_script(
        spec,
        outcome,
        env,
        bash,
        &mut sink,
        async |program, env, cancel, sink| {
            let timeout = spec.after_script_timeout;
            execute(shell, program, &spec.build_dir, env, timeout, cancel, sink).await
        },
    )
    .await;
    remove_file_variables(spec);
    outcome
}

/// `before_script` + `script`, inside the runner's `step_script` section.
async fn step_script(
    shell: &str,
    program: &Path,
    spec: &JobSpec,
    env: &[(String, String)],
    cancel: &CancellationToken,
    sink: &mut LogSink,
) -> Ended {
    sink.line(&crate::section::start(
        "step_script",
        "Executing \"step_script\" stage of the job script",
    ));
    let ended = execute(shell, program, &spec.build_dir, env, spec.timeout, cancel, sink).await;
    sink.line(&crate::section::end("step_script"));
    ended
}

async fn execute(
    shell: &str,
    program: &Path,
    dir: &Path,
    env: &[(String, String)],
    timeout: Duration,
    cancel: &CancellationToken,
    sink: &mut LogSink,
) -> Ended {
    let mut cmd = tokio::process::Command::new(shell);
    cmd.arg(program)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ended::SpawnFailed(e.to_string()),
    };
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let readers = [
        child.stdout.take().map(|s| tokio::spawn(forward(s, tx.clone()))),
        child.stderr.take().map(|s| tokio::spawn(forward(s, tx.clone()))),
    ];
    drop(tx);
    let ended = {
        let wait = async {
            tokio::select! {
                status = child.wait() => match status {
                    Ok(s) => Ended::Exited(s.code().unwrap_or_else(|| 128 + signal_of(&s))),
                    Err(e) => Ended::SpawnFailed(e.to_string()),
                },
                _ = tokio::time::sleep(timeout) => Ended::TimedOut,
                _ = cancel.cancelled() => Ended::Canceled,
            }
        };
        tokio::pin!(wait);
        loop {
            tokio::select! {
                ended = &mut wait => break ended,
                Some(line) = rx.recv() => sink.line(&line),
            }
        }
    };
    if let Some(pgid) = pgid {
        if matches!(ended, Ended::TimedOut | Ended::Canceled) {
            let _ = killpg(pgid, Signal::SIGTERM);
            let _ = tokio::time::timeout(KILL_GRACE, child.wait()).await;
        }
        // Whatever the script left behind in its group (daemons, background jobs) goes too.
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    let _ = child.wait().await;
    let deadline = tokio::time::sleep(DRAIN);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            line = rx.recv() => match line {
                Some(line) => sink.line(&line),
                None => break,
            },
            _ = &mut deadline => break,
        }
    }
    for r in readers.into_iter().flatten() {
        r.abort();
    }
    ended
}

fn signal_of(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().unwrap_or(0)
}

async fn forward(stream: impl AsyncRead + Unpin, tx: tokio::sync::mpsc::UnboundedSender<String>) {
    let mut lines = BufReader::new(stream).split(b'\n');
    while let Ok(Some(bytes)) = lines.next_segment().await {
        let text = String::from_utf8_lossy(&bytes);
        if tx.send(text.trim_end_matches('\r').to_owned()).is_err() {
            break;
        }
    }
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}
