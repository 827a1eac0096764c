//! Where jobs run: build directories holding the repository at the pipeline's commit, under
//! the data directory (`.gantry/` by default).
//!
//! The repository is checked out once per pipeline (a `git clone --shared`, as GitLab clones;
//! `--dirty` then copies the work tree over it) into `source/`. As gitlab-runner does, jobs
//! run in build slots, `builds/<slot>/<project path>`, one per job running at the same time
//! (`CI_CONCURRENT_ID`), and `GIT_STRATEGY` says what a job finds there:
//!
//! - `fetch` (the default): the slot's directory brought back to the checkout, `.git`
//!   included, as `git clean -ffdx` and `git reset --hard` would: what the previous job
//!   changed or added is undone, what it did not touch is not copied again ([`tree::sync`]);
//!   a fresh copy when the slot holds no checkout yet;
//! - `clone`: a fresh copy of the checkout;
//! - `none`: the slot's directory as the previous job left it (created empty if missing);
//! - `empty`: an empty directory.
//!
//! A job never sees another running job's files, and creating files is most of what a
//! job's setup costs (on ext4 without a journal each new inode scans past the recently
//! deleted ones), so reusing a slot is several times cheaper than a copy per job.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::tree;

/// Preparing a build directory failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A file operation failed.
    #[error("{what} {}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// `git` could not be started or failed.
    #[error("git {args} failed: {message}")]
    Git {
        /// The git arguments.
        args: String,
        /// git's error output, or why it could not start.
        message: String,
    },
    /// The pipeline's checkout failed earlier (every job of the pipeline gets this).
    #[error("{0}")]
    Checkout(String),
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError {
    let path = path.to_path_buf();
    move |source| WorkspaceError::Io { what, path, source }
}

/// The directories of one pipeline's jobs, and the commit they hold.
pub struct Workspace {
    /// The repository jobs are cloned from (a work tree, or a bare repository on a server).
    pub repo_root: PathBuf,
    /// Where build directories, scripts, artifacts and caches go.
    pub data_dir: PathBuf,
    /// The pipeline's commit.
    pub sha: String,
    /// `--dirty`: copy the work tree as it is over the checkout.
    pub dirty: bool,
    /// `CI_PIPELINE_ID`.
    pub pipeline_id: u64,
    /// Where caches go when not under `data_dir` (a server shares them between pipelines).
    pub cache_root: Option<PathBuf>,
    /// The checkout every build directory is copied from, made by the first job that needs it.
    /// Checked again before each use: a server removes a finished pipeline's checkout, and a
    /// retry later makes it again.
    source: Mutex<Option<PathBuf>>,
    /// Which build slots a job holds now.
    slots: Mutex<Vec<bool>>,
}

/// A build slot a job holds until this is dropped.
pub struct Slot<'a> {
    slots: &'a Mutex<Vec<bool>>,
    index: usize,
}

impl Slot<'_> {
    /// `CI_CONCURRENT_ID`: the slot's number, from 0.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots[self.index] = false;
    }
}

/// What a job's build directory holds now (for the job log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prepared {
    /// A fresh copy of the checkout.
    Copied,
    /// The previous job's directory brought back to the checkout, with this many entries
    /// removed or copied again.
    Reset(usize),
    /// Left as the previous job left it (`GIT_STRATEGY: none`).
    Untouched,
    /// An empty directory.
    Empty,
}

impl std::fmt::Display for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Prepared::Copied => f.write_str("a fresh copy of the commit"),
            Prepared::Reset(0) => f.write_str("the previous job's copy of the commit, unchanged"),
            Prepared::Reset(n) => write!(
                f,
                "the previous job's copy of the commit, cleaned ({n} entries removed or restored)"
            ),
            Prepared::Untouched => {
                f.write_str("GIT_STRATEGY none: left as the previous job left it, without Git operations")
            }
            Prepared::Empty => f.write_str("GIT_STRATEGY empty: an empty directory"),
        }
    }
}

