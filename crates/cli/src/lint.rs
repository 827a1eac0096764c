//! `gantry lint`: compile the configuration for a context and report.

use crate::cli::LintArgs;
use crate::output;
use anyhow::Context as _;
use std::io::Write;
use std::process::ExitCode;

pub(crate) fn run(args: &LintArgs) -> anyhow::Result<ExitCode> {
    let project = crate::project::compile(args.file.as_deref(), &args.context)?;
    let compiled = &project.compiled;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &output::json(compiled)).context("writing JSON")?;
        writeln!(stdout)?;
    } else {
        write!(stdout, "{}", output::text(compiled))?;
        if let Some(job) = &args.explain {
            writeln!(stdout, "{}", explain(compiled, job))?;
        }
    }
    Ok(if compiled.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn explain(compiled: &gantry_plan::Compiled, name: &str) -> String {
    let Some(plan) = &compiled.plan else {
        return format!("{name}: the configuration could not be read");
    };
    if let Some(j) = plan.job(name) {
        return format!(
            "{name}: created in stage `{}` with `when: {}`",
            j.stage,
            j.when.as_str()
        );
    }
    if let Some(e) = plan.excluded.iter().find(|e| e.name == name) {
        return format!("{name}: not created: {}", e.reason);
    }
    if !plan.created {
        return format!("{name}: no pipeline is created for this context");
    }
    format!("{name}: no such job in the configuration")
}
