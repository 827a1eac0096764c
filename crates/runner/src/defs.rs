//! From the plan to the engine: the engine's definition of each planned job.

use gantry_config::model::When as ConfigWhen;
use gantry_engine::{JobDef, JobId, Retry, When};
use gantry_plan::PlannedJob;

/// The engine's job definitions; needs on jobs left out of the run are dropped.
pub fn engine_defs(jobs: &[&PlannedJob]) -> Vec<JobDef> {
    jobs.iter()
        .map(|j| JobDef {
            name: j.name.clone(),
            stage_index: j.stage_index,
            when: match j.when {
                ConfigWhen::OnFailure => When::OnFailure,
                ConfigWhen::Always => When::Always,
                ConfigWhen::Manual => When::Manual,
                ConfigWhen::Delayed => When::Delayed,
                ConfigWhen::OnSuccess | ConfigWhen::Never => When::OnSuccess,
            },
            allow_failure: j.allow_failure,
            allow_failure_exit_codes: j.allow_failure_exit_codes.clone(),
            needs: j.needs.as_ref().map(|needs| {
                needs
                    .iter()
                    .filter_map(|n| jobs.iter().position(|x| x.name == n.job).map(JobId))
                    .collect()
            }),
            retry: Retry {
                max: j.config.retry.max,
                when: j.config.retry.when.clone(),
                exit_codes: j.config.retry.exit_codes.clone(),
            },
            start_in: j.start_in,
            resource_group: j.resource_group.clone(),
            interruptible: j.interruptible,
        })
        .collect()
}
