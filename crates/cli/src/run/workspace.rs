//! Where jobs run: one build directory per job holding the repository at the pipeline's
//! commit (a `git clone --shared`, as GitLab clones; `--dirty` copies the work tree
//! instead), under the data directory (`.gantry/` by default).

use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) struct Workspace {
    pub(crate) repo_root: PathBuf,
    pub(crate) data_dir: PathBuf,
    pub(crate) sha: String,
    pub(crate) dirty: bool,
    pub(crate) pipeline_id: u64,
}

/// `GIT_STRATEGY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GitStrategy {
    /// Clone (or fetch: locally the same, a fresh checkout).
    Clone,
    /// No repository at all: an empty directory.
    None,
}

impl GitStrategy {
    pub(crate) fn from_variable(value: Option<&str>) -> Self {
        match value {
            Some("none") | Some("empty") => GitStrategy::None,
            _ => GitStrategy::Clone,
        }
    }
}

impl Workspace {
    /// Opens the data directory and takes the next pipeline id; removes earlier builds.
    pub(crate) fn open(repo_root: &Path, data_dir: &Path, sha: &str, dirty: bool) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let counter = data_dir.join("pipeline-id");
        let last: u64 = std::fs::read_to_string(&counter)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let pipeline_id = last + 1;
        std::fs::write(&counter, pipeline_id.to_string()).context("writing the pipeline counter")?;
        for old in ["builds", "tmp"] {
            let _ = std::fs::remove_dir_all(data_dir.join(old));
        }
        Ok(Workspace {
            repo_root: repo_root.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            sha: sha.to_owned(),
            dirty,
            pipeline_id,
        })
    }

    pub(crate) fn build_dir(&self, slug: &str) -> PathBuf {
        self.data_dir.join("builds").join(slug)
    }

    pub(crate) fn tmp_dir(&self, slug: &str, attempt: u32) -> PathBuf {
        self.data_dir.join("tmp").join(format!("{slug}-{attempt}"))
    }

    pub(crate) fn artifacts_dir(&self) -> PathBuf {
        self.data_dir.join("artifacts").join(self.pipeline_id.to_string())
    }

    pub(crate) fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache")
    }

    /// Makes a fresh build directory for an attempt.
    pub(crate) fn prepare(&self, dir: &Path, strategy: GitStrategy) -> anyhow::Result<()> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("cleaning {}", dir.display()))?;
        }
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match strategy {
            GitStrategy::None => std::fs::create_dir_all(dir).map_err(Into::into),
            GitStrategy::Clone if self.dirty => self.copy_work_tree(dir),
            GitStrategy::Clone => self.clone_at_commit(dir),
        }
    }

    /// A clone sharing the repository's objects, checked out at the pipeline's commit.
    fn clone_at_commit(&self, dir: &Path) -> anyhow::Result<()> {
        let target = dir.to_string_lossy();
        git(
            &self.repo_root,
            &["clone", "--quiet", "--shared", "--no-checkout", ".", &target],
        )?;
        git(dir, &["checkout", "--quiet", "--detach", &self.sha])?;
        Ok(())
    }

    /// `--dirty`: the work tree as it is (tracked and untracked, not ignored files).
    fn copy_work_tree(&self, dir: &Path) -> anyhow::Result<()> {
        self.clone_at_commit(dir)?;
        let listed = git(
            &self.repo_root,
            &["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        )?;
        for rel in listed.split('\0').filter(|s| !s.is_empty()) {
            let from = self.repo_root.join(rel);
            let to = dir.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            match std::fs::symlink_metadata(&from) {
                Ok(m) if m.file_type().is_symlink() => {
                    let _ = std::fs::remove_file(&to);
                    std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
                }
                Ok(m) if m.is_file() => {
                    std::fs::copy(&from, &to)?;
                }
                Ok(_) => {}
                Err(_) => {
                    let _ = std::fs::remove_file(&to);
                }
            }
        }
        Ok(())
    }
}

/// Files git does not track in a build directory (`artifacts:untracked`, `cache:untracked`).
pub(crate) fn untracked(dir: &Path) -> Vec<String> {
    git(dir, &["ls-files", "-z", "--others"])
        .map(|s| {
            s.split('\0')
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
