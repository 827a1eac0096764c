//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// gantry: GitLab CI/CD pipelines, locally and on a server.
#[derive(Debug, Parser)]
#[command(name = "gantry", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check a .gitlab-ci.yml and show the pipeline it creates for a ref.
    Lint(LintArgs),
    /// Run the pipeline (or some jobs) locally, as GitLab would for this commit.
    Run(RunArgs),
    /// Serve git repositories, run a pipeline for every push, and serve the API.
    Server(ServerArgs),
    /// Start everything on this machine with a demo project whose pipeline runs.
    Up(UpArgs),
    /// A runner: takes jobs from a server over the GitLab runner protocol.
    #[command(subcommand)]
    Runner(RunnerCommand),
    /// Apply Kubernetes manifests, wait for the rollout, and roll back what changed if it fails.
    Deploy(DeployArgs),
}

/// `gantry deploy`.
#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// A manifest file, or a directory of `*.yaml`, `*.yml` and `*.json` files; `-` is stdin.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// The namespace of namespaced objects, created when missing (default: the environment's
    /// `KUBE_NAMESPACE`, else the kubeconfig context's).
    #[arg(short, long, env = "KUBE_NAMESPACE", value_name = "NAME")]
    pub(crate) namespace: Option<String>,
    /// The kubeconfig file (default: `KUBECONFIG`, else `~/.kube/config`, else the pod's account).
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current one).
    #[arg(long, value_name = "NAME")]
    pub(crate) context: Option<String>,
    /// How long workloads may take to roll out, and to roll back after a failure
    /// (`300`, `90s`, `5m`, `1h 30m`).
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub(crate) timeout: String,
    /// Wait until every Deployment, StatefulSet, DaemonSet and Job has rolled out, and roll
    /// everything back when one does not (`--wait=false`: apply only).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "BOOL")]
    pub(crate) wait: bool,
    /// Delete objects an earlier deployment of the same inventory made that are no longer
    /// in the manifests.
    #[arg(long)]
    pub(crate) prune: bool,
    /// The inventory that --prune compares with, one per application and namespace
    /// (default: `CI_ENVIRONMENT_SLUG`, else `default`).
    #[arg(long, value_name = "NAME")]
    pub(crate) inventory: Option<String>,
    /// Create a registry secret from the job's `CI_REGISTRY` credentials (a deploy token's
    /// `CI_DEPLOY_USER`/`CI_DEPLOY_PASSWORD` when the job has one, else `CI_REGISTRY_USER`/
    /// `CI_REGISTRY_PASSWORD`) and add it to the `imagePullSecrets` of every pod template.
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "gantry-registry", require_equals = true)]
    pub(crate) image_pull_secret: Option<String>,
}

/// `gantry runner ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum RunnerCommand {
    /// Check a runner token with the server and add the runner to the configuration file.
    Register(Box<RegisterArgs>),
    /// Take and run jobs until SIGQUIT (finish running jobs first) or SIGTERM/Ctrl-C.
    Run(RunnerRunArgs),
    /// Create a runner on the server with a personal access token; prints its `glrt-` token.
    Create(CreateArgs),
}

/// What a new runner takes (`gantry runner create`, or `register --registration-token`).
#[derive(Debug, Args)]
pub(crate) struct RunnerSettings {
    /// Its tags (repeat the flag, or separate them with commas).
    #[arg(long = "tag", value_name = "TAG", value_delimiter = ',')]
    pub(crate) tags: Vec<String>,
    /// Its description.
    #[arg(long, value_name = "TEXT")]
    pub(crate) description: Option<String>,
    /// Take jobs without tags too (the default when it has no tags).
    #[arg(long)]
    pub(crate) run_untagged: bool,
    /// Lock a project runner to its project.
    #[arg(long)]
    pub(crate) locked: bool,
    /// Create it paused (it takes no jobs until unpaused).
    #[arg(long)]
    pub(crate) paused: bool,
    /// Only jobs of protected branches and tags.
    #[arg(long)]
    pub(crate) protected: bool,
    /// The longest a job may run on it, in seconds (a shorter job timeout still wins).
    #[arg(long, value_name = "SECONDS")]
    pub(crate) maximum_timeout: Option<i64>,
}

/// `gantry runner create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The server's URL.
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,
    /// A personal access token of an administrator (instance runner) or of a maintainer of
    /// the project (project runner).
    #[arg(long, value_name = "TOKEN", env = "GANTRY_TOKEN")]
    pub(crate) token: String,
    /// Create a project runner of this project (id or path); an instance runner otherwise.
    #[arg(long, value_name = "PROJECT")]
    pub(crate) project: Option<String>,
    #[command(flatten)]
    pub(crate) settings: RunnerSettings,
}

