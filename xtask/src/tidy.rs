//! The tidy checks: one module per check, each a function from the [`Workspace`] to the list of
//! offending files, so a test and `xtask tidy` report the same thing.

mod banned;
mod dependencies;
mod failure;
mod file_size;
mod module_docs;
mod purity;
mod workspace;

pub use banned::{check_banned_macros, check_banned_test_attributes};
pub use dependencies::{FORBIDDEN_DEPENDENCIES, check_dependency_edges};
pub use failure::Failure;
pub use file_size::{ALLOWED_LARGE_FILES, MAX_LINES, check_file_sizes, check_file_sizes_with};
pub use module_docs::check_module_docs;
pub use purity::check_pure_sources;
pub use workspace::{PURE_CRATES, SourceFile, Workspace};

/// One tidy check.
pub type Check = fn(&Workspace) -> Result<(), Failure>;

/// Runs every check and returns the failed ones.
pub fn run_all(workspace: &Workspace) -> Vec<Failure> {
    let checks: [Check; 6] = [
        check_module_docs,
        check_file_sizes,
        check_banned_test_attributes,
        check_banned_macros,
        check_dependency_edges,
        check_pure_sources,
    ];
    checks.iter().filter_map(|check| check(workspace).err()).collect()
}
