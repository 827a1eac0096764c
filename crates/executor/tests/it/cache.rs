//! `cache`: keys as GitLab and gitlab-runner compute them, and save/restore under a cache
//! directory (`<cache_dir>/<key>/cache.zip`).

use crate::tree::{link, listing, project};
use gantry_executor::cache::{self, SaveCacheError};
use std::fs;
use std::path::Path;
use std::process::Command;

fn save(project: &Path, paths: &[&str], key: &str, cache_dir: &Path) -> cache::SaveOutcome {
    let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    cache::save(project, &paths, &[], key, cache_dir).unwrap()
}

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

#[test]
fn a_saved_cache_is_restored_into_another_project() {
    let cache_dir = tempfile::tempdir().unwrap();
    let first = project(&["vendor/gem/lib.rb", "src/main.rb"]);
    let saved = save(first.path(), &["vendor/"], "deps", cache_dir.path());
    assert_eq!(saved.archive.unwrap().files, 3);
    assert!(saved.warnings.is_empty(), "{:?}", saved.warnings);
    assert_eq!(listing(cache_dir.path()), ["deps", "deps/cache.zip"]);

    let second = project(&[]);
    let restored = cache::restore(cache_dir.path(), &keys(&["deps"]), second.path());
    assert_eq!(restored.key.as_deref(), Some("deps"));
    assert_eq!(
        listing(second.path()),
        ["vendor", "vendor/gem", "vendor/gem/lib.rb"]
    );
}

#[test]
fn fallback_keys_are_tried_in_order() {
    let cache_dir = tempfile::tempdir().unwrap();
    save(
        project(&["one.txt"]).path(),
        &["one.txt"],
        "fb1",
        cache_dir.path(),
    );
    save(
        project(&["two.txt"]).path(),
        &["two.txt"],
        "fb2",
        cache_dir.path(),
    );
    let into = project(&[]);
    let restored = cache::restore(cache_dir.path(), &keys(&["main", "fb1", "fb2"]), into.path());
    assert_eq!(restored.key.as_deref(), Some("fb1"));
    assert!(restored.warnings.is_empty());
    assert_eq!(listing(into.path()), ["one.txt"]);
}

#[test]
fn a_corrupt_cache_is_a_warning_and_the_next_key_is_used() {
    let cache_dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(cache_dir.path().join("main")).unwrap();
    fs::write(cache_dir.path().join("main/cache.zip"), "garbage").unwrap();
    save(
        project(&["ok.txt"]).path(),
        &["ok.txt"],
        "fallback",
        cache_dir.path(),
    );
    let into = project(&[]);
    let restored = cache::restore(cache_dir.path(), &keys(&["main", "fallback"]), into.path());
    assert_eq!(restored.key.as_deref(), Some("fallback"));
    assert_eq!(restored.warnings.len(), 1);
    assert!(
        restored.warnings[0].starts_with("Failed to extract cache main: "),
        "{:?}",
        restored.warnings
    );
}

#[test]
fn no_archive_for_any_key_restores_nothing_quietly() {
    let cache_dir = tempfile::tempdir().unwrap();
    let into = project(&[]);
    let restored = cache::restore(cache_dir.path(), &keys(&["a", "b"]), into.path());
    assert_eq!(restored, cache::RestoreOutcome::default());
}

#[test]
fn nothing_to_cache_writes_nothing() {
    let cache_dir = tempfile::tempdir().unwrap();
    let saved = save(project(&[]).path(), &["vendor/"], "deps", cache_dir.path());
    assert_eq!(saved.archive, None);
    assert_eq!(
        saved.warnings.last().map(String::as_str),
        Some("No files to cache.")
    );
    assert!(listing(cache_dir.path()).is_empty());
}

#[test]
fn untracked_files_are_cached_too() {
    let cache_dir = tempfile::tempdir().unwrap();
    let dir = project(&["new.txt"]);
    let saved = cache::save(dir.path(), &[], &["new.txt".to_owned()], "k", cache_dir.path()).unwrap();
    assert_eq!(saved.archive.unwrap().files, 1);
}

