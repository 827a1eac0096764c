//! Copying a checkout into a build directory, and bringing a build directory that an earlier
//! job used back to that checkout without copying what did not change.
//!
//! Files are copied with their modification time, so a file a job did not touch has the size,
//! time and mode of its original, and [`sync`] leaves it alone (git decides the same way from
//! the stat data in its index). Symbolic links are never followed in the build directory: a
//! job may have replaced any directory by a link to anywhere.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Copies the directory tree `from` to `to` (which must not exist): directories, regular
/// files with their permissions and modification times, and symbolic links as links.
pub(crate) fn copy(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy(&source, &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&source)?, &target)?;
        } else if kind.is_file() {
            copy_file(&source, &target, &entry.metadata()?)?;
        }
    }
    Ok(())
}

/// Makes the existing directory `to` hold exactly what `from` holds, as `git clean -ffdx`
/// and `git reset --hard` would: entries `from` lacks are removed (ignored files too), files
/// that differ in kind, size, modification time or mode are copied again, missing ones are
/// copied. Returns how many entries were removed or copied.
pub(crate) fn sync(from: &Path, to: &Path) -> io::Result<usize> {
    let mut wanted = std::collections::HashMap::new();
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        wanted.insert(entry.file_name(), entry);
    }
    let mut changed = 0;
    for entry in std::fs::read_dir(to)? {
        let entry = entry?;
        if !wanted.contains_key(&entry.file_name()) {
            remove(&entry.path(), entry.file_type()?.is_dir())?;
            changed += 1;
        }
    }
    for (name, entry) in wanted {
        let (source, target) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        let present = match std::fs::symlink_metadata(&target) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if kind.is_dir() {
            match present {
                Some(m) if m.is_dir() => changed += sync(&source, &target)?,
                other => {
                    if let Some(m) = other {
                        remove(&target, m.is_dir())?;
                    }
                    copy(&source, &target)?;
                    changed += 1;
                }
            }
        } else if kind.is_symlink() {
            let link = std::fs::read_link(&source)?;
            if let Some(m) = &present {
                if m.is_symlink() && std::fs::read_link(&target)? == link {
                    continue;
                }
                remove(&target, m.is_dir())?;
            }
            std::os::unix::fs::symlink(link, &target)?;
            changed += 1;
        } else if kind.is_file() {
            let meta = entry.metadata()?;
            if let Some(m) = &present {
                if same_file_contents(&meta, m) {
                    continue;
                }
                // A directory, a link, or a file with other names (a job's hard link, which
                // writing in place would change too) goes first; a plain file is rewritten.
                if !m.is_file() || m.nlink() > 1 {
                    remove(&target, m.is_dir())?;
                }
            }
            copy_file(&source, &target, &meta)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// A regular file `copy_file` made from `original` and nobody changed since.
fn same_file_contents(original: &Metadata, copy: &Metadata) -> bool {
    copy.is_file()
        && copy.len() == original.len()
        && copy.mtime() == original.mtime()
        && copy.mtime_nsec() == original.mtime_nsec()
        && copy.mode() == original.mode()
        && copy.nlink() == 1
}

fn remove(path: &Path, dir: bool) -> io::Result<()> {
    if dir {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Copies a regular file with its mode and modification time into `to`, created or
/// overwritten (callers have removed a link or a hard-linked file there first; no job runs in
/// the directory meanwhile).
fn copy_file(from: &Path, to: &Path, meta: &Metadata) -> io::Result<()> {
    let mut source = File::open(from)?;
    // Written over and then cut to length rather than truncated first: ext4 flushes a file
    // truncated to zero and rewritten when it is closed.
    let mut target = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(meta.mode() & 0o7777)
        .open(to)?;
    let len = io::copy(&mut source, &mut target)?;
    target.set_len(len)?;
    target.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    target.set_modified(meta.modified()?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let kind = e.file_type().unwrap();
            if kind.is_symlink() {
                out.push(format!(
                    "{rel} -> {}",
                    std::fs::read_link(e.path()).unwrap().display()
                ));
            } else if kind.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &e.path(), out);
            } else {
                let mode = e.metadata().unwrap().mode() & 0o777;
                let text = std::fs::read_to_string(e.path()).unwrap();
                out.push(format!("{rel} {mode:o} {text:?}"));
            }
        }
    }

    fn source() -> tempfile::TempDir {
        let s = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(s.path().join("src/deep")).unwrap();
        std::fs::write(s.path().join("README"), "read me").unwrap();
        std::fs::write(s.path().join("src/deep/lib.rs"), "fn main() {}").unwrap();
        std::fs::write(s.path().join("run.sh"), "#!/bin/sh").unwrap();
        std::fs::set_permissions(s.path().join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        symlink("src/deep", s.path().join("link")).unwrap();
        s
    }

    #[test]
    fn a_copy_holds_the_same_tree_and_a_sync_of_an_untouched_copy_changes_nothing() {
        let s = source();
        let d = tempfile::tempdir().unwrap();
        let to = d.path().join("build");
        copy(s.path(), &to).unwrap();
        assert_eq!(tree(&to), tree(s.path()));
        assert_eq!(sync(s.path(), &to).unwrap(), 0);
        assert_eq!(tree(&to), tree(s.path()));
    }

    #[test]
    fn a_sync_undoes_what_a_job_changed_added_removed_and_replaced() {
        let s = source();
        let d = tempfile::tempdir().unwrap();
        let to = d.path().join("build");
        copy(s.path(), &to).unwrap();
        // Same size, new content: only the time tells.
        std::fs::write(to.join("README"), "READ ME").unwrap();
        std::fs::remove_file(to.join("src/deep/lib.rs")).unwrap();
        std::fs::set_permissions(to.join("run.sh"), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::create_dir_all(to.join("target/debug")).unwrap();
        std::fs::write(to.join("target/debug/out"), "built").unwrap();
        std::fs::write(to.join("untracked.txt"), "x").unwrap();
        // A directory replaced by a link out of the tree: the sync must not write through it.
        let outside = tempfile::tempdir().unwrap();
        std::fs::remove_dir_all(to.join("src")).unwrap();
        symlink(outside.path(), to.join("src")).unwrap();
        // A link replaced by a directory.
        std::fs::remove_file(to.join("link")).unwrap();
        std::fs::create_dir(to.join("link")).unwrap();
        let changed = sync(s.path(), &to).unwrap();
        assert!(changed >= 6, "{changed}");
        assert_eq!(tree(&to), tree(s.path()));
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_sync_does_not_write_through_a_hard_link_a_job_made() {
        let s = source();
        let d = tempfile::tempdir().unwrap();
        let to = d.path().join("build");
        copy(s.path(), &to).unwrap();
        let kept = d.path().join("kept");
        std::fs::hard_link(to.join("README"), &kept).unwrap();
        std::fs::write(&kept, "changed through the other name").unwrap();
        sync(s.path(), &to).unwrap();
        assert_eq!(tree(&to), tree(s.path()));
        assert_eq!(
            std::fs::read_to_string(&kept).unwrap(),
            "changed through the other name"
        );
    }
}
