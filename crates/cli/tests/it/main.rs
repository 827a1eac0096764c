//! Integration tests for the gantry binary, built into one test binary.

mod differential;
mod differential_run;
mod peer;
mod run;
mod server;
mod up;
