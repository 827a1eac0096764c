//! The project on disk that `lint` and `run` work on: find the repository, build the
//! trigger context from the flags, compile the configuration.

use crate::cli::ContextArgs;
use crate::git::LocalRepo;
use crate::local::LocalSource;
use anyhow::Context as _;
use gantry_plan::{Compiled, Context};
use std::path::{Path, PathBuf};

/// A compiled configuration with the context and repository it was compiled for.
pub(crate) struct Project {
    pub(crate) repo: LocalRepo,
    pub(crate) ctx: Context,
    pub(crate) compiled: Compiled,
}

/// Compiles `file` (default `.gitlab-ci.yml` in the current directory) for the context the flags describe.
pub(crate) fn compile(file: Option<&Path>, args: &ContextArgs) -> anyhow::Result<Project> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let file = file
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".gitlab-ci.yml"));
    let file = if file.is_absolute() { file } else { cwd.join(file) };
    let mut repo = LocalRepo::discover(&cwd);
    if !file.starts_with(repo.root()) {
        repo = LocalRepo::discover(file.parent().unwrap_or(&cwd));
    }
    let ctx = repo.context(args)?;
    let root = file
        .strip_prefix(repo.root())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| file.to_string_lossy().into_owned());
    let source = LocalSource::new(repo.root().to_path_buf(), ctx.project_files.clone());
    let compiled = gantry_plan::compile(&root, &source, &ctx, &repo);
    Ok(Project { repo, ctx, compiled })
}
