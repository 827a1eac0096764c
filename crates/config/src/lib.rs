//! gantry-config: reads `.gitlab-ci.yml` into a resolved, typed configuration.
//!
//! Data flow: text → [`yaml`] tree with positions → `include:` merged (with `spec:inputs`)
//! → `extends` → `!reference` → `default:` → typed [`model::Config`] with [`Diagnostic`]s.
//! The crate is pure: files arrive through the [`FileSource`] trait, and the pipeline's
//! variables (for `include:rules`) through [`IncludeEnv`].
//!
//! ```
//! use gantry_config::{IncludeEnv, MemorySource, model::Rule, resolve};
//! struct NoVars;
//! impl IncludeEnv for NoVars {
//!     fn variable(&self, _: &str) -> Option<&str> { None }
//!     fn rules_allow(&self, _: &[Rule]) -> bool { true }
//! }
//! let source = MemorySource::new().with(".gitlab-ci.yml", "build:\n  script: make\n");
//! let resolved = resolve(".gitlab-ci.yml", &source, &NoVars);
//! assert_eq!(resolved.config.unwrap().jobs[0].name, "build");
//! ```

mod defaults;
pub mod diagnostic;
pub mod duration;
mod extends;
mod include;
mod inputs;
mod merge;
pub mod model;
mod reference;
mod resolve;
pub mod source;
pub mod span;
mod typing;
pub mod vars;
pub mod yaml;

pub use diagnostic::{Diagnostic, INCLUDE_UNAVAILABLE, Severity};
pub use extends::MAX_EXTENDS_DEPTH;
pub use include::{IncludeEnv, MAX_INCLUDES};
pub use reference::MAX_REFERENCE_DEPTH;
pub use resolve::{Resolved, resolve, resolve_text};
pub use source::{FileSource, MemorySource, SourceError};
pub use span::{FileId, Files, Span};
