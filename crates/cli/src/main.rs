//! The `gantry` binary: parses the command line and hands over to a command.

mod cli;
mod deploy;
mod git;
mod lint;
mod local;
mod output;
mod project;
mod run;
mod runner;
mod server;
mod up;

use clap::Parser;

#[global_allocator]
static GLOBAL: gantry_alloc::Chosen = gantry_alloc::Chosen;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if matches!(args.command, cli::Command::Server(_) | cli::Command::Up(_)) {
        // The server gives memory back with the system allocator (see gantry-alloc).
        gantry_alloc::use_system();
    }
    let result = match args.command {
        cli::Command::Lint(lint) => lint::run(&lint),
        cli::Command::Run(run) => run::run(&run),
        cli::Command::Server(server) => server::run(&server),
        cli::Command::Up(up) => up::run(&up),
        cli::Command::Runner(runner) => runner::run(&runner),
        cli::Command::Deploy(deploy) => deploy::run(&deploy),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gantry: {err:#}");
            ExitCode::from(2)
        }
    }
}
