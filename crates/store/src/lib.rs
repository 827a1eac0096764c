//! Persistence for the gantry server: the state (users, tokens, projects, pipelines, jobs,
//! traces, variables) in SQL on SQLite or PostgreSQL through one code path ([`db`]), and
//! blobs (artifacts, caches) on a filesystem or an S3-compatible store ([`blob`]).

#![warn(missing_docs)]

pub mod blob;
pub mod db;
