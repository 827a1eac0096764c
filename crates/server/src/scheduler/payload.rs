//! The job a runner gets from `POST /jobs/request`, as the runner protocol lays it out
//! (docs: `gitlab-runner-protocol.md` §4): built when the job is queued, with the job token
//! filled in when a runner takes it ([`with_token`]).
//!
//! Variable values are sent expanded and `raw` (the runner does not expand them again), so a
//! remote job sees the same values as one the in-process runner runs. `CI_PROJECT_DIR` and
//! `CI_BUILDS_DIR` are left to the runner, which knows where it builds.

use gantry_config::model::{ArtifactsWhen, CacheKey, CachePolicy, CacheWhen, Image, Variable};
use gantry_executor::job::JobVariable;
use gantry_plan::PlannedJob;
use gantry_runner::expand_with;
use gantry_store::db::{Pipeline, Project};
use serde_json::{Value, json};

/// GitLab's default job timeout (the project setting), in seconds.
pub(crate) const DEFAULT_TIMEOUT: u64 = 3600;

/// What a payload is made of besides the planned job.
pub(crate) struct PayloadInput<'a> {
    pub(crate) job: &'a PlannedJob,
    /// The job's row id (`CI_JOB_ID`).
    pub(crate) job_id: i64,
    pub(crate) pipeline: &'a Pipeline,
    pub(crate) project: &'a Project,
    /// The server's URL, without a trailing `/`.
    pub(crate) server_url: &'a str,
    /// Dotenv variables of the jobs it depends on, project variables, then pipeline
    /// variables (later wins).
    pub(crate) variables: Vec<JobVariable>,
    /// The archives of the jobs it depends on (`id`, `name`, `artifacts_file`); their
    /// `token` is the job's own, filled in by [`with_token`].
    pub(crate) dependencies: Vec<Value>,
    /// Values to mask.
    pub(crate) masks: &'a [String],
    /// Whether the ref is protected.
    pub(crate) protected: bool,
}

/// Variables the runner sets itself.
const RUNNER_SET: &[&str] = &[
    "CI_PROJECT_DIR",
    "CI_BUILDS_DIR",
    "CI_CONCURRENT_ID",
    "CI_CONCURRENT_PROJECT_ID",
];

