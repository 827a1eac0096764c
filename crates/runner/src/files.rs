//! The file side of a job, around the executor: artifacts of earlier jobs in, caches in,
//! then artifacts, `reports:dotenv` and caches out, each as the job's keywords say.

use crate::workspace::untracked;
use gantry_config::model::{ArtifactsWhen, CacheKey, CachePolicy, CacheWhen};
use gantry_config::vars::{ExpandOptions, expand};
use gantry_executor::job::JobOutcome;
use gantry_executor::{artifacts, cache, dotenv};
use gantry_plan::PlannedJob;
use gantry_plan::slug::slugify;
use indexmap::IndexMap;
use std::path::Path;

/// Extracts an artifacts archive into a build directory.
pub(crate) fn extract(zip: &Path, build_dir: &Path) -> Result<(), artifacts::ExtractArchiveError> {
    artifacts::extract_zip(zip, build_dir).map(|_| ())
}

/// `text` with the variables of `values` expanded, as the runner expands job keywords
/// (`cache:key`, `cache:policy`, paths).
pub fn expand_with(text: &str, values: &IndexMap<String, String>) -> String {
    expand(
        text,
        &|n| values.get(n).map(String::as_str),
        ExpandOptions::default(),
    )
}

/// Uploads (stores) the job's artifacts when `artifacts:when` matches the outcome.
pub(crate) fn upload_artifacts(
    job: &PlannedJob,
    outcome: JobOutcome,
    build_dir: &Path,
    dir: &Path,
    say: &dyn Fn(String),
) {
    let dest = dir.join(format!("{}.zip", slugify(&job.name)));
    // An earlier attempt's archive must not pass for this attempt's.
    let _ = std::fs::remove_file(&dest);
    let Some(a) = &job.config.artifacts else { return };
    let wanted = match a.when {
        ArtifactsWhen::OnSuccess => outcome == JobOutcome::Success,
        ArtifactsWhen::OnFailure => matches!(outcome, JobOutcome::Failed { .. }),
        ArtifactsWhen::Always => true,
    };
    if !wanted || (a.paths.is_empty() && !a.untracked && a.reports.is_empty()) {
        return;
    }
    say("Uploading artifacts...".into());
    let mut paths = a.paths.clone();
    for (_, globs) in &a.reports {
        paths.extend(globs.iter().cloned());
    }
    let spec = artifacts::ArtifactSpec {
        paths,
        exclude: a.exclude.clone(),
        untracked: a.untracked,
    };
    let untracked_files = if a.untracked {
        untracked(build_dir)
    } else {
        Vec::new()
    };
    let collected = match artifacts::collect(build_dir, &spec, &untracked_files) {
        Ok(c) => c,
        Err(e) => {
            say(format!("ERROR: collecting artifacts failed: {e}"));
            return;
        }
    };
    for w in &collected.warnings {
        say(format!("WARNING: {w}"));
    }
    if collected.files.is_empty() {
        say("WARNING: no files to upload".into());
        return;
    }
    let _ = std::fs::create_dir_all(dir);
    match artifacts::write_zip(build_dir, &collected.files, &dest) {
        Ok(summary) => say(format!("Uploaded {} files as artifacts", summary.files)),
        Err(e) => say(format!("ERROR: writing artifacts failed: {e}")),
    }
}

/// Reads `artifacts:reports:dotenv` files of a finished job.
pub(crate) fn read_dotenv(
    job: &PlannedJob,
    outcome: JobOutcome,
    build_dir: &Path,
    say: &dyn Fn(String),
) -> Option<Vec<(String, String)>> {
    let a = job.config.artifacts.as_ref()?;
    let files = a.dotenv();
    if files.is_empty() {
        return None;
    }
    let wanted = match a.when {
        ArtifactsWhen::OnSuccess => outcome == JobOutcome::Success,
        ArtifactsWhen::OnFailure => matches!(outcome, JobOutcome::Failed { .. }),
        ArtifactsWhen::Always => true,
    };
    if !wanted {
        return None;
    }
    let mut vars = Vec::new();
    for file in files {
        let path = build_dir.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            say(format!("WARNING: dotenv report {file} not found"));
            continue;
        };
        match dotenv::parse(&text) {
            Ok(v) => vars.extend(v),
            Err(e) => say(format!("ERROR: dotenv report {file}: {e}")),
        }
    }
    Some(vars)
}

