//! Integration tests for the gantry binary, built into one test binary.

mod differential;
mod run;
