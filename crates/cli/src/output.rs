//! `gantry lint` output: the documented JSON schema (docs/lint-json.md) and the text form.

use gantry_config::Diagnostic;
use gantry_plan::{Compiled, PlannedJob};
use serde::Serialize;

#[derive(Serialize)]
pub(crate) struct LintJson<'a> {
    schema_version: u32,
    diagnostics: Vec<DiagnosticJson<'a>>,
    pipeline: PipelineJson,
    stages: Vec<&'a str>,
    jobs: Vec<JobJson<'a>>,
    not_created: Vec<ExcludedJson<'a>>,
}

#[derive(Serialize)]
struct DiagnosticJson<'a> {
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    column: Option<u32>,
    path: &'a str,
    help: Option<&'a str>,
    caused_by: Option<&'static str>,
}

#[derive(Serialize)]
struct PipelineJson {
    created: bool,
    name: Option<String>,
}

#[derive(Serialize)]
struct JobJson<'a> {
    name: &'a str,
    stage: &'a str,
    when: &'static str,
    allow_failure: bool,
    allow_failure_exit_codes: &'a [i64],
    start_in: Option<u64>,
    needs: Option<Vec<&'a str>>,
    dependencies: Option<&'a [String]>,
    environment: Option<EnvironmentJson<'a>>,
    resource_group: Option<&'a str>,
    interruptible: bool,
}

#[derive(Serialize)]
struct EnvironmentJson<'a> {
    name: &'a str,
    slug: &'a str,
    url: Option<&'a str>,
    action: &'a str,
    tier: &'a str,
}

#[derive(Serialize)]
struct ExcludedJson<'a> {
    name: &'a str,
    reason: &'a str,
}

pub(crate) fn json(compiled: &Compiled) -> LintJson<'_> {
    let diagnostics = compiled
        .diagnostics
        .iter()
        .map(|d| diagnostic(compiled, d))
        .collect();
    let Some(plan) = &compiled.plan else {
        return LintJson {
            schema_version: 1,
            diagnostics,
            pipeline: PipelineJson {
                created: false,
                name: None,
            },
            stages: Vec::new(),
            jobs: Vec::new(),
            not_created: Vec::new(),
        };
    };
    LintJson {
        schema_version: 1,
        diagnostics,
        pipeline: PipelineJson {
            created: plan.created,
            name: plan.name.clone(),
        },
        stages: plan.used_stages(),
        jobs: plan.jobs.iter().map(job).collect(),
        not_created: plan
            .excluded
            .iter()
            .map(|e| ExcludedJson {
                name: &e.name,
                reason: &e.reason,
            })
            .collect(),
    }
}

fn diagnostic<'a>(compiled: &'a Compiled, d: &'a Diagnostic) -> DiagnosticJson<'a> {
    DiagnosticJson {
        severity: d.severity.as_str(),
        code: d.code,
        message: &d.message,
        file: d.span.map(|s| compiled.files.name(s.file)),
        line: d.span.map(|s| s.line),
        column: d.span.map(|s| s.col),
        path: &d.path,
        help: d.help.as_deref().filter(|h| !h.is_empty()),
        caused_by: d.caused_by,
    }
}

fn job(j: &PlannedJob) -> JobJson<'_> {
    JobJson {
        name: &j.name,
        stage: &j.stage,
        when: j.when.as_str(),
        allow_failure: j.allow_failure,
        allow_failure_exit_codes: &j.allow_failure_exit_codes,
        start_in: j.start_in,
        needs: j
            .needs
            .as_ref()
            .map(|n| n.iter().map(|n| n.job.as_str()).collect()),
        dependencies: j.dependencies.as_deref(),
        environment: j.environment.as_ref().map(|e| EnvironmentJson {
            name: &e.name,
            slug: &e.slug,
            url: e.url.as_deref(),
            action: &e.action,
            tier: &e.tier,
        }),
        resource_group: j.resource_group.as_deref(),
        interruptible: j.interruptible,
    }
}

/// The human-readable form: diagnostics, then the stages and a job table.
pub(crate) fn text(compiled: &Compiled) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for d in &compiled.diagnostics {
        let _ = writeln!(out, "{}", d.display(&compiled.files));
    }
    let Some(plan) = &compiled.plan else { return out };
    if compiled.has_errors() {
        let n = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
        let _ = writeln!(out, "\n{n} error(s): the configuration is invalid");
        return out;
    }
    if !plan.created {
        out.push_str("no pipeline is created for this context\n");
        return out;
    }
    if let Some(name) = &plan.name {
        let _ = writeln!(out, "pipeline: {name}");
    }
    let _ = writeln!(out, "stages: {}", plan.used_stages().join(" → "));
    let width = plan
        .jobs
        .iter()
        .map(|j| j.name.chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    let _ = writeln!(
        out,
        "{:<width$}  {:<12} {:<10} {:<13} needs",
        "job", "stage", "when", "allow_failure"
    );
    for j in &plan.jobs {
        let needs = match &j.needs {
            None => "(stage order)".to_owned(),
            Some(n) if n.is_empty() => "[] (starts at once)".to_owned(),
            Some(n) => n.iter().map(|n| n.job.as_str()).collect::<Vec<_>>().join(", "),
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<12} {:<10} {:<13} {needs}",
            j.name,
            j.stage,
            j.when.as_str(),
            j.allow_failure
        );
    }
    let _ = writeln!(
        out,
        "{} job(s), {} not created",
        plan.jobs.len(),
        plan.excluded.len()
    );
    out
}
