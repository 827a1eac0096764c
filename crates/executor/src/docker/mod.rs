//! The container executor: runs a job's scripts in its image and its services beside it,
//! through the Docker Engine API (Docker, or Podman's compatible socket), as gitlab-runner's
//! docker executor does.
//!
//! Every container and network it makes carries [`LABEL_MANAGED`], the host and the process
//! that made it; [`Engine::remove_leftovers`] removes those of processes that are gone (a
//! runner that crashed), so nothing outlives its job for long.

mod container;
mod image;
pub mod names;
mod run;
mod services;

pub use run::run;

use crate::job::PullPolicy;
use bollard::Docker;
use bollard::models::ResourcesUlimits;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Marks what this executor created.
pub const LABEL_MANAGED: &str = "dev.gantry.managed";
/// The host of the process that created it.
const LABEL_HOST: &str = "dev.gantry.host";
/// The process id that created it.
const LABEL_PID: &str = "dev.gantry.pid";
/// The job it belongs to.
const LABEL_JOB: &str = "dev.gantry.job";
/// What it is: `build`, `service`, `network`.
const LABEL_ROLE: &str = "dev.gantry.role";

/// The longest an API call other than a container's run may take (pulls included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);
/// How long the engine gets to answer the first ping.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// How the executor uses the engine (the runner's `[runners.docker]`).
#[derive(Clone, Debug, PartialEq)]
pub struct DockerConfig {
    /// The engine's address (`unix:///path`, `tcp://host:port`); `None`: `DOCKER_HOST`, else
    /// the Podman sockets (rootless, then system), else `/var/run/docker.sock`.
    pub host: Option<String>,
    /// The image of jobs that name none.
    pub default_image: Option<String>,
    /// The pull policies of images whose job names none.
    pub pull_policy: Vec<PullPolicy>,
    /// The pull policies jobs may ask for; empty: those of `pull_policy`.
    pub allowed_pull_policies: Vec<PullPolicy>,
    /// More volumes for every job container (`host:container[:mode]` or `container`).
    pub volumes: Vec<String>,
    /// Binds the engine's socket into job containers at `/var/run/docker.sock` (and sets
    /// `DOCKER_HOST`), so that jobs can build and push images.
    pub docker_socket: bool,
    /// Runs job and service containers privileged.
    pub privileged: bool,
    /// How long to wait for services to listen on their ports.
    pub wait_for_services: Duration,
    /// Resource limits of containers (see [`parse_ulimit`]); empty: for an engine on this
    /// machine, this process's open files and 4096 processes.
    pub ulimits: Vec<ResourcesUlimits>,
}

impl Default for DockerConfig {
    fn default() -> Self {
        DockerConfig {
            host: None,
            default_image: None,
            pull_policy: vec![PullPolicy::IfNotPresent],
            allowed_pull_policies: Vec::new(),
            volumes: Vec::new(),
            docker_socket: false,
            privileged: false,
            wait_for_services: Duration::from_secs(30),
            ulimits: Vec::new(),
        }
    }
}

/// Errors talking to the engine outside of a job.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// No engine answers at the address.
    #[error("no container engine answers at {host}: {detail}")]
    Unreachable {
        /// Where it was looked for.
        host: String,
        /// What went wrong.
        detail: String,
    },
    /// The engine refused a call.
    #[error("container engine: {0}")]
    Api(#[from] bollard::errors::Error),
}

