//! `gantry runner`: a runner that takes jobs from a server over the GitLab runner protocol
//! (`gitlab-runner-protocol.md`; gantry's server speaks it, and so does GitLab as far as the
//! protocol goes) and runs them with the shell or docker executor `gantry run` uses.
//!
//! [`config`] is its TOML file; [`client`] the HTTP calls; [`job`] one job end to end (git
//! with the job token, dependencies, caches, the scripts, the log streamed, artifacts and
//! reports uploaded); `container` the docker executor's image and services from the
//! payload; [`run`] the polling slots, draining and stopping.

pub mod client;
pub mod config;
mod container;
pub mod job;
pub mod protocol;
pub mod run;
