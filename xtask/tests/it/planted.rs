//! The tidy checks against a small workspace written to a temporary folder, with one planted
//! offence of each kind, so a check that silently stopped looking would fail here.

use std::fs;
use std::path::{Path, PathBuf};
use xtask::tidy::{self, Workspace};

/// A fresh workspace folder under the system temp dir, removed when dropped.
struct Planted {
    root: PathBuf,
}

impl Planted {
    fn new(name: &str) -> Planted {
        let root = std::env::temp_dir().join(format!("xtask-tidy-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("create the planted workspace");
        Planted { root }
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).expect("create folders");
        fs::write(path, text).expect("write a planted file");
    }

    fn workspace(&self) -> Workspace {
        Workspace::at(self.root.clone())
    }
}

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn offenders(result: Result<(), tidy::Failure>) -> Vec<String> {
    result.err().map(|failure| failure.offenders).unwrap_or_default()
}

#[test]
fn module_doc_check_reports_files_without_one_in_src_and_tests() {
    let ws = Planted::new("docs");
    ws.write("crates/a/Cargo.toml", "[package]\nname = \"gantry-a\"\n");
    ws.write("crates/a/src/lib.rs", "\n\n//! Documented after blank lines.\n");
    ws.write(
        "crates/a/src/bare.rs",
        "// A plain comment is not a module doc.\nfn f() {}\n",
    );
    ws.write("crates/a/tests/it/main.rs", "mod x;\n");
    let found = offenders(tidy::check_module_docs(&ws.workspace()));
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("crates/a/src/bare.rs:"), "{found:#?}");
    assert!(found[1].starts_with("crates/a/tests/it/main.rs:"), "{found:#?}");
}

#[test]
fn size_check_reports_files_over_the_limit_and_stale_allowlist_entries() {
    let ws = Planted::new("size");
    ws.write("crates/a/Cargo.toml", "[package]\nname = \"gantry-a\"\n");
    let long = "//! Long.\n".repeat(tidy::MAX_LINES + 1);
    ws.write("crates/a/src/lib.rs", &long);
    ws.write("crates/a/src/table.rs", &long);
    ws.write(
        "crates/a/src/ok.rs",
        &"//! Short enough.\n".repeat(tidy::MAX_LINES),
    );
    let allowed = [
        ("crates/a/src/table.rs", "a regular table"),
        ("crates/a/src/ok.rs", "it was long once"),
        ("crates/a/src/gone.rs", "it was deleted"),
    ];
    let found = offenders(tidy::check_file_sizes_with(&ws.workspace(), &allowed));
    assert_eq!(
        found,
        [
            format!("crates/a/src/lib.rs: {} lines (limit 800)", tidy::MAX_LINES + 1),
            "crates/a/src/ok.rs: allowlisted but within 800 lines; remove the entry".to_string(),
            "crates/a/src/gone.rs: allowlisted but not found; remove the entry".to_string(),
        ]
    );
}

#[test]
fn attribute_check_reports_ignore_and_should_panic_in_any_form() {
    let ws = Planted::new("attrs");
    ws.write("crates/a/Cargo.toml", "[package]\nname = \"gantry-a\"\n");
    ws.write(
        "crates/a/tests/t.rs",
        "//! Tests.\n#[test]\n#[ignore]\nfn a() {}\n#[ignore = \"slow\"]\nfn b() {}\n\
         #[should_panic(expected = \"x\")]\nfn c() {}\n#[cfg_attr(miri, ignore)]\nfn d() {}\n\
         // #[ignore] in a comment is fine.\n",
    );
    let found = offenders(tidy::check_banned_test_attributes(&ws.workspace()));
    let lines: Vec<&str> = found.iter().map(|o| o.split(": ").next().unwrap_or("")).collect();
    assert_eq!(
        lines,
        [
            "crates/a/tests/t.rs:3",
            "crates/a/tests/t.rs:5",
            "crates/a/tests/t.rs:7",
            "crates/a/tests/t.rs:9"
        ]
    );
}