/// A connection to a container engine, with the executor's configuration.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    config: DockerConfig,
    /// The engine's unix socket on this host, when it is one (for `docker_socket`).
    socket: Option<PathBuf>,
    host: String,
    hostname: String,
    /// The limits containers get (this process's, when the engine is on this machine).
    ulimits: Option<Vec<ResourcesUlimits>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Connects and checks that the engine answers.
    pub async fn connect(config: DockerConfig) -> Result<Engine, DockerError> {
        let host = config
            .host
            .clone()
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(default_socket);
        let unreachable = |detail: String| DockerError::Unreachable {
            host: host.clone(),
            detail,
        };
        let docker = match host.strip_prefix("unix://") {
            Some(path) if !Path::new(path).exists() => return Err(unreachable("no such socket".into())),
            Some(_) => {
                Docker::connect_with_unix(&host, REQUEST_TIMEOUT.as_secs(), bollard::API_DEFAULT_VERSION)
            }
            None => Docker::connect_with_host(&host).map(|d| d.with_timeout(REQUEST_TIMEOUT)),
        }
        .map_err(|e| unreachable(e.to_string()))?;
        match tokio::time::timeout(PING_TIMEOUT, docker.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => return Err(unreachable("no answer in 5 s".into())),
        }
        let docker = docker.negotiate_version().await?;
        let socket = host.strip_prefix("unix://").map(PathBuf::from);
        let ulimits = if !config.ulimits.is_empty() {
            Some(config.ulimits.clone())
        } else {
            socket.is_some().then(local_ulimits)
        };
        Ok(Engine {
            docker,
            config,
            socket,
            host,
            hostname: hostname(),
            ulimits,
        })
    }

    /// The executor's configuration.
    pub fn config(&self) -> &DockerConfig {
        &self.config
    }

    /// Where the engine was found.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Removes the containers and networks this executor made on this host for processes
    /// that no longer run (a runner or `gantry run` that was killed); how many.
    pub async fn remove_leftovers(&self) -> Result<usize, DockerError> {
        let filters = HashMap::from([("label", vec![LABEL_MANAGED.to_owned()])]);
        let containers = self
            .docker
            .list_containers(Some(
                ListContainersOptionsBuilder::new()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await?;
        let mut removed = 0;
        for c in containers {
            let (Some(id), Some(labels)) = (c.id, c.labels) else {
                continue;
            };
            if self.is_leftover(&labels) {
                let force = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
                if self.docker.remove_container(&id, Some(force)).await.is_ok() {
                    removed += 1;
                }
            }
        }
        let networks = self
            .docker
            .list_networks(Some(ListNetworksOptionsBuilder::new().filters(&filters).build()))
            .await?;
        for n in networks {
            let (Some(name), Some(labels)) = (n.name, n.labels) else {
                continue;
            };
            if self.is_leftover(&labels) && self.docker.remove_network(&name).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn is_leftover(&self, labels: &HashMap<String, String>) -> bool {
        if labels.get(LABEL_HOST) != Some(&self.hostname) {
            return false;
        }
        match labels.get(LABEL_PID).and_then(|p| p.parse::<i32>().ok()) {
            Some(pid) => !process_alive(pid),
            None => false,
        }
    }

    /// The labels of something made for `job`.
    fn labels(&self, job: &str, role: &str) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_MANAGED.to_owned(), "true".to_owned()),
            (LABEL_HOST.to_owned(), self.hostname.clone()),
            (LABEL_PID.to_owned(), std::process::id().to_string()),
            (LABEL_JOB.to_owned(), job.to_owned()),
            (LABEL_ROLE.to_owned(), role.to_owned()),
        ])
    }
}

/// The first engine socket that exists: rootless Podman, system Podman, Docker.
fn default_socket() -> String {
    let mut candidates = Vec::new();
    if let Ok(dir) = std::env::var("XDG_RUNTIME_DIR") {
        candidates.push(format!("{dir}/podman/podman.sock"));
    }
    candidates.push("/run/podman/podman.sock".to_owned());
    candidates.push("/var/run/docker.sock".to_owned());
    let found = candidates
        .iter()
        .find(|c| Path::new(c).exists())
        .unwrap_or(&candidates[candidates.len() - 1]);
    format!("unix://{found}")
}

/// The limits containers get from an engine on this machine, unless configured: open
/// files as this process may have them, and 4096 processes (what the podman command gives).
/// Podman's compatible API otherwise asks for more than the machine allows (`error setting
/// rlimit type 7`), and a job in a container gets the open files it would get in the shell.
fn local_ulimits() -> Vec<ResourcesUlimits> {
    use nix::sys::resource::{Resource, getrlimit};
    let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        out.push(ulimit("nofile", clamp(soft), clamp(hard)));
    }
    out.push(ulimit("nproc", 4096, 4096));
    out
}

fn ulimit(name: &str, soft: i64, hard: i64) -> ResourcesUlimits {
    ResourcesUlimits {
        name: Some(name.to_owned()),
        soft: Some(soft),
        hard: Some(hard),
    }
}

/// `name=soft[:hard]` (docker's `--ulimit`).
pub fn parse_ulimit(text: &str) -> Result<ResourcesUlimits, String> {
    let bad = || format!("ulimit {text:?} is not name=soft[:hard]");
    let (name, values) = text.split_once('=').ok_or_else(bad)?;
    let (soft, hard) = values.split_once(':').unwrap_or((values, values));
    let number = |v: &str| v.trim().parse::<i64>().map_err(|_| bad());
    Ok(ulimit(name.trim(), number(soft)?, number(hard)?))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

fn process_alive(pid: i32) -> bool {
    use nix::errno::Errno;
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e != Errno::ESRCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimits_are_read_as_docker_writes_them() {
        assert_eq!(parse_ulimit("nofile=1024:4096"), Ok(ulimit("nofile", 1024, 4096)));
        assert_eq!(parse_ulimit("nproc=512"), Ok(ulimit("nproc", 512, 512)));
        assert!(parse_ulimit("nofile").is_err());
        assert!(parse_ulimit("nofile=many").is_err());
    }
}
