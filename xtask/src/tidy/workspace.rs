//! The workspace as the tidy checks see it: the crates under `crates/*/` (read from the folder,
//! so a new crate is checked without registering it), their Rust sources, and which parts of
//! those sources are test code.

use std::fs;
use std::path::{Path, PathBuf};

/// Package names of the pure crates: no IO, no clock, no async runtime (ARCHITECTURE.md).
/// A name with no crate in the workspace yet is skipped.
pub const PURE_CRATES: &[&str] = &[
    "gantry-config",
    "gantry-rules",
    "gantry-plan",
    "gantry-engine",
    "gantry-web",
    "gantry-oci",
];

/// The workspace under check.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The folder holding the root `Cargo.toml`.
    pub root: PathBuf,
}

/// A crate folder `crates/<dir>/` with a `Cargo.toml`.
#[derive(Debug, Clone)]
pub struct CrateDir {
    /// The folder, absolute.
    pub path: PathBuf,
    /// The `[package] name`, or the folder name when the manifest has none.
    pub package: String,
}

/// One `.rs` file under `crates/*/src` or `crates/*/tests`.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the workspace root, with `/` separators.
    pub rel_path: String,
    /// Package name of the crate the file belongs to.
    pub package: String,
    /// The file's text.
    pub text: String,
    /// Whether the whole file is test code: under `tests/`, a `tests.rs`, or under a `tests`
    /// folder of `src`.
    pub is_test_file: bool,
}

impl Workspace {
    /// The workspace rooted at `root`.
    pub fn at(root: PathBuf) -> Workspace {
        Workspace { root }
    }

    /// Every crate folder under `crates/`, sorted by path.
    ///
    /// # Panics
    ///
    /// When `crates/` cannot be read: the checks would otherwise pass on nothing.
    pub fn crates(&self) -> Vec<CrateDir> {
        let crates_dir = self.root.join("crates");
        let entries =
            fs::read_dir(&crates_dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", crates_dir.display()));
        let mut crates: Vec<CrateDir> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.join("Cargo.toml").is_file())
            .map(|path| {
                let manifest = fs::read_to_string(path.join("Cargo.toml")).unwrap_or_default();
                let package = package_name(&manifest).unwrap_or_else(|| {
                    path.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                });
                CrateDir { path, package }
            })
            .collect();
        crates.sort_by(|a, b| a.path.cmp(&b.path));
        crates
    }

    /// Every `.rs` file under `crates/*/src` and `crates/*/tests`, sorted by path.
    pub fn source_files(&self) -> Vec<SourceFile> {
        let mut files = Vec::new();
        for krate in self.crates() {
            for sub in ["src", "tests"] {
                let mut paths = Vec::new();
                collect_rs_files(&krate.path.join(sub), &mut paths);
                for path in paths {
                    let rel_path = self.relative(&path);
                    let text = fs::read_to_string(&path).unwrap_or_default();
                    let is_test_file = sub == "tests" || is_test_path(&krate.path.join(sub), &path);
                    files.push(SourceFile {
                        rel_path,
                        package: krate.package.clone(),
                        text,
                        is_test_file,
                    });
                }
            }
        }
        files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
        files
    }

    /// `path` relative to the workspace root, with `/` separators.
    pub fn relative(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl SourceFile {
    /// The lines that are neither test code nor comments, with their 1-based line numbers.
    ///
    /// Test code is a whole test file, or an inline `#[cfg(test)] mod … {` block, which by
    /// convention ends the file, so everything from it on is skipped. Comment lines are skipped
    /// so that prose may name what the code must not use.
    pub fn non_test_code_lines(&self) -> Vec<(usize, &str)> {
        if self.is_test_file {
            return Vec::new();
        }
        let lines: Vec<&str> = self.text.lines().collect();
        let mut out = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("#[cfg(test)]") && starts_inline_test_module(&lines[index..]) {
                break;
            }
            if trimmed.starts_with("//") {
                continue;
            }
            out.push((index + 1, *line));
        }
        out
    }
}

/// Whether the lines after a `#[cfg(test)]` open an inline module (`mod name {`), rather than
/// declare a file module (`mod tests;`) or gate a single item.
fn starts_inline_test_module(lines: &[&str]) -> bool {
    let first = lines[0].trim_start().trim_start_matches("#[cfg(test)]").trim();
    let next = if first.is_empty() {
        lines
            .iter()
            .skip(1)
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with("#["))
    } else {
        Some(first)
    };
    next.is_some_and(|l| {
        let l = l
            .strip_prefix("pub(crate) ")
            .or_else(|| l.strip_prefix("pub "))
            .unwrap_or(l);
        l.starts_with("mod ") && l.ends_with('{')
    })
}

fn is_test_path(src: &Path, path: &Path) -> bool {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return true;
    }
    path.strip_prefix(src)
        .map(|rel| rel.components().any(|c| c.as_os_str() == "tests"))
        .unwrap_or(false)
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `name` of the `[package]` table, read line by line (no TOML parser needed for this).
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if in_package
            && let Some(value) = line.strip_prefix("name").map(str::trim_start)
            && let Some(value) = value.strip_prefix('=')
        {
            return Some(value.trim().trim_matches('"').to_string());
        }
    }
    None
}
