//! `artifacts::extract_zip` against hostile archives: nothing is ever written outside the
//! destination, and a bad archive is a clear error, not a panic.

use crate::tree::{Entry, link, listing, zip_file};
use gantry_executor::artifacts::{self, ExtractArchiveError, ExtractLimits};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// A sandbox `root` with the archive at `root/a.zip` and the destination `root/dest`.
struct Sandbox {
    root: TempDir,
}

impl Sandbox {
    fn new(entries: &[Entry<'_>]) -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        zip_file(&root.path().join("a.zip"), entries);
        Sandbox { root }
    }

    fn zip(&self) -> PathBuf {
        self.root.path().join("a.zip")
    }

    fn dest(&self) -> PathBuf {
        self.root.path().join("dest")
    }

    fn extract(&self, limits: &ExtractLimits) -> Result<(), ExtractArchiveError> {
        artifacts::extract_zip_with_limits(&self.zip(), &self.dest(), limits).map(|_| ())
    }

    /// Everything in the sandbox apart from the archive and the destination's content.
    fn outside_dest(&self) -> Vec<String> {
        listing(self.root.path())
            .into_iter()
            .filter(|p| p != "a.zip" && !p.starts_with("dest"))
            .collect()
    }
}

fn refused(sandbox: &Sandbox) -> ExtractArchiveError {
    let err = sandbox.extract(&ExtractLimits::default()).unwrap_err();
    assert_eq!(
        sandbox.outside_dest(),
        Vec::<String>::new(),
        "nothing is written outside dest"
    );
    err
}

#[test]
fn a_zip_slip_entry_is_refused_by_name() {
    let sandbox = Sandbox::new(&[Entry::File("ok.txt", b"ok"), Entry::File("../evil.txt", b"x")]);
    let err = refused(&sandbox);
    assert!(
        matches!(&err, ExtractArchiveError::UnsafeEntry { entry, .. } if entry == "../evil.txt"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("refusing entry `../evil.txt`: its name has a `..` component"),
        "{err}"
    );
    assert!(
        !sandbox.dest().join("ok.txt").exists(),
        "nothing is written when one entry is unsafe"
    );
}

#[test]
fn an_absolute_entry_is_refused() {
    let target = tempfile::tempdir().unwrap();
    let name = format!("{}/evil.txt", target.path().display());
    let sandbox = Sandbox::new(&[Entry::File(&name, b"x")]);
    let err = refused(&sandbox);
    assert!(
        matches!(
            err,
            ExtractArchiveError::UnsafeEntry {
                reason: "it is an absolute path",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!target.path().join("evil.txt").exists());
}

#[test]
fn a_symlink_pointing_outside_is_refused() {
    for target in ["../..", "/etc", "a/../../.."] {
        let sandbox = Sandbox::new(&[
            Entry::Link("escape", target),
            Entry::File("escape/evil.txt", b"x"),
        ]);
        let err = refused(&sandbox);
        assert!(
            matches!(&err, ExtractArchiveError::UnsafeSymlink { entry, .. } if entry == "escape"),
            "{err:?}"
        );
    }
}

#[test]
fn a_symlink_chain_leaving_the_destination_is_refused() {
    let sandbox = Sandbox::new(&[
        Entry::Link("a", "."),
        Entry::Link("b", "a/.."),
        Entry::File("b/evil.txt", b"x"),
    ]);
    let err = refused(&sandbox);
    assert!(matches!(err, ExtractArchiveError::Extract { .. }), "{err:?}");
    let b = sandbox.dest().join("b");
    assert!(fs::symlink_metadata(&b).is_err() || !b.canonicalize().unwrap().starts_with(sandbox.root.path()));
}

#[test]
fn an_existing_link_in_the_destination_is_not_written_through() {
    let sandbox = Sandbox::new(&[Entry::File("out/evil.txt", b"x")]);
    let outside = tempfile::tempdir().unwrap();
    link(&sandbox.dest(), "out", outside.path());
    let err = sandbox.extract(&ExtractLimits::default()).unwrap_err();
    assert!(err.to_string().starts_with("extracting "), "{err}");
    assert!(!outside.path().join("evil.txt").exists());
}

#[test]
fn symlinks_inside_the_destination_are_kept() {
    let sandbox = Sandbox::new(&[
        Entry::File("lib/tool.so.1", b"elf"),
        Entry::Link("lib/tool.so", "tool.so.1"),
        Entry::Link("bin/tool", "../lib/tool.so"),
        Entry::Dir("empty/"),
    ]);
    sandbox.extract(&ExtractLimits::default()).unwrap();
    assert!(sandbox.dest().join("empty").is_dir());
    assert_eq!(fs::read(sandbox.dest().join("bin/tool")).unwrap(), b"elf");
}

#[test]
fn a_zip_bomb_over_the_size_limit_is_refused_before_writing() {
    let root = tempfile::tempdir().unwrap();
    let zip = root.path().join("bomb.zip");
    let mut writer = ZipWriter::new(fs::File::create(&zip).unwrap());
    writer
        .start_file(
            "zeros",
            SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
        )
        .unwrap();
    writer.write_all(&vec![0u8; 4 << 20]).unwrap();
    writer.finish().unwrap();
    assert!(fs::metadata(&zip).unwrap().len() < 64 << 10, "the bomb is small");

    let limits = ExtractLimits {
        max_bytes: 1 << 20,
        ..ExtractLimits::default()
    };
    let dest = root.path().join("dest");
    let err = artifacts::extract_zip_with_limits(&zip, &dest, &limits).unwrap_err();
    assert!(
        matches!(
            err,
            ExtractArchiveError::TooLarge {
                bytes: 4194304,
                limit: 1048576,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!dest.exists());
}

#[test]
fn too_many_entries_are_refused() {
    let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let entries: Vec<Entry<'_>> = names.iter().map(|n| Entry::File(n, b"")).collect();
    let sandbox = Sandbox::new(&entries);
    let limits = ExtractLimits {
        max_entries: 10,
        ..ExtractLimits::default()
    };
    let err = sandbox.extract(&limits).unwrap_err();
    assert!(
        matches!(
            err,
            ExtractArchiveError::TooManyEntries {
                count: 20,
                limit: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!sandbox.dest().exists());
}

#[test]
fn a_truncated_archive_is_a_clear_error() {
    let sandbox = Sandbox::new(&[Entry::File("a.txt", &[b'a'; 10_000]), Entry::File("b.txt", b"b")]);
    let bytes = fs::read(sandbox.zip()).unwrap();
    fs::write(sandbox.zip(), &bytes[..bytes.len() / 2]).unwrap();
    let err = sandbox.extract(&ExtractLimits::default()).unwrap_err();
    assert!(matches!(err, ExtractArchiveError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().ends_with("a.zip is not a valid zip archive"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_a_zip_is_a_clear_error() {
    let sandbox = Sandbox::new(&[]);
    fs::write(sandbox.zip(), "not a zip at all").unwrap();
    let err = sandbox.extract(&ExtractLimits::default()).unwrap_err();
    assert!(matches!(err, ExtractArchiveError::Corrupt { .. }), "{err:?}");
}

#[test]
fn corrupt_entry_data_is_an_error_not_a_panic() {
    let root = tempfile::tempdir().unwrap();
    let zip = root.path().join("a.zip");
    let mut writer = ZipWriter::new(fs::File::create(&zip).unwrap());
    writer
        .start_file(
            "data.txt",
            SimpleFileOptions::default().compression_method(CompressionMethod::Stored),
        )
        .unwrap();
    writer.write_all(b"hello world, hello world").unwrap();
    writer.finish().unwrap();
    let mut bytes = fs::read(&zip).unwrap();
    let at = bytes.windows(5).position(|w| w == b"hello").unwrap();
    bytes[at] = b'J';
    fs::write(&zip, bytes).unwrap();
    let err = artifacts::extract_zip(&zip, &root.path().join("dest")).unwrap_err();
    assert!(matches!(err, ExtractArchiveError::Extract { .. }), "{err:?}");
}

#[test]
fn a_missing_archive_is_an_open_error() {
    let err =
        artifacts::extract_zip(Path::new("/nonexistent/a.zip"), Path::new("/nonexistent/dest")).unwrap_err();
    assert!(matches!(err, ExtractArchiveError::Open { .. }), "{err:?}");
}
