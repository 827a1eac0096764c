//! The parts of the runner protocol's job payload this runner reads (docs:
//! `gitlab-runner-protocol.md` §4). Unknown fields are ignored and missing ones take their
//! defaults, as the official runner's decoder does.

use serde::Deserialize;

/// A job, as `POST /jobs/request` answers it.
#[derive(Clone, Debug, Deserialize)]
pub struct JobPayload {
    /// The job's id.
    pub id: i64,
    /// The job token for every later call about this job.
    pub token: String,
    /// `GIT_STRATEGY`'s default: fetch when true, clone otherwise.
    #[serde(default)]
    pub allow_git_fetch: bool,
    /// Names and ids.
    pub job_info: JobInfo,
    /// What to check out.
    pub git_info: GitInfo,
    /// The timeout.
    #[serde(default)]
    pub runner_info: RunnerInfo,
    /// The job's variables in order (later wins).
    #[serde(default)]
    pub variables: Vec<Variable>,
    /// `script` and `after_script`.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// What to upload afterwards.
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
    /// Caches to restore and save.
    #[serde(default)]
    pub cache: Vec<Cache>,
    /// Earlier jobs whose archives to download first.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// The job's image (container executors).
    #[serde(default)]
    pub image: Option<ImagePayload>,
    /// Its services (container executors).
    #[serde(default)]
    pub services: Vec<ImagePayload>,
}

/// `image` or one of `services`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ImagePayload {
    /// The reference, as written (variables not expanded).
    #[serde(default)]
    pub name: String,
    /// Host names of a service (comma- or space-separated).
    #[serde(default)]
    pub alias: String,
    /// A service's command.
    #[serde(default)]
    pub command: Vec<String>,
    /// The entrypoint override, when there is one.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// `always`, `if-not-present`, `never`.
    #[serde(default)]
    pub pull_policy: Vec<String>,
    /// A service's variables.
    #[serde(default)]
    pub variables: Vec<Variable>,
    /// `docker: {user, platform}`.
    #[serde(default)]
    pub executor_opts: ExecutorOpts,
}

/// `executor_opts`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ExecutorOpts {
    /// For docker executors.
    #[serde(default)]
    pub docker: DockerOpts,
}

/// `executor_opts.docker`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DockerOpts {
    /// The user the container runs as.
    #[serde(default)]
    pub user: Option<String>,
    /// The image's platform.
    #[serde(default)]
    pub platform: Option<String>,
}

/// `job_info`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JobInfo {
    /// The job's name.
    #[serde(default)]
    pub name: String,
    /// Its stage.
    #[serde(default)]
    pub stage: String,
    /// `group/project`.
    #[serde(default)]
    pub project_full_path: String,
}

/// `git_info`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GitInfo {
    /// The clone URL, with the job token in it.
    #[serde(default)]
    pub repo_url: String,
    /// The branch or tag.
    #[serde(default, rename = "ref")]
    pub ref_name: String,
    /// The commit.
    #[serde(default)]
    pub sha: String,
    /// What to fetch.
    #[serde(default)]
    pub refspecs: Vec<String>,
    /// Shallow depth (0: everything).
    #[serde(default)]
    pub depth: i64,
}

/// `runner_info`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RunnerInfo {
    /// The job's timeout in seconds (≤ 0: two hours).
    #[serde(default)]
    pub timeout: i64,
}

/// One variable.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Variable {
    /// Its name.
    pub key: String,
    /// Its value.
    #[serde(default)]
    pub value: String,
    /// Hidden in the log.
    #[serde(default)]
    pub masked: bool,
    /// Written to a file; the variable holds the path.
    #[serde(default)]
    pub file: bool,
}

/// One step.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Step {
    /// `script`, `after_script`, or another name.
    #[serde(default)]
    pub name: String,
    /// Its lines.
    #[serde(default)]
    pub script: Vec<String>,
}

/// One artifact upload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Artifact {
    /// The archive's name.
    #[serde(default)]
    pub name: String,
    /// Also files git does not track.
    #[serde(default)]
    pub untracked: bool,
    /// Globs.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Globs left out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// `on_success`, `on_failure`, `always`.
    #[serde(default)]
    pub when: String,
    /// For the server (`1 week`, `never`).
    #[serde(default)]
    pub expire_in: String,
    /// `archive`, `dotenv`, ...
    #[serde(default)]
    pub artifact_type: String,
    /// `zip`, `gzip`, ...
    #[serde(default)]
    pub artifact_format: String,
}

/// One cache.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Cache {
    /// Its key.
    #[serde(default)]
    pub key: String,
    /// Also files git does not track.
    #[serde(default)]
    pub untracked: bool,
    /// `pull-push`, `pull` or `push`.
    #[serde(default)]
    pub policy: String,
    /// Globs.
    #[serde(default)]
    pub paths: Vec<String>,
    /// When to save.
    #[serde(default)]
    pub when: String,
    /// Keys tried when `key` has no archive.
    #[serde(default)]
    pub fallback_keys: Vec<String>,
}

/// An earlier job whose archive to download.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Dependency {
    /// Its id.
    pub id: i64,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The token to download with.
    #[serde(default)]
    pub token: String,
    /// Present when it has an archive.
    pub artifacts_file: Option<ArtifactsFile>,
}

/// A dependency's archive.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ArtifactsFile {
    /// Its name.
    #[serde(default)]
    pub filename: String,
}

/// Whether something `when` says should happen after an attempt that `succeeded` (or not).
pub fn applies(when: &str, succeeded: bool) -> bool {
    match when {
        "always" => true,
        "on_failure" => !succeeded,
        _ => succeeded,
    }
}
