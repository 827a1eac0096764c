//! Developer tasks for the gantry workspace; `cargo test -p xtask` runs the tidy checks.
fn main() {}
