//! Extracting an artifacts (or cache) zip archive into a project directory, safely against
//! a hostile archive.
//!
//! Every entry is checked from the central directory before anything is written, and the
//! archive is refused as a whole, with the entry named, when one entry is unsafe:
//! an absolute name, a `..` component, a backslash or NUL in the name, a symbolic link whose
//! target is absolute or leaves the destination, more entries or more uncompressed bytes than
//! [`ExtractLimits`] allows. The writing itself is `zip`'s hardened extraction: it creates
//! every directory component by component without following links, and creates a link only
//! when its target, resolved link by link, stays inside the destination (a chain such as
//! `a -> .` and `b -> a/..` is refused there). Reading is bounded by the sizes declared in the
//! central directory, which are the ones counted against the limit.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use zip::ZipArchive;
use zip::read::{ExtractOptions, SymlinkExtractAction};
use zip::result::ZipError;

/// The most a symbolic link's target may hold (Linux's `PATH_MAX`).
const MAX_LINK_TARGET: u64 = 4096;

/// Bounds on what one archive may extract to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtractLimits {
    /// The most entries (files, directories and links).
    pub max_entries: usize,
    /// The most uncompressed bytes, all entries together.
    pub max_bytes: u64,
}

impl ExtractLimits {
    /// One million entries.
    pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;
    /// 10 GiB.
    pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024 * 1024;
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_entries: Self::DEFAULT_MAX_ENTRIES,
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }
}

/// What an extraction wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExtractSummary {
    /// The number of entries in the archive.
    pub entries: usize,
    /// Their uncompressed size, in bytes.
    pub bytes: u64,
}

