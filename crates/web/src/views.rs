//! The view models the server fills and the pages and fragments they render into. Every
//! value is final text or a flag; templates decide nothing but layout. Fragments (the parts a
//! page refreshes live) are templates of their own, so the server renders exactly what the
//! page first showed.

use crate::format::Status;
use askama::Template;

/// What every page has around its content.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    /// The page's title.
    pub title: String,
    /// Who is signed in.
    pub user: Option<String>,
    /// The token changing requests must carry (empty when signed out).
    pub csrf: String,
    /// The project whose tabs are shown, if any.
    pub project: Option<ProjectNav>,
    /// The stylesheet's and script's URLs (with their version).
    pub css: String,
    /// The script's URL.
    pub js: String,
}

/// A project's tabs.
#[derive(Clone, Debug, Default)]
pub struct ProjectNav {
    /// `group/name`.
    pub path: String,
    /// The dashboard's base URL of the project (`/group/name`).
    pub url: String,
    /// The tab shown: `pipelines`, `jobs`, `environments` or `settings`.
    pub tab: &'static str,
    /// Whether the settings tab is offered.
    pub settings: bool,
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignIn {
    /// Around.
    pub chrome: Chrome,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// The username typed before.
    pub username: String,
    /// Where to go once signed in.
    pub redirect: String,
}

/// A page that says what went wrong (404, 403).
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Around.
    pub chrome: Chrome,
    /// The HTTP status code.
    pub code: u16,
    /// What happened.
    pub message: String,
}

/// A pipeline in a list or a header.
#[derive(Clone, Debug)]
pub struct PipelineRow {
    /// Its id.
    pub id: i64,
    /// Its number in the project.
    pub iid: i64,
    /// Its page.
    pub url: String,
    /// Its status.
    pub status: Status,
    /// Branch or tag.
    pub ref_name: String,
    /// Whether `ref_name` is a tag.
    pub tag: bool,
    /// The commit, 8 characters.
    pub short_sha: String,
    /// The commit's title.
    pub title: String,
    /// GitLab's source word.
    pub source: String,
    /// Who started it.
    pub user: String,
    /// How long it ran, or empty.
    pub duration: String,
    /// How long ago it was created.
    pub age: String,
    /// When it was created (UTC).
    pub created: String,
    /// The status of each stage, in order.
    pub stages: Vec<(String, Status)>,
}

/// A project in the projects list.
#[derive(Clone, Debug)]
pub struct ProjectRow {
    /// `group/name`.
    pub path: String,
    /// Its pipelines page.
    pub url: String,
    /// Its default branch.
    pub default_branch: String,
    /// `private`, `internal` or `public`.
    pub visibility: String,
    /// The last pipeline of the default branch.
    pub last: Option<PipelineRow>,
}

/// The projects list.
#[derive(Template)]
#[template(path = "projects.html")]
pub struct Projects {
    /// Around.
    pub chrome: Chrome,
    /// The projects the user can see.
    pub projects: Vec<ProjectRow>,
    /// The git URL prefix to push to (`http://host`).
    pub git_base: String,
}

/// The pipelines table (refreshed live).
#[derive(Template)]
#[template(path = "pipelines_table.html")]
pub struct PipelinesTable {
    /// The rows.
    pub rows: Vec<PipelineRow>,
    /// The previous and next page's URLs.
    pub prev: Option<String>,
    /// The next page.
    pub next: Option<String>,
}

/// A project's pipelines page.
#[derive(Template)]
#[template(path = "pipelines.html")]
pub struct Pipelines {
    /// Around.
    pub chrome: Chrome,
    /// The table, rendered.
    pub table: String,
    /// The live-update stream.
    pub live: String,
    /// The ref filter.
    pub ref_filter: String,
    /// The status filter.
    pub status_filter: String,
    /// The statuses offered in the filter.
    pub statuses: Vec<&'static str>,
    /// The project's id in the API.
    pub project_id: i64,
    /// Its default branch (prefilled in "Run pipeline").
    pub default_branch: String,
    /// Whether the user may run pipelines.
    pub can_run: bool,
}

