//! The shell executor: runs a job's scripts with `bash` (or `sh`) on this machine, in
//! its own process group, the way gitlab-runner's shell executor does.

mod process;
mod script;

pub use process::run;
pub use script::{render_after, render_main};
