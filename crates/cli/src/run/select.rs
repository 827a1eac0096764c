//! Which jobs of the plan a run includes (`gantry run JOB... [--needs] [--stage S]`).

use anyhow::bail;
use gantry_config::model::When as ConfigWhen;
use gantry_engine::JobId;
use gantry_plan::{Plan, PlannedJob};
use std::collections::BTreeSet;

pub(crate) struct Selection<'p> {
    pub(crate) jobs: Vec<&'p PlannedJob>,
    /// Manual jobs named on the command line: they are played.
    pub(crate) play: Vec<JobId>,
}

pub(crate) fn select<'p>(
    plan: &'p Plan,
    names: &[String],
    stage: Option<&str>,
    with_needs: bool,
) -> anyhow::Result<Selection<'p>> {
    let mut chosen: BTreeSet<usize> = BTreeSet::new();
    for name in names {
        let matching: Vec<usize> = plan
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| &j.name == name || &j.config_name == name)
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            let why = plan
                .excluded
                .iter()
                .find(|e| &e.name == name)
                .map(|e| format!(": not created ({})", e.reason));
            bail!("no job `{name}` in this pipeline{}", why.unwrap_or_default());
        }
        chosen.extend(matching);
    }
    if let Some(stage) = stage {
        let before = chosen.len();
        chosen.extend(
            plan.jobs
                .iter()
                .enumerate()
                .filter(|(_, j)| j.stage == stage)
                .map(|(i, _)| i),
        );
        if chosen.len() == before && names.is_empty() {
            bail!("no job in stage `{stage}`");
        }
    }
    let named: Vec<usize> = chosen.iter().copied().collect();
    if chosen.is_empty() {
        chosen.extend(0..plan.jobs.len());
    } else if with_needs {
        let mut stack: Vec<usize> = chosen.iter().copied().collect();
        while let Some(i) = stack.pop() {
            for dep in prerequisites(plan, i) {
                if chosen.insert(dep) {
                    stack.push(dep);
                }
            }
        }
    }
    let jobs: Vec<&PlannedJob> = chosen.iter().map(|&i| &plan.jobs[i]).collect();
    let play = named
        .iter()
        .filter(|&&i| plan.jobs[i].when == ConfigWhen::Manual)
        .filter_map(|&i| {
            jobs.iter()
                .position(|j| std::ptr::eq(*j, &plan.jobs[i]))
                .map(JobId)
        })
        .collect();
    Ok(Selection { jobs, play })
}

/// What a job waits for: its needs, or every job of an earlier stage.
fn prerequisites(plan: &Plan, i: usize) -> Vec<usize> {
    let job = &plan.jobs[i];
    match &job.needs {
        Some(needs) => needs
            .iter()
            .filter_map(|n| plan.jobs.iter().position(|j| j.name == n.job))
            .collect(),
        None => plan
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| j.stage_index < job.stage_index)
            .map(|(k, _)| k)
            .collect(),
    }
}
