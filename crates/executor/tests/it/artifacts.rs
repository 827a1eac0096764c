//! `artifacts::collect` and `artifacts::write_zip`: gitlab-runner's selection of files, and the
//! zip archive they are stored in.

use crate::tree::{link, listing, names, project};
use gantry_executor::artifacts::{self, ArtifactSpec, Collected, WriteArchiveError};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const TREE: &[&str] = &[
    "binaries/x.o",
    "binaries/x.bin",
    "binaries/sub/y.o",
    "binaries/sub/y.bin",
    "README.md",
];

fn spec(paths: &[&str], exclude: &[&str], untracked: bool) -> ArtifactSpec {
    ArtifactSpec {
        paths: paths.iter().map(|p| p.to_string()).collect(),
        exclude: exclude.iter().map(|p| p.to_string()).collect(),
        untracked,
    }
}

fn collect(root: &Path, spec: &ArtifactSpec, untracked: &[&str]) -> Collected {
    let untracked: Vec<String> = untracked.iter().map(|p| p.to_string()).collect();
    artifacts::collect(root, spec, &untracked).unwrap()
}

fn check(root: &Path, spec: &ArtifactSpec, untracked: &[&str], expected: &[&str]) -> Vec<String> {
    let collected = collect(root, spec, untracked);
    assert_eq!(names(&collected.files), expected);
    collected.warnings
}

#[test]
fn exclude_star_stays_inside_its_directory() {
    let dir = project(TREE);
    let spec = spec(&["binaries/"], &["binaries/*.o"], false);
    let expected = [
        "binaries",
        "binaries/sub",
        "binaries/sub/y.bin",
        "binaries/sub/y.o",
        "binaries/x.bin",
    ];
    assert!(check(dir.path(), &spec, &[], &expected).is_empty());
}

#[test]
fn exclude_doublestar_crosses_directories_including_none() {
    let dir = project(TREE);
    let spec = spec(&["binaries/"], &["binaries/**/*.o"], false);
    check(
        dir.path(),
        &spec,
        &[],
        &["binaries", "binaries/sub", "binaries/sub/y.bin", "binaries/x.bin"],
    );
}

#[test]
fn exclude_is_not_recursive_for_a_directory_name() {
    let dir = project(TREE);
    check(
        dir.path(),
        &spec(&["binaries/"], &["binaries/sub"], false),
        &[],
        &[
            "binaries",
            "binaries/sub/y.bin",
            "binaries/sub/y.o",
            "binaries/x.bin",
            "binaries/x.o",
        ],
    );
    check(
        dir.path(),
        &spec(&["binaries/"], &["binaries/sub/**"], false),
        &[],
        &["binaries", "binaries/x.bin", "binaries/x.o"],
    );
}

