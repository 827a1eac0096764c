//! The real-world corpus (../shared/corpus): every root and child-pipeline file of the 24
//! projects compiles with no error other than those caused by includes that cannot be
//! fetched offline. `corpus.snap` records the job count per root so that changes show up.

use crate::support::{files_under, require_shared, source};
use gantry_plan::{Context, NoRepository};
use std::fmt::Write;
use std::path::Path;

#[test]
fn corpus_compiles_without_unexplained_errors() {
    let Some(corpus) = require_shared("corpus") else {
        return;
    };
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("index.json")).expect("index.json"))
            .expect("json");
    let mut report = String::new();
    let mut failures = Vec::new();
    let mut roots = 0;
    for (project, meta) in index.as_object().expect("object") {
        let dir = corpus.join(project);
        let files = files_under(&dir);
        let src = source(&files);
        let mut entries: Vec<(&String, &str)> = meta["files"]
            .as_object()
            .expect("files")
            .iter()
            .filter_map(|(f, role)| match role.as_str() {
                Some("root") => Some((f, "push")),
                Some("child-pipeline") => Some((f, "parent_pipeline")),
                _ => None,
            })
            .collect();
        entries.sort();
        for (file, pipeline_source) in entries {
            roots += 1;
            let ctx = Context {
                source: pipeline_source.into(),
                ref_name: "main".into(),
                default_branch: "main".into(),
                project_files: files.keys().cloned().collect(),
                ..Context::default()
            };
            let compiled = gantry_plan::compile(file, &src, &ctx, &NoRepository);
            for d in compiled
                .diagnostics
                .iter()
                .filter(|d| d.is_error() && d.caused_by.is_none())
            {
                failures.push(format!("{project}/{file}: {}", d.display(&compiled.files)));
            }
            let jobs = compiled.plan.as_ref().map_or(0, |p| p.jobs.len());
            let offline = compiled
                .diagnostics
                .iter()
                .filter(|d| d.caused_by.is_some())
                .count();
            let _ = writeln!(
                report,
                "{project}/{file}: {jobs} jobs, {offline} offline consequences"
            );
        }
    }
    assert_eq!(
        roots,
        24 + 29,
        "the corpus index lists 24 roots and 29 child pipelines"
    );
    assert!(
        failures.is_empty(),
        "{} unexplained errors:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus.snap");
    let expected = std::fs::read_to_string(&snap).unwrap_or_default();
    if report != expected {
        if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
            std::fs::write(&snap, &report).expect("write corpus.snap");
        } else {
            panic!("corpus job counts changed; rerun with UPDATE_SNAPSHOTS=1 and review:\n{report}");
        }
    }
}
