//! Git hosting: the bare repositories of projects, their refs, and smart HTTP through
//! `git http-backend` ([`http`]).

pub mod http;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The `pre-receive` hook of every repository: refuses the ref updates a push's
/// [`http::PushPolicy`] forbids (it reads `GANTRY_DENY_PUSH` and `GANTRY_PROTECTED`, one
/// pattern per line) with a message the pusher's git prints.
pub const PRE_RECEIVE: &str = r#"#!/bin/sh
# Written by the gantry server. Refuses pushes that protected branch rules forbid, and
# pushes to the refs the server keeps for its pipelines.
zero=0000000000000000000000000000000000000000
nl='
'
set -f
# Whether branch $1 matches one of the newline-separated patterns in $2.
matches() {
    branch=$1
    saved_ifs=$IFS
    IFS=$nl
    set -- $2
    IFS=$saved_ifs
    for pattern in "$@"; do
        case "$branch" in $pattern) return 0 ;; esac
    done
    return 1
}
status=0
while read -r old new ref; do
    case "$ref" in
        refs/heads/*) branch=${ref#refs/heads/} ;;
        refs/pipelines/*)
            echo "You cannot push to $ref: the server keeps the refs of its pipelines." >&2
            status=1
            continue ;;
        *) continue ;;
    esac
    if matches "$branch" "$GANTRY_DENY_PUSH"; then
        echo "You are not allowed to push code to the protected branch $branch." >&2
        status=1
    elif matches "$branch" "$GANTRY_PROTECTED"; then
        if [ "$new" = "$zero" ]; then
            echo "You cannot delete the protected branch $branch with a push." >&2
            status=1
        elif [ "$old" != "$zero" ] && ! git merge-base --is-ancestor "$old" "$new"; then
            echo "You are not allowed to force push to the protected branch $branch." >&2
            status=1
        fi
    fi
done
exit $status
"#;

/// Something went wrong with a repository.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The project path cannot name a repository.
    #[error("`{0}` is not a valid project path")]
    BadPath(String),
    /// There is no repository at that path.
    #[error("no repository for `{0}`")]
    Missing(String),
    /// A repository already exists at that path.
    #[error("a repository for `{0}` already exists")]
    Exists(String),
    /// Running git failed.
    #[error("running git {what}")]
    Spawn {
        /// The git command.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Git ran and failed.
    #[error("git {what} failed: {stderr}")]
    Failed {
        /// The git command.
        what: String,
        /// Its error output.
        stderr: String,
    },
}

/// The bare repositories under one directory, `<root>/<namespace>/<name>.git`.
pub struct Repositories {
    root: PathBuf,
    max_push_bytes: u64,
    /// One lock per repository, held while a push runs, so the refs read before and after
    /// it tell exactly what that push changed.
    push_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// One bare repository.
#[derive(Clone, Debug)]
pub struct Repo {
    dir: PathBuf,
}

impl Repositories {
    /// The repositories under `root`; pushes larger than `max_push_bytes` are refused.
    pub fn new(root: PathBuf, max_push_bytes: u64) -> Self {
        Repositories {
            root,
            max_push_bytes,
            push_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The directory holding every repository.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The largest push accepted, in bytes.
    pub fn max_push_bytes(&self) -> u64 {
        self.max_push_bytes
    }

    /// Where the repository of a project path is (whether or not it exists). Paths are
    /// `namespace/name` segments of letters, digits, `-`, `_` and `.`, none starting with `.`.
    pub fn dir(&self, project_path: &str) -> Result<PathBuf, GitError> {
        let valid = !project_path.is_empty()
            && project_path.split('/').all(|seg| {
                !seg.is_empty()
                    && !seg.starts_with('.')
                    && !seg.ends_with(".git")
                    && seg
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            });
        if !valid {
            return Err(GitError::BadPath(project_path.to_owned()));
        }
        Ok(self.root.join(format!("{project_path}.git")))
    }

    /// The existing repository of a project path.
    pub fn open(&self, project_path: &str) -> Result<Repo, GitError> {
        let dir = self.dir(project_path)?;
        if !dir.join("HEAD").is_file() {
            return Err(GitError::Missing(project_path.to_owned()));
        }
        Ok(Repo { dir })
    }

    /// Creates the empty bare repository of a new project, its HEAD on `default_branch`.
    pub async fn create(&self, project_path: &str, default_branch: &str) -> Result<Repo, GitError> {
        let dir = self.dir(project_path)?;
        if dir.exists() {
            return Err(GitError::Exists(project_path.to_owned()));
        }
        if default_branch.is_empty()
            || default_branch.starts_with('-')
            || default_branch.contains(['\0', ' ', '~', '^', ':', '\\'])
        {
            return Err(GitError::BadPath(default_branch.to_owned()));
        }
        if let Some(parent) = dir.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|source| GitError::Spawn {
                    what: "creating the namespace directory".into(),
                    source,
                })?;
        }
        let head = format!("--initial-branch={default_branch}");
        let dir_arg = dir.to_string_lossy().into_owned();
        run(None, &["init", "--quiet", "--bare", &head, &dir_arg]).await?;
        let repo = Repo { dir };
        // The server authenticates pushes itself before git sees them.
        run(Some(&repo.dir), &["config", "http.receivepack", "true"]).await?;
        run(Some(&repo.dir), &["config", "receive.fsckObjects", "true"]).await?;
        Ok(repo)
    }

    /// The directory of the hooks every push runs (`<root>/.hooks`, a name no project path
    /// can take), written when missing or outdated.
    pub(crate) async fn hooks_dir(&self) -> Result<PathBuf, GitError> {
        let dir = self.root.join(".hooks");
        let hook = dir.join("pre-receive");
        if tokio::fs::read_to_string(&hook).await.ok().as_deref() == Some(PRE_RECEIVE) {
            return Ok(dir);
        }
        let io = |source| GitError::Spawn {
            what: "writing the pre-receive hook".into(),
            source,
        };
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        // Written aside and renamed, so a concurrent push never runs half a hook.
        let partial = dir.join(format!("pre-receive.{}", std::process::id()));
        tokio::fs::write(&partial, PRE_RECEIVE).await.map_err(io)?;
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755))
            .await
            .map_err(io)?;
        tokio::fs::rename(&partial, &hook).await.map_err(io)?;
        Ok(dir)
    }

    /// The lock a push to this repository holds.
    pub(crate) fn push_lock(&self, project_path: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.push_locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(project_path.to_owned()).or_default().clone()
    }
}

impl Repo {
    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Points `name` (a full ref name) at `sha`, as GitLab keeps `refs/pipelines/<id>` so
    /// that runners can fetch a pipeline's commit whatever happens to its branch.
    pub async fn set_ref(&self, name: &str, sha: &str) -> Result<(), GitError> {
        run(Some(&self.dir), &["update-ref", name, sha]).await.map(|_| ())
    }

    /// Every ref (`refs/heads/...`, `refs/tags/...`) and the commit it points at (tags are
    /// peeled to their commit).
    pub async fn refs(&self) -> Result<BTreeMap<String, String>, GitError> {
        let out = run(
            Some(&self.dir),
            &["for-each-ref", "--format=%(refname) %(objectname) %(*objectname)"],
        )
        .await?;
        Ok(out
            .lines()
            .filter_map(|line| {
                let mut parts = line.split(' ');
                let name = parts.next()?;
                let object = parts.next()?;
                let peeled = parts.next().filter(|p| !p.is_empty()).unwrap_or(object);
                Some((name.to_owned(), peeled.to_owned()))
            })
            .collect())
    }
}

/// Runs git (in `dir` as its git directory when given) and returns its output.
async fn run(dir: Option<&Path>, args: &[&str]) -> Result<String, GitError> {
    let what = args.first().copied().unwrap_or_default().to_owned();
    let mut cmd = tokio::process::Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("--git-dir").arg(dir);
    }
    let out = cmd
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|source| GitError::Spawn {
            what: what.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(GitError::Failed {
            what,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths_cannot_leave_the_root() {
        let repos = Repositories::new(PathBuf::from("/srv/repos"), 1);
        for bad in [
            "",
            "../x",
            "a/../b",
            "a//b",
            ".hidden/x",
            "a/b.git",
            "a/b c",
            "/abs",
        ] {
            assert!(repos.dir(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            repos.dir("team/app-1.x").unwrap(),
            PathBuf::from("/srv/repos/team/app-1.x.git")
        );
    }

    #[tokio::test]
    async fn a_new_repository_is_bare_with_no_refs_and_cannot_be_created_twice() {
        let tmp = tempfile::tempdir().unwrap();
        let repos = Repositories::new(tmp.path().to_path_buf(), 1 << 20);
        assert!(matches!(repos.open("me/app"), Err(GitError::Missing(_))));
        let repo = repos.create("me/app", "trunk").await.unwrap();
        assert!(repo.refs().await.unwrap().is_empty());
        let head = std::fs::read_to_string(repo.dir().join("HEAD")).unwrap();
        assert_eq!(head.trim(), "ref: refs/heads/trunk");
        assert!(matches!(
            repos.create("me/app", "main").await,
            Err(GitError::Exists(_))
        ));
        assert!(repos.open("me/app").is_ok());
    }
}
