//! The runner's configuration file (TOML, shaped like gitlab-runner's `config.toml`):
//!
//! ```toml
//! concurrent = 2
//! [[runners]]
//! name = "builder-1"
//! url = "http://gantry.example:8080"
//! token = "glrt-..."
//! executor = "shell"
//! builds_dir = "/var/lib/gantry-runner/builds"
//! cache_dir = "/var/lib/gantry-runner/cache"
//! # with executor = "docker":
//! [runners.docker]
//! image = "alpine:3"                       # for jobs without `image:`
//! pull_policy = ["if-not-present"]
//! volumes = ["/srv/shared:/shared:ro"]
//! docker_socket = false                    # true: jobs can build images with the engine
//! ```

use gantry_executor::docker::DockerConfig;
use gantry_executor::job::PullPolicy;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Reading or writing the configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML for this configuration.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line.
        #[source]
        source: toml::de::Error,
    },
    /// A setting that cannot work.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// What is wrong.
        message: String,
        /// The file.
        path: PathBuf,
    },
}

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Config {
    /// How many jobs run at once, over all runners (default 1).
    #[serde(default = "one")]
    pub concurrent: usize,
    /// The runners.
    #[serde(default)]
    pub runners: Vec<RunnerConfig>,
}

fn one() -> usize {
    1
}

/// One `[[runners]]` entry: a server and the token it knows this runner by.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct RunnerConfig {
    /// A name for logs.
    #[serde(default)]
    pub name: String,
    /// The server's URL.
    pub url: String,
    /// The runner's authentication token (`glrt-...`).
    pub token: String,
    /// `shell` (containers and Kubernetes come later).
    #[serde(default = "shell")]
    pub executor: String,
    /// Where jobs are built (default `builds` beside the configuration file).
    #[serde(default)]
    pub builds_dir: Option<PathBuf>,
    /// Where caches are kept (default `cache` beside the configuration file).
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// `[runners.docker]`: how the docker executor uses its engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerSection>,
}

/// `[runners.docker]`, with gitlab-runner's names.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DockerSection {
    /// The engine's address (default: `DOCKER_HOST`, then the Podman and Docker sockets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The image of jobs that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The pull policies of images whose job names none (default: `if-not-present`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pull_policy: Vec<String>,
    /// The pull policies jobs may ask for (default: those of `pull_policy`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_pull_policies: Vec<String>,
    /// More volumes for job containers (`host:container[:mode]` or `container`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Bind the engine's socket into job containers at `/var/run/docker.sock`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub docker_socket: bool,
    /// Run containers privileged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// How long to wait for services, in seconds (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_services_timeout: Option<u64>,
    /// Resource limits of containers, `name=soft[:hard]` (default: this runner's open
    /// files and 4096 processes, for an engine on this machine).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ulimits: Vec<String>,
}

impl DockerSection {
    /// The executor's configuration; an unknown pull policy is an error.
    pub fn executor_config(&self) -> Result<DockerConfig, String> {
        let policies = |names: &[String]| -> Result<Vec<PullPolicy>, String> {
            names
                .iter()
                .map(|n| {
                    PullPolicy::parse(n)
                        .ok_or_else(|| format!("unknown pull policy {n:?} (always, if-not-present, never)"))
                })
                .collect()
        };
        let defaults = DockerConfig::default();
        let pull_policy = policies(&self.pull_policy)?;
        Ok(DockerConfig {
            host: self.host.clone(),
            default_image: self.image.clone(),
            pull_policy: if pull_policy.is_empty() {
                defaults.pull_policy
            } else {
                pull_policy
            },
            allowed_pull_policies: policies(&self.allowed_pull_policies)?,
            volumes: self.volumes.clone(),
            docker_socket: self.docker_socket,
            privileged: self.privileged,
            wait_for_services: self
                .wait_for_services_timeout
                .map_or(defaults.wait_for_services, std::time::Duration::from_secs),
            ulimits: self
                .ulimits
                .iter()
                .map(|u| gantry_executor::docker::parse_ulimit(u))
                .collect::<Result<_, _>>()?,
        })
    }
}

fn shell() -> String {
    "shell".to_owned()
}

