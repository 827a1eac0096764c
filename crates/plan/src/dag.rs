//! Linking `needs:` and `dependencies:` between planned jobs, and checking the graph:
//! unknown jobs, jobs not in the pipeline, later stages, cycles, limits.

use crate::matrix::{combinations, instances, matrix_name};
use crate::model::{Plan, PlannedNeed};
use gantry_config::model::Job;
use gantry_config::{Diagnostic, Span};
use indexmap::IndexMap;
use std::collections::HashMap;

/// The most `needs` one job may have (GitLab's default).
pub const MAX_NEEDS: usize = 50;

/// Resolves every created job's `needs` and `dependencies` to job names of the plan.
pub(crate) fn link_needs(plan: &mut Plan, config: &IndexMap<&str, &Job>, diags: &mut Vec<Diagnostic>) {
    let created: HashMap<String, usize> = plan
        .jobs
        .iter()
        .map(|j| (j.name.clone(), j.stage_index))
        .collect();
    for job in &mut plan.jobs {
        let span = job.config.span;
        if let Some(needs) = &job.config.needs {
            let mut linked = Vec::new();
            let mut written = Vec::new();
            for need in needs.iter().filter(|n| n.is_local()) {
                let name = substitute_matrix(&need.job, &job.matrix);
                if written.contains(&(name.clone(), need.matrix.clone())) {
                    diags.push(Diagnostic::error(
                        "needs-duplicate",
                        Some(need.span),
                        format!("{}.needs", job.config_name),
                        format!("job `{}` lists the need `{name}` more than once", job.name),
                    ));
                    continue;
                }
                written.push((name.clone(), need.matrix.clone()));
                let targets = match &need.matrix {
                    Some(rows) => rows
                        .iter()
                        .flat_map(combinations)
                        .map(|c| {
                            let values: Vec<(String, String)> = c
                                .into_iter()
                                .map(|(k, v)| (k, substitute_matrix(&v, &job.matrix)))
                                .collect();
                            matrix_name(&name, &values)
                        })
                        .collect(),
                    None => expand_instances(&name, config),
                };
                for target in targets {
                    match created.get(&target) {
                        Some(&stage) if stage > job.stage_index => diags.push(Diagnostic::error(
                            "needs-later-stage",
                            Some(need.span),
                            format!("{}.needs", job.config_name),
                            format!("job `{}` needs `{target}`, which is in a later stage", job.name),
                        )),
                        Some(_) => linked.push(PlannedNeed {
                            job: target,
                            artifacts: need.artifacts,
                        }),
                        None if need.optional => {}
                        None => diags.push(missing(
                            &job.name,
                            &job.config_name,
                            &target,
                            config,
                            need.span,
                            "needs",
                        )),
                    }
                }
            }
            if linked.len() > MAX_NEEDS {
                diags.push(Diagnostic::error(
                    "needs-limit",
                    Some(span),
                    format!("{}.needs", job.config_name),
                    format!(
                        "job `{}` has {} needs; at most {MAX_NEEDS} are allowed",
                        job.name,
                        linked.len()
                    ),
                ));
            }
            job.needs = Some(linked);
        }
        if let Some(deps) = &job.config.dependencies {
            let mut linked = Vec::new();
            let needed: Option<Vec<&str>> = job
                .config
                .needs
                .as_ref()
                .map(|n| n.iter().map(|n| n.job.as_str()).collect());
            for dep in deps {
                if let Some(needed) = &needed
                    && !needed.contains(&dep.as_str())
                {
                    diags.push(Diagnostic::error(
                        "dependencies-not-in-needs",
                        Some(span),
                        format!("{}.dependencies", job.config_name),
                        format!(
                            "job `{}` has `{dep}` in `dependencies` but not in `needs`",
                            job.name
                        ),
                    ));
                    continue;
                }
                for target in expand_instances(dep, config) {
                    match created.get(&target) {
                        Some(&stage) if stage > job.stage_index => diags.push(Diagnostic::error(
                            "dependency-later-stage",
                            Some(span),
                            format!("{}.dependencies", job.config_name),
                            format!(
                                "job `{}` depends on `{target}`, which is not in a prior stage",
                                job.name
                            ),
                        )),
                        Some(_) => linked.push(target),
                        None => diags.push(missing(
                            &job.name,
                            &job.config_name,
                            &target,
                            config,
                            span,
                            "dependencies",
                        )),
                    }
                }
            }
            job.dependencies = Some(linked);
        }
    }
    check_cycles(plan, diags);
    check_on_stop(plan, config, diags);
}

