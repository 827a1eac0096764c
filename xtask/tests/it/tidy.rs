//! The tidy checks, one test each, over the real workspace. A failure lists every offending file
//! and the reason for the rule; `cargo run -p xtask -- tidy` prints the same report.

use xtask::tidy::{self, Workspace};

fn assert_passes(check: tidy::Check) {
    let workspace = Workspace::at(xtask::workspace_root());
    if let Err(failure) = check(&workspace) {
        panic!("\n{failure}");
    }
}

#[test]
fn every_source_file_starts_with_a_module_doc() {
    assert_passes(tidy::check_module_docs);
}

#[test]
fn no_source_file_is_over_800_lines_unless_allowlisted() {
    assert_passes(tidy::check_file_sizes);
}

#[test]
fn no_test_is_ignored_or_should_panic() {
    assert_passes(tidy::check_banned_test_attributes);
}

#[test]
fn non_test_code_calls_no_todo_unimplemented_or_dbg() {
    assert_passes(tidy::check_banned_macros);
}

#[test]
fn pure_crates_do_not_depend_on_runtime_network_or_database_crates() {
    assert_passes(tidy::check_dependency_edges);
}

#[test]
fn pure_crates_do_no_io_and_read_no_clock() {
    assert_passes(tidy::check_pure_sources);
}
