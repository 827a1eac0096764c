//! The pipeline plan: the jobs a pipeline is created with, and everything decided about them.

use crate::variables::VarSet;
use gantry_config::model::{Job, When};

/// A pipeline plan.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// False when `workflow:rules` (or an empty job set) create no pipeline.
    pub created: bool,
    /// `workflow:name`, expanded (`CI_PIPELINE_NAME`).
    pub name: Option<String>,
    /// Every stage in order, `.pre` first and `.post` last.
    pub stages: Vec<String>,
    /// The jobs created, ordered by stage, then as defined.
    pub jobs: Vec<PlannedJob>,
    /// Pipeline-level variables (predefined, global, workflow rules, pipeline).
    pub variables: VarSet,
    /// Jobs that were not created, with the reason.
    pub excluded: Vec<Excluded>,
    /// `workflow:auto_cancel:on_new_commit` (a matching workflow rule's first):
    /// `conservative` (the default), `interruptible` or `none`.
    pub auto_cancel_on_new_commit: String,
}

impl Plan {
    /// The stages that have at least one job, in order.
    pub fn used_stages(&self) -> Vec<&str> {
        self.stages
            .iter()
            .filter(|s| self.jobs.iter().any(|j| &j.stage == *s))
            .map(String::as_str)
            .collect()
    }

    /// A job by name.
    pub fn job(&self, name: &str) -> Option<&PlannedJob> {
        self.jobs.iter().find(|j| j.name == name)
    }
}

/// A job that is not in the pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excluded {
    /// Its name (after `parallel` expansion).
    pub name: String,
    /// Why it was not created.
    pub reason: String,
}

/// A `needs:` edge of a planned job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedNeed {
    /// The job needed (an instance name for parallel jobs).
    pub job: String,
    /// Whether its artifacts are downloaded.
    pub artifacts: bool,
}

/// The environment a job deploys to, with variables expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedEnvironment {
    /// `CI_ENVIRONMENT_NAME`.
    pub name: String,
    /// `CI_ENVIRONMENT_SLUG`.
    pub slug: String,
    /// `CI_ENVIRONMENT_URL`.
    pub url: Option<String>,
    /// `CI_ENVIRONMENT_ACTION`: start, prepare, stop, verify, access.
    pub action: String,
    /// `CI_ENVIRONMENT_TIER`.
    pub tier: String,
    /// The job that stops this environment.
    pub on_stop: Option<String>,
    /// `auto_stop_in`, as written.
    pub auto_stop_in: Option<String>,
    /// `kubernetes:namespace`, expanded: the job's `KUBE_NAMESPACE`.
    pub kubernetes_namespace: Option<String>,
}

/// A job of the plan.
#[derive(Clone, Debug)]
pub struct PlannedJob {
    /// The job's name (`job 1/3`, `job: [a, b]` for parallel jobs).
    pub name: String,
    /// The name in the configuration (before `parallel` expansion).
    pub config_name: String,
    /// Its stage.
    pub stage: String,
    /// The stage's position in [`Plan::stages`].
    pub stage_index: usize,
    /// When it runs.
    pub when: When,
    /// Delay for `when: delayed`, in seconds.
    pub start_in: Option<u64>,
    /// Whether a failure is allowed (for exit codes: whether any failure is).
    pub allow_failure: bool,
    /// With `allow_failure:exit_codes`: only these exit codes are allowed.
    pub allow_failure_exit_codes: Vec<i64>,
    /// `needs:`; `None` means the job waits for earlier stages.
    pub needs: Option<Vec<PlannedNeed>>,
    /// `dependencies:` resolved to job names; `None` means the default (earlier stages or needs).
    pub dependencies: Option<Vec<String>>,
    /// All variables of the job, in precedence order.
    pub variables: VarSet,
    /// The environment, if any.
    pub environment: Option<PlannedEnvironment>,
    /// `resource_group:`, expanded.
    pub resource_group: Option<String>,
    /// Whether a newer pipeline may cancel it.
    pub interruptible: bool,
    /// `CI_NODE_INDEX` and `CI_NODE_TOTAL` for parallel jobs.
    pub node: Option<(u32, u32)>,
    /// The matrix variables of a `parallel:matrix` instance.
    pub matrix: Vec<(String, String)>,
    /// The job as configured (scripts, artifacts, cache, image, ...).
    pub config: Job,
}
