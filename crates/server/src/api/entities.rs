//! The JSON shapes of GitLab's v4 API for gantry's rows: the same field names, status words
//! and timestamp format, so scripts written against GitLab read them unchanged.

use crate::app::Core;
use crate::clock::iso;
use gantry_store::db::{Artifact, Job, Pipeline, Project, Runner, User};
use serde_json::{Value, json};

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |t| Value::String(iso(t)))
}

fn seconds(from: Option<i64>, to: Option<i64>) -> Value {
    match (from, to) {
        (Some(a), Some(b)) => json!((b - a) as f64 / 1000.0),
        _ => Value::Null,
    }
}

/// A user.
pub(crate) fn user(core: &Core, u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "name": u.username,
        "state": "active",
        "is_admin": u.is_admin,
        "web_url": format!("{}/{}", core.external_url, u.username),
        "created_at": iso(u.created_at),
    })
}

/// A project.
pub(crate) fn project(core: &Core, p: &Project) -> Value {
    let web = format!("{}/{}", core.external_url, p.path);
    json!({
        "id": p.id,
        "name": p.name,
        "path": p.name,
        "path_with_namespace": p.path,
        "name_with_namespace": p.path.replace('/', " / "),
        "namespace": {
            "name": p.namespace.rsplit('/').next().unwrap_or(&p.namespace),
            "path": p.namespace.rsplit('/').next().unwrap_or(&p.namespace),
            "full_path": p.namespace,
            "kind": "group",
        },
        "default_branch": p.default_branch,
        "visibility": p.visibility,
        "http_url_to_repo": format!("{web}.git"),
        "web_url": web,
        "created_at": iso(p.created_at),
    })
}

/// A pipeline as pipeline lists show it.
pub(crate) fn pipeline_basic(core: &Core, project: &Project, p: &Pipeline) -> Value {
    json!({
        "id": p.id,
        "iid": p.iid,
        "project_id": p.project_id,
        "sha": p.sha,
        "ref": p.ref_name,
        "status": p.status,
        "source": p.source,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "web_url": format!("{}/{}/-/pipelines/{}", core.external_url, project.path, p.id),
    })
}

/// A pipeline with its details.
pub(crate) fn pipeline(core: &Core, project: &Project, p: &Pipeline) -> Value {
    let mut v = pipeline_basic(core, project, p);
    let errors: Option<Vec<String>> = p
        .config_errors
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok());
    if let Value::Object(map) = &mut v {
        map.insert("before_sha".into(), json!(p.before_sha));
        map.insert("tag".into(), json!(p.tag));
        map.insert("yaml_errors".into(), json!(errors.map(|e| e.join("\n"))));
        map.insert("started_at".into(), time(p.started_at));
        map.insert("finished_at".into(), time(p.finished_at));
        map.insert("duration".into(), seconds(p.started_at, p.finished_at));
        map.insert("coverage".into(), Value::Null);
        map.insert(
            "detailed_status".into(),
            json!({"text": p.status, "label": p.status, "group": p.status}),
        );
    }
    v
}

/// A job, with the pipeline it belongs to and its artifacts.
pub(crate) fn job(
    core: &Core,
    project: &Project,
    pipeline: &Pipeline,
    j: &Job,
    artifacts: &[Artifact],
    runner: Option<&Runner>,
) -> Value {
    let archive = artifacts.iter().find(|a| a.file_type == "archive");
    json!({
        "id": j.id,
        "name": j.name,
        "stage": j.stage,
        "status": j.status,
        "ref": pipeline.ref_name,
        "tag": pipeline.tag,
        "allow_failure": j.allow_failure,
        "when": j.when,
        "retried": j.retried,
        "attempt": j.attempt,
        "exit_code": j.exit_code,
        "failure_reason": j.failure_reason,
        "coverage": Value::Null,
        "created_at": iso(j.created_at),
        "started_at": time(j.started_at),
        "finished_at": time(j.finished_at),
        "duration": seconds(j.started_at, j.finished_at),
        "commit": {"id": pipeline.sha, "short_id": pipeline.sha.get(..8).unwrap_or(&pipeline.sha)},
        "pipeline": {
            "id": pipeline.id,
            "iid": pipeline.iid,
            "project_id": pipeline.project_id,
            "ref": pipeline.ref_name,
            "sha": pipeline.sha,
            "status": pipeline.status,
        },
        "artifacts": artifacts.iter().map(|a| json!({
            "file_type": a.file_type,
            "size": a.size,
            "filename": a.filename,
            "file_format": a.file_format,
        })).collect::<Vec<_>>(),
        "artifacts_file": archive.map(|a| json!({"filename": a.filename, "size": a.size})),
        "artifacts_expire_at": time(artifacts.iter().filter_map(|a| a.expire_at).max()),
        "runner": runner.map(|r| json!({
            "id": r.id,
            "description": r.description,
            "active": !r.paused,
            "paused": r.paused,
            "is_shared": r.runner_type == "instance_type",
            "runner_type": r.runner_type,
        })),
        "web_url": format!("{}/{}/-/jobs/{}", core.external_url, project.path, j.id),
    })
}
