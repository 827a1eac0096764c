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
//! ```

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
            if r.executor != "shell" {
                return Err(ConfigError::Invalid {
                    message: format!(
                        "runner {:?}: executor {:?} is not available (only shell)",
                        r.name, r.executor
                    ),
                    path: path.to_path_buf(),
                });
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
            "[[runners]]\nurl = \"http://x\"\ntoken = \"t\"\nexecutor = \"docker\"\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("docker") && err.contains("only shell"), "{err}");
        std::fs::write(&path, "[[runners]]\nurl = 3\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("runner.toml"), "the file is named: {err}");
    }
}
