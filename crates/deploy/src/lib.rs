//! gantry-deploy: `gantry deploy`. Applies Kubernetes manifests with server-side apply (field
//! manager `gantry`), waits until every workload has rolled out, and when anything fails puts
//! every object it changed back as it was, as `helm --atomic` does for charts.
//!
//! Data flow: files → [`manifest`] (objects with their positions) → [`object`] (identity,
//! order, inventory) → the cluster (`deploy` module: dry run, apply, wait with [`rollout`],
//! diagnose, roll back, prune). [`manifest`], [`object`], [`pull_secret`] and [`rollout`] are
//! pure; only `cluster`, `deploy`, `diagnose` and `wait` talk to the API server (kube-rs).

mod cluster;
mod deploy;
mod diagnose;
pub mod manifest;
pub mod object;
pub mod pull_secret;
pub mod rollout;
mod wait;

pub use deploy::{FIELD_MANAGER, INVENTORY_ANNOTATION};
pub use manifest::{Manifest, ManifestError};
pub use pull_secret::PullSecret;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where progress lines go (the job log, a terminal).
pub type Say<'a> = dyn Fn(&str) + Sync + 'a;

/// What to deploy, where, and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// The objects, in the order they were read (they are applied in kind order).
    pub manifests: Vec<Manifest>,
    /// The namespace of namespaced objects; `None`: the kubeconfig context's.
    pub namespace: Option<String>,
    /// The kubeconfig file; `None`: `KUBECONFIG`, `~/.kube/config` or the pod's account.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context; `None`: its current one.
    pub context: Option<String>,
    /// How long workloads may take to roll out (and, after a failure, to roll back).
    pub timeout: Duration,
    /// Wait for the rollout (and roll back when it fails).
    pub wait: bool,
    /// Delete objects an earlier deployment of the same inventory made that left the manifests.
    pub prune: bool,
    /// The inventory's name (one per application and namespace).
    pub inventory: String,
    /// Create this registry secret and add it to every pod template.
    pub pull_secret: Option<PullSecret>,
}

/// What a deployment did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Objects that did not exist.
    pub created: usize,
    /// Objects that changed.
    pub configured: usize,
    /// Objects applied without a change.
    pub unchanged: usize,
    /// Objects pruned.
    pub pruned: usize,
}

/// Why a deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// No object in the files given.
    #[error("no Kubernetes objects in the files given")]
    NoManifests,
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A manifest is wrong (with where it is).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// No usable kubeconfig.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// The cluster could not be read or written.
    #[error("{0}")]
    Cluster(String),
    /// The API server's dry run refused objects; nothing was changed.
    #[error("the API server refused {} of the objects, so nothing was changed:\n  {}", .0.len(), .0.join("\n  "))]
    Refused(Vec<String>),
    /// The rollout succeeded, but pruning or recording the inventory failed afterwards (the
    /// new version stays; nothing was rolled back).
    #[error("deployed, but {0} (the new version stays; nothing was rolled back)")]
    AfterRollout(String),
    /// Applying or rolling out failed, and what had changed was rolled back.
    #[error("{}", rolled_back_message(reasons, rollback_problems))]
    RolledBack {
        /// What failed.
        reasons: Vec<String>,
        /// What the rollback could not restore (empty when it restored everything).
        rollback_problems: Vec<String>,
    },
}

fn rolled_back_message(reasons: &[String], problems: &[String]) -> String {
    let mut text = format!("the deployment failed: {}", reasons.join("; "));
    if problems.is_empty() {
        text.push_str("\nEvery changed object was rolled back to its previous state.");
    } else {
        text.push_str(&format!(
            "\nThe rollback did not restore everything:\n  {}",
            problems.join("\n  ")
        ));
    }
    text
}

/// Applies `options.manifests`, waits, and rolls back on failure; progress goes to `say`.
pub async fn deploy(options: Options, say: &Say<'_>) -> Result<Summary, DeployError> {
    deploy::run(options, say).await
}

/// Reads the manifests of `paths`: files, and in directories every `*.yaml`, `*.yml` and
/// `*.json` file (not recursing, in name order, as `kubectl apply -f DIR` does); `-` is stdin.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Manifest>, DeployError> {
    let mut out = Vec::new();
    for path in paths {
        if path == Path::new("-") {
            let text = std::io::read_to_string(std::io::stdin()).map_err(|source| DeployError::Read {
                path: "-".into(),
                source,
            })?;
            out.extend(manifest::parse("<stdin>", &text)?);
            continue;
        }
        let read_err = |source| DeployError::Read {
            path: path.display().to_string(),
            source,
        };
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(read_err)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                })
                .collect();
            files.sort();
            files
        } else {
            vec![path.clone()]
        };
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| DeployError::Read {
                path: file.display().to_string(),
                source,
            })?;
            out.extend(manifest::parse(&file.display().to_string(), &text)?);
        }
    }
    Ok(out)
}
