//! A pipeline's inputs from a hosted repository: the configuration files at the commit (a
//! [`FileSource`], including `include:project` from other repositories on this server), the
//! file list, the commit's details and the files a push changed. Blocking git calls: run
//! them on a blocking thread.

use gantry_config::{FileSource, SourceError};
use gantry_plan::Repository;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Forty zeros: git's "no commit" (a new ref's before, a deleted ref's after).
pub const NULL_SHA: &str = "0000000000000000000000000000000000000000";

/// Runs git on a bare repository; `None` when git fails (a missing path, an unknown ref).
fn git(git_dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

fn git_text(git_dir: &Path, args: &[&str]) -> Option<String> {
    git(git_dir, args).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// A safe project-relative path (no `..`, no absolute path).
fn clean(path: &str) -> Result<&str, SourceError> {
    let path = path.trim_start_matches('/');
    if path.split('/').any(|seg| seg == ".." || seg.is_empty()) {
        return Err(SourceError::Other(format!("`{path}` points outside the project")));
    }
    Ok(path)
}

/// Whether the pipeline may read the project at a path (`include:project`).
pub type MayRead = Box<dyn Fn(&str) -> bool + Send>;

/// The files of one commit of a hosted repository, and the repositories next to it.
pub struct RepoSource {
    /// The bare repository of the project.
    pub git_dir: PathBuf,
    /// Where every project's bare repository lives (`<root>/<path>.git`).
    pub repos_root: PathBuf,
    /// The commit.
    pub sha: String,
    files: Vec<String>,
    /// Which other projects `include:project` may read; none when unset.
    may_read: Option<MayRead>,
    /// A configuration that is not a file of the commit (a child pipeline's), by path.
    root: Option<(String, String)>,
}

/// Where a child pipeline's configuration is read from: no file of a repository has it.
pub const DOWNSTREAM_ROOT: &str = ".gantry/downstream-pipeline.yml";

impl RepoSource {
    /// The source for `sha` in `git_dir`, listing its files once.
    pub fn new(git_dir: PathBuf, repos_root: PathBuf, sha: String) -> Self {
        let files = git_text(&git_dir, &["ls-tree", "-r", "-z", "--name-only", &sha])
            .map(|s| {
                s.split('\0')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        RepoSource {
            git_dir,
            repos_root,
            sha,
            files,
            may_read: None,
            root: None,
        }
    }

    /// Lets `include:project` read the projects `may_read` allows (else it reads none).
    pub fn with_access(mut self, may_read: MayRead) -> Self {
        self.may_read = Some(may_read);
        self
    }

    /// Reads `text` as the file [`DOWNSTREAM_ROOT`] (a child pipeline's configuration).
    pub fn with_root(mut self, text: String) -> Self {
        self.root = Some((DOWNSTREAM_ROOT.to_owned(), text));
        self
    }

    /// Every file of the commit.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    fn read_at(git_dir: &Path, rev: &str, path: &str) -> Result<String, SourceError> {
        let path = clean(path)?;
        let bytes =
            git(git_dir, &["cat-file", "blob", &format!("{rev}:{path}")]).ok_or(SourceError::NotFound)?;
        String::from_utf8(bytes).map_err(|_| SourceError::Other("the file is not UTF-8 text".into()))
    }

    /// The commit's details: (message, `Name <email>`, ISO 8601 time).
    pub fn commit(&self) -> (String, String, String) {
        let out = git_text(
            &self.git_dir,
            &["log", "-1", "--format=%an <%ae>%x00%cI%x00%B", &self.sha],
        )
        .unwrap_or_default();
        let mut parts = out.splitn(3, '\0');
        let author = parts.next().unwrap_or_default().to_owned();
        let time = parts.next().unwrap_or_default().to_owned();
        let message = parts.next().unwrap_or_default().trim_end().to_owned();
        (message, author, time)
    }

    /// Files changed from `before` to the commit; `None` when `before` is unknown (a new
    /// branch or tag), which makes `rules:changes` true as GitLab does.
    pub fn changed_since_sha(&self, before: &str) -> Option<Vec<String>> {
        if before.is_empty() || before == NULL_SHA {
            return None;
        }
        let out = git_text(&self.git_dir, &["diff", "--name-only", "-z", before, &self.sha])?;
        Some(
            out.split('\0')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}

impl FileSource for RepoSource {
    fn read(&self, path: &str) -> Result<String, SourceError> {
        if let Some((root, text)) = &self.root
            && root == path
        {
            return Ok(text.clone());
        }
        Self::read_at(&self.git_dir, &self.sha, path)
    }

    fn list(&self) -> Result<Vec<String>, SourceError> {
        Ok(self.files.clone())
    }

    fn read_project(
        &self,
        project: &str,
        reference: Option<&str>,
        path: &str,
    ) -> Result<String, SourceError> {
        let project = project.trim_matches('/');
        if project
            .split('/')
            .any(|seg| seg.is_empty() || seg.starts_with('.'))
        {
            return Err(SourceError::Other(format!("`{project}` is not a project path")));
        }
        let dir = self.repos_root.join(format!("{project}.git"));
        let allowed = self.may_read.as_ref().is_some_and(|may| may(project));
        // The same words whether it is missing or hidden, as GitLab says them.
        if !allowed || !dir.is_dir() {
            return Err(SourceError::Other(format!(
                "project `{project}` not found or access denied"
            )));
        }
        Self::read_at(&dir, reference.unwrap_or("HEAD"), path)
    }
}

impl Repository for RepoSource {
    fn changed_since(&self, reference: &str) -> Option<Vec<String>> {
        let out = git_text(
            &self.git_dir,
            &["diff", "--name-only", "-z", reference, &self.sha],
        )?;
        Some(
            out.split('\0')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}
