//! Which executor runs a job, and what the container executor is told: the job's image and
//! services from `.gitlab-ci.yml` with their variables expanded, the paths inside the
//! containers, the registry credentials the job has.

use gantry_config::model::{Image, Service};
use gantry_executor::docker::Engine;
use gantry_executor::docker::names::split_aliases;
use gantry_executor::job::{ContainerJob, ImageSpec, PullPolicy, RegistryCredentials, ServiceSpec};
use indexmap::IndexMap;
use std::path::PathBuf;

/// Where jobs' build directories are inside containers (`CI_BUILDS_DIR`).
pub const BUILDS_IN_CONTAINER: &str = "/builds";

/// How jobs are run: `--executor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorMode {
    /// Every job in this machine's shell (`image:` is ignored).
    Shell,
    /// Every job in a container (jobs without `image:` in the default image).
    Docker,
    /// Jobs with `image:` in containers when an engine answers, the others in the shell.
    Auto,
}

/// The executors a pipeline's jobs can use.
#[derive(Clone, Debug)]
pub struct Executors {
    /// How to choose.
    pub mode: ExecutorMode,
    /// The container engine, when one answered.
    pub docker: Option<Engine>,
}

impl Executors {
    /// Every job in the shell.
    pub fn shell() -> Self {
        Executors {
            mode: ExecutorMode::Shell,
            docker: None,
        }
    }
}

/// What runs one job.
pub(crate) enum Choice<'a> {
    /// The shell, with a notice for the log when the job's image is left aside.
    Shell(Option<String>),
    /// The container executor with this image (not expanded yet).
    Docker(&'a Engine, Image),
    /// Nothing can: the job fails with this message.
    Impossible(String),
}

impl Executors {
    pub(crate) fn choose(&self, image: Option<&Image>) -> Choice<'_> {
        match (self.mode, &self.docker, image) {
            (ExecutorMode::Shell, _, Some(image)) => Choice::Shell(Some(format!(
                "NOTICE: `image: {}` is ignored: the shell executor runs the job on this machine",
                image.name
            ))),
            (ExecutorMode::Shell, _, None) | (ExecutorMode::Auto, _, None) => Choice::Shell(None),
            (_, Some(engine), Some(image)) => Choice::Docker(engine, image.clone()),
            (ExecutorMode::Auto, None, Some(image)) => Choice::Shell(Some(format!(
                "NOTICE: `image: {}` is ignored: no container engine answered, so the job runs in the shell",
                image.name
            ))),
            (ExecutorMode::Docker, Some(engine), None) => match &engine.config().default_image {
                Some(name) => Choice::Docker(
                    engine,
                    Image {
                        name: name.clone(),
                        ..Image::default()
                    },
                ),
                None => Choice::Impossible(
                    "the job names no `image:` and the docker executor has no default image (--docker-image)"
                        .into(),
                ),
            },
            (ExecutorMode::Docker, None, _) => {
                Choice::Impossible("the docker executor has no container engine".into())
            }
        }
    }
}

/// `image:` with its variables expanded.
pub fn image_spec(image: &Image, values: &IndexMap<String, String>) -> ImageSpec {
    expanded_image(
        ImageSpec {
            name: image.name.clone(),
            entrypoint: image.entrypoint.clone(),
            pull_policy: Vec::new(),
            user: image.user.clone(),
            platform: image.platform.clone(),
        },
        &image.pull_policy,
        values,
    )
}

/// An image as written (in `.gitlab-ci.yml` or a runner's payload) with the job's variables
/// expanded in its name and user, and the pull policies of `pull_policy` (unknown ones are
/// left out).
pub fn expanded_image(
    mut image: ImageSpec,
    pull_policy: &[String],
    values: &IndexMap<String, String>,
) -> ImageSpec {
    image.name = crate::expand_with(&image.name, values);
    image.user = image.user.map(|u| crate::expand_with(&u, values));
    image.pull_policy = pull_policy.iter().filter_map(|p| PullPolicy::parse(p)).collect();
    image
}

/// `services:` with their variables expanded.
pub fn service_specs(services: &[Service], values: &IndexMap<String, String>) -> Vec<ServiceSpec> {
    services
        .iter()
        .map(|s| ServiceSpec {
            image: image_spec(&s.image, values),
            aliases: s
                .alias
                .as_deref()
                .map(|a| split_aliases(&crate::expand_with(a, values)))
                .unwrap_or_default(),
            command: s.command.clone(),
            variables: s
                .variables
                .iter()
                .map(|v| (v.name.clone(), crate::expand_with(&v.value, values)))
                .collect(),
        })
        .collect()
}

/// The credentials a job has for pulling images: those of `DOCKER_AUTH_CONFIG` (a docker
/// `config.json`'s `auths`, as GitLab reads it), then its project's registry (`CI_REGISTRY`
/// with `CI_REGISTRY_USER` and `CI_REGISTRY_PASSWORD`).
pub fn registry_credentials(values: &IndexMap<String, String>) -> Vec<RegistryCredentials> {
    let mut out = values
        .get("DOCKER_AUTH_CONFIG")
        .map(|text| docker_auth_config(text))
        .unwrap_or_default();
    out.extend(project_registry(values));
    out
}