/// `gantry runner register`.
#[derive(Debug, Args)]
pub(crate) struct RegisterArgs {
    /// The server's URL.
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,
    /// The runner's authentication token (`glrt-...`, from `gantry runner create` or
    /// `POST /api/v4/user/runners`).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GANTRY_RUNNER_TOKEN",
        required_unless_present = "registration_token",
        conflicts_with = "registration_token"
    )]
    pub(crate) token: Option<String>,
    /// A registration token (legacy): a new runner is created with it, with the settings
    /// below, and registered.
    #[arg(long, value_name = "TOKEN", env = "GANTRY_REGISTRATION_TOKEN")]
    pub(crate) registration_token: Option<String>,
    #[command(flatten)]
    pub(crate) settings: RunnerSettings,
    /// A name for logs.
    #[arg(long, default_value = "gantry-runner")]
    pub(crate) name: String,
    /// The executor: `shell`, or `docker` (jobs in containers; see the --docker-* options).
    #[arg(long, default_value = "shell", value_parser = ["shell", "docker"])]
    pub(crate) executor: String,
    #[command(flatten)]
    pub(crate) docker: DockerArgs,
    /// Where jobs are built (default: `builds` beside the configuration file).
    #[arg(long, value_name = "DIR")]
    pub(crate) builds_dir: Option<std::path::PathBuf>,
    /// Where caches are kept (default: `cache` beside the configuration file).
    #[arg(long, value_name = "DIR")]
    pub(crate) cache_dir: Option<std::path::PathBuf>,
    /// The configuration file.
    #[arg(long, default_value = "gantry-runner.toml", value_name = "FILE")]
    pub(crate) config: std::path::PathBuf,
}

/// `gantry runner run`.
#[derive(Debug, Args)]
pub(crate) struct RunnerRunArgs {
    /// The configuration file.
    #[arg(long, default_value = "gantry-runner.toml", value_name = "FILE")]
    pub(crate) config: std::path::PathBuf,
    /// How many jobs run at once (default: `concurrent` of the file).
    #[arg(long, value_name = "N")]
    pub(crate) concurrency: Option<usize>,
}

/// `gantry up`.
#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub(crate) listen: std::net::SocketAddr,
    /// Where everything is kept.
    #[arg(long, default_value = ".gantry-server", value_name = "DIR")]
    pub(crate) data_dir: std::path::PathBuf,
    /// Start, create the demo project and run its pipeline, print the result, then stop
    /// (instead of serving until Ctrl-C).
    #[arg(long)]
    pub(crate) once: bool,
}

/// `gantry server`.
#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub(crate) listen: std::net::SocketAddr,
    /// Where repositories, the SQLite database, artifacts and builds are kept.
    #[arg(long, default_value = "gantry-data", value_name = "DIR")]
    pub(crate) data_dir: std::path::PathBuf,
    /// The database: postgres://user@host:port/db (default: SQLite in the data directory).
    #[arg(long, value_name = "URL", env = "GANTRY_DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// The blob store: file:///dir or s3://bucket?endpoint=URL&region=R (default: the data directory).
    #[arg(long, value_name = "URL", env = "GANTRY_BLOB_URL")]
    pub(crate) blob_url: Option<String>,
    /// The URL users and jobs reach this server at (default: http://ADDR).
    #[arg(long, value_name = "URL")]
    pub(crate) external_url: Option<String>,
    /// How many jobs run at once on this server (default: the number of cores, at least 2);
    /// 0 runs none here: every job waits for a runner. Jobs with tags always do.
    #[arg(long, value_name = "N")]
    pub(crate) concurrency: Option<usize>,
    /// Where the jobs this server runs itself run: `shell` (this machine), `docker` (every job
    /// in a container) or `auto` (jobs with `image:` in containers when an engine answers).
    #[arg(long, value_enum, default_value = "shell")]
    pub(crate) executor: ExecutorArg,
    #[command(flatten)]
    pub(crate) docker: DockerArgs,
    /// How long a runner's request for a job is held when none is ready, in seconds.
    #[arg(long, default_value_t = 50, value_name = "SECONDS")]
    pub(crate) runner_poll_timeout: u64,
    /// How long a runner has to confirm a job it took before it is queued again, in seconds.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub(crate) runner_ack_timeout: u64,
    /// How long the runner of a running job may stay silent before the job fails, in seconds.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub(crate) runner_heartbeat_timeout: u64,
    /// How long a job may wait for a runner before it fails as stuck
    /// (`stuck_or_timeout_failure`), in seconds (default: a day, as GitLab).
    #[arg(long, default_value_t = 86_400, value_name = "SECONDS")]
    pub(crate) pending_job_timeout: u64,
    /// How often expired artifacts are deleted, in seconds.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub(crate) sweep_interval: u64,
    /// How often environments past their `auto_stop_in` are stopped, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub(crate) auto_stop_interval: u64,
    /// The largest artifact a runner may upload, in bytes (default: 100 MiB).
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_artifacts_bytes: Option<u64>,
    /// The largest job log a runner may send, in bytes (default: 100 MiB); past it the job
    /// fails as `trace_size_exceeded`.
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_trace_bytes: Option<u64>,
    /// The largest git push accepted, in bytes (default: 2 GiB); a larger one is refused.
    #[arg(long, value_name = "BYTES", env = "GANTRY_MAX_PUSH_BYTES")]
    pub(crate) max_push_bytes: Option<u64>,
}

