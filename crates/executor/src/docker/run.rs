//! One attempt of a job with the container executor: the image (pulled as its policies
//! say), a network of its own with the services on it when it has any, the scripts in a
//! container of the image with the build directory and the cache mounted, `after_script`
//! in a new container, and everything removed at the end.

use super::names::{Volume, volume};
use super::{Engine, container, image, services};
use crate::job::{ContainerJob, FailureKind, JobOutcome, JobSpec};
use crate::log::{Ended, LogSink, after_script};
use crate::shell::render_main;
use crate::vars::{prepare_env, remove_file_variables, rewrite};
use bollard::models::{ContainerCreateBody, HostConfig, NetworkCreateRequest};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Runs the image's first shell of these with the script (gitlab-runner's shell detection).
const DETECT_SHELL: &str = r#"for s in /usr/local/bin/bash /usr/bin/bash /bin/bash /usr/local/bin/sh /usr/bin/sh /bin/sh /busybox/sh; do if [ -x "$s" ]; then exec "$s" "$@"; fi; done; echo "ERROR: the image has no shell (bash or sh)" >&2; exit 1"#;
/// Where the engine's socket appears in job containers with `docker_socket`.
const SOCKET_IN_JOB: &str = "/var/run/docker.sock";

static NETWORKS: AtomicU64 = AtomicU64::new(0);

/// Runs one attempt of a job in containers: `spec.container` says which image and services.
pub async fn run(
    engine: &Engine,
    spec: &JobSpec,
    log: &UnboundedSender<String>,
    cancel: &CancellationToken,
) -> JobOutcome {
    let mut sink = LogSink::new(log, spec.log_limit);
    let mut made = Made {
        engine: engine.clone(),
        containers: Vec::new(),
        network: None,
    };
    let outcome = match &spec.container {
        Some(job) => attempt(engine, spec, job, &mut made, &mut sink, cancel).await,
        None => system_failure(
            &mut sink,
            "the job has no image for the container executor".into(),
        ),
    };
    made.remove().await;
    remove_file_variables(spec);
    outcome
}

fn system_failure(sink: &mut LogSink, message: String) -> JobOutcome {
    sink.line(&format!("ERROR: Job failed (system failure): {message}"));
    JobOutcome::Failed {
        exit_code: None,
        kind: FailureKind::System,
    }
}

async fn attempt(
    engine: &Engine,
    spec: &JobSpec,
    job: &ContainerJob,
    made: &mut Made,
    sink: &mut LogSink,
    cancel: &CancellationToken,
) -> JobOutcome {
    sink.line(&crate::section::start(
        "prepare_executor",
        "Preparing the \"docker\" executor",
    ));
    sink.line(&format!(
        "Using Docker executor with image {} (engine at {})",
        job.image.name,
        engine.host()
    ));
    let prepared = prepare(engine, spec, job, made, sink).await;
    sink.line(&crate::section::end("prepare_executor"));
    let (body, env) = match prepared {
        Ok(p) => p,
        Err(Failure::ImagePull(e)) => {
            sink.line(&format!(
                "ERROR: Job failed: failed to pull image {}: {e}",
                job.image.name
            ));
            return JobOutcome::Failed {
                exit_code: None,
                kind: FailureKind::ImagePull,
            };
        }
        Err(Failure::System(e)) => return system_failure(sink, e),
    };
    let tmp_in_job = job.tmp_dir();
    let main = spec.tmp_dir.join("script.sh");
    if let Err(e) = rewrite(&main, render_main(&spec.before_script, &spec.script, false)) {
        return system_failure(sink, format!("writing the job script: {e}"));
    }
    sink.line(&crate::section::start(
        "step_script",
        "Executing \"step_script\" stage of the job script",
    ));
    let ended = script_container(
        engine,
        spec,
        job,
        &body,
        &env,
        &format!("{tmp_in_job}/script.sh"),
        made,
    )
    .await;
    let ended = match ended {
        Ok(id) => container::run(engine, &id, spec.timeout, cancel, sink).await,
        Err(e) => Ended::SpawnFailed(e),
    };
    sink.line(&crate::section::end("step_script"));
    let outcome = ended.outcome(spec, "the job's container", sink);
    let after = format!("{tmp_in_job}/after_script.sh");
    after_script(
        spec,
        outcome,
        env,
        false,
        sink,
        async |_, env, cancel, sink| match script_container(engine, spec, job, &body, env, &after, made).await
        {
            Ok(id) => container::run(engine, &id, spec.after_script_timeout, cancel, sink).await,
            Err(e) => Ended::SpawnFailed(e),
        },
    )
    .await;
    outcome
}

enum Failure {
    ImagePull(String),
    System(String),
}

