//! Which files `artifacts:paths`, `artifacts:exclude` and `cache:paths` name, found the way
//! gitlab-runner's `file_archiver.go` finds them, without ever leaving the project directory.
//!
//! Patterns are doublestar globs relative to the project directory (`$CI_PROJECT_DIR`):
//! `*` stays inside one directory, a `**` component matches any number of directories
//! (including none), and a match that is a directory brings everything under it.
//! A pattern is first cleaned lexically, as Go's `filepath.Join` does, and one that then
//! points outside the project directory (`../../etc`, `/etc/passwd`) is refused.
//! The tree is walked without following symbolic links: a link that is matched, or that lies
//! under a matched directory, is listed as a link. The one place where a link is followed is
//! the literal part of a pattern (`current/*.jar` with `current -> build/v2`), and only when
//! the link resolves inside the project directory.

mod glob;
#[cfg(test)]
mod tests;

use globset::GlobSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a pattern could not be expanded.
#[derive(Debug, thiserror::Error)]
pub enum ExpandPathsError {
    /// The project directory itself cannot be resolved.
    #[error("the project directory {} cannot be read", path.display())]
    ProjectDir {
        /// The directory given.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
    /// An empty pattern.
    #[error("the path is empty")]
    Empty,
    /// The pattern, once cleaned, points outside the project directory.
    #[error("`{pattern}` is not within the project directory")]
    OutsideProject {
        /// The pattern as written.
        pattern: String,
    },
    /// The literal part of the pattern goes through a symbolic link that leaves the project.
    #[error(
        "`{pattern}` is not within the project directory: `{}` is a symbolic link to a place outside it",
        link.display()
    )]
    SymlinkOutside {
        /// The pattern as written.
        pattern: String,
        /// The link, relative to the project directory.
        link: PathBuf,
    },
    /// The pattern is not a valid glob.
    #[error("`{pattern}` is not a valid glob pattern")]
    InvalidPattern {
        /// The pattern as written.
        pattern: String,
        /// What the glob compiler said.
        #[source]
        source: globset::Error,
    },
    /// A directory or file could not be read while matching.
    #[error("reading {}", path.display())]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
}

