//! `services:`: containers beside the job on its own network, reachable by their host
//! names, waited for until they listen on the ports their images expose.

use super::names::service_hostnames;
use super::{Engine, container, image};
use crate::job::{RegistryCredentials, ServiceSpec};
use crate::log::LogSink;
use bollard::models::{ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig};
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A service that was started.
pub(crate) struct Started {
    /// Its container.
    pub(crate) id: String,
    /// Its image (for messages).
    pub(crate) image: String,
    /// The names it answers to.
    pub(crate) hostnames: Vec<String>,
    /// Its address on the job's network.
    pub(crate) ip: Option<String>,
    /// The TCP ports its image exposes.
    ports: Vec<u16>,
}

/// What the services of a job share.
pub(crate) struct Beside<'a> {
    /// The job's name (a label).
    pub(crate) job: &'a str,
    /// The job's network.
    pub(crate) network: &'a str,
    /// The job's variables.
    pub(crate) env: &'a [(String, String)],
    /// Registry credentials for pulling.
    pub(crate) credentials: &'a [RegistryCredentials],
}

/// Starts `service` on the job's network with the job's variables and its own; the
/// container is in `made` as soon as it exists, so that it is removed whatever happens next.
pub(crate) async fn start(
    engine: &Engine,
    beside: &Beside<'_>,
    service: &ServiceSpec,
    made: &mut Vec<String>,
    sink: &mut LogSink,
) -> Result<Started, String> {
    let hostnames = service_hostnames(&service.image.name, &service.aliases);
    sink.line(&format!(
        "Starting service {} as {} ...",
        service.image.name,
        hostnames.join(", ")
    ));
    let Beside {
        job,
        network,
        env,
        credentials,
    } = *beside;
    let inspect = image::ensure(engine, &service.image, credentials, sink).await?;
    let ports = inspect
        .config
        .and_then(|c| c.exposed_ports)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.strip_suffix("/tcp").unwrap_or(p).parse().ok())
        .collect();
    let mut vars: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    vars.extend(service.variables.iter().map(|(k, v)| format!("{k}={v}")));
    let body = ContainerCreateBody {
        image: Some(service.image.name.clone()),
        entrypoint: service.image.entrypoint.clone(),
        cmd: service.command.clone(),
        env: Some(vars),
        user: service.image.user.clone(),
        labels: Some(engine.labels(job, "service")),
        host_config: Some(HostConfig {
            network_mode: Some(network.to_owned()),
            ulimits: engine.ulimits.clone(),
            privileged: Some(engine.config().privileged),
            ..HostConfig::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network.to_owned(),
                EndpointSettings {
                    aliases: Some(hostnames.clone()),
                    ..EndpointSettings::default()
                },
            )])),
        }),
        ..ContainerCreateBody::default()
    };
    let id = container::create(engine, body, service.image.platform.as_deref())
        .await
        .map_err(|e| format!("creating the service {}: {e}", service.image.name))?;
    made.push(id.clone());
    engine
        .docker
        .start_container(&id, None)
        .await
        .map_err(|e| format!("starting the service {}: {e}", service.image.name))?;
    let ip = engine
        .docker
        .inspect_container(&id, None)
        .await
        .ok()
        .and_then(|c| c.network_settings)
        .and_then(|n| n.networks)
        .and_then(|mut n| n.remove(network))
        .and_then(|e| e.ip_address)
        .filter(|ip| !ip.is_empty());
    Ok(Started {
        id,
        image: service.image.name.clone(),
        hostnames,
        ip,
        ports,
    })
}

/// Waits until every port the service's image exposes accepts connections, as
/// gitlab-runner's health check does; past `timeout` (or when it stopped) a warning with
/// the service's log, and the job goes on.
pub(crate) async fn wait(engine: &Engine, service: &Started, timeout: Duration, sink: &mut LogSink) {
    let Some(ip) = &service.ip else { return };
    if service.ports.is_empty() {
        return;
    }
    let deadline = Instant::now() + timeout;
    let mut pending = service.ports.clone();
    while !pending.is_empty() && Instant::now() < deadline {
        let mut still = Vec::new();
        for port in pending {
            let addr = format!("{ip}:{port}");
            let connect = tokio::net::TcpStream::connect(&addr);
            if !matches!(
                tokio::time::timeout(Duration::from_secs(1), connect).await,
                Ok(Ok(_))
            ) {
                still.push(port);
            }
        }
        pending = still;
        if !pending.is_empty() {
            let running = engine
                .docker
                .inspect_container(&service.id, None)
                .await
                .ok()
                .and_then(|c| c.state)
                .and_then(|s| s.running)
                .unwrap_or(false);
            if !running {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    if pending.is_empty() {
        return;
    }
    let ports: Vec<String> = pending.iter().map(u16::to_string).collect();
    sink.line("*********");
    sink.line(&format!(
        "WARNING: Service {} probably didn't start properly: nothing listens on port {} of {} after {} s.",
        service.image,
        ports.join(", "),
        service.hostnames.join("/"),
        timeout.as_secs()
    ));
    let options = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .tail("50")
        .build();
    let mut logs = engine.docker.logs(&service.id, Some(options));
    while let Some(Ok(chunk)) = logs.next().await {
        for line in String::from_utf8_lossy(&chunk.into_bytes()).lines() {
            sink.line(&format!("  {line}"));
        }
    }
    sink.line("*********");
}
