//! Cache keys: gitlab-runner's sanitizing of a key before it names a directory, and GitLab's
//! key for `cache:key:files` (with `cache:key:prefix`).
//!
//! GitLab computes the `cache:key:files` key on the server (`Gitlab::Ci::Pipeline::Seed::Build::Cache`):
//! the listed files (a pattern with `*` is searched among the repository's files, `**` crossing
//! directories) are looked up at the pipeline's commit, their git blob ids are sorted, made
//! unique and joined with `-`, and the key is the SHA-1 of that text in hex; `default` when no
//! file exists. A git blob id is the SHA-1 of `blob <length>\0<content>` (a symbolic link's
//! content is its target), so the same key is computed here from the files of the project
//! directory. The difference: GitLab reads the committed files, this reads the working tree,
//! so an uncommitted change (or an untracked file matched by a `*` pattern) changes the key.

use regex::Regex;
use sha1::{Digest, Sha1};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The key of a cache without `cache:key`, and of `cache:key:files` when no file exists.
pub const DEFAULT_KEY: &str = "default";

/// A key that gitlab-runner cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SanitizeKeyError {
    /// An empty key.
    #[error("empty cache key")]
    Empty,
    /// A key made only of separators, dots and spaces.
    #[error("cache key {0:?} could not be sanitized")]
    Unusable(String),
}

/// Sanitizes a cache key as gitlab-runner's `cachekey.Sanitize` does: `%2F`/`%2f` become `/`,
/// `%2E`/`%2e` become `.`, `\` becomes `/`, `.` and `..` segments are resolved without ever
/// going above the root, and trailing whitespace is removed from the last segments (dropping
/// those left empty). Slashes are kept: a key may name nested directories.
pub fn sanitize_key(raw: &str) -> Result<String, SanitizeKeyError> {
    if raw.is_empty() {
        return Err(SanitizeKeyError::Empty);
    }
    let decoded = raw
        .replace("%2f", "/")
        .replace("%2F", "/")
        .replace("%2e", ".")
        .replace("%2E", ".")
        .replace('\\', "/");
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    while let Some(last) = segments.pop() {
        let trimmed = last.trim_end();
        if !trimmed.is_empty() {
            segments.push(trimmed);
            break;
        }
    }
    if segments.is_empty() {
        return Err(SanitizeKeyError::Unusable(raw.to_owned()));
    }
    Ok(segments.join("/"))
}

/// GitLab's key for `cache:key:files` (at most two entries, paths or `*` patterns) with an
/// optional `cache:key:prefix`: `<prefix>-<sha1>`, or `<prefix>-default` when no file exists.
/// A blank prefix is left out, as GitLab does.
pub fn files_key(project_dir: &Path, files: &[String], prefix: Option<&str>) -> String {
    let mut patterns: Vec<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|f| !f.trim().is_empty())
        .collect();
    patterns.sort_unstable();
    patterns.dedup();
    let mut paths: Vec<PathBuf> = Vec::new();
    for pattern in patterns {
        if pattern.contains('*') {
            paths.extend(search_wildcard(project_dir, pattern));
        } else {
            paths.push(PathBuf::from(pattern));
        }
    }
    let mut ids: Vec<String> = paths.iter().filter_map(|p| blob_id(project_dir, p)).collect();
    ids.sort();
    ids.dedup();
    let digest = if ids.is_empty() {
        DEFAULT_KEY.to_owned()
    } else {
        hex(&Sha1::digest(ids.join("-").as_bytes()))
    };
    match prefix {
        Some(prefix) if !prefix.trim().is_empty() => format!("{prefix}-{digest}"),
        _ => digest,
    }
}

/// The git blob id of a file or symbolic link of the project; `None` for anything else,
/// including paths that leave the project or go through a link.
fn blob_id(project_dir: &Path, path: &Path) -> Option<String> {
    let mut rel = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => rel.push(name),
            Component::CurDir => {}
            _ => return None,
        }
    }
    let mut real = project_dir.to_owned();
    let mut components = rel.components().peekable();
    while let Some(component) = components.next() {
        real.push(component);
        let meta = fs::symlink_metadata(&real).ok()?;
        if components.peek().is_some() && !meta.is_dir() {
            return None;
        }
    }
    let meta = fs::symlink_metadata(&real).ok()?;
    let content = if meta.file_type().is_symlink() {
        fs::read_link(&real).ok()?.as_os_str().as_bytes().to_vec()
    } else if meta.is_file() {
        fs::read(&real).ok()?
    } else {
        return None;
    };
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", content.len()).as_bytes());
    hasher.update(&content);
    Some(hex(&hasher.finalize()))
}

/// The project's files matching a `cache:key:files` pattern the way GitLab's
/// `search_files_by_wildcard_path` does: `**` matches anything, `/` included, and `*`
/// anything but `/`; nothing else is special. The `.git` directory is not searched.
fn search_wildcard(project_dir: &Path, pattern: &str) -> Vec<PathBuf> {
    let escaped = regex::escape(pattern)
        .replace(r"\*\*", ".*?")
        .replace(r"\*", "([^/])*?");
    let Ok(regex) = Regex::new(&format!("^{escaped}$")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut stack = vec![(project_dir.to_owned(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if child != ".git" {
                    stack.push((entry.path(), child));
                }
            } else if regex.is_match(&child) {
                found.push(PathBuf::from(child));
            }
        }
    }
    found
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sanitized_like_gitlab_runner() {
        let ok =
            |raw: &str, expected: &str| assert_eq!(sanitize_key(raw).as_deref(), Ok(expected), "{raw:?}");
        ok("fallback_key", "fallback_key");
        ok("some-job/some-ref", "some-job/some-ref");
        ok("...", "...");
        ok("fallback_key/ / \\  \\", "fallback_key");
        ok("fallback_key / \\o", "fallback_key / /o");
        ok("\t foo bar \t\r", "\t foo bar");
        ok("something %2F something", "something / something");
        ok("some%2f../job/some/ref/.", "job/some/ref");
        ok("%2E%2e%2E", "...");
        ok("%5C", "%5C");
        ok("../foo/bar", "foo/bar");
        ok("foo/bar/../../../.././blerp", "blerp");
        ok(r"job\name/git\ref", "job/name/git/ref");
        ok("foo/ /bar", "foo/ /bar");
    }

    #[test]
    fn unusable_keys_are_refused() {
        assert_eq!(sanitize_key(""), Err(SanitizeKeyError::Empty));
        for raw in [
            ".",
            "..",
            "/",
            " ",
            "//",
            "%2E",
            "%2e%2E",
            ".%2E",
            "../.",
            "foo/bar/../..",
            " \t\r\n",
        ] {
            assert!(
                matches!(sanitize_key(raw), Err(SanitizeKeyError::Unusable(_))),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn wildcards_follow_gitlab_search_files_by_wildcard_path() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "package.json",
            "a/package.json",
            "a/b/package.json",
            ".git/package.json",
        ] {
            let path = dir.path().join(f);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "{}").unwrap();
        }
        let mut found = search_wildcard(dir.path(), "**/package.json");
        found.sort();
        assert_eq!(
            found,
            [PathBuf::from("a/b/package.json"), PathBuf::from("a/package.json")]
        );
        assert_eq!(
            search_wildcard(dir.path(), "*/package.json"),
            [PathBuf::from("a/package.json")]
        );
    }
}
