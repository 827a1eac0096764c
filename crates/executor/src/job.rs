//! What an executor is asked to run ([`JobSpec`]) and how it ended ([`JobOutcome`]).
//! Executors never see YAML: the CLI (and later the runner) builds these from the plan.

use std::path::PathBuf;
use std::time::Duration;

/// One variable of a job's environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobVariable {
    /// Its name.
    pub name: String,
    /// Its value (for a file variable: the file's content).
    pub value: String,
    /// A file-type variable: the value is written to a file and the variable holds its path.
    pub file: bool,
}

/// Everything an executor needs to run one attempt of a job.
#[derive(Clone, Debug)]
pub struct JobSpec {
    /// The job's name (for messages).
    pub name: String,
    /// The directory the scripts run in (`CI_PROJECT_DIR`), already prepared.
    pub build_dir: PathBuf,
    /// A directory for the executor's own files (scripts, file variables), outside `build_dir`.
    pub tmp_dir: PathBuf,
    /// `before_script` lines (run in the same shell as `script`).
    pub before_script: Vec<String>,
    /// `script` lines.
    pub script: Vec<String>,
    /// `after_script` lines (a new shell, after everything else, whatever happened).
    pub after_script: Vec<String>,
    /// The job's variables, in precedence order (later wins).
    pub variables: Vec<JobVariable>,
    /// The job's timeout.
    pub timeout: Duration,
    /// The timeout of `after_script`.
    pub after_script_timeout: Duration,
    /// Most bytes of log kept; output past it is dropped with a notice.
    pub log_limit: usize,
    /// For the container executor: the job's image, services and paths inside containers.
    pub container: Option<ContainerJob>,
}

/// When an image is pulled (`image:pull_policy`); several are tried in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    /// Pull every time.
    Always,
    /// Pull only when the engine does not have the image.
    IfNotPresent,
    /// Never pull: the engine must have the image.
    Never,
}

impl PullPolicy {
    /// `always`, `if-not-present` or `never`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "always" => Some(PullPolicy::Always),
            "if-not-present" => Some(PullPolicy::IfNotPresent),
            "never" => Some(PullPolicy::Never),
            _ => None,
        }
    }

    /// Its name in `.gitlab-ci.yml`.
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "always",
            PullPolicy::IfNotPresent => "if-not-present",
            PullPolicy::Never => "never",
        }
    }
}

/// An image to run, with what `image:` (or a service) says about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageSpec {
    /// The reference, variables already expanded.
    pub name: String,
    /// `entrypoint:` (`[""]` clears the image's).
    pub entrypoint: Option<Vec<String>>,
    /// `pull_policy:`; empty: the executor's default.
    pub pull_policy: Vec<PullPolicy>,
    /// `docker:user`.
    pub user: Option<String>,
    /// `docker:platform`.
    pub platform: Option<String>,
}

/// A service container beside the job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Its image.
    pub image: ImageSpec,
    /// `alias:` names (the host names derived from the image name are added).
    pub aliases: Vec<String>,
    /// `command:`.
    pub command: Option<Vec<String>>,
    /// `variables:` of the service (after the job's).
    pub variables: Vec<(String, String)>,
}

/// Credentials for a registry the job's images come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryCredentials {
    /// `host[:port]` of the registry.
    pub registry: String,
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
}

/// What the container executor needs beyond the scripts.
#[derive(Clone, Debug, Default)]
pub struct ContainerJob {
    /// The job's image.
    pub image: ImageSpec,
    /// Its services.
    pub services: Vec<ServiceSpec>,
    /// Where `build_dir` is inside the containers (`CI_PROJECT_DIR`), e.g. `/builds/group/project`.
    pub project_dir: String,
    /// A host directory mounted at `/cache` (the runner's cache of this project).
    pub cache_dir: Option<PathBuf>,
    /// Credentials for pulling from registries.
    pub credentials: Vec<RegistryCredentials>,
}

impl ContainerJob {
    /// Where the executor's own files (`JobSpec::tmp_dir`) are inside the containers:
    /// `<project_dir>.tmp`, as gitlab-runner has them.
    pub fn tmp_dir(&self) -> String {
        format!("{}.tmp", self.project_dir)
    }
}

/// Why an attempt failed, in GitLab's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The script exited non-zero.
    Script,
    /// The job hit its timeout.
    Timeout,
    /// The executor itself failed (could not start the shell, write the script, ...).
    System,
    /// The job's image (or a service's) could not be had (`image_pull_failure`).
    ImagePull,
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// The script succeeded.
    Success,
    /// It failed.
    Failed {
        /// The exit code, when the script exited by itself.
        exit_code: Option<i32>,
        /// Why.
        kind: FailureKind,
    },
    /// It was canceled.
    Canceled,
}

impl JobOutcome {
    /// GitLab's `CI_JOB_STATUS` for `after_script`.
    pub fn job_status(self) -> &'static str {
        match self {
            JobOutcome::Success => "success",
            JobOutcome::Failed { .. } => "failed",
            JobOutcome::Canceled => "canceled",
        }
    }
}