/// Expands every pattern against `project_dir`, returning project-relative paths (files,
/// directories and symbolic links) in byte order, each once.
///
/// The first pattern that cannot be expanded stops the expansion with its error.
pub fn expand(project_dir: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, ExpandPathsError> {
    let project = Project::open(project_dir)?;
    let mut out = Vec::new();
    for pattern in patterns {
        out.extend(project.expand(pattern)?);
    }
    sort_paths(&mut out);
    Ok(out)
}

/// A project directory, resolved once, against which patterns and paths are checked.
#[derive(Clone, Debug)]
pub struct Project {
    /// The directory as given, made absolute and cleaned lexically.
    abs: PathBuf,
    /// The directory with every symbolic link resolved.
    canon: PathBuf,
}

/// A compiled `artifacts:exclude` pattern.
#[derive(Clone, Debug)]
pub struct Glob {
    pattern: String,
    set: GlobSet,
}

impl Glob {
    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the project-relative `path` matches (doublestar's `Match`, not recursive:
    /// excluding `dir` leaves `dir/file` in, `dir/**` takes both out).
    pub fn is_match(&self, path: &Path) -> bool {
        self.set.is_match(path)
    }
}

impl Project {
    /// Resolves `dir`, which must exist.
    pub fn open(dir: &Path) -> Result<Project, ExpandPathsError> {
        let fail = |source| ExpandPathsError::ProjectDir {
            path: dir.to_owned(),
            source,
        };
        let canon = dir.canonicalize().map_err(fail)?;
        let abs = clean_absolute(&std::path::absolute(dir).map_err(fail)?);
        Ok(Project { abs, canon })
    }

    /// The project directory with every symbolic link resolved.
    pub fn dir(&self) -> &Path {
        &self.canon
    }

    /// Expands one pattern: the sorted project-relative paths it names.
    pub fn expand(&self, pattern: &str) -> Result<Vec<PathBuf>, ExpandPathsError> {
        let rel = self.normalize(pattern)?;
        let (base, rest) = split_pattern(&rel);
        let mut out = Vec::new();
        if rest.as_os_str().is_empty() {
            if let Some(real) = self.resolve(pattern, &base, false)? {
                add_tree(&real, &base, &mut out)?;
            }
        } else {
            let set = compile(pattern, &rel)?;
            if let Some(real) = self.resolve(pattern, &base, true)? {
                add_matches(&real, &base, &set, &mut out)?;
            }
        }
        sort_paths(&mut out);
        Ok(out)
    }

    /// Compiles an exclude pattern, cleaned and made project-relative like a path pattern.
    pub fn glob(&self, pattern: &str) -> Result<Glob, ExpandPathsError> {
        let rel = self.normalize(pattern)?;
        let set = compile(pattern, &rel)?;
        Ok(Glob {
            pattern: pattern.to_owned(),
            set,
        })
    }

    /// The cleaned project-relative form of `path` when it exists inside the project (not
    /// reached through a link that leaves it); `None` when nothing is there.
    pub fn file(&self, path: &Path) -> Result<Option<PathBuf>, ExpandPathsError> {
        self.locate(path, false)
    }

    /// Like [`Project::file`], but a symbolic link at the end of `path` is followed too (it
    /// must resolve inside the project), as for a directory whose entries are to be read.
    pub fn directory(&self, path: &Path) -> Result<Option<PathBuf>, ExpandPathsError> {
        self.locate(path, true)
    }

    fn locate(&self, path: &Path, descend: bool) -> Result<Option<PathBuf>, ExpandPathsError> {
        let shown = path.to_string_lossy();
        let rel = self.normalize_path(path, &shown)?;
        if rel.as_os_str().is_empty() {
            return Ok(None);
        }
        Ok(self.resolve(&shown, &rel, descend)?.map(|_| rel))
    }

    fn normalize(&self, pattern: &str) -> Result<PathBuf, ExpandPathsError> {
        if pattern.is_empty() {
            return Err(ExpandPathsError::Empty);
        }
        self.normalize_path(Path::new(pattern), pattern)
    }

    /// Cleans `path` lexically and makes it relative to the project directory.
    fn normalize_path(&self, path: &Path, shown: &str) -> Result<PathBuf, ExpandPathsError> {
        let outside = || ExpandPathsError::OutsideProject {
            pattern: shown.to_owned(),
        };
        if path.is_absolute() {
            let cleaned = clean_absolute(path);
            let rel = cleaned
                .strip_prefix(&self.abs)
                .or_else(|_| cleaned.strip_prefix(&self.canon));
            return rel.map(Path::to_path_buf).map_err(|_| outside());
        }
        let mut out = PathBuf::new();
        for component in path.components() {
            match component {
                Component::CurDir => {}
                Component::ParentDir => {
                    if !out.pop() {
                        return Err(outside());
                    }
                }
                Component::Normal(name) => out.push(name),
                Component::RootDir | Component::Prefix(_) => return Err(outside()),
            }
        }
        Ok(out)
    }

    /// Finds `base` on disk, component by component. A symbolic link on the way is followed
    /// only when it resolves inside the project; the last component is followed only when
    /// `descend` asks for it (a glob continues below it). `None` when nothing is there.
    fn resolve(
        &self,
        pattern: &str,
        base: &Path,
        descend: bool,
    ) -> Result<Option<PathBuf>, ExpandPathsError> {
        let mut real = self.canon.clone();
        let mut rel = PathBuf::new();
        let components: Vec<_> = base.components().collect();
        for (i, component) in components.iter().enumerate() {
            let next = real.join(component);
            rel.push(component);
            let meta = match fs::symlink_metadata(&next) {
                Ok(meta) => meta,
                Err(e) if is_absent(&e) => return Ok(None),
                Err(source) => return Err(ExpandPathsError::Read { path: next, source }),
            };
            let last = i + 1 == components.len();
            if meta.file_type().is_symlink() && (descend || !last) {
                let target = match next.canonicalize() {
                    Ok(target) => target,
                    Err(e) if is_absent(&e) => return Ok(None),
                    Err(source) => return Err(ExpandPathsError::Read { path: next, source }),
                };
                if !target.starts_with(&self.canon) {
                    return Err(ExpandPathsError::SymlinkOutside {
                        pattern: pattern.to_owned(),
                        link: rel,
                    });
                }
                real = target;
            } else {
                real = next;
            }
        }
        Ok(Some(real))
    }
}

/// Sorts paths by their bytes (Go's `sort.Strings`, as gitlab-runner orders the archive)
/// and drops repeats.
pub(crate) fn sort_paths(paths: &mut Vec<PathBuf>) {
    paths.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    paths.dedup();
}

fn compile(pattern: &str, rel: &Path) -> Result<GlobSet, ExpandPathsError> {
    let text = rel.to_string_lossy();
    glob::compile(&text).map_err(|source| ExpandPathsError::InvalidPattern {
        pattern: pattern.to_owned(),
        source,
    })
}

fn is_absent(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

/// Splits a cleaned pattern into its literal leading directories and the glob part.
fn split_pattern(rel: &Path) -> (PathBuf, PathBuf) {
    let mut base = PathBuf::new();
    let mut rest = PathBuf::new();
    for component in rel.components() {
        let literal =
            rest.as_os_str().is_empty() && !glob::has_meta(&component.as_os_str().to_string_lossy());
        if literal {
            base.push(component);
        } else {
            rest.push(component);
        }
    }
    (base, rest)
}

/// Cleans an absolute path lexically (`..` at the root stays at the root).
fn clean_absolute(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Adds `rel` (unless it is the project directory itself) and, when `real` is a directory
/// rather than a link, everything under it.
fn add_tree(real: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), ExpandPathsError> {
    let meta = match fs::symlink_metadata(real) {
        Ok(meta) => meta,
        Err(e) if is_absent(&e) => return Ok(()),
        Err(source) => {
            return Err(ExpandPathsError::Read {
                path: real.to_owned(),
                source,
            });
        }
    };
    if !rel.as_os_str().is_empty() {
        out.push(rel.to_owned());
    }
    if !meta.is_dir() {
        return Ok(());
    }
    let mut stack = vec![(real.to_owned(), rel.to_owned())];
    while let Some((dir, dir_rel)) = stack.pop() {
        for (child, child_rel, is_dir) in read_dir(&dir, &dir_rel)? {
            out.push(child_rel.clone());
            if is_dir {
                stack.push((child, child_rel));
            }
        }
    }
    Ok(())
}

/// Walks the directory `real` (project-relative `rel`) and adds every match of `set`,
/// with everything under the matches that are directories.
fn add_matches(
    real: &Path,
    rel: &Path,
    set: &GlobSet,
    out: &mut Vec<PathBuf>,
) -> Result<(), ExpandPathsError> {
    if !rel.as_os_str().is_empty() && set.is_match(rel) {
        return add_tree(real, rel, out);
    }
    if !fs::symlink_metadata(real).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    let mut stack = vec![(real.to_owned(), rel.to_owned())];
    while let Some((dir, dir_rel)) = stack.pop() {
        for (child, child_rel, is_dir) in read_dir(&dir, &dir_rel)? {
            if set.is_match(&child_rel) {
                add_tree(&child, &child_rel, out)?;
            } else if is_dir {
                stack.push((child, child_rel));
            }
        }
    }
    Ok(())
}

/// The entries of one directory: real path, project-relative path, and whether it is a
/// directory to descend into (never true for a symbolic link).
fn read_dir(dir: &Path, rel: &Path) -> Result<Vec<(PathBuf, PathBuf, bool)>, ExpandPathsError> {
    let fail = |source| ExpandPathsError::Read {
        path: dir.to_owned(),
        source,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if is_absent(&e) => return Ok(Vec::new()),
        Err(e) => return Err(fail(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(fail)?;
        let is_dir = entry.file_type().map_err(fail)?.is_dir();
        let name = entry.file_name();
        out.push((dir.join(&name), rel.join(&name), is_dir));
    }
    Ok(out)
}
