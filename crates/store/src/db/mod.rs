//! The server's state in SQL: one code path on SQLite (default, a file in the data
//! directory) and PostgreSQL (at scale), through sqlx's `Any` driver with runtime queries
//! and `$N` placeholders. Migrations per database live in `migrations/{sqlite,postgres}` and
//! run at [`Db::connect`]. Times are epoch milliseconds given by the caller: nothing here
//! reads the clock.
//!
//! One module per aggregate, each adding its methods to [`Db`]: users and tokens, projects,
//! pipelines, jobs, traces, pipeline events, variables, artifacts, triggers, sessions, environments and deployments, the container registry.

mod args;
mod artifacts;
mod column;
mod connect;
mod environments;
mod error;
mod events;
mod jobs;
mod page;
mod pipelines;
mod projects;
mod registration;
mod registry;
mod runners;
mod sessions;
mod traces;
mod triggers;
mod users;
mod variables;

pub use artifacts::{Artifact, NewArtifact};
pub use column::DbBool;
pub use connect::{Backend, Db};
pub use environments::{Deployment, DeploymentRecord, Environment};
pub use error::StoreError;
pub use events::{EventBatch, Recorded, TraceAppend};
pub use jobs::{Job, JobUpdate, NewJob};
pub use page::Page;
pub use pipelines::{FINISHED_PIPELINE_STATUSES, NewPipeline, Pipeline, PipelineFilter, PipelineUpdate};
pub use projects::{MAINTAINER_ACCESS, NewProject, Project, ProtectedBranch};
pub use registry::{ManifestRow, NewManifest, Repository, Upload};
pub use runners::{NewRunner, Runner, RunnerUpdate, tags_text};
pub use sessions::Session;
pub use triggers::Trigger;
pub use users::{TOKEN_LAST_USED_RESOLUTION_MS, Token, User};
pub use variables::Variable;
