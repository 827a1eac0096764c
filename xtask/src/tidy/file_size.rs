//! Check: no Rust source file grows past [`MAX_LINES`] unless it is allowlisted with a reason.

use super::{Failure, Workspace};

/// The most lines a source file may have. Style aims at about 400; past 800 a file almost always
/// holds more than one concept.
pub const MAX_LINES: usize = 800;

/// Files allowed past [`MAX_LINES`], as (path relative to the workspace root, reason). Only
/// regular tables and generated code belong here (ripgrep's `defs.rs` is the model).
pub const ALLOWED_LARGE_FILES: &[(&str, &str)] = &[];

/// No `.rs` file under `crates/*/src` or `crates/*/tests` has more than [`MAX_LINES`] lines,
/// except those in [`ALLOWED_LARGE_FILES`]; an allowlist entry whose file is gone or back under
/// the limit is reported too, so the list does not rot.
pub fn check_file_sizes(workspace: &Workspace) -> Result<(), Failure> {
    check_file_sizes_with(workspace, ALLOWED_LARGE_FILES)
}

/// [`check_file_sizes`] with another allowlist, for tests.
pub fn check_file_sizes_with(workspace: &Workspace, allowed: &[(&str, &str)]) -> Result<(), Failure> {
    let files = workspace.source_files();
    let mut offenders: Vec<String> = files
        .iter()
        .filter(|file| !allowed.iter().any(|(path, _)| *path == file.rel_path))
        .filter_map(|file| {
            let lines = file.text.lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines (limit {MAX_LINES})", file.rel_path))
        })
        .collect();
    for (path, _) in allowed {
        match files.iter().find(|file| file.rel_path == *path) {
            None => offenders.push(format!("{path}: allowlisted but not found; remove the entry")),
            Some(file) if file.text.lines().count() <= MAX_LINES => offenders.push(format!(
                "{path}: allowlisted but within {MAX_LINES} lines; remove the entry"
            )),
            Some(_) => {}
        }
    }
    Failure::check(
        "no Rust source file is over 800 lines unless allowlisted",
        "one concept per file keeps files readable (docs/dev/style.md); split the file by concept, \
         or, for a regular table or generated code, add it to ALLOWED_LARGE_FILES in \
         xtask/src/tidy/file_size.rs with the reason",
        offenders,
    )
}
