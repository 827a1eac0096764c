//! Data-driven compiler cases: `crates/plan/test_data/<case>/` holds a `.gitlab-ci.yml`
//! (plus any included files), an optional `trigger.toml`, and `plan.snap`, the rendered
//! result. `UPDATE_SNAPSHOTS=1 cargo test -p gantry-plan` rewrites the snapshots; review the diff.

use crate::support::{context, files_under, source};
use std::path::Path;

fn check(dir: &Path) -> Option<String> {
    let files = files_under(dir);
    let (ctx, repo) = context(dir, &files);
    let compiled = gantry_plan::compile(".gitlab-ci.yml", &source(&files), &ctx, &repo);
    let actual = gantry_plan::render::render(&compiled);
    let snap = dir.join("plan.snap");
    let expected = std::fs::read_to_string(&snap).unwrap_or_default();
    if actual == expected {
        return None;
    }
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&snap, &actual).expect("write snapshot");
        return None;
    }
    Some(format!(
        "--- {}\n--- expected\n{expected}--- actual\n{actual}",
        dir.display()
    ))
}

#[test]
fn every_case_matches_its_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("test_data")
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let failures: Vec<String> = dirs
        .iter()
        .filter(|d| d.is_dir())
        .filter_map(|d| check(d))
        .collect();
    assert!(dirs.len() >= 2, "no cases found under {}", root.display());
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
