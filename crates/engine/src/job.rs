//! Jobs as the engine sees them: definition, status, result of an attempt.

/// Index of a job in its pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub usize);

/// GitLab's job statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for earlier jobs.
    Created,
    /// Ready, but its resource group is busy.
    WaitingForResource,
    /// Ready to run.
    Pending,
    /// Running.
    Running,
    /// Succeeded.
    Success,
    /// Failed (possibly allowed to).
    Failed,
    /// Canceled.
    Canceled,
    /// Not run, because of `when` and what happened before.
    Skipped,
    /// Waiting to be played.
    Manual,
    /// Waiting for its `start_in` delay.
    Scheduled,
}

impl Status {
    /// GitLab's word for the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::WaitingForResource => "waiting_for_resource",
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Success => "success",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
            Status::Skipped => "skipped",
            Status::Manual => "manual",
            Status::Scheduled => "scheduled",
        }
    }

    /// Success, failed, canceled or skipped: nothing more will happen.
    pub fn is_completed(self) -> bool {
        matches!(
            self,
            Status::Success | Status::Failed | Status::Canceled | Status::Skipped
        )
    }
}

/// When a job runs, relative to what happened before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// After success of everything before.
    OnSuccess,
    /// After a failure before.
    OnFailure,
    /// Whatever happened before.
    Always,
    /// When played.
    Manual,
    /// After `start_in`.
    Delayed,
}

/// `retry:`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Retry {
    /// Retries allowed (0 to 2).
    pub max: u32,
    /// Failure reasons to retry on (GitLab's words); empty with empty `exit_codes` means always.
    pub when: Vec<String>,
    /// Exit codes to retry on.
    pub exit_codes: Vec<i64>,
}

/// Why an attempt failed (GitLab's `failure_reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// The script exited non-zero.
    ScriptFailure,
    /// The job ran longer than its timeout.
    JobExecutionTimeout,
    /// The executor could not run the job.
    RunnerSystemFailure,
    /// The job's image or a service's could not be pulled.
    ImagePullFailure,
    /// No runner took the job in time (GitLab: stuck for a day).
    StuckOrTimeoutFailure,
    /// The job's log grew past the server's limit.
    TraceSizeExceeded,
    /// Anything else.
    /// A trigger job's downstream pipeline could not be created.
    DownstreamPipelineCreationFailed,
    UnknownFailure,
}

impl FailureReason {
    /// GitLab's word, as used by `retry:when`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::ScriptFailure => "script_failure",
            FailureReason::JobExecutionTimeout => "job_execution_timeout",
            FailureReason::RunnerSystemFailure => "runner_system_failure",
            FailureReason::ImagePullFailure => "image_pull_failure",
            FailureReason::StuckOrTimeoutFailure => "stuck_or_timeout_failure",
            FailureReason::TraceSizeExceeded => "trace_size_exceeded",
            FailureReason::DownstreamPipelineCreationFailed => "downstream_pipeline_creation_failed",
            FailureReason::UnknownFailure => "unknown_failure",
        }
    }
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobResult {
    /// Exit code 0.
    Success,
    /// It failed.
    Failed {
        /// The script's exit code, when there is one.
        exit_code: Option<i64>,
        /// Why.
        reason: FailureReason,
    },
    /// It was stopped.
    Canceled,
}

/// What the engine needs to know about a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobDef {
    /// The job's name.
    pub name: String,
    /// Position of its stage.
    pub stage_index: usize,
    /// `when:`.
    pub when: When,
    /// Whether a failure is allowed.
    pub allow_failure: bool,
    /// With `allow_failure:exit_codes`, only these exit codes are allowed to fail.
    pub allow_failure_exit_codes: Vec<i64>,
    /// `needs:` as job ids; `None` waits for all earlier stages.
    pub needs: Option<Vec<JobId>>,
    /// `retry:`.
    pub retry: Retry,
    /// Delay for `when: delayed`, in seconds.
    pub start_in: Option<u64>,
    /// `resource_group:`.
    pub resource_group: Option<String>,
    /// `interruptible:`: a newer pipeline on the same ref may cancel it.
    pub interruptible: bool,
}

/// `workflow:auto_cancel:on_new_commit`: what a newer pipeline on the same ref cancels of
/// this one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AutoCancel {
    /// The whole pipeline, unless a job that is not interruptible has started.
    #[default]
    Conservative,
    /// Only its interruptible jobs; the others go on.
    Interruptible,
    /// Nothing.
    None,
}

impl JobDef {
    /// A plain `on_success` job in a stage.
    pub fn new(name: &str, stage_index: usize) -> Self {
        JobDef {
            name: name.to_owned(),
            stage_index,
            when: When::OnSuccess,
            allow_failure: false,
            allow_failure_exit_codes: Vec::new(),
            needs: None,
            retry: Retry::default(),
            start_in: None,
            resource_group: None,
            interruptible: false,
        }
    }
}

/// A job's current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobState {
    /// Its status.
    pub status: Status,
    /// Attempts started so far (retries included).
    pub attempts: u32,
    /// Exit code of the last attempt, if it had one.
    pub exit_code: Option<i64>,
    /// Why the last attempt failed.
    pub failure: Option<FailureReason>,
    /// Whether its failure counts as allowed ("success with warnings").
    pub allowed_failure: bool,
}
