//! One job a server gave this runner, end to end: confirm it, fetch the commit with the job
//! token, bring in the artifacts of the jobs it depends on and its caches, run the scripts
//! with the shell executor `gantry run` uses while the log goes to the server, upload its
//! artifacts and reports, save its caches, and say how it ended.
//!
//! What goes wrong on this side (git, disk, uploads) ends the job as
//! `runner_system_failure`, never as the script's failure.

use crate::client::{Client, Told};
use crate::protocol::{self, JobPayload};
use gantry_executor::artifacts::{self, ArtifactSpec};
use gantry_executor::docker::Engine;
use gantry_executor::job::{FailureKind, JobOutcome, JobSpec, JobVariable};
use gantry_runner::container::BUILDS_IN_CONTAINER;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The runner's default job timeout when the server sends none (gitlab-runner's: 2 h).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(7200);
/// gitlab-runner's `after_script` timeout.
const AFTER_SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);
/// gitlab-runner's default `output_limit` (4 MiB).
const LOG_LIMIT: usize = 4 << 20;
/// How often the log goes to the server unless it says otherwise.
const TRACE_INTERVAL: Duration = Duration::from_secs(3);
/// A keep-alive goes out when no log was sent for this long.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Where a job of one slot runs.
#[derive(Clone, Debug)]
pub struct Slot {
    /// `CI_CONCURRENT_ID`.
    pub index: usize,
    /// The runner's builds directory.
    pub builds_dir: PathBuf,
    /// The runner's cache directory.
    pub cache_dir: PathBuf,
    /// The container engine, for a runner with the docker executor.
    pub docker: Option<Engine>,
}

/// How a job ended on this side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Success,
    Failed(&'static str, Option<i32>),
}

/// Runs `job`; `stop` cancels it (the runner is shutting down).
pub async fn run(client: &Client, job: JobPayload, slot: &Slot, stop: &CancellationToken) {
    let told = client.update(&job, "running", None).await;
    match &told {
        Ok(t) if t.status == 403 || t.status == 404 => {
            tracing::warn!(job = job.id, status = t.status, "the server took the job back");
            return;
        }
        Ok(t) if t.job_status == "canceled" => return,
        Err(e) => tracing::warn!(job = job.id, error = %e, "confirming the job"),
        _ => {}
    }
    tracing::info!(job = job.id, name = %job.job_info.name, "running a job");
    let cancel = stop.child_token();
    if told.as_ref().is_ok_and(|t| t.job_status == "canceling") {
        cancel.cancel();
    }
    let (log_tx, log_rx) = mpsc::unbounded_channel::<String>();
    let masks = masks(&job);
    let tracer = {
        let (client, job, cancel) = (client.clone(), job.clone(), cancel.clone());
        tokio::spawn(async move { send_log(&client, &job, log_rx, &masks, &cancel).await })
    };
    let ending = execute(client, &job, slot, &log_tx, &cancel).await;
    let ending = if stop.is_cancelled() {
        let _ = log_tx.send("ERROR: the runner was stopped while the job ran".into());
        Ending::Failed("runner_system_failure", None)
    } else {
        ending
    };
    drop(log_tx);
    let aborted = tracer.await.unwrap_or(false);
    if aborted {
        tracing::warn!(job = job.id, "the server ended the job");
        return;
    }
    finish(client, &job, ending).await;
}