impl Config {
    /// Reads the file; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config {
                    concurrent: 1,
                    runners: Vec::new(),
                });
            }
            Err(source) => {
                return Err(ConfigError::Io {
                    what: "reading",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        for r in &config.runners {
            let invalid = |message: String| ConfigError::Invalid {
                message: format!("runner {:?}: {message}", r.name),
                path: path.to_path_buf(),
            };
            match r.executor.as_str() {
                "shell" => {}
                "docker" => {
                    r.docker
                        .clone()
                        .unwrap_or_default()
                        .executor_config()
                        .map_err(invalid)?;
                }
                other => {
                    return Err(invalid(format!(
                        "executor {other:?} is not available (shell or docker)"
                    )));
                }
            }
        }
        Ok(config)
    }

    /// Writes the file (readable by its owner only: it holds tokens).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let io = |what, source| ConfigError::Io {
            what,
            path: path.to_path_buf(),
            source,
        };
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::Invalid {
            message: e.to_string(),
            path: path.to_path_buf(),
        })?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| io("creating the directory of", e))?;
        }
        let partial = path.with_extension("toml.partial");
        {
            // Created readable by its owner only: it holds tokens.
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::remove_file(&partial);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&partial)
                .map_err(|e| io("writing", e))?;
            file.write_all(text.as_bytes()).map_err(|e| io("writing", e))?;
        }
        std::fs::rename(&partial, path).map_err(|e| io("writing", e))
    }
}

impl RunnerConfig {
    /// The builds and cache directories, relative ones beside `config_path`.
    pub fn dirs(&self, config_path: &Path) -> (PathBuf, PathBuf) {
        let base = config_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let at = |p: &Option<PathBuf>, default: &str| {
            let p = p.clone().unwrap_or_else(|| PathBuf::from(default));
            if p.is_absolute() { p } else { base.join(p) }
        };
        (at(&self.builds_dir, "builds"), at(&self.cache_dir, "cache"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_saved_configuration_loads_back_private_and_other_executors_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etc/runner.toml");
        assert!(
            Config::load(&path).unwrap().runners.is_empty(),
            "a missing file is empty"
        );
        let config = Config {
            concurrent: 3,
            runners: vec![RunnerConfig {
                name: "one".into(),
                url: "http://127.0.0.1:8080".into(),
                token: "glrt-secret".into(),
                executor: "shell".into(),
                builds_dir: None,
                cache_dir: Some(PathBuf::from("/var/cache/runner")),
                docker: None,
            }],
        };
        config.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "it holds tokens");
        let loaded = Config::load(&path).unwrap();
        assert_eq!(loaded.concurrent, 3);
        assert_eq!(loaded.runners[0].token, "glrt-secret");
        let (builds, cache) = loaded.runners[0].dirs(&path);
        assert_eq!(builds, dir.path().join("etc/builds"), "relative to the file");
        assert_eq!(cache, PathBuf::from("/var/cache/runner"));

        std::fs::write(
            &path,
            "[[runners]]\nurl = \"http://x\"\ntoken = \"t\"\nexecutor = \"kubernetes\"\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("kubernetes") && err.contains("shell or docker"),
            "{err}"
        );
        std::fs::write(
            &path,
            "[[runners]]\nurl = \"http://x\"\ntoken = \"t\"\nexecutor = \"docker\"\n[runners.docker]\nimage = \"alpine\"\npull_policy = [\"sometimes\"]\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("unknown pull policy \"sometimes\""), "{err}");
        std::fs::write(
            &path,
            "[[runners]]\nurl = \"http://x\"\ntoken = \"t\"\nexecutor = \"docker\"\n[runners.docker]\nimage = \"alpine\"\ndocker_socket = true\nwait_for_services_timeout = 5\n",
        )
        .unwrap();
        let docker = Config::load(&path).unwrap().runners[0].docker.clone().unwrap();
        let config = docker.executor_config().unwrap();
        assert_eq!(config.default_image.as_deref(), Some("alpine"));
        assert!(config.docker_socket);
        assert_eq!(config.wait_for_services, std::time::Duration::from_secs(5));
        assert_eq!(config.pull_policy, [PullPolicy::IfNotPresent]);
        std::fs::write(&path, "[[runners]]\nurl = 3\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("runner.toml"), "the file is named: {err}");
    }
}
