//! The job log as executors send it: lines without their newline, up to a byte limit.

use crate::job::{FailureKind, JobOutcome, JobSpec};
use crate::shell::render_after;
use crate::vars::rewrite;
use std::path::Path;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// How a script's process (or container) ended.
pub(crate) enum Ended {
    Exited(i32),
    TimedOut,
    Canceled,
    SpawnFailed(String),
}

impl Ended {
    /// The outcome of the main script, with gitlab-runner's last line; `what` names what
    /// could not be started.
    pub(crate) fn outcome(self, spec: &JobSpec, what: &str, sink: &mut LogSink) -> JobOutcome {
        match self {
            Ended::Exited(0) => JobOutcome::Success,
            Ended::Exited(code) => {
                sink.line(&format!("ERROR: Job failed: exit code {code}"));
                JobOutcome::Failed {
                    exit_code: Some(code),
                    kind: FailureKind::Script,
                }
            }
            Ended::TimedOut => {
                sink.line(&format!(
                    "ERROR: Job failed: execution took longer than {} seconds",
                    spec.timeout.as_secs()
                ));
                JobOutcome::Failed {
                    exit_code: None,
                    kind: FailureKind::Timeout,
                }
            }
            Ended::Canceled => {
                sink.line("ERROR: Job failed: canceled");
                JobOutcome::Canceled
            }
            Ended::SpawnFailed(e) => {
                sink.line(&format!(
                    "ERROR: Job failed (system failure): starting {what}: {e}"
                ));
                JobOutcome::Failed {
                    exit_code: None,
                    kind: FailureKind::System,
                }
            }
        }
    }

    /// The warning `after_script` leaves when it did not succeed.
    pub(crate) fn after_script_warning(&self) -> Option<String> {
        match self {
            Ended::Exited(0) => None,
            Ended::Exited(code) => Some(format!("WARNING: after_script failed: exit code {code}")),
            Ended::TimedOut => Some("WARNING: after_script timed out".to_owned()),
            Ended::Canceled | Ended::SpawnFailed(_) => Some("WARNING: after_script did not run".to_owned()),
        }
    }
}

/// Sends log lines until the byte limit, then one notice.
pub(crate) struct LogSink {
    tx: UnboundedSender<String>,
    sent: usize,
    limit: usize,
    cut: bool,
}

impl LogSink {
    pub(crate) fn new(tx: &UnboundedSender<String>, limit: usize) -> Self {
        LogSink {
            tx: tx.clone(),
            sent: 0,
            limit,
            cut: false,
        }
    }

    pub(crate) fn line(&mut self, text: &str) {
        if self.cut {
            return;
        }
        if self.sent + text.len() + 1 > self.limit {
            self.cut = true;
            let _ = self.tx.send(format!(
                "WARNING: Job's log exceeded limit of {} bytes. Job execution will continue but no more output will be collected.",
                self.limit
            ));
            return;
        }
        self.sent += text.len() + 1;
        let _ = self.tx.send(text.to_owned());
    }
}

/// `after_script` as both executors run it, in its own section after everything else: the
/// program is written to `after_script.sh` in the tmp dir, and `run` runs it (given that file,
/// the job's environment with `CI_JOB_STATUS`, and the log) with a token nobody cancels, since
/// it runs after a cancel too; a failure is only a warning.
pub(crate) async fn after_script(
    spec: &JobSpec,
    outcome: JobOutcome,
    mut env: Vec<(String, String)>,
    bash: bool,
    sink: &mut LogSink,
    run: impl AsyncFnOnce(&Path, &[(String, String)], &CancellationToken, &mut LogSink) -> Ended,
) {
    if spec.after_script.is_empty() {
        return;
    }
    sink.line(&crate::section::start("after_script", "Running after_script"));
    let program = spec.tmp_dir.join("after_script.sh");
    env.push(("CI_JOB_STATUS".into(), outcome.job_status().into()));
    if rewrite(&program, render_after(&spec.after_script, bash)).is_ok() {
        let ended = run(&program, &env, &CancellationToken::new(), sink).await;
        if let Some(warning) = ended.after_script_warning() {
            sink.line(&warning);
        }
    }
    sink.line(&crate::section::end("after_script"));
}

/// Splits a byte stream that arrives in pieces into lines (`\r\n` or `\n`).
#[derive(Default)]
pub(crate) struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// The complete lines `chunk` ends, in order; the rest waits for the next chunk.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for part in chunk.split_inclusive(|b| *b == b'\n') {
            self.partial.extend_from_slice(part);
            if self.partial.ends_with(b"\n") {
                self.partial.pop();
                out.push(self.take());
            }
        }
        out
    }

    /// What is left after the stream ended (a last line without newline).
    pub(crate) fn finish(&mut self) -> Option<String> {
        (!self.partial.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.partial)
            .trim_end_matches('\r')
            .to_owned();
        self.partial.clear();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let mut lines = Lines::default();
        assert_eq!(lines.push(b"one\r\ntw"), vec!["one".to_owned()]);
        assert!(lines.push(b"o").is_empty());
        assert_eq!(lines.push(b"\n\nthree"), vec!["two".to_owned(), String::new()]);
        assert_eq!(lines.finish().as_deref(), Some("three"));
        assert_eq!(lines.finish(), None);
    }

    #[test]
    fn the_log_stops_at_its_limit_with_one_notice() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut sink = LogSink::new(&tx, 10);
        sink.line("12345");
        sink.line("123456");
        sink.line("more");
        drop(sink);
        drop(tx);
        assert_eq!(rx.try_recv().as_deref(), Ok("12345"));
        assert!(
            rx.try_recv()
                .is_ok_and(|n| n.contains("exceeded limit of 10 bytes"))
        );
        assert!(rx.try_recv().is_err());
    }
}
