//! Caches on the job's side: the cache key (`cache:key`, `cache:key:files`, `cache:key:prefix`),
//! saving the files of `cache:paths`/`cache:untracked` as a zip archive under a cache
//! directory, and restoring the first archive found among the key and its fallback keys.
//!
//! The layout is gitlab-runner's local cache: `<cache_dir>/<key>/cache.zip`, the key
//! sanitized as the runner does (`cache/cachekey/cachekey.go`). Restoring never fails a job,
//! as with gitlab-runner ("Failure is not fatal"): a missing archive moves on to the next key,
//! a corrupt one is reported as a warning and the next key is tried.

mod key;

pub use key::{DEFAULT_KEY, SanitizeKeyError, files_key, sanitize_key};

use crate::artifacts::{self, ArchiveSummary, ArtifactSpec, CollectArtifactsError, WriteArchiveError};
use std::io;
use std::path::{Path, PathBuf};

/// The archive's name inside a key's directory, as gitlab-runner names it.
pub const ARCHIVE_NAME: &str = "cache.zip";

/// What [`save`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaveOutcome {
    /// The sanitized key the archive was saved under.
    pub key: String,
    /// The archive written, or `None` when there was nothing to cache ("No files to cache.").
    pub archive: Option<ArchiveSummary>,
    /// gitlab-runner's warnings for the job log, without the `WARNING: ` prefix.
    pub warnings: Vec<String>,
}

/// Why a cache could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveCacheError {
    /// The key cannot be used.
    #[error("cache key")]
    Key(#[from] SanitizeKeyError),
    /// The files could not be collected.
    #[error("collecting the files to cache")]
    Collect(#[from] CollectArtifactsError),
    /// The archive could not be written.
    #[error("writing the cache archive")]
    Write(#[from] WriteArchiveError),
}

/// What [`restore`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreOutcome {
    /// The (sanitized) key whose archive was extracted, or `None` when no key had one.
    pub key: Option<String>,
    /// Warnings for the job log (unusable keys, corrupt archives), without `WARNING: `.
    pub warnings: Vec<String>,
}

/// Where the archive of `key` lives under `cache_dir`.
pub fn archive_path(cache_dir: &Path, key: &str) -> Result<PathBuf, SanitizeKeyError> {
    Ok(cache_dir.join(sanitize_key(key)?).join(ARCHIVE_NAME))
}

/// Saves the files named by `paths` (and the untracked ones, given by the caller from
/// `git ls-files --others` when `cache:untracked` is set) under `key`, replacing the
/// archive atomically. Nothing is written when no file matches.
pub fn save(
    project_dir: &Path,
    paths: &[String],
    untracked_files: &[String],
    key: &str,
    cache_dir: &Path,
) -> Result<SaveOutcome, SaveCacheError> {
    let raw = key;
    let key = sanitize_key(raw)?;
    let spec = ArtifactSpec {
        paths: paths.to_vec(),
        exclude: Vec::new(),
        untracked: !untracked_files.is_empty(),
    };
    let collected = artifacts::collect(project_dir, &spec, untracked_files)?;
    let mut outcome = SaveOutcome {
        key,
        archive: None,
        warnings: Vec::new(),
    };
    if outcome.key != raw {
        outcome.warnings.push(sanitized(raw, &outcome.key));
    }
    outcome.warnings.extend(collected.warnings);
    if collected.files.is_empty() {
        outcome.warnings.push("No files to cache.".to_owned());
        return Ok(outcome);
    }
    let dest = cache_dir.join(&outcome.key).join(ARCHIVE_NAME);
    outcome.archive = Some(artifacts::write_zip(project_dir, &collected.files, &dest)?);
    Ok(outcome)
}

/// Extracts into `project_dir` the archive of the first key in `keys_in_order` (the key,
/// then `cache:fallback_keys`, then `CACHE_FALLBACK_KEY`) that has one.
pub fn restore(cache_dir: &Path, keys_in_order: &[String], project_dir: &Path) -> RestoreOutcome {
    let mut outcome = RestoreOutcome::default();
    for raw in keys_in_order {
        let key = match sanitize_key(raw) {
            Ok(key) => {
                if key != *raw {
                    outcome.warnings.push(sanitized(raw, &key));
                }
                key
            }
            Err(e) => {
                outcome
                    .warnings
                    .push(format!("Skipping cache extraction due to {e}"));
                continue;
            }
        };
        let archive = cache_dir.join(&key).join(ARCHIVE_NAME);
        match artifacts::extract_zip(&archive, project_dir) {
            Ok(_) => {
                outcome.key = Some(key);
                break;
            }
            Err(artifacts::ExtractArchiveError::Open { source, .. })
                if source.kind() == io::ErrorKind::NotFound => {}
            Err(e) => outcome
                .warnings
                .push(format!("Failed to extract cache {key}: {}", chain(&e))),
        }
    }
    outcome
}

/// gitlab-runner's warning for a key changed by [`sanitize_key`].
fn sanitized(raw: &str, key: &str) -> String {
    format!("cache key {raw:?} sanitized to {key:?}")
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
