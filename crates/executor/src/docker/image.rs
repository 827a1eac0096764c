//! Getting a job's or service's image onto the engine as its pull policies say.

use super::Engine;
use super::names::registry_of;
use crate::job::{ImageSpec, PullPolicy, RegistryCredentials};
use crate::log::LogSink;
use bollard::auth::DockerCredentials;
use bollard::models::ImageInspect;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

/// The image on the engine, pulled first when its policies say so. The policies are tried
/// in order: a failed pull goes on to the next one (GitLab's fallback), `never` and
/// `if-not-present` use a local image. An error is the job's `image_pull_failure`.
pub(crate) async fn ensure(
    engine: &Engine,
    image: &ImageSpec,
    credentials: &[RegistryCredentials],
    sink: &mut LogSink,
) -> Result<ImageInspect, String> {
    let config = engine.config();
    let policies = if image.pull_policy.is_empty() {
        config.pull_policy.clone()
    } else {
        image.pull_policy.clone()
    };
    let allowed = if config.allowed_pull_policies.is_empty() {
        &config.pull_policy
    } else {
        &config.allowed_pull_policies
    };
    if let Some(p) = policies.iter().find(|p| !allowed.contains(p)) {
        let names: Vec<&str> = allowed.iter().map(|p| p.as_str()).collect();
        return Err(format!(
            "pull_policy ([{}]) of {} is not one of the allowed_pull_policies ([{}])",
            p.as_str(),
            image.name,
            names.join(", ")
        ));
    }
    let mut last_error = String::new();
    for policy in &policies {
        match policy {
            PullPolicy::Never | PullPolicy::IfNotPresent => {
                if let Ok(found) = engine.docker.inspect_image(&image.name).await {
                    sink.line(&format!(
                        "Using locally found image {} ({}) with pull_policy {}",
                        image.name,
                        found.id.as_deref().unwrap_or("?"),
                        policy.as_str()
                    ));
                    return Ok(found);
                }
                if *policy == PullPolicy::Never {
                    last_error = format!(
                        "the image {} is not on this engine and its pull_policy is never",
                        image.name
                    );
                    continue;
                }
                match pull(engine, image, credentials, sink).await {
                    Ok(found) => return Ok(found),
                    Err(e) => last_error = e,
                }
            }
            PullPolicy::Always => match pull(engine, image, credentials, sink).await {
                Ok(found) => return Ok(found),
                Err(e) => last_error = e,
            },
        }
        sink.line(&format!("WARNING: {last_error}"));
    }
    Err(last_error)
}

async fn pull(
    engine: &Engine,
    image: &ImageSpec,
    credentials: &[RegistryCredentials],
    sink: &mut LogSink,
) -> Result<ImageInspect, String> {
    sink.line(&format!("Pulling docker image {} ...", image.name));
    let mut options = CreateImageOptionsBuilder::new().from_image(&image.name);
    if let Some(platform) = &image.platform {
        options = options.platform(platform);
    }
    // An image without a registry in its name is Docker Hub's.
    let registry = registry_of(&image.name).unwrap_or("docker.io");
    let hub = |r: &str| matches!(r, "docker.io" | "index.docker.io" | "registry-1.docker.io");
    let auth = credentials
        .iter()
        .find(|c| c.registry == registry || (hub(registry) && hub(&c.registry)))
        .map(|c| DockerCredentials {
            username: Some(c.username.clone()),
            password: Some(c.password.clone()),
            serveraddress: Some(c.registry.clone()),
            ..DockerCredentials::default()
        });
    let mut stream = engine.docker.create_image(Some(options.build()), None, auth);
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            return Err(format!("pulling {} failed: {e}", image.name));
        }
    }
    let found = engine
        .docker
        .inspect_image(&image.name)
        .await
        .map_err(|e| format!("pulled {} but the engine does not show it: {e}", image.name))?;
    sink.line(&format!(
        "Using docker image {} for {} with digest {}",
        found.id.as_deref().unwrap_or("?"),
        image.name,
        found
            .repo_digests
            .as_ref()
            .and_then(|d| d.first())
            .map_or("?", String::as_str)
    ));
    Ok(found)
}
