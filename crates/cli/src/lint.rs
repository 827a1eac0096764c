//! `gantry lint`: compile the configuration for a context and report.

use crate::cli::LintArgs;
use crate::git::LocalRepo;
use crate::local::LocalSource;
use crate::output;
use anyhow::Context as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

pub(crate) fn run(args: &LintArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let file = args
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(".gitlab-ci.yml"));
    let file = if file.is_absolute() { file } else { cwd.join(file) };
    let mut repo = LocalRepo::discover(&cwd);
    if !file.starts_with(repo.root()) {
        repo = LocalRepo::discover(file.parent().unwrap_or(&cwd));
    }
    let ctx = repo.context(&args.context)?;
    let root = file
        .strip_prefix(repo.root())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| file.to_string_lossy().into_owned());
    let source = LocalSource::new(repo.root().to_path_buf(), ctx.project_files.clone());
    let compiled = gantry_plan::compile(&root, &source, &ctx, &repo);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &output::json(&compiled)).context("writing JSON")?;
        writeln!(stdout)?;
    } else {
        write!(stdout, "{}", output::text(&compiled))?;
        if let Some(job) = &args.explain {
            writeln!(stdout, "{}", explain(&compiled, job))?;
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
