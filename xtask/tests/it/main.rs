//! Integration tests for xtask, built into one test binary: the tidy checks over the workspace.

mod planted;
mod tidy;