#[test]
fn macro_check_reports_non_test_code_only() {
    let ws = Planted::new("macros");
    ws.write("crates/a/Cargo.toml", "[package]\nname = \"gantry-a\"\n");
    ws.write(
        "crates/a/src/lib.rs",
        "//! Lib.\nfn a() { todo!() }\nfn b() { dbg!(1); }\nfn c() { my_dbg!(1); }\n\
         // unimplemented!() in a comment is fine.\n#[cfg(test)]\nmod tests {\n    fn t() { dbg!(2); }\n}\n",
    );
    ws.write(
        "crates/a/src/x/tests.rs",
        "//! Unit tests.\nfn t() { unimplemented!() }\n",
    );
    ws.write("crates/a/tests/t.rs", "//! Tests.\nfn t() { todo!() }\n");
    let found = offenders(tidy::check_banned_macros(&ws.workspace()));
    let lines: Vec<&str> = found.iter().map(|o| o.split(": ").next().unwrap_or("")).collect();
    assert_eq!(
        lines,
        ["crates/a/src/lib.rs:2", "crates/a/src/lib.rs:3"],
        "{found:#?}"
    );
}

#[test]
fn purity_check_reports_io_and_clock_in_pure_crates_only() {
    let ws = Planted::new("purity");
    ws.write("crates/plan/Cargo.toml", "[package]\nname = \"gantry-plan\"\n");
    ws.write(
        "crates/plan/src/lib.rs",
        "//! Plan.\nuse std::fs::read;\nuse std::{\n    collections::BTreeMap,\n    process,\n};\n\
         fn now() { let _ = std::time::Instant::now(); }\n// std::net in a comment is fine.\n",
    );
    ws.write(
        "crates/plan/src/tests.rs",
        "//! Tests may read fixtures.\nuse std::fs;\n",
    );
    ws.write("crates/cli/Cargo.toml", "[package]\nname = \"gantry-cli\"\n");
    ws.write("crates/cli/src/main.rs", "//! Cli.\nuse std::fs;\n");
    let found = offenders(tidy::check_pure_sources(&ws.workspace()));
    let lines: Vec<&str> = found.iter().map(|o| o.split(": ").next().unwrap_or("")).collect();
    assert_eq!(
        lines,
        [
            "crates/plan/src/lib.rs:2",
            "crates/plan/src/lib.rs:7",
            "crates/plan/src/lib.rs:3"
        ],
        "{found:#?}"
    );
}

#[test]
fn dependency_check_reports_forbidden_crates_reached_through_other_crates() {
    let ws = Planted::new("deps");
    ws.write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"crates/plan\", \"crates/cli\", \"crates/helper\"]\n",
    );
    let lib = "//! Lib.\n";
    // A local crate named `tokio` stands in for the real one, so no registry is needed.
    ws.write(
        "vendor/tokio/Cargo.toml",
        "[package]\nname = \"tokio\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
    );
    ws.write("vendor/tokio/src/lib.rs", lib);
    ws.write(
        "crates/helper/Cargo.toml",
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\ntokio = { path = \"../../vendor/tokio\" }\n",
    );
    ws.write("crates/helper/src/lib.rs", lib);
    ws.write(
        "crates/plan/Cargo.toml",
        "[package]\nname = \"gantry-plan\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nhelper = { path = \"../helper\" }\n\n\
         [dev-dependencies]\ntokio = { path = \"../../vendor/tokio\" }\n",
    );
    ws.write("crates/plan/src/lib.rs", lib);
    ws.write(
        "crates/cli/Cargo.toml",
        "[package]\nname = \"gantry-cli\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\ntokio = { path = \"../../vendor/tokio\" }\n",
    );
    ws.write("crates/cli/src/lib.rs", lib);
    let found = offenders(tidy::check_dependency_edges(&ws.workspace()));
    assert_eq!(
        found,
        ["gantry-plan: depends on tokio (gantry-plan -> helper -> tokio)"]
    );
}
