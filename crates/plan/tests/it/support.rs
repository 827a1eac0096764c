//! Shared helpers: case directories as in-memory sources, trigger files as contexts.

use gantry_config::MemorySource;
use gantry_plan::{Context, Repository};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file under `dir` (relative paths), skipping the case's own snapshot and trigger files.
pub(crate) fn files_under(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read case dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .expect("inside dir")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "plan.snap" || rel == "trigger.toml" {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.insert(rel, text);
            }
        }
    }
    out
}

/// A source holding the given files.
pub(crate) fn source(files: &BTreeMap<String, String>) -> MemorySource {
    files.iter().fold(MemorySource::new(), |s, (p, t)| s.with(p, t))
}

/// Answers `compare_to` from the trigger file's `[compare_to]` table.
pub(crate) struct CaseRepo(pub(crate) BTreeMap<String, Vec<String>>);

impl Repository for CaseRepo {
    fn changed_since(&self, reference: &str) -> Option<Vec<String>> {
        self.0.get(reference).cloned()
    }
}

/// Reads `trigger.toml` (all keys optional): ref, tag, source, default_branch, changed,
/// variables, files (project files; default: the case's files), compare_to.
pub(crate) fn context(dir: &Path, files: &BTreeMap<String, String>) -> (Context, CaseRepo) {
    let mut ctx = Context {
        project_files: files.keys().cloned().collect(),
        ..Context::default()
    };
    let mut compare = BTreeMap::new();
    let path = dir.join("trigger.toml");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let t: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let string = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let list = |v: &toml::Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        };
        if let Some(r) = string("ref") {
            ctx.ref_name = r;
        }
        ctx.is_tag = t.get("tag").and_then(|v| v.as_bool()).unwrap_or(false);
        if let Some(p) = t.get("protected").and_then(|v| v.as_bool()) {
            ctx.protected = p;
        }
        if let Some(s) = string("source") {
            ctx.source = s;
        }
        if let Some(b) = string("default_branch") {
            ctx.default_branch = b;
        }
        if let Some(c) = t.get("changed") {
            ctx.changed_files = Some(list(c));
        }
        if let Some(f) = t.get("files") {
            ctx.project_files = list(f);
        }
        if let Some(vars) = t.get("variables").and_then(|v| v.as_table()) {
            for (k, v) in vars {
                ctx.pipeline_variables
                    .push((k.clone(), v.as_str().unwrap_or_default().to_owned()));
            }
        }
        if let Some(c) = t.get("compare_to").and_then(|v| v.as_table()) {
            for (k, v) in c {
                compare.insert(k.clone(), list(v));
            }
        }
    }
    (ctx, CaseRepo(compare))
}

/// The shared corpus and conformance folders beside the repository, if present.
pub(crate) fn shared_dir(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(name);
    dir.is_dir().then_some(dir)
}

/// Returns `None` (after printing why) when shared data is missing on a developer machine;
/// fails when it is missing in CI, where it must be present.
pub(crate) fn require_shared(name: &str) -> Option<PathBuf> {
    match shared_dir(name) {
        Some(d) => Some(d),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("../shared/{name} is missing in CI"),
        None => {
            eprintln!("skipping: ../shared/{name} is not beside the repository");
            None
        }
    }
}
