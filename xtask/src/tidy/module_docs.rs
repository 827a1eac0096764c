//! Check: every Rust source file opens with a `//!` module doc.

use super::{Failure, Workspace};

/// Every `.rs` file under `crates/*/src` and `crates/*/tests` starts with a `//!` line, after
/// blank lines at most.
pub fn check_module_docs(workspace: &Workspace) -> Result<(), Failure> {
    let offenders = workspace
        .source_files()
        .into_iter()
        .filter(|file| {
            let first = file.text.lines().map(str::trim).find(|line| !line.is_empty());
            !first.is_some_and(|line| line.starts_with("//!"))
        })
        .map(|file| format!("{}: does not start with a `//!` module doc", file.rel_path))
        .collect();
    Failure::check(
        "every Rust source file starts with a `//!` module doc",
        "a reader lands in files from search results, so the first lines must say what the module \
         owns and where it sits in the data flow (docs/dev/style.md); add a `//!` paragraph at the top",
        offenders,
    )
}