/// The image, the services, and the container body every script container of the job
/// shares (without its command and environment); the job's environment.
async fn prepare(
    engine: &Engine,
    spec: &JobSpec,
    job: &ContainerJob,
    made: &mut Made,
    sink: &mut LogSink,
) -> Result<(ContainerCreateBody, Vec<(String, String)>), Failure> {
    image::ensure(engine, &job.image, &job.credentials, sink)
        .await
        .map_err(Failure::ImagePull)?;
    let tmp_in_job = job.tmp_dir();
    let env = prepare_env(spec, Path::new(&tmp_in_job))
        .map_err(|e| Failure::System(format!("preparing the job's variables: {e}")))?;
    let mut extra_hosts = Vec::new();
    let mut network_mode = None;
    if !job.services.is_empty() {
        let name = format!(
            "gantry-job-{}-{}",
            std::process::id(),
            NETWORKS.fetch_add(1, Ordering::Relaxed)
        );
        let request = NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            labels: Some(engine.labels(&spec.name, "network")),
            ..NetworkCreateRequest::default()
        };
        engine
            .docker
            .create_network(request)
            .await
            .map_err(|e| Failure::System(format!("creating the job's network: {e}")))?;
        made.network = Some(name.clone());
        let mut started = Vec::new();
        for service in &job.services {
            let beside = services::Beside {
                job: &spec.name,
                network: &name,
                env: &env,
                credentials: &job.credentials,
            };
            let s = services::start(engine, &beside, service, &mut made.containers, sink)
                .await
                .map_err(Failure::System)?;
            started.push(s);
        }
        for s in &started {
            services::wait(engine, s, engine.config().wait_for_services, sink).await;
            // Names in /etc/hosts too: the engine's network may have no DNS (Podman with
            // CNI and no dnsname plugin).
            if let Some(ip) = &s.ip {
                for host in s.hostnames.iter().filter(|h| !h.contains(':')) {
                    extra_hosts.push(format!("{host}:{ip}"));
                }
            }
        }
        network_mode = Some(name);
    }
    let mut binds = vec![
        format!("{}:{}", spec.build_dir.display(), job.project_dir),
        format!("{}:{tmp_in_job}", spec.tmp_dir.display()),
    ];
    if let Some(cache) = &job.cache_dir {
        std::fs::create_dir_all(cache)
            .map_err(|e| Failure::System(format!("creating the cache directory {}: {e}", cache.display())))?;
        binds.push(format!("{}:/cache", cache.display()));
    }
    let config = engine.config();
    if config.docker_socket {
        match &engine.socket {
            Some(socket) => binds.push(format!("{}:{SOCKET_IN_JOB}", socket.display())),
            None => sink.line("WARNING: docker_socket is set but the engine is not on a unix socket"),
        }
    }
    let mut volumes = Vec::new();
    for v in &config.volumes {
        match volume(v) {
            Volume::Bind(b) => binds.push(b.to_owned()),
            Volume::Anonymous(path) => volumes.push(path.to_owned()),
        }
    }
    let body = ContainerCreateBody {
        image: Some(job.image.name.clone()),
        entrypoint: job.image.entrypoint.clone(),
        user: job.image.user.clone(),
        working_dir: Some(job.project_dir.clone()),
        labels: Some(engine.labels(&spec.name, "build")),
        volumes: (!volumes.is_empty()).then_some(volumes),
        host_config: Some(HostConfig {
            binds: Some(binds),
            extra_hosts: (!extra_hosts.is_empty()).then_some(extra_hosts),
            network_mode,
            ulimits: engine.ulimits.clone(),
            privileged: Some(config.privileged),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    Ok((body, env))
}

/// A container of the job's image that runs the script at `script` (a path in it).
async fn script_container(
    engine: &Engine,
    spec: &JobSpec,
    job: &ContainerJob,
    body: &ContainerCreateBody,
    env: &[(String, String)],
    script: &str,
    made: &mut Made,
) -> Result<String, String> {
    let mut body = body.clone();
    body.env = Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect());
    body.cmd = Some(
        ["sh", "-c", DETECT_SHELL, "sh", script]
            .map(str::to_owned)
            .to_vec(),
    );
    let id = container::create(engine, body, job.image.platform.as_deref())
        .await
        .map_err(|e| format!("creating the container of {}: {e}", spec.name))?;
    made.containers.push(id.clone());
    Ok(id)
}

/// What a job made on the engine; removed at its end, or when the attempt is dropped
/// half-way (the task was aborted).
struct Made {
    engine: Engine,
    containers: Vec<String>,
    network: Option<String>,
}

impl Made {
    async fn remove(&mut self) {
        for id in std::mem::take(&mut self.containers) {
            container::remove(&self.engine, &id).await;
        }
        if let Some(network) = self.network.take()
            && let Err(e) = self.engine.docker.remove_network(&network).await
        {
            tracing::warn!(network, error = %e, "removing a job network");
        }
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        if self.containers.is_empty() && self.network.is_none() {
            return;
        }
        let mut rest = Made {
            engine: self.engine.clone(),
            containers: std::mem::take(&mut self.containers),
            network: self.network.take(),
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { rest.remove().await });
        }
    }
}
