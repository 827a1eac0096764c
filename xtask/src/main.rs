//! Developer tasks for the gantry workspace: `cargo run -p xtask -- tidy` runs the tidy checks
//! that `cargo test -p xtask` also runs, and prints every problem they find.

use std::process::ExitCode;

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("tidy") => {
            let workspace = xtask::tidy::Workspace::at(xtask::workspace_root());
            let failures = xtask::tidy::run_all(&workspace);
            for failure in &failures {
                eprintln!("{failure}\n");
            }
            if failures.is_empty() {
                eprintln!("tidy: all checks pass");
                ExitCode::SUCCESS
            } else {
                eprintln!("tidy: {} check(s) failed", failures.len());
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- tidy");
            ExitCode::from(2)
        }
    }
}
