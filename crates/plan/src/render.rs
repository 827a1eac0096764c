//! A stable text rendering of a compile result, for snapshots and `gantry lint`'s text output.

use crate::compile::Compiled;
use crate::model::PlannedJob;
use std::fmt::Write;

/// Renders diagnostics, stages, jobs (with needs and key variables) and excluded jobs.
pub fn render(compiled: &Compiled) -> String {
    let mut out = String::new();
    for d in &compiled.diagnostics {
        let _ = writeln!(out, "{}", d.display(&compiled.files));
    }
    let Some(plan) = &compiled.plan else { return out };
    if !plan.created {
        out.push_str("pipeline: not created\n");
        return out;
    }
    out.push_str("pipeline: created\n");
    if let Some(name) = &plan.name {
        let _ = writeln!(out, "name: {name}");
    }
    if plan.auto_cancel_on_new_commit != "conservative" {
        let _ = writeln!(
            out,
            "auto_cancel on_new_commit: {}",
            plan.auto_cancel_on_new_commit
        );
    }
    let _ = writeln!(out, "stages: {}", plan.used_stages().join(", "));
    for job in &plan.jobs {
        render_job(&mut out, job);
    }
    for ex in &plan.excluded {
        let _ = writeln!(out, "not created: {} ({})", ex.name, ex.reason);
    }
    out
}

fn render_job(out: &mut String, job: &PlannedJob) {
    let _ = write!(
        out,
        "job {:?}: stage={} when={}",
        job.name,
        job.stage,
        job.when.as_str()
    );
    if job.interruptible {
        out.push_str(" interruptible");
    }
    if job.allow_failure {
        out.push_str(" allow_failure");
    }
    if !job.allow_failure_exit_codes.is_empty() {
        let _ = write!(
            out,
            " allow_failure_exit_codes={:?}",
            job.allow_failure_exit_codes
        );
    }
    if let Some(s) = job.start_in {
        let _ = write!(out, " start_in={s}s");
    }
    if let Some(needs) = &job.needs {
        let names: Vec<String> = needs
            .iter()
            .map(|n| {
                if n.artifacts {
                    n.job.clone()
                } else {
                    format!("{} (no artifacts)", n.job)
                }
            })
            .collect();
        let _ = write!(out, " needs=[{}]", names.join(", "));
    }
    if let Some(deps) = &job.dependencies {
        let _ = write!(out, " dependencies=[{}]", deps.join(", "));
    }
    if let Some(group) = &job.resource_group {
        let _ = write!(out, " resource_group={group}");
    }
    out.push('\n');
    if let Some(env) = &job.environment {
        let _ = writeln!(
            out,
            "  environment: name={} slug={} action={} tier={}{}{}",
            env.name,
            env.slug,
            env.action,
            env.tier,
            env.url.as_ref().map(|u| format!(" url={u}")).unwrap_or_default(),
            env.kubernetes_namespace
                .as_ref()
                .map(|n| format!(
                    " KUBE_NAMESPACE={}",
                    values_of_job(job, "KUBE_NAMESPACE").unwrap_or(n.clone())
                ))
                .unwrap_or_default()
        );
    }
    let values = job.variables.expanded();
    for (name, var) in job.config.variables.iter().map(|v| (&v.name, v)) {
        let _ = writeln!(
            out,
            "  var {name}={}",
            values.get(name).map_or(var.value.as_str(), String::as_str)
        );
    }
    for (name, value) in &job.matrix {
        let _ = writeln!(out, "  matrix {name}={value}");
    }
}

/// A job variable's expanded value.
fn values_of_job(job: &crate::model::PlannedJob, name: &str) -> Option<String> {
    job.variables.expanded_only([name]).get(name).cloned()
}