#[test]
fn untracked_files_are_added_and_excluded_too() {
    let dir = project(&["tracked.txt", "new.txt", "logs/a.log", "logs/b.txt"]);
    let untracked = ["new.txt", "logs/a.log", "logs/b.txt", "gone.txt"];
    let warnings = check(
        dir.path(),
        &spec(&[], &["logs/*.log"], true),
        &untracked,
        &["logs/b.txt", "new.txt"],
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn untracked_files_are_ignored_unless_asked_for() {
    let dir = project(&["new.txt"]);
    check(dir.path(), &spec(&[], &[], false), &["new.txt"], &[]);
}

#[test]
fn untracked_with_no_files_warns_like_gitlab_runner() {
    let dir = project(&[]);
    let warnings = check(dir.path(), &spec(&[], &[], true), &[], &[]);
    assert_eq!(warnings, ["untracked: no files"]);
}

#[test]
fn an_untracked_path_outside_the_project_is_a_warning() {
    let dir = project(&["a.txt"]);
    let warnings = check(
        dir.path(),
        &spec(&[], &[], true),
        &["../a.txt", "a.txt"],
        &["a.txt"],
    );
    assert_eq!(
        warnings,
        ["untracked: `../a.txt` is not within the project directory"]
    );
}

#[test]
fn a_pattern_matching_nothing_warns_like_gitlab_runner() {
    let dir = project(TREE);
    let warnings = check(
        dir.path(),
        &spec(&["nothing/", "README.md"], &[], false),
        &[],
        &["README.md"],
    );
    let expected = format!(
        "nothing/: no matching files. Ensure that the artifact path is relative to the working directory ({})",
        dir.path().display()
    );
    assert_eq!(warnings, [expected]);
}

#[test]
fn a_pattern_whose_files_are_all_excluded_matches_nothing() {
    let dir = project(TREE);
    let warnings = check(dir.path(), &spec(&["README.md"], &["*.md"], false), &[], &[]);
    assert!(
        warnings[0].starts_with("README.md: no matching files."),
        "{warnings:?}"
    );
}

#[test]
fn an_artifact_path_escaping_the_project_is_a_warning_and_collects_nothing() {
    let root = project(&["project/a.txt", "secret.txt"]);
    let dir = root.path().join("project");
    let patterns = ["../../etc", "../secret.txt", "/etc/passwd", ""];
    let warnings = check(&dir, &spec(&patterns, &[], false), &[], &[]);
    assert_eq!(
        warnings,
        [
            "`../../etc` is not within the project directory",
            "`../secret.txt` is not within the project directory",
            "`/etc/passwd` is not within the project directory",
            "No matching files. Path is empty.",
        ]
    );
}

#[test]
fn an_invalid_exclude_is_a_warning() {
    let dir = project(TREE);
    let warnings = check(
        dir.path(),
        &spec(&["README.md"], &["../x"], false),
        &[],
        &["README.md"],
    );
    assert_eq!(warnings, ["exclude: `../x` is not within the project directory"]);
}

#[test]
fn the_git_directory_in_an_archive_is_warned_about() {
    let dir = project(&[".git/config"]);
    let warnings = check(
        dir.path(),
        &spec(&[".git"], &[], false),
        &[],
        &[".git", ".git/config"],
    );
    assert!(warnings[0].starts_with("Part of .git directory"), "{warnings:?}");
}

#[test]
fn an_archive_round_trip_keeps_permissions_links_and_empty_directories() {
    let dir = project(&["out/run.sh", "out/data.txt", "out/empty/"]);
    fs::set_permissions(dir.path().join("out/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(dir.path().join("out/data.txt"), fs::Permissions::from_mode(0o640)).unwrap();
    link(dir.path(), "out/latest", "run.sh");
    let collected = collect(dir.path(), &spec(&["out"], &[], false), &[]);
    let dest = tempfile::tempdir().unwrap();
    let zip = dest.path().join("artifacts.zip");

    let summary = artifacts::write_zip(dir.path(), &collected.files, &zip).unwrap();
    assert_eq!(summary.files, 5);
    assert_eq!(summary.bytes, fs::metadata(&zip).unwrap().len());
    assert_eq!(
        listing(dest.path()),
        ["artifacts.zip"],
        "no temporary file is left"
    );

    let into = dest.path().join("next-job");
    let extracted = artifacts::extract_zip(&zip, &into).unwrap();
    assert_eq!(extracted.entries, 5);
    assert_eq!(
        listing(&into),
        ["out", "out/data.txt", "out/empty", "out/latest", "out/run.sh"]
    );
    let mode = |p: &str| fs::metadata(into.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("out/run.sh"), 0o755);
    assert_eq!(mode("out/data.txt"), 0o640);
    assert_eq!(
        fs::read_link(into.join("out/latest")).unwrap(),
        PathBuf::from("run.sh")
    );
    assert_eq!(
        fs::read_to_string(into.join("out/data.txt")).unwrap(),
        "out/data.txt"
    );
}

#[test]
fn writing_replaces_an_existing_archive() {
    let dir = project(&["a.txt", "b.txt"]);
    let dest = tempfile::tempdir().unwrap();
    let zip = dest.path().join("a.zip");
    artifacts::write_zip(
        dir.path(),
        &[PathBuf::from("a.txt"), PathBuf::from("b.txt")],
        &zip,
    )
    .unwrap();
    let summary = artifacts::write_zip(dir.path(), &[PathBuf::from("a.txt")], &zip).unwrap();
    assert_eq!(summary.files, 1);
    let into = dest.path().join("x");
    artifacts::extract_zip(&zip, &into).unwrap();
    assert_eq!(listing(&into), ["a.txt"]);
}

#[test]
fn files_gone_before_writing_are_ignored() {
    let dir = project(&["a.txt"]);
    let zip = dir.path().join("a.zip");
    let summary = artifacts::write_zip(
        dir.path(),
        &[PathBuf::from("a.txt"), PathBuf::from("gone.txt")],
        &zip,
    )
    .unwrap();
    assert_eq!(
        (summary.files, summary.ignored),
        (1, vec![PathBuf::from("gone.txt")])
    );
}

#[test]
fn writing_refuses_paths_outside_the_project() {
    let dir = project(&["a.txt"]);
    let outside = project(&["secret.txt"]);
    link(dir.path(), "out", outside.path());
    let zip = dir.path().join("a.zip");
    let err = artifacts::write_zip(dir.path(), &[PathBuf::from("../a.txt")], &zip).unwrap_err();
    assert!(matches!(err, WriteArchiveError::UnsafePath { .. }), "{err:?}");
    let err = artifacts::write_zip(dir.path(), &[PathBuf::from("out/secret.txt")], &zip).unwrap_err();
    assert!(matches!(err, WriteArchiveError::Project(_)), "{err:?}");
    assert!(!zip.exists());
}
