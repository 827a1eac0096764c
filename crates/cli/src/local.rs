//! The working tree as a [`FileSource`]: files under the project root, never outside it.

use gantry_config::{FileSource, SourceError};
use std::path::{Component, Path, PathBuf};

/// Reads configuration files from a directory on disk.
pub(crate) struct LocalSource {
    root: PathBuf,
    files: Vec<String>,
}

impl LocalSource {
    /// A source rooted at `root`, with the list of project files given.
    pub(crate) fn new(root: PathBuf, files: Vec<String>) -> Self {
        LocalSource { root, files }
    }

    fn resolve(&self, path: &str) -> Result<PathBuf, SourceError> {
        let rel = Path::new(path.trim_start_matches('/'));
        if rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(SourceError::Other(format!("`{path}` points outside the project")));
        }
        Ok(self.root.join(rel))
    }
}

impl FileSource for LocalSource {
    fn read(&self, path: &str) -> Result<String, SourceError> {
        let full = self.resolve(path)?;
        match std::fs::read(&full) {
            Ok(bytes) => {
                String::from_utf8(bytes).map_err(|_| SourceError::Other("the file is not UTF-8 text".into()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(SourceError::NotFound),
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
                Err(SourceError::Other("it is a directory".into()))
            }
            Err(e) => Err(SourceError::Other(e.to_string())),
        }
    }

    fn list(&self) -> Result<Vec<String>, SourceError> {
        Ok(self.files.clone())
    }
}

/// Every file under `root` (without `.git`), as project-relative paths, for trees that are not git repositories.
pub(crate) fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if entry.file_name() != ".git" {
                    dirs.push(path);
                }
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}