/// `environment:on_stop` must name a job of the configuration.
fn check_on_stop(plan: &Plan, config: &IndexMap<&str, &Job>, diags: &mut Vec<Diagnostic>) {
    for job in &plan.jobs {
        let Some(env) = &job.environment else { continue };
        let Some(stop) = &env.on_stop else { continue };
        if !config.contains_key(stop.as_str()) {
            diags.push(Diagnostic::error(
                "on-stop-unknown",
                Some(job.config.span),
                format!("{}.environment.on_stop", job.config_name),
                format!(
                    "`{}` stops its environment with `{stop}`, which is not defined",
                    job.name
                ),
            ));
        }
    }
}

fn missing(
    job: &str,
    config_name: &str,
    target: &str,
    config: &IndexMap<&str, &Job>,
    span: Span,
    key: &str,
) -> Diagnostic {
    let base = target.split([':', ' ']).next().unwrap_or(target);
    let defined = config.contains_key(target) || config.contains_key(base);
    let verb = if key == "needs" { "needs" } else { "depends on" };
    let (code, what) = if defined {
        (
            "needs-not-created",
            "which is not in the pipeline for this context",
        )
    } else {
        ("needs-unknown", "which is not defined")
    };
    let d = Diagnostic::error(
        code,
        Some(span),
        format!("{config_name}.{key}"),
        format!("job `{job}` {verb} `{target}`, {what}"),
    );
    if key == "needs" {
        d.with_help("mark the need `optional: true` if the job may be absent")
    } else {
        Diagnostic {
            code: if defined {
                "dependency-not-created"
            } else {
                "dependency-unknown"
            },
            ..d
        }
    }
}

/// A job name that refers to a parallel job means all of its instances.
fn expand_instances(name: &str, config: &IndexMap<&str, &Job>) -> Vec<String> {
    match config.get(name) {
        Some(job) if job.parallel.is_some() => instances(job).into_iter().map(|i| i.name).collect(),
        _ => vec![name.to_owned()],
    }
}

/// `$[[ matrix.NAME ]]` in a need's job name takes the value of this job's matrix variable.
fn substitute_matrix(name: &str, matrix: &[(String, String)]) -> String {
    if !name.contains("$[[") {
        return name.to_owned();
    }
    let mut out = name.to_owned();
    for (k, v) in matrix {
        for pattern in [format!("$[[ matrix.{k} ]]"), format!("$[[matrix.{k}]]")] {
            out = out.replace(&pattern, v);
        }
    }
    out
}

fn check_cycles(plan: &Plan, diags: &mut Vec<Diagnostic>) {
    let index: HashMap<&str, usize> = plan
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.name.as_str(), i))
        .collect();
    let mut state = vec![0u8; plan.jobs.len()];
    for start in 0..plan.jobs.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some((node, edge)) = stack.pop() {
            let needs = plan.jobs[node].needs.as_deref().unwrap_or_default();
            if let Some(need) = needs.get(edge) {
                stack.push((node, edge + 1));
                let Some(&next) = index.get(need.job.as_str()) else {
                    continue;
                };
                match state[next] {
                    0 => {
                        state[next] = 1;
                        stack.push((next, 0));
                    }
                    1 => {
                        let job = &plan.jobs[node];
                        diags.push(Diagnostic::error(
                            "needs-cycle",
                            Some(job.config.span),
                            format!("{}.needs", job.config_name),
                            format!("`needs` form a cycle through `{}` and `{}`", job.name, need.job),
                        ));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
            }
        }
    }
}
