//! gantry-engine: the pipeline state machine, pure and clock-free.
//!
//! A [`Pipeline`] holds one state per job. It is fed [`Event`]s (a job started, finished,
//! was played, a delay elapsed, the pipeline was canceled) and answers with [`Effect`]s
//! (run this job, start this timer, stop this job). It decides with GitLab's rules: stage
//! gating, `needs`, `when`, allowed failures, retries, blocking manual jobs, resource
//! groups, and the composite statuses of GitLab's `Ci::Status::Composite`.
//!
//! ```
//! use gantry_engine::{Effect, Event, JobDef, JobId, JobResult, Pipeline, Status};
//! let jobs = vec![JobDef::new("build", 0), JobDef::new("test", 1)];
//! let mut p = Pipeline::new(jobs);
//! assert_eq!(p.start(), vec![Effect::Run(JobId(0))]);
//! p.apply(Event::Started(JobId(0)));
//! assert_eq!(p.apply(Event::Finished(JobId(0), JobResult::Success)), vec![Effect::Run(JobId(1))]);
//! assert_eq!(p.state(JobId(1)).status, Status::Pending);
//! ```

mod composite;
mod job;
mod pipeline;
#[cfg(test)]
mod tests;

pub use composite::composite;
pub use job::{AutoCancel, FailureReason, JobDef, JobId, JobResult, JobState, Retry, Status, When};
pub use pipeline::{Effect, Event, Pipeline};