/// A job's box in the graph, and its row in lists.
#[derive(Clone, Debug)]
pub struct JobBox {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its page.
    pub url: String,
    /// Its status.
    pub status: Status,
    /// How long it ran, or empty.
    pub duration: String,
    /// GitLab's failure reason, for a failed job.
    pub failure: Option<String>,
    /// The API URL to retry it, when that is offered.
    pub retry: Option<String>,
    /// The API URL to cancel it, when offered.
    pub cancel: Option<String>,
    /// The API URL to play it (a manual job), when offered.
    pub play: Option<String>,
    /// The pipeline a trigger job created.
    pub downstream: Option<Downstream>,
    /// The box's left edge.
    pub x: u32,
    /// The box's top edge.
    pub y: u32,
}

/// A pipeline another one's job triggered (or the one that triggered it).
#[derive(Clone, Debug)]
pub struct Downstream {
    /// Its page.
    pub url: String,
    /// Its project, when another one's.
    pub project: Option<String>,
    /// Its number.
    pub iid: i64,
    /// Its status.
    pub status: Status,
    /// The trigger job's name.
    pub job: String,
}

/// A `needs` line.
#[derive(Clone, Debug)]
pub struct Edge {
    /// The SVG path.
    pub d: String,
    /// The needed job's name.
    pub from: String,
    /// The needing job's name.
    pub to: String,
}

/// A stage's column.
#[derive(Clone, Debug)]
pub struct StageColumn {
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: Status,
    /// The column's left edge.
    pub x: u32,
}

/// The pipeline's header and graph (refreshed live).
#[derive(Template)]
#[template(path = "pipeline_graph.html")]
pub struct PipelineGraph {
    /// The pipeline.
    pub pipeline: PipelineRow,
    /// The stages.
    pub stages: Vec<StageColumn>,
    /// The jobs, placed.
    pub jobs: Vec<JobBox>,
    /// The needs lines.
    pub edges: Vec<Edge>,
    /// The drawing's size.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// The failed jobs, for the list under the graph.
    pub failed: Vec<JobBox>,
    /// The API URLs to retry and cancel the pipeline, when offered.
    pub retry: Option<String>,
    /// Cancel.
    pub cancel: Option<String>,
    /// The configuration's errors, when it is invalid.
    pub errors: Vec<String>,
    /// The pipeline whose trigger job created this one.
    pub upstream: Option<Downstream>,
    /// The pipelines this one's trigger jobs created.
    pub downstream: Vec<Downstream>,
}

/// A pipeline's page.
#[derive(Template)]
#[template(path = "pipeline.html")]
pub struct PipelinePage {
    /// Around.
    pub chrome: Chrome,
    /// The graph, rendered.
    pub graph: String,
    /// The live-update stream.
    pub live: String,
}

/// A job's artifacts.
#[derive(Clone, Debug)]
pub struct Artifacts {
    /// The archive's size.
    pub size: String,
    /// When they expire, if ever.
    pub expires: Option<String>,
    /// Browse and download.
    pub browse: String,
    /// The archive.
    pub download: String,
}

/// The job's header and details (refreshed live).
#[derive(Template)]
#[template(path = "job_head.html")]
pub struct JobHead {
    /// The job.
    pub job: JobBox,
    /// Its stage.
    pub stage: String,
    /// Which attempt it is.
    pub attempt: i64,
    /// The newest attempt's page, when this one was retried.
    pub newer: Option<String>,
    /// Its pipeline's page and number.
    pub pipeline_url: String,
    /// The pipeline's number.
    pub pipeline_iid: i64,
    /// Branch or tag.
    pub ref_name: String,
    /// The commit.
    pub short_sha: String,
    /// The runner that took it.
    pub runner: String,
    /// Label and value pairs: queued, started, finished, duration, exit code.
    pub facts: Vec<(&'static str, String)>,
    /// The names of its variables (never their values).
    pub variables: Vec<String>,
    /// Its artifacts.
    pub artifacts: Option<Artifacts>,
    /// The project's id in the API (for playing with variables).
    pub project_id: i64,
}

/// A job's page.
#[derive(Template)]
#[template(path = "job.html")]
pub struct JobPage {
    /// Around.
    pub chrome: Chrome,
    /// The header, rendered.
    pub head: String,
    /// The live-update stream of the header.
    pub live: String,
    /// The log's event stream.
    pub log_stream: String,
    /// The raw log.
    pub raw: String,
    /// The raw log as a download.
    pub download: String,
}

/// An entry of an artifacts archive.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its name in the directory.
    pub name: String,
    /// Where it leads (a directory's listing or the file).
    pub url: String,
    /// Whether it is a directory.
    pub dir: bool,
    /// A file's size.
    pub size: String,
}