/// The pipeline context, shared by `lint` and `run`.
#[derive(Debug, Args, Clone)]
pub(crate) struct ContextArgs {
    /// The branch or tag the pipeline runs for (default: the current branch).
    #[arg(long = "ref", value_name = "REF")]
    pub(crate) ref_name: Option<String>,
    /// The ref is a tag.
    #[arg(long)]
    pub(crate) tag: bool,
    /// CI_PIPELINE_SOURCE: push, web, schedule, api, trigger, merge_request_event, ...
    #[arg(long, default_value = "push")]
    pub(crate) source: String,
    /// The project's default branch (default: origin's HEAD, else main).
    #[arg(long, value_name = "BRANCH")]
    pub(crate) default_branch: Option<String>,
    /// A pipeline variable (highest precedence), repeatable.
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub(crate) vars: Vec<String>,
    /// A file changed by the push, repeatable (default: the files the HEAD commit changed).
    #[arg(long = "changed", value_name = "PATH")]
    pub(crate) changed: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// The configuration file (default: .gitlab-ci.yml in the current directory).
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) context: ContextArgs,
    /// Print JSON (schema in docs/lint-json.md).
    #[arg(long)]
    pub(crate) json: bool,
    /// Explain why a job is or is not created.
    #[arg(long, value_name = "JOB")]
    pub(crate) explain: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Jobs to run (default: the whole pipeline). Naming a manual job plays it.
    pub(crate) jobs: Vec<String>,
    /// Also run everything the named jobs need (their `needs`, or earlier stages).
    #[arg(long)]
    pub(crate) needs: bool,
    /// Run only the jobs of this stage.
    #[arg(long, value_name = "STAGE")]
    pub(crate) stage: Option<String>,
    /// The configuration file (default: .gitlab-ci.yml).
    #[arg(long, value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) context: ContextArgs,
    /// How many jobs run at the same time (default: the number of CPUs, at least 2).
    #[arg(long, value_name = "N")]
    pub(crate) concurrency: Option<usize>,
    /// Run on the work tree as it is, uncommitted changes included.
    #[arg(long)]
    pub(crate) dirty: bool,
    /// Where builds, artifacts and caches are kept (default: .gantry in the repository).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Write a JSON report of the run (schema in docs/run-report.md).
    #[arg(long, value_name = "FILE")]
    pub(crate) report: Option<PathBuf>,
    /// Where jobs run: `shell` (this machine), `docker` (every job in a container), or
    /// `auto`: jobs with `image:` in containers when a container engine answers.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) executor: ExecutorArg,
    #[command(flatten)]
    pub(crate) docker: DockerArgs,
}

/// `--executor` of `gantry run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExecutorArg {
    /// Every job in this machine's shell.
    Shell,
    /// Every job in a container.
    Docker,
    /// Jobs with `image:` in containers when an engine answers.
    Auto,
}

/// How the docker executor uses its engine (`[runners.docker]` of a runner).
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct DockerArgs {
    /// The container engine (`unix:///path` or `tcp://host:port`; default: `DOCKER_HOST`,
    /// then the Podman sockets, then /var/run/docker.sock).
    #[arg(long = "docker-host", value_name = "URL")]
    pub(crate) host: Option<String>,
    /// The image of jobs that name none.
    #[arg(long = "docker-image", value_name = "IMAGE")]
    pub(crate) image: Option<String>,
    /// When images are pulled: `always`, `if-not-present` (default) or `never`; several
    /// (comma-separated) are tried in order.
    #[arg(long = "docker-pull-policy", value_name = "POLICY", value_delimiter = ',')]
    pub(crate) pull_policy: Vec<String>,
    /// A volume for every job container (`HOST:CONTAINER[:ro]`, or a container path); repeatable.
    #[arg(long = "docker-volume", value_name = "VOLUME")]
    pub(crate) volumes: Vec<String>,
    /// Let jobs build images: the engine's socket is mounted at /var/run/docker.sock in
    /// their containers (root on this machine for whoever writes the jobs).
    #[arg(long = "docker-socket")]
    pub(crate) socket: bool,
    /// Run job and service containers privileged.
    #[arg(long = "docker-privileged")]
    pub(crate) privileged: bool,
    /// A resource limit of containers, `NAME=SOFT[:HARD]` (docker's --ulimit); repeatable.
    #[arg(long = "docker-ulimit", value_name = "LIMIT")]
    pub(crate) ulimits: Vec<String>,
}

impl DockerArgs {
    /// As a runner's `[runners.docker]`.
    pub(crate) fn section(&self) -> gantry_agent::config::DockerSection {
        gantry_agent::config::DockerSection {
            host: self.host.clone(),
            image: self.image.clone(),
            pull_policy: self.pull_policy.clone(),
            allowed_pull_policies: Vec::new(),
            volumes: self.volumes.clone(),
            docker_socket: self.socket,
            privileged: self.privileged,
            wait_for_services_timeout: None,
            ulimits: self.ulimits.clone(),
        }
    }
}
