//! Writing collected files into a zip archive, as gitlab-runner's `zip_create.go` does:
//! directories as `name/` entries, symbolic links as links (their target stored as the
//! content, never followed), regular files deflated, each with its unix permissions and
//! modification time. Other file types are left out, as the runner does ("File ignored").
//!
//! The archive is written to a temporary file next to `dest_zip` and renamed over it at
//! the end, so a reader never sees half an archive.

use crate::paths::{ExpandPathsError, Project, sort_paths};
use std::collections::HashSet;
use std::fs::{self, File, Metadata};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// What [`write_zip`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// The number of entries written (files, directories and links).
    pub files: usize,
    /// The size of the archive, in bytes.
    pub bytes: u64,
    /// Paths left out because they had gone or are neither file, directory nor link.
    pub ignored: Vec<PathBuf>,
}

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteArchiveError {
    /// The project directory, or a path's directory, cannot be resolved.
    #[error("resolving files to archive")]
    Project(#[from] ExpandPathsError),
    /// A path that is absolute or has `..` in it.
    #[error("`{}` is not a relative path inside the project directory", path.display())]
    UnsafePath {
        /// The path given.
        path: PathBuf,
    },
    /// A path or link target that zip cannot name (not UTF-8).
    #[error("`{}` is not valid UTF-8 and cannot be named in a zip archive", path.display())]
    NotUtf8 {
        /// The path (or the link's target).
        path: PathBuf,
    },
    /// A file could not be read into the archive.
    #[error("archiving {}", path.display())]
    Read {
        /// The project-relative path.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
    /// The archive could not be written.
    #[error("writing {}", dest.display())]
    Write {
        /// The archive being written.
        dest: PathBuf,
        /// What zip or the file system said.
        #[source]
        source: zip::result::ZipError,
    },
}

/// Writes `files` (project-relative, as [`super::collect`] returns them) from `project_dir`
/// into the zip archive `dest_zip`, replacing it if it exists.
pub fn write_zip(
    project_dir: &Path,
    files: &[PathBuf],
    dest_zip: &Path,
) -> Result<ArchiveSummary, WriteArchiveError> {
    let project = Project::open(project_dir)?;
    let mut files = files.to_vec();
    sort_paths(&mut files);
    let write_error = |source| WriteArchiveError::Write {
        dest: dest_zip.to_owned(),
        source,
    };
    let io_error = |e: io::Error| write_error(e.into());

    if let Some(parent) = dest_zip.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_error)?;
    }
    let (mut partial, file) = Partial::create(dest_zip).map_err(io_error)?;
    let mut zip = ZipWriter::new(BufWriter::new(file));
    let mut summary = ArchiveSummary::default();
    let mut checked_dirs = HashSet::new();
    for rel in &files {
        if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(WriteArchiveError::UnsafePath { path: rel.clone() });
        }
        let parent = rel.parent().unwrap_or(Path::new(""));
        if !parent.as_os_str().is_empty() && !checked_dirs.contains(parent) {
            if project.directory(parent)?.is_none() {
                summary.ignored.push(rel.clone());
                continue;
            }
            checked_dirs.insert(parent.to_owned());
        }
        let real = project.dir().join(rel);
        let meta = match fs::symlink_metadata(&real) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                summary.ignored.push(rel.clone());
                continue;
            }
            Err(source) => {
                return Err(WriteArchiveError::Read {
                    path: rel.clone(),
                    source,
                });
            }
        };
        let name = utf8(rel)?;
        let options = options(&meta);
        let kind = meta.file_type();
        if kind.is_dir() {
            zip.add_directory(name, options).map_err(write_error)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&real).map_err(|source| WriteArchiveError::Read {
                path: rel.clone(),
                source,
            })?;
            let options = options.compression_method(CompressionMethod::Stored);
            zip.add_symlink(name, utf8(&target)?, options)
                .map_err(write_error)?;
        } else if kind.is_file() {
            let read_error = |source| WriteArchiveError::Read {
                path: rel.clone(),
                source,
            };
            let mut input = File::open(&real).map_err(read_error)?;
            let options = options
                .compression_method(CompressionMethod::Deflated)
                .large_file(meta.len() >= u64::from(u32::MAX));
            zip.start_file(name, options).map_err(write_error)?;
            io::copy(&mut input, &mut zip).map_err(read_error)?;
        } else {
            summary.ignored.push(rel.clone());
            continue;
        }
        summary.files += 1;
    }
    let mut out = zip.finish().map_err(write_error)?;
    out.flush().map_err(io_error)?;
    let file = out.into_inner().map_err(|e| io_error(e.into_error()))?;
    file.sync_all().map_err(io_error)?;
    summary.bytes = file.metadata().map_err(io_error)?.len();
    drop(file);
    partial.persist().map_err(io_error)?;
    Ok(summary)
}

fn utf8(path: &Path) -> Result<&str, WriteArchiveError> {
    path.to_str().ok_or_else(|| WriteArchiveError::NotUtf8 {
        path: path.to_owned(),
    })
}

fn options(meta: &Metadata) -> SimpleFileOptions {
    let options = SimpleFileOptions::default().unix_permissions(meta.permissions().mode() & 0o777);
    match meta.modified().ok().and_then(zip_time) {
        Some(time) => options.last_modified_time(time),
        None => options,
    }
}

/// The zip (MS-DOS) form of a modification time, in UTC; `None` before 1980.
fn zip_time(time: SystemTime) -> Option<zip::DateTime> {
    let time = time::OffsetDateTime::from(time);
    zip::DateTime::try_from(time::PrimitiveDateTime::new(time.date(), time.time())).ok()
}

/// A temporary file beside the destination, removed unless [`Partial::persist`] renames it.
struct Partial {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Partial {
    fn create(dest: &Path) -> io::Result<(Partial, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let tmp = dest.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()));
            match File::create_new(&tmp) {
                Ok(file) => {
                    return Ok((
                        Partial {
                            tmp,
                            dest: dest.to_owned(),
                            done: false,
                        },
                        file,
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn persist(&mut self) -> io::Result<()> {
        fs::rename(&self.tmp, &self.dest)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