/// The payload without its token.
pub(crate) fn build(input: &PayloadInput<'_>) -> Value {
    let job = input.job;
    let config = &job.config;
    let timeout = config.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let mut variables = Vec::new();
    let mut push = |key: &str, value: &str, public: bool, file: bool| {
        let masked = input.masks.iter().any(|m| m == value);
        variables.push(json!({
            "key": key, "value": value, "public": public && !masked, "masked": masked,
            "file": file, "raw": true,
        }));
    };
    for (key, value) in job.variables.expanded() {
        if !RUNNER_SET.contains(&key.as_str()) {
            push(&key, &value, true, false);
        }
    }
    for v in &input.variables {
        push(&v.name, &v.value, false, v.file);
    }
    let job_url = format!(
        "{}/{}/-/jobs/{}",
        input.server_url, input.project.path, input.job_id
    );
    push("CI_JOB_ID", &input.job_id.to_string(), true, false);
    push("CI_JOB_URL", &job_url, true, false);
    push("CI_PIPELINE_ID", &input.pipeline.id.to_string(), true, false);
    push("CI_PIPELINE_IID", &input.pipeline.iid.to_string(), true, false);
    push("CI_PROJECT_ID", &input.project.id.to_string(), true, false);
    push("CI_SERVER", "yes", true, false);
    push(
        "CI_API_V4_URL",
        &format!("{}/api/v4", input.server_url),
        true,
        false,
    );

    let mut script = config.before_script.clone();
    script.extend(config.script.iter().cloned());
    let mut steps = vec![json!({
        "name": "script", "script": script, "timeout": timeout,
        "when": "on_success", "allow_failure": false,
    })];
    if !config.after_script.is_empty() {
        steps.push(json!({
            "name": "after_script", "script": config.after_script, "timeout": timeout,
            "when": "always", "allow_failure": true,
        }));
    }

    let mut artifacts = Vec::new();
    if let Some(a) = &config.artifacts
        && (!a.paths.is_empty() || a.untracked)
    {
        artifacts.push(json!({
            "name": a.name.clone().unwrap_or_else(|| "artifacts".into()),
            "untracked": a.untracked,
            "paths": a.paths,
            "exclude": a.exclude,
            "when": match a.when {
                ArtifactsWhen::OnSuccess => "on_success",
                ArtifactsWhen::OnFailure => "on_failure",
                ArtifactsWhen::Always => "always",
            },
            "expire_in": match a.expire_in {
                Some(Some(s)) => format!("{s} sec"),
                Some(None) => "never".to_owned(),
                None => String::new(),
            },
            "artifact_type": "archive",
            "artifact_format": "zip",
        }));
    }
    if let Some(a) = &config.artifacts
        && !a.dotenv().is_empty()
    {
        // Reports are uploaded whatever the outcome, each on its own.
        artifacts.push(json!({
            "name": "dotenv",
            "untracked": false,
            "paths": a.dotenv(),
            "exclude": [],
            "when": "always",
            "expire_in": "",
            "artifact_type": "dotenv",
            "artifact_format": "gzip",
        }));
    }

    let expanded = job.variables.expanded();
    let caches: Vec<Value> = config
        .cache
        .iter()
        .filter_map(|c| {
            // `key:files` is derived from files of the commit: not sent yet (the runner would
            // cache under another key than the in-process runner).
            let key = match &c.key {
                None => "default".to_owned(),
                Some(CacheKey::Literal(k)) => expand_with(k, &expanded),
                Some(CacheKey::Files { .. }) => return None,
            };
            let policy = match &c.policy {
                CachePolicy::PullPush => "pull-push".to_owned(),
                CachePolicy::Pull => "pull".to_owned(),
                CachePolicy::Push => "push".to_owned(),
                CachePolicy::Variable(v) => expand_with(v, &expanded),
            };
            Some(json!({
                "key": key,
                "untracked": c.untracked,
                "policy": policy,
                "paths": c.paths,
                "when": match c.when {
                    CacheWhen::OnSuccess => "on_success",
                    CacheWhen::OnFailure => "on_failure",
                    CacheWhen::Always => "always",
                },
                "fallback_keys": c.fallback_keys,
            }))
        })
        .collect();

    let p = input.pipeline;
    let depth: i64 = expanded
        .get("GIT_DEPTH")
        .and_then(|d| d.parse().ok())
        .unwrap_or(20);
    let mut refspecs = vec![format!("+refs/pipelines/{0}:refs/pipelines/{0}", p.id)];
    refspecs.push(if p.tag {
        format!("+refs/tags/{0}:refs/tags/{0}", p.ref_name)
    } else {
        format!("+refs/heads/{0}:refs/remotes/origin/{0}", p.ref_name)
    });
    json!({
        "id": input.job_id,
        "token": "",
        "allow_git_fetch": true,
        "job_info": {
            "id": input.job_id,
            "name": job.name,
            "stage": job.stage,
            "project_id": input.project.id,
            "project_name": input.project.path.rsplit('/').next().unwrap_or_default(),
            "project_full_path": input.project.path,
            "pipeline_id": p.id,
            "time_in_queue_seconds": 0.0,
            "project_jobs_running_on_instance_runners_count": "+Inf",
        },
        "git_info": {
            "repo_url": "",
            "ref": p.ref_name,
            "sha": p.sha,
            "before_sha": p.before_sha,
            "ref_type": if p.tag { "tag" } else { "branch" },
            "refspecs": refspecs,
            "depth": depth,
            "repo_object_format": "sha1",
            "protected": input.protected,
        },
        "runner_info": { "timeout": timeout },
        "variables": variables,
        "steps": steps,
        "image": config.image.as_ref().map(|i| image_json(i, None, None, &[])),
        "services": config
            .services
            .iter()
            .map(|s| image_json(&s.image, s.alias.as_deref(), s.command.as_deref(), &s.variables))
            .collect::<Vec<_>>(),
        "artifacts": artifacts,
        "cache": caches,
        "credentials": [],
        "dependencies": input.dependencies,
        "hooks": [],
        "features": {
            "trace_sections": true,
            "failure_reasons": [
                "script_failure", "runner_system_failure", "job_execution_timeout",
                "unknown_failure", "stuck_or_timeout_failure", "api_failure", "image_pull_failure",
            ],
        },
    })
}

