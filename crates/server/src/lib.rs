//! The gantry server: hosts git repositories over smart HTTP, creates a pipeline for every
//! push, drives it with the engine and runs its jobs with the same runner code as
//! `gantry run`, and serves a GitLab-shaped REST API under `/api/v4`.
//!
//! Start one with [`app::start`]; tests can also build the [`app::router`] around a state.

pub mod access;
pub(crate) mod api;
pub mod app;
pub mod auth;
mod bootstrap;
mod clock;
pub mod config;
mod dashboard;
mod environments;
mod error;
pub mod git;
mod githost;
mod housekeeping;
pub mod live;
pub mod metrics;
mod registry;
pub mod scheduler;
pub mod secrets;