/// The keys of each cache, resolved for this job.
pub(crate) struct ResolvedCache {
    key: String,
    fallback: Vec<String>,
    paths: Vec<String>,
    untracked: bool,
    pull: bool,
    push: bool,
    when: CacheWhen,
}

/// Restores every cache whose policy pulls; returns the caches to save later.
pub(crate) fn restore_caches(
    job: &PlannedJob,
    values: &IndexMap<String, String>,
    build_dir: &Path,
    cache_dir: &Path,
    say: &dyn Fn(String),
) -> Vec<ResolvedCache> {
    let mut out = Vec::new();
    for c in &job.config.cache {
        let key = match &c.key {
            None => "default".to_owned(),
            Some(CacheKey::Literal(k)) => expand_with(k, values),
            Some(CacheKey::Files { files, prefix }) => {
                let prefix = prefix.as_ref().map(|p| expand_with(p, values));
                cache::files_key(build_dir, files, prefix.as_deref())
            }
        };
        let policy = match &c.policy {
            CachePolicy::Variable(v) => match expand_with(v, values).as_str() {
                "pull" => CachePolicy::Pull,
                "push" => CachePolicy::Push,
                _ => CachePolicy::PullPush,
            },
            p => p.clone(),
        };
        let key = match cache::sanitize_key(&key) {
            Ok(k) => k,
            Err(e) => {
                say(format!(
                    "WARNING: cache key `{key}` is not usable, skipping this cache: {e}"
                ));
                continue;
            }
        };
        let resolved = ResolvedCache {
            key,
            fallback: c
                .fallback_keys
                .iter()
                .filter_map(|k| cache::sanitize_key(&expand_with(k, values)).ok())
                .collect(),
            paths: c.paths.iter().map(|p| expand_with(p, values)).collect(),
            untracked: c.untracked,
            pull: matches!(policy, CachePolicy::Pull | CachePolicy::PullPush),
            push: matches!(policy, CachePolicy::Push | CachePolicy::PullPush),
            when: c.when,
        };
        if resolved.pull {
            let mut keys = vec![resolved.key.clone()];
            keys.extend(resolved.fallback.iter().cloned());
            let restored = cache::restore(cache_dir, &keys, build_dir);
            for w in &restored.warnings {
                say(format!("WARNING: {w}"));
            }
            match restored.key {
                Some(used) => say(format!("Restored cache `{used}`")),
                None => say(format!("WARNING: no cache found for key `{}`", resolved.key)),
            }
        }
        out.push(resolved);
    }
    out
}

/// Saves every cache whose policy pushes, when `cache:when` matches the outcome.
pub(crate) fn save_caches(
    _job: &PlannedJob,
    caches: &[ResolvedCache],
    outcome: JobOutcome,
    _values: &IndexMap<String, String>,
    build_dir: &Path,
    cache_dir: &Path,
    say: &dyn Fn(String),
) {
    for c in caches.iter().filter(|c| c.push) {
        let wanted = match c.when {
            CacheWhen::OnSuccess => outcome == JobOutcome::Success,
            CacheWhen::OnFailure => matches!(outcome, JobOutcome::Failed { .. }),
            CacheWhen::Always => true,
        };
        if !wanted {
            continue;
        }
        let untracked_files = if c.untracked {
            untracked(build_dir)
        } else {
            Vec::new()
        };
        match cache::save(build_dir, &c.paths, &untracked_files, &c.key, cache_dir) {
            Ok(saved) => {
                for w in &saved.warnings {
                    say(format!("WARNING: {w}"));
                }
                say(format!("Saved cache `{}`", saved.key));
            }
            Err(e) => say(format!("WARNING: saving cache `{}` failed: {e}", c.key)),
        }
    }
}
