//! `paths::expand`: doublestar globs relative to the project directory, never leaving it.

use crate::tree::{link, names, project};
use gantry_executor::paths::{self, ExpandPathsError};
use std::path::Path;

const TREE: &[&str] = &[
    "c.o",
    "build/a.o",
    "build/sub/b.o",
    "build/empty/",
    "docs/readme.md",
    ".hidden.o",
];

fn check(root: &Path, patterns: &[&str], expected: &[&str]) {
    let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
    let got = paths::expand(root, &patterns).unwrap();
    assert_eq!(names(&got), expected, "{patterns:?}");
}

fn check_err(root: &Path, pattern: &str) -> ExpandPathsError {
    paths::expand(root, &[pattern.to_owned()]).unwrap_err()
}

#[test]
fn star_stays_inside_one_directory() {
    let dir = project(TREE);
    check(dir.path(), &["build/*.o"], &["build/a.o"]);
    check(dir.path(), &["*.o"], &[".hidden.o", "c.o"]);
}

#[test]
fn a_star_matching_a_directory_brings_its_whole_tree() {
    let dir = project(TREE);
    check(
        dir.path(),
        &["build/*"],
        &["build/a.o", "build/empty", "build/sub", "build/sub/b.o"],
    );
}

#[test]
fn doublestar_matches_any_number_of_directories_including_none() {
    let dir = project(TREE);
    check(
        dir.path(),
        &["**/*.o"],
        &[".hidden.o", "build/a.o", "build/sub/b.o", "c.o"],
    );
    check(dir.path(), &["build/**/b.o"], &["build/sub/b.o"]);
    check(dir.path(), &["build/**/a.o"], &["build/a.o"]);
}

#[test]
fn a_directory_name_includes_everything_under_it() {
    let dir = project(TREE);
    let all_build = ["build", "build/a.o", "build/empty", "build/sub", "build/sub/b.o"];
    check(dir.path(), &["build"], &all_build);
    check(dir.path(), &["build/"], &all_build);
    check(dir.path(), &["./build/../build"], &all_build);
}

#[test]
fn results_are_sorted_by_bytes_and_unique() {
    let dir = project(&["a-b", "a/x"]);
    check(dir.path(), &["a", "a/x", "a-b"], &["a", "a-b", "a/x"]);
}

#[test]
fn a_missing_path_matches_nothing() {
    let dir = project(TREE);
    check(dir.path(), &["nothing/here", "nothing/*.o"], &[]);
}

#[test]
fn an_absolute_path_inside_the_project_is_accepted() {
    let dir = project(TREE);
    let pattern = format!("{}/docs", dir.path().display());
    check(dir.path(), &[&pattern], &["docs", "docs/readme.md"]);
}

#[test]
fn a_pattern_escaping_the_project_is_refused_with_its_name() {
    let dir = project(TREE);
    for pattern in ["../../etc", "/etc/passwd", "build/../../x", "../*"] {
        let err = check_err(dir.path(), pattern);
        assert!(
            matches!(&err, ExpandPathsError::OutsideProject { pattern: p } if p == pattern),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("`{pattern}` is not within the project directory")
        );
    }
}

#[test]
fn symlinks_are_listed_as_links_and_never_followed() {
    let outside = project(&["secret.txt"]);
    let dir = project(TREE);
    link(dir.path(), "out", outside.path());
    link(dir.path(), "build/up", "..");
    check(dir.path(), &["out"], &["out"]);
    check(dir.path(), &["**/*.txt"], &[]);
    check(
        dir.path(),
        &["build"],
        &[
            "build",
            "build/a.o",
            "build/empty",
            "build/sub",
            "build/sub/b.o",
            "build/up",
        ],
    );
}

#[test]
fn a_link_leaving_the_project_in_the_literal_part_is_refused() {
    let outside = project(&["secret.txt"]);
    let dir = project(TREE);
    link(dir.path(), "out", outside.path());
    for pattern in ["out/secret.txt", "out/*"] {
        let err = check_err(dir.path(), pattern);
        assert!(
            matches!(&err, ExpandPathsError::SymlinkOutside { link, .. } if link == Path::new("out")),
            "{err:?}"
        );
    }
}

#[test]
fn a_link_inside_the_project_in_the_literal_part_is_followed() {
    let dir = project(TREE);
    link(dir.path(), "current", "build/sub");
    check(dir.path(), &["current/*.o"], &["current/b.o"]);
    check(dir.path(), &["current/b.o"], &["current/b.o"]);
}

#[test]
fn an_invalid_glob_is_an_error_naming_the_pattern() {
    let dir = project(TREE);
    let err = check_err(dir.path(), "build/{a");
    assert!(
        matches!(&err, ExpandPathsError::InvalidPattern { pattern, .. } if pattern == "build/{a"),
        "{err:?}"
    );
}

#[test]
fn a_missing_project_directory_is_an_error() {
    let dir = project(&[]);
    let err = paths::expand(&dir.path().join("gone"), &["x".to_owned()]).unwrap_err();
    assert!(matches!(err, ExpandPathsError::ProjectDir { .. }), "{err:?}");
}
