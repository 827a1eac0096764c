//! Integration tests of gantry-executor: the job-side files (artifacts, cache, dotenv
//! reports) and the shell executor, run in real temporary directories.

mod artifacts;
mod cache;
mod dotenv;
mod extract;
mod paths;
mod shell;
mod tree;
