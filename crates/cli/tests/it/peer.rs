//! What the differential tests share: running a tool with a deadline, the git calls that build
//! their repositories, and gitlab-ci-local's spelling of generated job names.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a finished command ended.
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    pub(crate) fn success(&self) -> bool {
        self.code == 0
    }
}

/// Runs a command in its own process group with no stdin; after `timeout` the whole group is
/// killed (gitlab-ci-local's job shells included) and the run is an error.
pub(crate) fn run(mut command: Command, timeout: Duration) -> Result<Output, String> {
    let shown = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    // Readers on their own threads, so a full pipe cannot stall the child.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child
            .try_wait()
            .map_err(|e| format!("cannot wait for {shown}: {e}"))?
        {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                return Err(format!("{shown} took longer than {}s", timeout.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    Ok(Output {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// The last four meaningful lines of a tool's output, on one line (Node stack frames left out).
pub(crate) fn tail(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("at "))
        .collect();
    lines[lines.len().saturating_sub(4)..].join(" | ")
}

/// Runs git in `repo` with a fixed identity and no signing.
pub(crate) fn git(repo: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(repo)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A gitlab-ci-local job name in GitLab's spelling: its `job: [1/2]` is GitLab's `job 1/2`
/// (docs.gitlab.com/ci/yaml/#parallel) and its `job: [a,b]` is `job: [a, b]`
/// (docs.gitlab.com/ci/yaml/#parallelmatrix).
pub(crate) fn gitlab_spelling(name: &str) -> String {
    let Some(open) = name.rfind(": [") else {
        return name.to_string();
    };
    let Some(inner) = name[open + 3..].strip_suffix(']') else {
        return name.to_string();
    };
    let base = &name[..open];
    let is_index = inner.split_once('/').is_some_and(|(i, n)| {
        !i.is_empty() && !n.is_empty() && i.chars().chain(n.chars()).all(|c| c.is_ascii_digit())
    });
    if is_index {
        format!("{base} {inner}")
    } else {
        let values: Vec<&str> = inner.split(',').map(str::trim).collect();
        format!("{base}: [{}]", values.join(", "))
    }
}
