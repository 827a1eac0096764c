//! Hostile and broken input: every case ends with a clear diagnostic, never a panic or a hang.
//! Inputs are large enough to hurt an unbounded implementation; no test measures time.

use gantry_config::model::Rule;
use gantry_config::{IncludeEnv, MemorySource, Resolved, resolve};

struct NoVars;

impl IncludeEnv for NoVars {
    fn variable(&self, _: &str) -> Option<&str> {
        None
    }
    fn rules_allow(&self, _: &[Rule]) -> bool {
        true
    }
}

fn resolve_files(files: &[(&str, String)]) -> Resolved {
    let source = files.iter().fold(MemorySource::new(), |s, (p, t)| s.with(p, t));
    resolve(files[0].0, &source, &NoVars)
}

fn codes(r: &Resolved) -> Vec<&'static str> {
    r.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect()
}

#[test]
fn a_50_megabyte_file_is_refused_before_parsing() {
    let big = format!(
        "job:\n  script:\n{}",
        "    - echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n".repeat(800_000)
    );
    assert!(big.len() > 50_000_000);
    let r = resolve_files(&[(".gitlab-ci.yml", big)]);
    assert_eq!(codes(&r), ["file-too-large"]);
}

#[test]
fn billion_laughs_alias_bomb_is_stopped() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(", ")));
    }
    text.push_str("job:\n  script: *a9\n");
    let r = resolve_files(&[(".gitlab-ci.yml", text)]);
    assert_eq!(codes(&r), ["yaml-alias-limit"]);
}

#[test]
fn absurd_nesting_is_refused_with_a_position() {
    let text = format!(
        "job:\n  script: {}x{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let r = resolve_files(&[(".gitlab-ci.yml", text)]);
    let errors: Vec<_> = r.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        matches!(errors[0].code, "yaml-too-deep" | "yaml-syntax"),
        "{errors:?}"
    );
    assert_eq!(errors[0].span.map(|s| s.line), Some(2));
}

#[test]
fn malformed_yaml_reports_line_and_column() {
    let r = resolve_files(&[(".gitlab-ci.yml", "job:\n  script: [a, b\n  stage: test\n".into())]);
    let d = r.diagnostics.iter().find(|d| d.is_error()).expect("an error");
    assert_eq!(d.code, "yaml-syntax");
    let span = d.span.expect("a position");
    assert_eq!(span.line, 3, "{d:?}");
}

#[test]
fn include_cycle_is_reported_once_and_ends() {
    let r = resolve_files(&[
        (".gitlab-ci.yml", "include: a.yml\njob:\n  script: x\n".into()),
        ("a.yml", "include: b.yml\n".into()),
        ("b.yml", "include: a.yml\n".into()),
    ]);
    assert_eq!(codes(&r), ["include-cycle"]);
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "include-cycle")
        .expect("cycle");
    assert!(d.message.contains("a.yml"), "{}", d.message);
}

#[test]
fn ten_thousand_includes_stop_at_the_limit() {
    let mut files = vec![(".gitlab-ci.yml", String::new())];
    let names: Vec<String> = (0..10_000).map(|i| format!("inc/{i}.yml")).collect();
    files[0].1 = format!(
        "include:\n{}job:\n  script: x\n",
        names.iter().map(|n| format!("  - {n}\n")).collect::<String>()
    );
    for n in &names {
        files.push((n.as_str(), format!("job-{}:\n  script: x\n", n.len())));
    }
    let r = resolve_files(&files);
    assert_eq!(codes(&r), ["include-limit"]);
}

#[test]
fn self_extending_and_deep_extends_are_errors() {
    let mut text = String::from("a:\n  extends: a\n  script: x\n");
    for i in 0..20 {
        text.push_str(&format!(".t{i}:\n  extends: .t{}\n", i + 1));
    }
    text.push_str(".t20:\n  script: x\nb:\n  extends: .t0\n");
    let r = resolve_files(&[(".gitlab-ci.yml", text)]);
    let c = codes(&r);
    assert!(c.contains(&"extends-cycle"), "{c:?}");
    assert!(c.contains(&"extends-depth"), "{c:?}");
}

#[test]
fn circular_and_absurdly_deep_reference_chains_are_errors() {
    let circular =
        ".a:\n  s: !reference [.b, s]\n.b:\n  s: !reference [.a, s]\njob:\n  script: !reference [.a, s]\n";
    let r = resolve_files(&[(".gitlab-ci.yml", circular.into())]);
    assert_eq!(codes(&r), ["reference-cycle"]);
    let mut deep = String::from(".r0:\n  s: [x]\n");
    for i in 1..200 {
        deep.push_str(&format!(".r{i}:\n  s: !reference [.r{}, s]\n", i - 1));
    }
    deep.push_str("job:\n  script: !reference [.r199, s]\n");
    let r = resolve_files(&[(".gitlab-ci.yml", deep)]);
    assert!(codes(&r).contains(&"reference-depth"), "{:?}", codes(&r));
}

#[test]
fn binary_garbage_is_a_yaml_error_not_a_panic() {
    let garbage: String = (0..20_000u32)
        .map(|i| char::from_u32((i * 7919) % 0xD7FF).unwrap_or('x'))
        .collect();
    let r = resolve_files(&[(".gitlab-ci.yml", garbage)]);
    assert!(r.diagnostics.iter().any(|d| d.is_error()));
}