/// A directory of a job's artifacts.
#[derive(Template)]
#[template(path = "artifacts.html")]
pub struct ArtifactsPage {
    /// Around.
    pub chrome: Chrome,
    /// The job's page and name.
    pub job_url: String,
    /// The job's name.
    pub job_name: String,
    /// The directory (`""` at the top, else `a/b/`).
    pub dir: String,
    /// Its parent's listing.
    pub parent: Option<String>,
    /// Its entries, directories first.
    pub entries: Vec<Entry>,
    /// The whole archive.
    pub download: String,
}

/// A CI/CD variable in the settings.
#[derive(Clone, Debug)]
pub struct VariableRow {
    /// Its key.
    pub key: String,
    /// Its environment scope.
    pub scope: String,
    /// Whether only protected refs get it.
    pub protected: bool,
    /// Whether it is masked in logs.
    pub masked: bool,
    /// Its value, for an unmasked variable only (a masked value never reaches a page).
    pub value: Option<String>,
    /// The API URL that deletes it.
    pub delete: String,
}

/// A protected branch rule.
#[derive(Clone, Debug)]
pub struct BranchRow {
    /// The name or wildcard.
    pub name: String,
    /// Who may push.
    pub push: &'static str,
    /// The API URL that removes it.
    pub delete: String,
}

/// A runner the project can use.
#[derive(Clone, Debug)]
pub struct RunnerRow {
    /// Its id.
    pub id: i64,
    /// Its description.
    pub description: String,
    /// `instance_type` or `project_type`.
    pub kind: String,
    /// `online`, `offline`, `never_contacted` or `paused`.
    pub status: String,
    /// Its tags.
    pub tags: String,
    /// When it last asked for a job.
    pub contacted: String,
}

/// The CI/CD settings page.
#[derive(Template)]
#[template(path = "settings.html")]
pub struct Settings {
    /// Around.
    pub chrome: Chrome,
    /// The project's id in the API.
    pub project_id: i64,
    /// Its variables.
    pub variables: Vec<VariableRow>,
    /// Its protected branches.
    pub branches: Vec<BranchRow>,
    /// The runners that can take its jobs.
    pub runners: Vec<RunnerRow>,
}

/// A deployment of an environment.
#[derive(Clone, Debug)]
pub struct DeploymentRow {
    /// Its number in the project.
    pub iid: i64,
    /// Its status.
    pub status: Status,
    /// The job that deployed, and its page.
    pub job: String,
    /// The job's page.
    pub job_url: String,
    /// Branch or tag and commit.
    pub ref_name: String,
    /// The commit.
    pub short_sha: String,
    /// How long ago.
    pub age: String,
    /// The API URL that deploys it again (an earlier successful one), when offered.
    pub redeploy: Option<String>,
}

/// An environment.
#[derive(Clone, Debug)]
pub struct EnvironmentRow {
    /// Its name.
    pub name: String,
    /// The folder it is grouped in (`review` for `review/feature-x`), if any.
    pub folder: Option<String>,
    /// `available` or `stopped`.
    pub state: String,
    /// Its URL.
    pub url: Option<String>,
    /// The API URL that stops it, when offered.
    pub stop: Option<String>,
    /// Its deployments, newest first.
    pub deployments: Vec<DeploymentRow>,
}

/// The environments page (its list is refreshed live).
#[derive(Template)]
#[template(path = "environments.html")]
pub struct Environments {
    /// Around.
    pub chrome: Chrome,
    /// The list, rendered.
    pub list: String,
    /// The live-update stream.
    pub live: String,
}

/// The environments, grouped by folder.
#[derive(Template)]
#[template(path = "environments_list.html")]
pub struct EnvironmentsList {
    /// Environments outside folders, then each folder's.
    pub groups: Vec<(Option<String>, Vec<EnvironmentRow>)>,
}
