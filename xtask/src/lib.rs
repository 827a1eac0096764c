//! Developer tasks for the gantry workspace.
//!
//! The only task so far is `tidy`: checks over the whole workspace that keep the conventions in
//! `docs/dev/style.md` true (module docs, file sizes, banned test attributes and macros, pure
//! crates free of IO and of runtime dependencies). `cargo test -p xtask` runs each check as a
//! test; `cargo run -p xtask -- tidy` runs them all and prints what they find.

pub mod tidy;

use std::path::PathBuf;

/// The workspace root: the parent of this crate's folder.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map_or(manifest_dir.clone(), PathBuf::from)
}
