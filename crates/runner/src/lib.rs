//! Runs one attempt of a planned job, the same way for `gantry run` and for the server:
//! a build directory holding the pipeline's commit ([`workspace`]), the artifacts of earlier
//! jobs and the caches in, the scripts through the shell executor, then artifacts,
//! `reports:dotenv` and caches out ([`job`]). [`defs`] turns planned jobs into the engine's
//! job definitions.
//!
//! Whoever drives the pipeline (the CLI's loop, the server's scheduler) owns the engine and
//! spawns a [`job::JobTask`] for each `Effect::Run`; the task reports [`job::JobEvent`]s back.

pub mod container;
pub mod defs;
mod files;
pub mod job;
mod tree;
pub mod workspace;

pub use files::expand_with;
