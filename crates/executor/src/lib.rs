//! gantry-executor: runs one attempt of a job.
//! The job-side files live here too: the files `artifacts:paths`/`cache:paths` name
//! (`paths`), artifacts and cache archives (`artifacts`, `cache`), dotenv reports (`dotenv`).
pub mod artifacts;
pub mod cache;
pub mod docker;
pub mod dotenv;
pub mod job;
mod log;
pub mod mask;
pub mod paths;
pub mod section;
pub mod shell;
mod vars;
