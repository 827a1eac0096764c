//! The trigger context: what a pipeline is created for (ref, source, commit, changes,
//! pipeline variables). Everything the planner knows about the outside world is here.

/// Answers questions about the repository that planning needs but cannot compute itself.
pub trait Repository {
    /// Files changed between `reference` and the pipeline's commit (`rules:changes:compare_to`);
    /// `None` when the ref cannot be found.
    fn changed_since(&self, reference: &str) -> Option<Vec<String>>;
}

/// A repository that knows nothing beyond the context (every `compare_to` is unknown).
pub struct NoRepository;

impl Repository for NoRepository {
    fn changed_since(&self, _reference: &str) -> Option<Vec<String>> {
        None
    }
}

/// What a pipeline is being created for.
#[derive(Clone, Debug)]
pub struct Context {
    /// `CI_PIPELINE_SOURCE`: push, web, schedule, api, trigger, merge_request_event, ...
    pub source: String,
    /// The branch or tag name.
    pub ref_name: String,
    /// True for a tag pipeline.
    pub is_tag: bool,
    /// The project's default branch.
    pub default_branch: String,
    /// The commit SHA.
    pub sha: String,
    /// The commit before the push (`CI_COMMIT_BEFORE_SHA`); forty zeros when unknown.
    pub before_sha: String,
    /// The full commit message.
    pub commit_message: String,
    /// The commit author (`Name <email>`).
    pub commit_author: String,
    /// The commit timestamp (ISO 8601).
    pub commit_timestamp: String,
    /// Files changed by the push; `None` when unknown (then `changes` is always true).
    pub changed_files: Option<Vec<String>>,
    /// Every file of the project at the commit (`rules:exists`).
    pub project_files: Vec<String>,
    /// Variables given when creating the pipeline (highest precedence).
    pub pipeline_variables: Vec<(String, String)>,
    /// `namespace/project`.
    pub project_path: String,
    /// The build directory jobs run in (`CI_PROJECT_DIR`).
    pub project_dir: String,
    /// `CI_PIPELINE_ID`.
    pub pipeline_id: u64,
    /// `CI_PIPELINE_IID`.
    pub pipeline_iid: u64,
    /// `CI_SERVER_URL`, such as `http://localhost:8080`.
    pub server_url: String,
    /// Whether the ref is protected.
    pub protected: bool,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            source: "push".into(),
            ref_name: "main".into(),
            is_tag: false,
            default_branch: "main".into(),
            sha: "0000000000000000000000000000000000000000".into(),
            before_sha: "0000000000000000000000000000000000000000".into(),
            commit_message: String::new(),
            commit_author: String::new(),
            commit_timestamp: String::new(),
            changed_files: None,
            project_files: Vec::new(),
            pipeline_variables: Vec::new(),
            project_path: "local/project".into(),
            project_dir: "/builds/local/project".into(),
            pipeline_id: 1,
            pipeline_iid: 1,
            server_url: "http://localhost".into(),
            protected: false,
        }
    }
}

impl Context {
    /// True when the pipeline runs for a branch (not a tag, not a merge request).
    pub fn is_branch(&self) -> bool {
        !self.is_tag && !self.is_merge_request()
    }

    /// True for merge request pipelines.
    pub fn is_merge_request(&self) -> bool {
        self.source == "merge_request_event"
    }

    /// True when the source carries a push event, so that `changes` can be computed.
    pub fn has_push_changes(&self) -> bool {
        matches!(
            self.source.as_str(),
            "push" | "merge_request_event" | "external_pull_request_event"
        )
    }
}