/// `GIT_STRATEGY` (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GitStrategy {
    /// Reuse the slot's checkout, cleaned (the default, as for a new GitLab project).
    Fetch,
    /// A fresh copy.
    Clone,
    /// The slot's directory as it is.
    None,
    /// An empty directory.
    Empty,
}

impl GitStrategy {
    /// The strategy `GIT_STRATEGY` names (fetch when unset or unknown).
    pub fn from_variable(value: Option<&str>) -> Self {
        match value {
            Some("clone") => GitStrategy::Clone,
            Some("none") => GitStrategy::None,
            Some("empty") => GitStrategy::Empty,
            _ => GitStrategy::Fetch,
        }
    }
}

impl Workspace {
    /// Opens the data directory and takes the next pipeline id; removes earlier builds.
    pub fn open(repo_root: &Path, data_dir: &Path, sha: &str, dirty: bool) -> Result<Self, WorkspaceError> {
        std::fs::create_dir_all(data_dir).map_err(io("creating", data_dir))?;
        let counter = data_dir.join("pipeline-id");
        let last: u64 = std::fs::read_to_string(&counter)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let pipeline_id = last + 1;
        std::fs::write(&counter, pipeline_id.to_string()).map_err(io("writing", &counter))?;
        let _ = clear_builds(data_dir);
        Ok(Workspace {
            repo_root: repo_root.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            sha: sha.to_owned(),
            dirty,
            pipeline_id,
            cache_root: None,
            source: Mutex::new(None),
            slots: Mutex::new(Vec::new()),
        })
    }

    /// The workspace of a pipeline whose id is given (a server's), in its own data directory.
    pub fn for_pipeline(
        repo_root: &Path,
        data_dir: &Path,
        sha: &str,
        pipeline_id: u64,
    ) -> Result<Self, WorkspaceError> {
        std::fs::create_dir_all(data_dir).map_err(io("creating", data_dir))?;
        Ok(Workspace {
            repo_root: repo_root.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            sha: sha.to_owned(),
            dirty: false,
            pipeline_id,
            cache_root: None,
            source: Mutex::new(None),
            slots: Mutex::new(Vec::new()),
        })
    }

    /// Removes the checkout and the build slots (not artifacts, not caches): a later job
    /// checks the commit out again.
    pub fn clear_builds(&self) -> std::io::Result<()> {
        clear_builds(&self.data_dir)
    }

