//! Checks: banned test attributes anywhere, and placeholder or debugging macros in non-test code.

use super::{Failure, SourceFile, Workspace};

/// Attributes no test may carry, matched with whitespace removed.
const BANNED_ATTRIBUTES: &[&str] = &["#[ignore]", "#[ignore=", "#[should_panic"];

/// Macros non-test code may not call.
const BANNED_MACROS: &[&str] = &["todo!(", "unimplemented!(", "dbg!("];

/// No source file uses `#[ignore]` (also with a reason, or through `cfg_attr`) or
/// `#[should_panic]`.
pub fn check_banned_test_attributes(workspace: &Workspace) -> Result<(), Failure> {
    let mut offenders = Vec::new();
    for file in workspace.source_files() {
        for (number, line) in code_lines(&file) {
            let squeezed: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            let via_cfg_attr = squeezed.starts_with("#[cfg_attr(")
                && (squeezed.contains(",ignore)")
                    || squeezed.contains(",ignore=")
                    || squeezed.contains(",should_panic"));
            if via_cfg_attr || BANNED_ATTRIBUTES.iter().any(|attr| squeezed.contains(attr)) {
                offenders.push(format!("{}:{number}: {}", file.rel_path, line.trim()));
            }
        }
    }
    Failure::check(
        "no test is `#[ignore]`d or `#[should_panic]`",
        "an ignored test is a test nobody runs: assert today's behaviour with a FIXME instead, or \
         gate infrastructure on an env var that .ci/run sets; instead of `#[should_panic]`, assert \
         on the returned error or diagnostic (STYLE.md, convention 11)",
        offenders,
    )
}

/// Non-test code calls none of `todo!`, `unimplemented!` and `dbg!`.
pub fn check_banned_macros(workspace: &Workspace) -> Result<(), Failure> {
    let mut offenders = Vec::new();
    for file in workspace.source_files() {
        for (number, line) in file.non_test_code_lines() {
            if let Some(found) = BANNED_MACROS.iter().find(|m| contains_macro_call(line, m)) {
                offenders.push(format!(
                    "{}:{number}: `{found}` in {}",
                    file.rel_path,
                    line.trim()
                ));
            }
        }
    }
    Failure::check(
        "non-test code calls no `todo!`, `unimplemented!` or `dbg!`",
        "a placeholder panics in a user's hands and `dbg!` writes to their stderr; return a \
         diagnostic or an error for the unsupported case, and remove debugging output",
        offenders,
    )
}

/// Every line of a file that is not a comment, test code included.
fn code_lines(file: &SourceFile) -> impl Iterator<Item = (usize, &str)> {
    file.text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(index, line)| (index + 1, line))
}

/// Whether `line` calls `mac` as a macro of its own, not as the tail of a longer name.
fn contains_macro_call(line: &str, mac: &str) -> bool {
    line.match_indices(mac).any(|(at, _)| {
        line[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}