/// The `auths` of a docker `config.json`: `auth` (base64 of `user:password`) or
/// `username` and `password` per registry; what cannot be read is left out.
fn docker_auth_config(text: &str) -> Vec<RegistryCredentials> {
    use base64::Engine as _;
    let Ok(config) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let Some(auths) = config["auths"].as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (registry, entry) in auths {
        let pair = match (entry["username"].as_str(), entry["password"].as_str()) {
            (Some(u), Some(p)) => Some((u.to_owned(), p.to_owned())),
            _ => entry["auth"]
                .as_str()
                .and_then(|a| base64::engine::general_purpose::STANDARD.decode(a.trim()).ok())
                .and_then(|raw| String::from_utf8(raw).ok())
                .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned()))),
        };
        if let Some((username, password)) = pair {
            // `https://registry.example.com/v1/` and `registry.example.com` name the same.
            let host = registry
                .split_once("://")
                .map_or(registry.as_str(), |(_, rest)| rest);
            let host = host.split('/').next().unwrap_or(host);
            out.push(RegistryCredentials {
                registry: host.to_owned(),
                username,
                password,
            });
        }
    }
    out
}

fn project_registry(values: &IndexMap<String, String>) -> Vec<RegistryCredentials> {
    match (
        values.get("CI_REGISTRY"),
        values.get("CI_REGISTRY_USER"),
        values.get("CI_REGISTRY_PASSWORD"),
    ) {
        (Some(registry), Some(user), Some(password)) if !registry.is_empty() && !password.is_empty() => {
            vec![RegistryCredentials {
                registry: registry.clone(),
                username: user.clone(),
                password: password.clone(),
            }]
        }
        _ => Vec::new(),
    }
}

/// Where the build directory of the project at `project_path` is inside containers
/// (`CI_PROJECT_DIR`).
pub fn project_dir_in_container(project_path: &str) -> String {
    format!("{BUILDS_IN_CONTAINER}/{project_path}")
}

/// The container side of a job whose project is at `project_path` under the builds dir.
pub fn container_job(
    image: ImageSpec,
    services: Vec<ServiceSpec>,
    project_path: &str,
    cache_dir: Option<PathBuf>,
    credentials: Vec<RegistryCredentials>,
) -> ContainerJob {
    ContainerJob {
        image,
        services,
        project_dir: project_dir_in_container(project_path),
        cache_dir,
        credentials,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(name: &str) -> Image {
        Image {
            name: name.into(),
            ..Image::default()
        }
    }

    #[test]
    fn without_an_engine_auto_runs_in_the_shell_and_docker_cannot_run() {
        let auto = Executors {
            mode: ExecutorMode::Auto,
            docker: None,
        };
        assert!(matches!(auto.choose(None), Choice::Shell(None)));
        match auto.choose(Some(&image("alpine"))) {
            Choice::Shell(Some(notice)) => {
                assert!(notice.contains("no container engine answered"), "{notice}")
            }
            _ => panic!("auto without an engine runs in the shell"),
        }
        match Executors::shell().choose(Some(&image("alpine"))) {
            Choice::Shell(Some(notice)) => assert!(notice.contains("`image: alpine` is ignored"), "{notice}"),
            _ => panic!("the shell executor ignores the image"),
        }
        let docker = Executors {
            mode: ExecutorMode::Docker,
            docker: None,
        };
        assert!(matches!(docker.choose(None), Choice::Impossible(_)));
    }

    #[test]
    fn names_are_expanded_and_the_registry_credentials_come_from_the_job() {
        let values: IndexMap<String, String> = [
            ("CI_REGISTRY", "reg.example:5000"),
            ("CI_REGISTRY_IMAGE", "reg.example:5000/group/app"),
            ("CI_REGISTRY_USER", "gitlab-ci-token"),
            ("CI_REGISTRY_PASSWORD", "job-token"),
            ("DB", "db"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut img = image("$CI_REGISTRY_IMAGE/app:1");
        img.pull_policy = vec!["always".into(), "if-not-present".into()];
        let spec = image_spec(&img, &values);
        assert_eq!(spec.name, "reg.example:5000/group/app/app:1");
        assert_eq!(spec.pull_policy, [PullPolicy::Always, PullPolicy::IfNotPresent]);
        let services = service_specs(
            &[Service {
                image: image("postgres:16"),
                alias: Some("$DB,pg".into()),
                ..Service::default()
            }],
            &values,
        );
        assert_eq!(services[0].aliases, ["db", "pg"]);
        assert_eq!(
            registry_credentials(&values),
            [RegistryCredentials {
                registry: "reg.example:5000".into(),
                username: "gitlab-ci-token".into(),
                password: "job-token".into(),
            }]
        );
        assert!(registry_credentials(&IndexMap::new()).is_empty());
        let auth = serde_json::json!({"auths": {
            "https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNzOndvcmQ="},
            "private.example": {"username": "u", "password": "p"},
            "broken.example": {"auth": "***"},
        }})
        .to_string();
        let values: IndexMap<String, String> =
            [("DOCKER_AUTH_CONFIG".to_owned(), auth)].into_iter().collect();
        let found = registry_credentials(&values);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.contains(&RegistryCredentials {
            registry: "index.docker.io".into(),
            username: "user".into(),
            password: "pass:word".into(),
        }));
    }
}