    /// The lowest build slot no job holds, until the returned guard is dropped.
    pub fn slot(&self) -> Slot<'_> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let index = match slots.iter().position(|busy| !busy) {
            Some(i) => i,
            None => {
                slots.push(false);
                slots.len() - 1
            }
        };
        slots[index] = true;
        Slot {
            slots: &self.slots,
            index,
        }
    }

    /// The directory holding the build slots (`CI_BUILDS_DIR`).
    pub fn builds_dir(&self) -> PathBuf {
        self.data_dir.join("builds")
    }

    /// A slot's build directory for a project (`CI_PROJECT_DIR`): `builds/<slot>/<path>`,
    /// as gitlab-runner's `<builds dir>/<concurrent id>/<namespace>/<project>`. Only the
    /// path's plain components count (no `..`, no root).
    pub fn build_dir(&self, slot: &Slot<'_>, project_path: &str) -> PathBuf {
        self.builds_dir()
            .join(slot.index.to_string())
            .join(project_subdir(project_path))
    }

    /// The directory for the executor's own files beside a build directory (`<dir>.tmp`, as
    /// gitlab-runner's): scripts and file variables.
    pub fn tmp_dir(build_dir: &Path) -> PathBuf {
        let mut name = build_dir.as_os_str().to_owned();
        name.push(".tmp");
        PathBuf::from(name)
    }

    /// The `artifacts dir` of the workspace.
    pub fn artifacts_dir(&self) -> PathBuf {
        Self::artifacts_dir_in(&self.data_dir, self.pipeline_id)
    }

    /// Where the workspace of `pipeline_id` in `data_dir` keeps its jobs' archives.
    pub fn artifacts_dir_in(data_dir: &Path, pipeline_id: u64) -> PathBuf {
        data_dir.join("artifacts").join(pipeline_id.to_string())
    }

    /// The `cache dir` of the workspace.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_root
            .clone()
            .unwrap_or_else(|| self.data_dir.join("cache"))
    }

    /// Makes a slot's build directory ready for an attempt, as `strategy` says.
    pub fn prepare(&self, dir: &Path, strategy: GitStrategy) -> Result<Prepared, WorkspaceError> {
        self.unlink_build_path(dir)?;
        match strategy {
            GitStrategy::None => {
                std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
                Ok(Prepared::Untouched)
            }
            GitStrategy::Empty => {
                remove_all(dir)?;
                std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
                Ok(Prepared::Empty)
            }
            GitStrategy::Fetch | GitStrategy::Clone => {
                let source = self.source()?;
                if strategy == GitStrategy::Fetch && dir.join(".git").is_dir() {
                    // What cannot be brought back (a directory the job made unreadable) gets
                    // a fresh copy instead.
                    if let Ok(changed) = tree::sync(&source, dir) {
                        return Ok(Prepared::Reset(changed));
                    }
                }
                remove_all(dir)?;
                if let Some(parent) = dir.parent() {
                    std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
                }
                tree::copy(&source, dir).map_err(io("copying the sources to", dir))?;
                Ok(Prepared::Copied)
            }
        }
    }

    /// Removes any symbolic link a previous job left on the way from the builds directory to
    /// `dir` (or at `dir`): the cleaning must never follow one out of the builds directory.
    fn unlink_build_path(&self, dir: &Path) -> Result<(), WorkspaceError> {
        let builds = self.builds_dir();
        let Ok(rel) = dir.strip_prefix(&builds) else {
            return Ok(());
        };
        let mut at = builds;
        for part in rel.components() {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => {
                    std::fs::remove_file(&at).map_err(io("removing the link", &at))?;
                    return Ok(());
                }
                Ok(_) => {}
                Err(_) => return Ok(()),
            }
        }
        Ok(())
    }

    /// The pipeline's checkout, made by the first job that needs it.
    fn source(&self) -> Result<PathBuf, WorkspaceError> {
        let mut cached = self.source.lock().unwrap_or_else(|e| e.into_inner());
        match cached.as_ref() {
            Some(path) if self.data_dir.join("source.ready").is_file() => Ok(path.clone()),
            _ => {
                let path = self
                    .checkout_source()
                    .map_err(|e| WorkspaceError::Checkout(error_chain(&e)))?;
                *cached = Some(path.clone());
                Ok(path)
            }
        }
    }

    /// The pipeline's checkout, `source/` in the data directory. A checkout finished by an
    /// earlier process for this pipeline (a server that restarted, a job retried later) is
    /// reused; a half-made one is made again.
    fn checkout_source(&self) -> Result<PathBuf, WorkspaceError> {
        let dir = self.data_dir.join("source");
        let ready = self.data_dir.join("source.ready");
        if ready.is_file() && dir.is_dir() {
            return Ok(dir);
        }
        std::fs::remove_dir_all(&dir)
            .or_else(ignore_missing)
            .map_err(io("removing", &dir))?;
        self.clone_at_commit(&dir)?;
        Self::slim_git_dir(&dir)?;
        if self.dirty {
            self.copy_work_tree(&dir)?;
        }
        std::fs::write(&ready, &self.sha).map_err(io("writing", &ready))?;
        Ok(dir)
    }

    /// A clone sharing the repository's objects, checked out at the pipeline's commit.
    fn clone_at_commit(&self, dir: &Path) -> Result<(), WorkspaceError> {
        let target = dir.to_string_lossy();
        git(
            &self.repo_root,
            // `--template=`: no sample hooks, which every job would copy for nothing.
            &[
                "clone",
                "--quiet",
                "--shared",
                "--no-checkout",
                "--template=",
                ".",
                &target,
            ],
        )?;
        git(dir, &["checkout", "--quiet", "--detach", &self.sha])?;
        Ok(())
    }

    /// Leaves out of a checkout's `.git` what jobs never need and every job would copy: the
    /// reflogs of refs (HEAD's stays: `git status` reads it), `origin/HEAD` (a runner's fetch
    /// does not make one either), and the directories that only held loose refs (packed into
    /// `packed-refs`). Creating inodes is most of what a job's setup costs.
    fn slim_git_dir(dir: &Path) -> Result<(), WorkspaceError> {
        git(dir, &["symbolic-ref", "--delete", "refs/remotes/origin/HEAD"]).ok();
        git(dir, &["pack-refs", "--all", "--prune"])?;
        let git_dir = dir.join(".git");
        let logs = git_dir.join("logs/refs");
        std::fs::remove_dir_all(&logs)
            .or_else(ignore_missing)
            .map_err(io("removing", &logs))?;
        for sub in [
            "refs/remotes/origin",
            "refs/remotes",
            "refs/heads",
            "refs/tags",
            "objects/pack",
        ] {
            // Only when empty: `remove_dir` refuses a directory that still holds a ref.
            let _ = std::fs::remove_dir(git_dir.join(sub));
        }
        Ok(())
    }

    /// `--dirty`: the work tree as it is (tracked and untracked, not ignored files) over a
    /// checkout.
    fn copy_work_tree(&self, dir: &Path) -> Result<(), WorkspaceError> {
        let listed = git(
            &self.repo_root,
            &["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        )?;
        for rel in listed.split('\0').filter(|s| !s.is_empty()) {
            let from = self.repo_root.join(rel);
            let to = dir.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
            }
            match std::fs::symlink_metadata(&from) {
                Ok(m) if m.file_type().is_symlink() => {
                    let _ = std::fs::remove_file(&to);
                    std::fs::read_link(&from)
                        .and_then(|target| std::os::unix::fs::symlink(target, &to))
                        .map_err(io("copying the link", &from))?;
                }
                Ok(m) if m.is_file() => {
                    std::fs::copy(&from, &to).map_err(io("copying", &from))?;
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

fn ignore_missing(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

fn remove_all(dir: &Path) -> Result<(), WorkspaceError> {
    std::fs::remove_dir_all(dir)
        .or_else(ignore_missing)
        .map_err(io("cleaning", dir))
}

/// Where a project's build directory goes under a slot: only the plain components of its
/// path (no `..`, no root), `project` when none is left.
pub fn project_subdir(project_path: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for part in Path::new(project_path).components() {
        if let std::path::Component::Normal(name) = part {
            out.push(name);
        }
    }
    if out.as_os_str().is_empty() {
        out.push("project");
    }
    out
}

/// Files git does not track in a build directory (`artifacts:untracked`, `cache:untracked`).
pub fn untracked(dir: &Path) -> Vec<String> {
    git(dir, &["ls-files", "-z", "--others"])
        .map(|s| {
            s.split('\0')
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn git(dir: &Path, args: &[&str]) -> Result<String, WorkspaceError> {
    let failed = |message: String| WorkspaceError::Git {
        args: args.join(" "),
        message,
    };
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        return Err(failed(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The checkout marker first, so a half-removed checkout is never taken for a ready one; then
/// the checkout and the build slots. What is already gone is no error.
fn clear_builds(data_dir: &Path) -> std::io::Result<()> {
    std::fs::remove_file(data_dir.join("source.ready")).or_else(ignore_missing)?;
    for dir in ["source", "builds"] {
        std::fs::remove_dir_all(data_dir.join(dir)).or_else(ignore_missing)?;
    }
    Ok(())
}