/// `image` or one of `services` as the protocol sends them: names as written (the runner
/// expands them with the job's variables, as GitLab's does).
fn image_json(
    image: &Image,
    alias: Option<&str>,
    command: Option<&[String]>,
    variables: &[Variable],
) -> Value {
    let mut out = json!({
        "name": image.name,
        "pull_policy": image.pull_policy,
        "ports": [],
    });
    if let Some(e) = &image.entrypoint {
        out["entrypoint"] = json!(e);
    }
    if let Some(a) = alias {
        out["alias"] = json!(a);
    }
    if let Some(c) = command {
        out["command"] = json!(c);
    }
    if !variables.is_empty() {
        out["variables"] = variables
            .iter()
            .map(|v| json!({"key": v.name, "value": v.value}))
            .collect();
    }
    if image.user.is_some() || image.platform.is_some() {
        out["executor_opts"] = json!({"docker": {"user": image.user, "platform": image.platform}});
    }
    out
}

/// The payload a runner gets: the job token in `token`, in the clone URL, and as
/// `CI_JOB_TOKEN`/`CI_REPOSITORY_URL`/`CI_REGISTRY_PASSWORD` (masked, with `CI_REGISTRY_USER`); the timeout capped at the runner's maximum.
pub(crate) fn with_token(
    template: &Value,
    token: &str,
    server_url: &str,
    project_path: &str,
    maximum_timeout: Option<i64>,
) -> Value {
    let mut payload = template.clone();
    let repo_url = match server_url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://gitlab-ci-token:{token}@{rest}/{project_path}.git"),
        None => format!("http://gitlab-ci-token:{token}@{server_url}/{project_path}.git"),
    };
    payload["token"] = json!(token);
    payload["git_info"]["repo_url"] = json!(repo_url);
    if let Some(max) = maximum_timeout.and_then(|m| u64::try_from(m).ok()) {
        let timeout = payload["runner_info"]["timeout"]
            .as_u64()
            .unwrap_or(DEFAULT_TIMEOUT);
        payload["runner_info"]["timeout"] = json!(timeout.min(max));
    }
    if let Some(deps) = payload["dependencies"].as_array_mut() {
        for d in deps {
            d["token"] = json!(token);
        }
    }
    // Images of the project's registry are pulled with the job token, as GitLab sends it.
    let registry = payload["variables"].as_array().and_then(|vars| {
        vars.iter()
            .rev()
            .find(|v| v["key"] == "CI_REGISTRY")
            .and_then(|v| v["value"].as_str())
            .map(str::to_owned)
    });
    if let Some(registry) = registry {
        payload["credentials"] = json!([{
            "type": "registry", "url": registry, "username": "gitlab-ci-token", "password": token,
        }]);
    }
    if let Some(vars) = payload["variables"].as_array_mut() {
        vars.push(
            json!({"key": "CI_JOB_TOKEN", "value": token, "public": false, "masked": true, "raw": true}),
        );
        vars.push(json!({"key": "CI_REPOSITORY_URL", "value": repo_url, "public": false, "masked": false, "raw": true}));
        // The registry takes the job token as `gitlab-ci-token`, as GitLab's does.
        vars.push(json!({"key": "CI_REGISTRY_USER", "value": "gitlab-ci-token", "public": true, "masked": false, "raw": true}));
        vars.push(
            json!({"key": "CI_REGISTRY_PASSWORD", "value": token, "public": false, "masked": true, "raw": true}),
        );
    }
    payload
}
