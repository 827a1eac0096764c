//! gantry-plan: the pipeline compiler.
//!
//! Takes the resolved configuration (from `gantry-config`) and a trigger [`Context`]
//! (ref, source, commit, changed files, pipeline variables) and decides what GitLab would
//! create: `workflow:rules`, job `rules`/`only`/`except`, `parallel` expansion, stage order,
//! the `needs` graph, variables with their precedence, environments and slugs.
//! Pure: no IO, no clock; the repository is asked questions through [`Repository`].

mod compile;
mod context;
mod dag;
mod environment;
mod matching;
pub mod matrix;
mod model;
mod predefined;
pub mod render;
pub mod slug;
mod variables;

pub use compile::{Compiled, compile};
pub use context::{Context, NoRepository, Repository};
pub use dag::MAX_NEEDS;
pub use environment::guess_tier;
pub use model::{Excluded, Plan, PlannedEnvironment, PlannedJob, PlannedNeed};
pub use predefined::pipeline_variables;
pub use variables::{Var, VarSet};
