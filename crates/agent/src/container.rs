//! The docker executor's side of a job from a server: its `image` and `services` from the
//! payload, names expanded with the job's variables (the server sends them as written).

use crate::protocol::{ImagePayload, JobPayload};
use gantry_executor::docker::Engine;
use gantry_executor::docker::names::split_aliases;
use gantry_executor::job::{ContainerJob, ImageSpec, ServiceSpec};
use gantry_runner::container::{container_job as runner_container_job, expanded_image, registry_credentials};
use gantry_runner::expand_with;
use indexmap::IndexMap;
use std::path::PathBuf;

/// The container side of `job`, whose project is `project` under the builds dir; an error
/// when neither the job nor the runner names an image.
pub(crate) fn container_job(
    engine: &Engine,
    job: &JobPayload,
    project: &str,
    cache_dir: PathBuf,
) -> Result<ContainerJob, String> {
    let values: IndexMap<String, String> = job
        .variables
        .iter()
        .map(|v| (v.key.clone(), v.value.clone()))
        .collect();
    let default = engine.config().default_image.as_ref().map(|name| ImagePayload {
        name: name.clone(),
        ..ImagePayload::default()
    });
    let Some(image) = job
        .image
        .as_ref()
        .filter(|i| !i.name.is_empty())
        .or(default.as_ref())
    else {
        return Err("the job names no `image:` and the runner's [runners.docker] has no `image`".into());
    };
    let services = job
        .services
        .iter()
        .filter(|s| !s.name.is_empty())
        .map(|s| ServiceSpec {
            image: image_spec(s, &values),
            aliases: split_aliases(&expand_with(&s.alias, &values)),
            command: (!s.command.is_empty()).then(|| s.command.clone()),
            variables: s
                .variables
                .iter()
                .map(|v| (v.key.clone(), expand_with(&v.value, &values)))
                .collect(),
        })
        .collect();
    Ok(runner_container_job(
        image_spec(image, &values),
        services,
        project,
        Some(cache_dir),
        registry_credentials(&values),
    ))
}

fn image_spec(image: &ImagePayload, values: &IndexMap<String, String>) -> ImageSpec {
    let docker = &image.executor_opts.docker;
    let written = ImageSpec {
        name: image.name.clone(),
        entrypoint: image.entrypoint.clone(),
        pull_policy: Vec::new(),
        user: docker.user.clone(),
        platform: docker.platform.clone(),
    };
    expanded_image(written, &image.pull_policy, values)
}
