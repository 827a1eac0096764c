//! The store's integration tests, one binary: every test runs on SQLite (a temporary file)
//! and, when `GANTRY_TEST_POSTGRES_URL` is set, again on a fresh PostgreSQL database
//! (`backend::each_backend`); blob tests run on a directory and, when
//! `GANTRY_TEST_S3_ENDPOINT` is set, on an S3 bucket (`blob::each_blob_store`). With `CI=true`
//! a missing service fails the tests instead of skipping them. `bash scripts/services.sh
//! start` starts both services and prints the variables.

mod artifacts;
mod backend;
mod blob;
mod environments;
mod events;
mod jobs;
mod migrations;
mod pipelines;
mod projects;
mod registry;
mod runners;
mod sessions;
mod traces;
mod triggers;
mod users;
mod variables;

/// A fixed "now" (2026-11-24, epoch ms): the store never reads the clock, neither do tests.
pub(crate) const NOW: i64 = 1_795_000_000_000;
