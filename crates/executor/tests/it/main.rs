//! Integration tests of gantry-executor: the job-side files (artifacts, cache, dotenv
//! reports), the shell executor and the container executor (against Podman), run in real temporary directories.

mod artifacts;
mod cache;
mod docker;
mod dotenv;
mod extract;
mod paths;
mod shell;
mod tree;
