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
