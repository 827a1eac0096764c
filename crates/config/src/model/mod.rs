//! The typed configuration: what `.gitlab-ci.yml` says once includes, `extends`,
//! `!reference` and `default:` are resolved. Values are checked; job names, stages and
//! `needs` are not cross-checked here (that is the planner's job).

mod artifacts;
mod environment;
mod image;
mod job;
mod keywords;
mod need;
mod rule;
mod variable;
mod workflow;

pub use artifacts::{Artifacts, ArtifactsWhen, Cache, CacheKey, CachePolicy, CacheWhen};
pub use environment::Environment;
pub use image::{Image, Service};
pub(crate) use job::read_job;
pub use job::{AllowFailure, Job, Parallel, Retry, Trigger};
pub use keywords::{DEFAULT_KEYWORDS, GLOBAL_KEYWORDS, JOB_KEYWORDS};
pub use need::{Need, NeedMatrix};
pub(crate) use rule::read_include_rules;
pub use rule::{Changes, Condition, Exists, OnlyExcept, Rule, When};
pub use variable::Variable;
pub(crate) use workflow::read_config;
pub use workflow::{Config, DEFAULT_STAGES, Workflow};
