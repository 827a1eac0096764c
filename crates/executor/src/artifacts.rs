//! Job artifacts on the job's side: the files `artifacts:paths`, `artifacts:untracked` and
//! `artifacts:exclude` select (gitlab-runner's `file_archiver.go`), the zip archive they are
//! stored in ([`write_zip`]), and the safe extraction of such an archive into the project
//! directory of a later job ([`extract_zip`]).
//!
//! Collecting never fails a job, as with gitlab-runner: a pattern that matches nothing, is
//! invalid, or points outside the project directory becomes a warning for the job log.

mod extract;
mod write;

pub use extract::{ExtractArchiveError, ExtractLimits, ExtractSummary, extract_zip, extract_zip_with_limits};
pub use write::{ArchiveSummary, WriteArchiveError, write_zip};

use crate::paths::{ExpandPathsError, Project, sort_paths};
use std::path::{Path, PathBuf};

/// What a job's `artifacts:` keyword asks to keep (CI/CD variables already expanded).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArtifactSpec {
    /// `artifacts:paths` (and the paths of `artifacts:reports`).
    pub paths: Vec<String>,
    /// `artifacts:exclude`.
    pub exclude: Vec<String>,
    /// `artifacts:untracked`.
    pub untracked: bool,
}

/// The files selected for an archive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    /// Project-relative paths (files, directories and symbolic links), in byte order.
    pub files: Vec<PathBuf>,
    /// gitlab-runner's warnings for the job log, without the `WARNING: ` prefix.
    pub warnings: Vec<String>,
}

/// Why nothing could be collected at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectArtifactsError {
    /// The project directory cannot be resolved.
    #[error("collecting files in {}", path.display())]
    Project {
        /// The project directory given.
        path: PathBuf,
        /// Why it cannot be used.
        #[source]
        source: ExpandPathsError,
    },
}

/// Selects the files of `spec` in `project_dir`.
///
/// `untracked_files` is the output of `git ls-files --others` run in the project directory
/// (one path per element), used only when `spec.untracked` is set. Exclusions apply to the
/// files of both `paths` and `untracked`, and are not recursive (`dir/**` excludes a tree).
pub fn collect(
    project_dir: &Path,
    spec: &ArtifactSpec,
    untracked_files: &[String],
) -> Result<Collected, CollectArtifactsError> {
    let project = Project::open(project_dir).map_err(|source| CollectArtifactsError::Project {
        path: project_dir.to_owned(),
        source,
    })?;
    let mut warnings = Vec::new();
    let mut excludes = Vec::new();
    for pattern in &spec.exclude {
        match project.glob(pattern) {
            Ok(glob) => excludes.push(glob),
            Err(e) => warnings.push(format!("exclude: {e}")),
        }
    }
    let kept = |path: &PathBuf| !excludes.iter().any(|glob| glob.is_match(path));

    let mut files = Vec::new();
    for pattern in &spec.paths {
        if pattern.is_empty() {
            warnings.push("No matching files. Path is empty.".to_owned());
            continue;
        }
        match project.expand(pattern) {
            Ok(found) => {
                let before = files.len();
                files.extend(found.into_iter().filter(kept));
                if files.len() == before {
                    warnings.push(format!(
                        "{pattern}: no matching files. Ensure that the artifact path is relative to the working directory ({})",
                        project_dir.display()
                    ));
                }
            }
            Err(e) => warnings.push(e.to_string()),
        }
    }

    if spec.untracked {
        let before = files.len();
        for file in untracked_files {
            match project.file(Path::new(file)) {
                Ok(Some(path)) if kept(&path) => files.push(path),
                Ok(_) => {}
                Err(e) => warnings.push(format!("untracked: {e}")),
            }
        }
        if files.len() == before {
            warnings.push("untracked: no files".to_owned());
        }
    }

    sort_paths(&mut files);
    if files.iter().any(|f| f.starts_with(".git")) {
        warnings.push(
            "Part of .git directory is on the list of files to archive. This may introduce unexpected problems".to_owned(),
        );
    }
    Ok(Collected { files, warnings })
}