/// The final update, retried: after ten failed tries the server finds the job silent.
async fn finish(client: &Client, job: &JobPayload, ending: Ending) {
    let (state, failure) = match ending {
        Ending::Success => ("success", None),
        Ending::Failed(reason, code) => ("failed", Some((reason, code))),
    };
    let mut wait = Duration::from_secs(1);
    for _ in 0..10 {
        match client.update(job, state, failure).await {
            Ok(Told { status: 200, .. }) => return,
            Ok(Told {
                status: 202,
                interval,
                ..
            }) => {
                tokio::time::sleep(interval.unwrap_or(TRACE_INTERVAL)).await;
                continue;
            }
            Ok(Told {
                status: 403 | 404, ..
            }) => return,
            Ok(t) => tracing::warn!(job = job.id, status = t.status, "the final update"),
            Err(e) => tracing::warn!(job = job.id, error = %e, "the final update"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

/// The values to hide in the log: masked variables and the job token.
fn masks(job: &JobPayload) -> Vec<String> {
    let mut out: Vec<String> = job
        .variables
        .iter()
        .filter(|v| v.masked && !v.value.is_empty())
        .map(|v| v.value.clone())
        .collect();
    out.push(job.token.clone());
    out.sort_by_key(|m| std::cmp::Reverse(m.len()));
    out.dedup();
    out
}

/// Sends the log as it comes, every interval, from where the server has it; a
/// `Job-Status: canceling` cancels the job (its `after_script` still runs). Whether the
/// server ended the job (403, `canceled`): then nothing more is reported.
async fn send_log(
    client: &Client,
    job: &JobPayload,
    mut lines: mpsc::UnboundedReceiver<String>,
    masks: &[String],
    cancel: &CancellationToken,
) -> bool {
    let mut all: Vec<u8> = Vec::new();
    let mut sent = 0usize;
    let mut interval = TRACE_INTERVAL;
    let mut last_contact = Instant::now();
    let mut open = true;
    loop {
        let deadline = tokio::time::sleep(interval);
        tokio::pin!(deadline);
        while open {
            tokio::select! {
                line = lines.recv() => match line {
                    Some(line) => {
                        let line = gantry_executor::mask::mask(&line, masks);
                        all.extend_from_slice(line.as_bytes());
                        all.push(b'\n');
                    }
                    None => open = false,
                },
                _ = &mut deadline => break,
            }
        }
        let told = if sent < all.len() {
            let chunk = all[sent..all.len().min(sent + (1 << 20))].to_vec();
            match client.trace(job, sent as u64, chunk.clone()).await {
                Ok(t) => {
                    if t.status == 202 {
                        sent = t.range.map_or(sent + chunk.len(), |r| r as usize).min(all.len());
                    } else if t.status == 416 {
                        sent = t.range.map_or(sent, |r| r as usize).min(all.len());
                    }
                    Some(t)
                }
                Err(e) => {
                    tracing::warn!(job = job.id, error = %e, "sending the log");
                    None
                }
            }
        } else if last_contact.elapsed() >= KEEP_ALIVE || !open {
            client.update(job, "running", None).await.ok().filter(|_| open)
        } else {
            None
        };
        if let Some(t) = told {
            last_contact = Instant::now();
            if let Some(i) = t.interval {
                interval = i;
            }
            if t.status == 403 || t.job_status == "canceled" || t.job_status == "failed" {
                cancel.cancel();
                return true;
            }
            if t.job_status == "canceling" {
                cancel.cancel();
            }
        }
        if !open && sent >= all.len() {
            return false;
        }
        if !open {
            // Whatever is left goes out without waiting a whole interval.
            interval = Duration::from_millis(200);
        }
    }
}

async fn execute(
    client: &Client,
    job: &JobPayload,
    slot: &Slot,
    log: &mpsc::UnboundedSender<String>,
    cancel: &CancellationToken,
) -> Ending {
    let say = |line: String| {
        let _ = log.send(line);
    };
    let project = gantry_runner::workspace::project_subdir(&job.job_info.project_full_path);
    let dir = slot.builds_dir.join(slot.index.to_string()).join(&project);
    let mut tmp = dir.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    say(format!(
        "Running with gantry-runner {} on slot {}",
        env!("CARGO_PKG_VERSION"),
        slot.index
    ));
    say(gantry_executor::section::start(
        "get_sources",
        "Getting source from Git repository",
    ));
    let sources = {
        let (job, dir, log) = (job.clone(), dir.clone(), log.clone());
        tokio::task::spawn_blocking(move || get_sources(&job, &dir, &log)).await
    };
    say(gantry_executor::section::end("get_sources"));
    match sources {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            say(format!("ERROR: getting the sources failed: {e}"));
            return Ending::Failed("runner_system_failure", None);
        }
        Err(e) => {
            say(format!("ERROR: getting the sources failed: {e}"));
            return Ending::Failed("runner_system_failure", None);
        }
    }
    if let Err(e) = std::fs::create_dir_all(&tmp) {
        say(format!("ERROR: creating {}: {e}", tmp.display()));
        return Ending::Failed("runner_system_failure", None);
    }
    for dep in &job.dependencies {
        if dep.artifacts_file.is_none() {
            continue;
        }
        say(format!("Downloading artifacts for {} ({})...", dep.name, dep.id));
        let zip = tmp.join(format!("dependency-{}.zip", dep.id));
        let got = match client.download(dep.id, &dep.token, &zip).await {
            Ok(()) => artifacts::extract_zip(&zip, &dir)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let _ = std::fs::remove_file(&zip);
        if let Err(e) = got {
            say(format!("ERROR: downloading the artifacts of {}: {e}", dep.name));
            return Ending::Failed("runner_system_failure", None);
        }
    }
    let cache_dir = slot.cache_dir.join(&project);
    for c in job.cache.iter().filter(|c| c.policy != "push") {
        let mut keys = vec![c.key.clone()];
        keys.extend(c.fallback_keys.iter().cloned());
        let restored = gantry_executor::cache::restore(&cache_dir, &keys, &dir);
        for w in &restored.warnings {
            say(format!("WARNING: {w}"));
        }
        match restored.key {
            Some(key) => say(format!("Successfully extracted cache {key}")),
            None => say(format!("No cache for {}", c.key)),
        }
    }
    let step = |name: &str| {
        job.steps
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.script.clone())
            .unwrap_or_default()
    };
    let timeout = u64::try_from(job.runner_info.timeout)
        .ok()
        .filter(|t| *t > 0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let mut variables: Vec<JobVariable> = job
        .variables
        .iter()
        .map(|v| JobVariable {
            name: v.key.clone(),
            value: v.value.clone(),
            file: v.file,
        })
        .collect();
    let container = match &slot.docker {
        Some(engine) => {
            match crate::container::container_job(engine, job, &project.to_string_lossy(), cache_dir.clone())
            {
                Ok(c) => Some((engine, c)),
                Err(e) => {
                    say(format!("ERROR: Job failed (system failure): {e}"));
                    return Ending::Failed("runner_system_failure", None);
                }
            }
        }
        None => None,
    };
    let (project_dir, builds_dir) = match &container {
        Some((_, c)) => (c.project_dir.clone(), BUILDS_IN_CONTAINER.to_owned()),
        None => (
            dir.to_string_lossy().into_owned(),
            slot.builds_dir.to_string_lossy().into_owned(),
        ),
    };
    if let Some((_, c)) = &container {
        variables.push(JobVariable {
            name: "CI_JOB_IMAGE".into(),
            value: c.image.name.clone(),
            file: false,
        });
    }
    for (name, value) in [
        ("CI_PROJECT_DIR", project_dir),
        ("CI_BUILDS_DIR", builds_dir),
        ("CI_CONCURRENT_ID", slot.index.to_string()),
        ("CI_CONCURRENT_PROJECT_ID", slot.index.to_string()),
        ("CI_SERVER", "yes".to_owned()),
    ] {
        variables.push(JobVariable {
            name: name.to_owned(),
            value,
            file: false,
        });
    }
    let spec = JobSpec {
        name: job.job_info.name.clone(),
        build_dir: dir.clone(),
        tmp_dir: tmp.clone(),
        before_script: Vec::new(),
        script: step("script"),
        after_script: step("after_script"),
        variables,
        timeout,
        after_script_timeout: AFTER_SCRIPT_TIMEOUT,
        log_limit: LOG_LIMIT,
        container: container.as_ref().map(|(_, c)| c.clone()),
    };
    let outcome = match &container {
        Some((engine, _)) => gantry_executor::docker::run(engine, &spec, log, cancel).await,
        None => gantry_executor::shell::run(&spec, log, cancel).await,
    };
    let succeeded = outcome == JobOutcome::Success;
    let mut ending = match outcome {
        JobOutcome::Success => Ending::Success,
        JobOutcome::Canceled => Ending::Failed("script_failure", None),
        JobOutcome::Failed { exit_code, kind } => Ending::Failed(
            match kind {
                FailureKind::Script => "script_failure",
                FailureKind::Timeout => "job_execution_timeout",
                FailureKind::System => "runner_system_failure",
                FailureKind::ImagePull => "image_pull_failure",
            },
            exit_code,
        ),
    };
    for a in job
        .artifacts
        .iter()
        .filter(|a| protocol::applies(&a.when, succeeded))
    {
        if let Err(e) = upload(client, job, &dir, &tmp, a, &say).await {
            say(format!("ERROR: uploading artifacts ({}): {e}", a.artifact_type));
            if succeeded {
                ending = Ending::Failed("runner_system_failure", None);
            }
        }
    }
    for c in job
        .cache
        .iter()
        .filter(|c| c.policy != "pull" && protocol::applies(&c.when, succeeded))
    {
        let untracked = if c.untracked {
            gantry_runner::workspace::untracked(&dir)
        } else {
            Vec::new()
        };
        match gantry_executor::cache::save(&dir, &c.paths, &untracked, &c.key, &cache_dir) {
            Ok(saved) => {
                for w in &saved.warnings {
                    say(format!("WARNING: {w}"));
                }
                if saved.archive.is_some() {
                    say(format!("Created cache {}", saved.key));
                }
            }
            Err(e) => say(format!("WARNING: saving the cache {}: {e}", c.key)),
        }
    }
    ending
}

/// Fetches the job's commit into its build directory as gitlab-runner does: `fetch`
/// reuses the directory (`git clean -ffdx` undoes the last job), `clone` starts afresh,
/// `none` leaves the directory as it is, `empty` empties it.
fn get_sources(job: &JobPayload, dir: &Path, log: &mpsc::UnboundedSender<String>) -> Result<(), String> {
    let say = |line: &str| {
        let _ = log.send(line.to_owned());
    };
    let var = |name: &str| {
        job.variables
            .iter()
            .rev()
            .find(|v| v.key == name)
            .map(|v| v.value.clone())
    };
    let strategy =
        var("GIT_STRATEGY").unwrap_or_else(|| if job.allow_git_fetch { "fetch" } else { "clone" }.to_owned());
    let io = |e: std::io::Error| e.to_string();
    match strategy.as_str() {
        "none" => {
            say("Skipping Git repository setup");
            return std::fs::create_dir_all(dir).map_err(io);
        }
        "empty" => {
            say("Skipping Git repository setup and creating an empty build directory");
            let _ = std::fs::remove_dir_all(dir);
            return std::fs::create_dir_all(dir).map_err(io);
        }
        "clone" => {
            let _ = std::fs::remove_dir_all(dir);
        }
        _ => {}
    }
    let git = &job.git_info;
    // The job token goes to git in its environment, never in its arguments (which every
    // user of the machine sees) nor in the repository's configuration.
    let (repo_url, auth) = credentials(&git.repo_url);
    let run_git = |dir: &Path, args: &[&str]| run_git(dir, args, auth.as_ref());
    std::fs::create_dir_all(dir).map_err(io)?;
    if dir.join(".git").is_dir() {
        say(&format!(
            "Fetching changes with git depth set to {}...",
            git.depth
        ));
        run_git(dir, &["remote", "set-url", "origin", &repo_url])?;
    } else {
        say(&format!(
            "Fetching changes with git depth set to {}...",
            git.depth
        ));
        run_git(dir, &["init", "-q"])?;
        run_git(dir, &["remote", "add", "origin", &repo_url])?;
    }
    let depth = var("GIT_DEPTH")
        .and_then(|d| d.parse::<i64>().ok())
        .unwrap_or(git.depth);
    let depth_arg = format!("--depth={depth}");
    let mut fetch = vec!["fetch", "-q", "--prune", "--no-recurse-submodules"];
    if depth > 0 {
        fetch.push(&depth_arg);
    }
    fetch.push("origin");
    fetch.extend(git.refspecs.iter().map(String::as_str));
    run_git(dir, &fetch)?;
    say(&format!(
        "Checking out {} as {}...",
        &git.sha[..git.sha.len().min(8)],
        git.ref_name
    ));
    run_git(dir, &["checkout", "-f", "-q", &git.sha])?;
    run_git(dir, &["clean", "-ffdx", "-q"])?;
    Ok(())
}

/// `url` without its user and password, and the git setting that sends the
/// `Authorization` header they make, to that URL's server only.
fn credentials(url: &str) -> (String, Option<(String, String)>) {
    use base64::Engine as _;
    let Ok(mut parsed) = url::Url::parse(url) else {
        return (url.to_owned(), None);
    };
    let Some(password) = parsed.password().map(str::to_owned) else {
        return (url.to_owned(), None);
    };
    let user = parsed.username().to_owned();
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    let pair = format!("{user}:{password}");
    let header = format!(
        "Authorization: Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    );
    let key = format!("http.{}/.extraHeader", parsed.origin().ascii_serialization());
    (parsed.to_string(), Some((key, header)))
}

fn run_git(dir: &Path, args: &[&str], auth: Option<&(String, String)>) -> Result<(), String> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null());
    // No automatic maintenance after a fetch: it forks `git maintenance` (and gc) for every
    // job, which costs more than the fetch of a small repository.
    let mut config = vec![("maintenance.auto", "false"), ("gc.auto", "0")];
    if let Some((key, header)) = auth {
        config.push((key.as_str(), header.as_str()));
    }
    command.env("GIT_CONFIG_COUNT", config.len().to_string());
    for (i, (key, value)) in config.iter().enumerate() {
        command
            .env(format!("GIT_CONFIG_KEY_{i}"), key)
            .env(format!("GIT_CONFIG_VALUE_{i}"), value);
    }
    let out = command.output().map_err(|e| format!("starting git: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    // Only git's last line: nothing of the request it made.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = args.first().copied().unwrap_or_default();
    Err(format!(
        "git {first} failed: {}",
        stderr.trim().lines().last().unwrap_or_default()
    ))
}

/// Collects, packs and uploads one artifact entry.
async fn upload(
    client: &Client,
    job: &JobPayload,
    dir: &Path,
    tmp: &Path,
    a: &protocol::Artifact,
    say: &(dyn Fn(String) + Sync),
) -> Result<(), String> {
    let kind = if a.artifact_type.is_empty() {
        "archive"
    } else {
        a.artifact_type.as_str()
    };
    match kind {
        "archive" => {
            let untracked = if a.untracked {
                gantry_runner::workspace::untracked(dir)
            } else {
                Vec::new()
            };
            let spec = ArtifactSpec {
                paths: a.paths.clone(),
                exclude: a.exclude.clone(),
                untracked: a.untracked,
            };
            let collected = artifacts::collect(dir, &spec, &untracked).map_err(|e| e.to_string())?;
            for w in &collected.warnings {
                say(format!("WARNING: {w}"));
            }
            if collected.files.is_empty() {
                say("WARNING: no files to upload".into());
                return Ok(());
            }
            let zip = tmp.join("artifacts.zip");
            let summary = artifacts::write_zip(dir, &collected.files, &zip).map_err(|e| e.to_string())?;
            say(format!("Uploading artifacts: {} files", summary.files));
            let name = if a.name.is_empty() {
                "artifacts"
            } else {
                a.name.as_str()
            };
            let mut query = vec![("artifact_format", "zip"), ("artifact_type", "archive")];
            if !a.expire_in.is_empty() {
                query.push(("expire_in", a.expire_in.as_str()));
            }
            let sent = client.upload(job, &zip, &format!("{name}.zip"), &query).await;
            let _ = std::fs::remove_file(&zip);
            sent.map_err(|e| e.to_string())
        }
        "dotenv" => {
            let mut text = String::new();
            for p in &a.paths {
                match std::fs::read_to_string(dir.join(p)) {
                    Ok(t) => text.push_str(&t),
                    Err(_) => say(format!("WARNING: {p}: no matching files")),
                }
            }
            if text.is_empty() {
                return Ok(());
            }
            let gz = tmp.join("dotenv.env.gz");
            {
                use std::io::Write;
                let file = std::fs::File::create(&gz).map_err(|e| e.to_string())?;
                let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::default());
                enc.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
                enc.finish().map_err(|e| e.to_string())?;
            }
            say("Uploading the dotenv report".into());
            let sent = client
                .upload(
                    job,
                    &gz,
                    "dotenv.env.gz",
                    &[("artifact_format", "gzip"), ("artifact_type", "dotenv")],
                )
                .await;
            let _ = std::fs::remove_file(&gz);
            sent.map_err(|e| e.to_string())
        }
        other => {
            say(format!(
                "WARNING: {other} reports are not uploaded by this runner"
            ));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::credentials;

    #[test]
    fn the_job_token_leaves_the_url_for_a_header() {
        let (url, header) = credentials("http://gitlab-ci-token:glcbt-abc@127.0.0.1:8080/team/app.git");
        assert_eq!(url, "http://127.0.0.1:8080/team/app.git");
        // base64("gitlab-ci-token:glcbt-abc")
        assert_eq!(
            header,
            Some((
                "http.http://127.0.0.1:8080/.extraHeader".to_owned(),
                "Authorization: Basic Z2l0bGFiLWNpLXRva2VuOmdsY2J0LWFiYw==".to_owned()
            )),
            "sent to the server of the URL only"
        );
        let (url, header) = credentials("https://example.com/team/app.git");
        assert_eq!((url.as_str(), header), ("https://example.com/team/app.git", None));
    }
}
