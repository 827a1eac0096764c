//! `gantry up --once`, README's first command without the serving: it starts the server in a
//! fresh data directory, pushes the demo project, follows its pipeline and says where
//! everything is; a second start reuses the same data and token.

use std::path::PathBuf;
use std::process::Command;

fn gantry() -> PathBuf {
    std::env::var_os("GANTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gantry")))
}

fn up(data: &std::path::Path) -> String {
    let out = Command::new(gantry())
        .args(["up", "--once", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("GANTRY_LOG", "warn")
        .env_remove("GANTRY_INITIAL_ROOT_TOKEN")
        .output()
        .expect("gantry up");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "gantry up failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn token(text: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("API token:"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no API token line in:\n{text}"))
        .to_owned()
}

#[test]
fn up_runs_the_demo_pipeline_and_a_second_start_keeps_the_token() {
    let data = tempfile::tempdir().expect("data dir");
    let first = up(data.path());
    assert!(first.contains("gantry is up at http://127.0.0.1:"), "{first}");
    assert!(
        first
            .lines()
            .any(|l| l.contains("demo pipeline:") && l.contains("success")),
        "{first}"
    );
    assert!(first.contains("git push gantry HEAD"), "{first}");
    let second = up(data.path());
    assert_eq!(
        token(&first),
        token(&second),
        "the token is kept in the data directory"
    );
    assert!(token(&first).starts_with("glpat-"));
}
