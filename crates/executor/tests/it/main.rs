//! Integration tests of gantry-executor's job-side files (artifacts, cache, dotenv reports),
//! run in real temporary directories.

mod artifacts;
mod cache;
mod dotenv;
mod extract;
mod paths;
mod tree;