#[test]
fn keys_are_sanitized_and_never_leave_the_cache_directory() {
    let root = tempfile::tempdir().unwrap();
    let cache_dir = root.path().join("cache");
    let saved = save(
        project(&["a.txt"]).path(),
        &["a.txt"],
        "../../job/ref",
        &cache_dir,
    );
    assert_eq!(saved.key, "job/ref");
    assert_eq!(
        saved.warnings,
        [r#"cache key "../../job/ref" sanitized to "job/ref""#]
    );
    assert_eq!(
        listing(root.path()),
        ["cache", "cache/job", "cache/job/ref", "cache/job/ref/cache.zip"]
    );
    let err = cache::save(
        project(&["a.txt"]).path(),
        &["a.txt".to_owned()],
        &[],
        "..",
        &cache_dir,
    )
    .unwrap_err();
    assert!(matches!(err, SaveCacheError::Key(_)), "{err:?}");
}

#[test]
fn an_unusable_restore_key_is_skipped_with_a_warning() {
    let cache_dir = tempfile::tempdir().unwrap();
    let restored = cache::restore(cache_dir.path(), &keys(&["."]), project(&[]).path());
    assert_eq!(
        restored.warnings,
        [r#"Skipping cache extraction due to cache key "." could not be sanitized"#]
    );
}

/// The key GitLab computes: SHA-1 of the sorted git blob ids (from `git hash-object`)
/// joined with `-`.
fn gitlab_key(dir: &Path, files: &[&str]) -> String {
    let mut ids: Vec<String> = files
        .iter()
        .map(|f| {
            let out = Command::new("git")
                .arg("hash-object")
                .arg(f)
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(out.status.success(), "git hash-object {f}");
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        })
        .collect();
    ids.sort();
    sha1_hex(ids.join("-").as_bytes())
}

/// SHA-1 in hex, by `sha1sum`.
fn sha1_hex(data: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha1sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn key_files_gives_gitlabs_key_from_the_git_blob_ids() {
    let dir = project(&["Gemfile.lock", "package.json"]);
    let files = ["Gemfile.lock".to_owned(), "package.json".to_owned()];
    let expected = gitlab_key(dir.path(), &["Gemfile.lock", "package.json"]);
    assert_eq!(cache::files_key(dir.path(), &files, None), expected);
    let reversed = [files[1].clone(), files[0].clone()];
    assert_eq!(
        cache::files_key(dir.path(), &reversed, Some("rspec")),
        format!("rspec-{expected}")
    );
}

#[test]
fn key_files_ignores_missing_files_and_falls_back_to_default() {
    let dir = project(&["Gemfile.lock"]);
    let only = gitlab_key(dir.path(), &["Gemfile.lock"]);
    let files = ["Gemfile.lock".to_owned(), "missing.json".to_owned()];
    assert_eq!(cache::files_key(dir.path(), &files, None), only);
    let missing = ["missing.json".to_owned()];
    assert_eq!(cache::files_key(dir.path(), &missing, None), "default");
    assert_eq!(
        cache::files_key(dir.path(), &missing, Some("rspec")),
        "rspec-default"
    );
    assert_eq!(cache::files_key(dir.path(), &missing, Some("  ")), "default");
    assert_eq!(
        cache::files_key(dir.path(), &["../Gemfile.lock".to_owned()], None),
        "default"
    );
}

#[test]
fn key_files_changes_with_the_content() {
    let dir = project(&["Gemfile.lock"]);
    let files = ["Gemfile.lock".to_owned()];
    let before = cache::files_key(dir.path(), &files, None);
    fs::write(dir.path().join("Gemfile.lock"), "changed").unwrap();
    assert_ne!(cache::files_key(dir.path(), &files, None), before);
}

#[test]
fn key_files_patterns_search_the_project() {
    let dir = project(&["a/package.json", "b/c/package.json"]);
    let expected = gitlab_key(dir.path(), &["a/package.json", "b/c/package.json"]);
    assert_eq!(
        cache::files_key(dir.path(), &["**/package.json".to_owned()], None),
        expected
    );
}

#[test]
fn key_files_hashes_a_symlink_as_git_stores_it() {
    let dir = project(&["real.lock"]);
    link(dir.path(), "Gemfile.lock", "real.lock");
    let got = cache::files_key(dir.path(), &["Gemfile.lock".to_owned()], None);
    // Git stores a link as a blob holding its target.
    let link_blob = sha1_hex(b"blob 9\0real.lock");
    assert_eq!(got, sha1_hex(link_blob.as_bytes()));
}
