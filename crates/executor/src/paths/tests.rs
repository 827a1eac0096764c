//! Unit tests of pattern cleaning and splitting; the file-system behaviour is tested in
//! `tests/it/paths.rs`.

use super::*;

fn project() -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    let project = Project::open(dir.path()).unwrap();
    (dir, project)
}

fn check_normalize(pattern: &str, expected: Option<&str>) {
    let (_dir, project) = project();
    let got = project
        .normalize(pattern)
        .ok()
        .map(|p| p.to_string_lossy().into_owned());
    assert_eq!(got.as_deref(), expected, "{pattern}");
}

#[test]
fn patterns_are_cleaned_like_go_filepath_join() {
    check_normalize("build/", Some("build"));
    check_normalize("./build//out/.", Some("build/out"));
    check_normalize("a/b/../c", Some("a/c"));
    check_normalize("a/*/..", Some("a"));
    check_normalize(".", Some(""));
}

#[test]
fn patterns_leaving_the_project_are_refused() {
    check_normalize("../../etc", None);
    check_normalize("a/../../x", None);
    check_normalize("/etc/passwd", None);
    check_normalize("", None);
}

#[test]
fn absolute_patterns_inside_the_project_become_relative() {
    let (dir, project) = project();
    let pattern = format!("{}/build/*.o", dir.path().display());
    assert_eq!(project.normalize(&pattern).unwrap(), Path::new("build/*.o"));
    let canonical = format!("{}/x", dir.path().canonicalize().unwrap().display());
    assert_eq!(project.normalize(&canonical).unwrap(), Path::new("x"));
}

#[test]
fn the_literal_directories_are_split_from_the_glob() {
    let split = |p: &str| {
        let (base, rest) = split_pattern(Path::new(p));
        (
            base.to_string_lossy().into_owned(),
            rest.to_string_lossy().into_owned(),
        )
    };
    assert_eq!(split("a/b/*.c"), ("a/b".into(), "*.c".into()));
    assert_eq!(split("a/**/x/y"), ("a".into(), "**/x/y".into()));
    assert_eq!(split("a/b"), ("a/b".into(), String::new()));
    assert_eq!(split("{a,b}/c"), (String::new(), "{a,b}/c".into()));
}

#[test]
fn paths_sort_by_bytes_like_go() {
    let mut paths = vec![
        PathBuf::from("a/b"),
        PathBuf::from("a-c"),
        PathBuf::from("a"),
        PathBuf::from("a-c"),
    ];
    sort_paths(&mut paths);
    assert_eq!(
        paths,
        [PathBuf::from("a"), PathBuf::from("a-c"), PathBuf::from("a/b")]
    );
}
