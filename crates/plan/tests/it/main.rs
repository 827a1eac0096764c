//! Integration tests of the pipeline compiler, built into one test binary.

mod cases;
mod corpus;
mod support;
