//! What the local git repository says about the pipeline's commit (shelling out to `git`,
//! as gitlab-runner does), and the trigger context built from it and the flags.

use crate::cli::ContextArgs;
use crate::local::walk;
use anyhow::{Context as _, bail};
use gantry_plan::{Context, Repository};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A git repository on disk (or a plain directory, when `git` finds none).
pub(crate) struct LocalRepo {
    root: PathBuf,
    is_git: bool,
}

impl LocalRepo {
    /// Finds the repository that contains `dir`.
    pub(crate) fn discover(dir: &Path) -> Self {
        let top = git_in(dir, &["rev-parse", "--show-toplevel"]).map(|s| PathBuf::from(s.trim()));
        match top {
            Some(root) => LocalRepo { root, is_git: true },
            None => LocalRepo {
                root: dir.to_path_buf(),
                is_git: false,
            },
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn git(&self, args: &[&str]) -> Option<String> {
        if !self.is_git {
            return None;
        }
        git_in(&self.root, args)
    }

    /// Tracked and untracked (not ignored) files.
    pub(crate) fn files(&self) -> Vec<String> {
        match self.git(&["ls-files", "-z", "--cached", "--others", "--exclude-standard"]) {
            Some(out) => {
                let mut files: Vec<String> = out
                    .split('\0')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                files.sort();
                files.dedup();
                files
            }
            None => walk(&self.root),
        }
    }

    /// Builds the trigger context from the flags, filling gaps from the repository.
    pub(crate) fn context(&self, args: &ContextArgs) -> anyhow::Result<Context> {
        let mut ctx = Context::default();
        let head_branch = self
            .git(&["symbolic-ref", "--quiet", "--short", "HEAD"])
            .map(|s| s.trim().to_owned());
        ctx.ref_name = match (&args.ref_name, args.tag) {
            (Some(r), _) => r.clone(),
            (None, true) => match self.git(&["describe", "--tags", "--exact-match", "HEAD"]) {
                Some(t) => t.trim().to_owned(),
                None => bail!("--tag needs --ref, or a tag on HEAD"),
            },
            (None, false) => head_branch.clone().unwrap_or_else(|| "main".into()),
        };
        ctx.is_tag = args.tag;
        ctx.source = args.source.clone();
        ctx.default_branch = match &args.default_branch {
            Some(b) => b.clone(),
            None => self
                .git(&["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"])
                .map(|s| s.trim().trim_start_matches("origin/").to_owned())
                .unwrap_or_else(|| "main".into()),
        };
        for var in &args.vars {
            let Some((k, v)) = var.split_once('=') else {
                bail!("--var takes KEY=VALUE, got `{var}`")
            };
            ctx.pipeline_variables.push((k.to_owned(), v.to_owned()));
        }
        // One `git log` gives the commit, its parent, author, time and message.
        if let Some(out) = self.git(&["log", "-1", "--format=%H%x00%P%x00%an <%ae>%x00%cI%x00%B", "HEAD"]) {
            let mut parts = out.splitn(5, '\0');
            ctx.sha = parts.next().unwrap_or_default().trim().to_owned();
            if let Some(parent) = parts.next().and_then(|p| p.split_whitespace().next()) {
                ctx.before_sha = parent.to_owned();
            }
            ctx.commit_author = parts.next().unwrap_or_default().to_owned();
            ctx.commit_timestamp = parts.next().unwrap_or_default().to_owned();
            ctx.commit_message = parts.next().unwrap_or_default().trim_end().to_owned();
        }
        ctx.changed_files = if !args.changed.is_empty() {
            Some(args.changed.clone())
        } else {
            self.git(&[
                "diff-tree",
                "--no-commit-id",
                "--name-only",
                "-r",
                "--root",
                "HEAD",
            ])
            .map(|out| out.lines().map(str::to_owned).collect())
        };
        let name = self
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "project".into());
        ctx.project_path = format!("local/{name}");
        ctx.project_dir = self.root.to_string_lossy().into_owned();
        ctx.project_files = self.files();
        Ok(ctx)
    }
}

impl Repository for LocalRepo {
    fn changed_since(&self, reference: &str) -> Option<Vec<String>> {
        let out = self.git(&["diff", "--name-only", reference, "HEAD", "--"])?;
        Some(out.lines().map(str::to_owned).collect())
    }
}

fn git_in(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .context("running git")
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
