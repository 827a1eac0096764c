//! Builds file trees and zip archives for the tests.

use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// A temporary directory holding `entries`: a name ending with `/` is a directory, any
/// other a file whose content is its own name.
pub(crate) fn project(entries: &[&str]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    add(dir.path(), entries);
    dir
}

/// Adds `entries` (as [`project`] reads them) under `root`.
pub(crate) fn add(root: &Path, entries: &[&str]) {
    for entry in entries {
        let path = root.join(entry);
        if entry.ends_with('/') {
            fs::create_dir_all(&path).unwrap();
        } else {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, entry).unwrap();
        }
    }
}

/// Creates the symbolic link `at` (relative to `root`) pointing to `target`.
pub(crate) fn link(root: &Path, at: &str, target: impl AsRef<Path>) {
    let path = root.join(at);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    symlink(target, path).unwrap();
}

/// Paths as slash-separated strings, for comparisons.
pub(crate) fn names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.to_string_lossy().into_owned()).collect()
}

/// One entry of a zip archive built by [`zip_file`].
pub(crate) enum Entry<'a> {
    /// A regular file with its content.
    File(&'a str, &'a [u8]),
    /// A directory.
    Dir(&'a str),
    /// A symbolic link and its target.
    Link(&'a str, &'a str),
}

/// Writes a zip archive holding `entries`, with no checks on their names.
pub(crate) fn zip_file(path: &Path, entries: &[Entry<'_>]) {
    let mut zip = ZipWriter::new(fs::File::create(path).unwrap());
    let options = SimpleFileOptions::default().unix_permissions(0o644);
    for entry in entries {
        match entry {
            Entry::File(name, content) => {
                zip.start_file(*name, options).unwrap();
                zip.write_all(content).unwrap();
            }
            Entry::Dir(name) => zip.add_directory(*name, options.unix_permissions(0o755)).unwrap(),
            Entry::Link(name, target) => zip
                .add_symlink(*name, *target, options.unix_permissions(0o777))
                .unwrap(),
        }
    }
    zip.finish().unwrap();
}

/// Every path under `dir`, relative and sorted (to show that nothing else was written).
pub(crate) fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            out.push(path.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}
