//! Check: the pure crates' non-test sources do no IO and read no clock.

use super::{Failure, PURE_CRATES, Workspace};

/// Paths the pure crates may not name, each with what to do instead.
const FORBIDDEN_PATHS: &[(&str, &str)] = &[
    (
        "std::fs",
        "read files through the `FileSource` trait; the cli implements it on disk",
    ),
    ("std::net", "the network belongs to server and runner"),
    (
        "std::process",
        "running programs (git included) belongs to cli, runner and executor",
    ),
    ("SystemTime", "time comes in as an argument"),
    ("Instant::now", "time comes in as an argument"),
];

/// Modules of `std` that a grouped import (`use std::{fs, io}`) may not name.
const FORBIDDEN_STD_MODULES: &[&str] = &["fs", "net", "process"];

/// The non-test sources of the crates in [`PURE_CRATES`] do not use `std::fs`, `std::net`,
/// `std::process`, `SystemTime` or `Instant::now`.
///
/// This is a text scan: it catches the paths written out and grouped `use std::{…}` imports, not
/// a re-export through another crate; the dependency check covers the crates that would do that.
pub fn check_pure_sources(workspace: &Workspace) -> Result<(), Failure> {
    let mut offenders = Vec::new();
    for file in workspace.source_files() {
        if !PURE_CRATES.contains(&file.package.as_str()) {
            continue;
        }
        let lines = file.non_test_code_lines();
        for (number, line) in &lines {
            for (path, instead) in FORBIDDEN_PATHS {
                if line.contains(path) {
                    offenders.push(format!("{}:{number}: uses `{path}`: {instead}", file.rel_path));
                }
            }
        }
        for (number, module) in grouped_std_imports(&lines) {
            if FORBIDDEN_STD_MODULES.contains(&module.as_str()) {
                offenders.push(format!(
                    "{}:{number}: imports `std::{module}` in a grouped `use std::{{…}}`",
                    file.rel_path
                ));
            }
        }
    }
    Failure::check(
        "the pure crates (config, rules, plan, engine) do no IO and read no clock",
        "pure crates test in milliseconds and behave the same everywhere because the world comes in \
         through small traits (FileSource, Repository) and arguments (ARCHITECTURE.md); move the IO \
         to the cli or a backend crate and pass its result in",
        offenders,
    )
}

/// The first-level names inside each `std::{…}` group, which may span lines, with the line
/// number where the group starts.
fn grouped_std_imports(lines: &[(usize, &str)]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, (number, line)) in lines.iter().enumerate() {
        let mut rest: &str = line;
        while let Some(start) = rest.find("std::{") {
            let after = &rest[start + "std::{".len()..];
            let following = lines[index + 1..].iter().map(|(_, l)| *l);
            let group: String = std::iter::once(after)
                .chain(following)
                .collect::<Vec<_>>()
                .join("\n");
            for item in top_level_items(&group) {
                found.push((*number, item));
            }
            rest = after;
        }
    }
    found
}

/// The first path segment of each comma-separated item before the `}` closing the group.
fn top_level_items(group: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => items.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    items.push(current);
    items
        .iter()
        .filter_map(|item| {
            let head = item.trim().split("::").next()?.split_whitespace().next()?;
            (!head.is_empty()).then(|| head.to_string())
        })
        .collect()
}