/// Why an archive was not extracted (or not completely: see [`ExtractArchiveError::Extract`]).
#[derive(Debug, thiserror::Error)]
pub enum ExtractArchiveError {
    /// The archive cannot be opened.
    #[error("opening {}", path.display())]
    Open {
        /// The archive.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
    /// The archive is not a readable zip archive (truncated, corrupt, not a zip at all).
    #[error("{} is not a valid zip archive", path.display())]
    Corrupt {
        /// The archive.
        path: PathBuf,
        /// What zip said.
        #[source]
        source: ZipError,
    },
    /// More entries than [`ExtractLimits::max_entries`].
    #[error("{} has {count} entries, more than the limit of {limit}", path.display())]
    TooManyEntries {
        /// The archive.
        path: PathBuf,
        /// Its entries.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// More uncompressed bytes than [`ExtractLimits::max_bytes`].
    #[error("{} would extract to {bytes} bytes, more than the limit of {limit}", path.display())]
    TooLarge {
        /// The archive.
        path: PathBuf,
        /// Its declared uncompressed size.
        bytes: u128,
        /// The limit.
        limit: u64,
    },
    /// An entry whose name would put it outside the destination.
    #[error("{}: refusing entry `{entry}`: {reason}", path.display())]
    UnsafeEntry {
        /// The archive.
        path: PathBuf,
        /// The entry's name.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A symbolic link pointing outside the destination.
    #[error("{}: refusing symbolic link `{entry}` to `{target}`: it points outside the destination", path.display())]
    UnsafeSymlink {
        /// The archive.
        path: PathBuf,
        /// The link's name.
        entry: String,
        /// Its target.
        target: String,
    },
    /// Writing failed part-way (a corrupt entry, a link chain leaving the destination, a full
    /// disk): the entries before it have been written.
    #[error("extracting {} into {}", path.display(), dest.display())]
    Extract {
        /// The archive.
        path: PathBuf,
        /// The destination directory.
        dest: PathBuf,
        /// What zip or the file system said.
        #[source]
        source: ZipError,
    },
}

/// Extracts `zip_path` into `dest_dir` (created if missing) with the default limits.
pub fn extract_zip(zip_path: &Path, dest_dir: &Path) -> Result<ExtractSummary, ExtractArchiveError> {
    extract_zip_with_limits(zip_path, dest_dir, &ExtractLimits::default())
}

/// Extracts `zip_path` into `dest_dir` (created if missing), refusing archives over `limits`.
pub fn extract_zip_with_limits(
    zip_path: &Path,
    dest_dir: &Path,
    limits: &ExtractLimits,
) -> Result<ExtractSummary, ExtractArchiveError> {
    let path = zip_path.to_owned();
    let file = File::open(zip_path).map_err(|source| ExtractArchiveError::Open {
        path: path.clone(),
        source,
    })?;
    let corrupt = |source| ExtractArchiveError::Corrupt {
        path: path.clone(),
        source,
    };
    let mut archive = ZipArchive::new(file).map_err(corrupt)?;
    let summary = check_entries(&mut archive, &path, limits)?;
    let extract = |source| ExtractArchiveError::Extract {
        path: path.clone(),
        dest: dest_dir.to_owned(),
        source,
    };
    fs::create_dir_all(dest_dir).map_err(|e| extract(e.into()))?;
    let options = ExtractOptions::default().symlink_action(SymlinkExtractAction::ExtractRecursiveInFolder);
    archive.extract_with_options(dest_dir, options).map_err(extract)?;
    Ok(summary)
}

/// Checks every entry against the limits and the name rules, before anything is written.
fn check_entries(
    archive: &mut ZipArchive<File>,
    path: &Path,
    limits: &ExtractLimits,
) -> Result<ExtractSummary, ExtractArchiveError> {
    let count = archive.len();
    if count > limits.max_entries {
        return Err(ExtractArchiveError::TooManyEntries {
            path: path.to_owned(),
            count,
            limit: limits.max_entries,
        });
    }
    let corrupt = |source| ExtractArchiveError::Corrupt {
        path: path.to_owned(),
        source,
    };
    let metadata = archive.metadata();
    let mut total: u128 = 0;
    let mut links = Vec::new();
    for i in 0..count {
        let entry = metadata.entry(i).map_err(corrupt)?;
        let name = entry.name().map_err(corrupt)?.into_owned();
        if let Some(reason) = unsafe_name(&name) {
            return Err(ExtractArchiveError::UnsafeEntry {
                path: path.to_owned(),
                entry: name,
                reason,
            });
        }
        total += u128::from(entry.size());
        if entry.is_symlink() {
            links.push((i, name));
        }
    }
    if total > u128::from(limits.max_bytes) {
        return Err(ExtractArchiveError::TooLarge {
            path: path.to_owned(),
            bytes: total,
            limit: limits.max_bytes,
        });
    }
    for (i, name) in links {
        let mut target = Vec::new();
        let entry = archive.by_index(i).map_err(corrupt)?;
        entry
            .take(MAX_LINK_TARGET + 1)
            .read_to_end(&mut target)
            .map_err(|e| corrupt(e.into()))?;
        let target = String::from_utf8_lossy(&target).into_owned();
        if target.len() as u64 > MAX_LINK_TARGET || !link_stays_inside(&name, &target) {
            return Err(ExtractArchiveError::UnsafeSymlink {
                path: path.to_owned(),
                entry: name,
                target,
            });
        }
    }
    let bytes = u64::try_from(total).unwrap_or(u64::MAX);
    Ok(ExtractSummary {
        entries: count,
        bytes,
    })
}

/// Why an entry name is unsafe, if it is.
fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it has an empty name");
    }
    if name.contains('\0') {
        return Some("its name has a NUL byte");
    }
    if name.contains('\\') {
        return Some("its name has a backslash");
    }
    if name.starts_with('/') || name.as_bytes().get(1) == Some(&b':') {
        return Some("it is an absolute path");
    }
    if name.split('/').any(|c| c == "..") {
        return Some("its name has a `..` component");
    }
    None
}

/// Whether `target`, read from the directory holding the link `name`, stays inside the
/// destination lexically. Chains through other links are checked by the extraction itself.
fn link_stays_inside(name: &str, target: &str) -> bool {
    if target.is_empty() || target.contains(['\0', '\\']) || Path::new(target).is_absolute() {
        return false;
    }
    let mut depth: usize = name
        .trim_end_matches('/')
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .count();
    depth = depth.saturating_sub(1);
    for component in Path::new(target).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::Normal(_) => depth += 1,
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_that_leave_the_destination_are_unsafe() {
        assert_eq!(unsafe_name("a/b.txt"), None);
        assert_eq!(unsafe_name("./a/"), None);
        assert!(unsafe_name("../x").is_some());
        assert!(unsafe_name("a/../../x").is_some());
        assert!(unsafe_name("/etc/passwd").is_some());
        assert!(unsafe_name("C:/x").is_some());
        assert!(unsafe_name(r"a\..\x").is_some());
        assert!(unsafe_name("").is_some());
    }

    #[test]
    fn link_targets_are_read_from_the_links_directory() {
        assert!(link_stays_inside("bin/tool", "../lib/tool"));
        assert!(link_stays_inside("node_modules/.bin/x", "../pkg/bin/x"));
        assert!(link_stays_inside("a", "."));
        assert!(!link_stays_inside("a", ".."));
        assert!(!link_stays_inside("bin/tool", "../../etc/passwd"));
        assert!(!link_stays_inside("x", "/etc/passwd"));
        assert!(!link_stays_inside("x", ""));
    }
}
