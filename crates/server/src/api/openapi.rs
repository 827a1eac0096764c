//! The OpenAPI 3.1 description of `/api/v4`, served at `/api/v4/openapi.json`. It is built
//! from [`OPERATIONS`], one row per route and method; a test checks the rows against the
//! routes [`super::routes`] registers, so the document cannot drift from what is served.

use serde_json::{Map, Value, json};

/// One documented operation.
struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    /// The success status and the schema it answers with (`None`: no body, `"[X]"`: a list
    /// of X, `"text"`: plain text, `"zip"`: a zip archive).
    status: u16,
    schema: Option<&'static str>,
    /// The JSON body it takes, as a schema name.
    body: Option<&'static str>,
    /// Query parameters (strings).
    query: &'static [&'static str],
}

const fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    status: u16,
    schema: Option<&'static str>,
) -> Op {
    Op {
        method,
        path,
        tag,
        summary,
        status,
        schema,
        body: None,
        query: &[],
    }
}

const PAGE: &[&str] = &["page", "per_page"];

/// Every operation of the API.
const OPERATIONS: &[Op] = &[
    op(
        "get",
        "/api/v4/version",
        "meta",
        "The server's version",
        200,
        Some("Version"),
    ),
    op(
        "get",
        "/api/v4/user",
        "users",
        "The signed-in user",
        200,
        Some("User"),
    ),
    Op {
        body: Some("NewUser"),
        ..op(
            "post",
            "/api/v4/users",
            "users",
            "Create a user (administrators)",
            201,
            Some("User"),
        )
    },
    op(
        "get",
        "/api/v4/users/{user}",
        "users",
        "A user",
        200,
        Some("User"),
    ),
    Op {
        body: Some("NewToken"),
        ..op(
            "post",
            "/api/v4/users/{user}/personal_access_tokens",
            "users",
            "Create a personal access token for a user (administrators); the token is shown once",
            201,
            Some("Token"),
        )
    },
    Op {
        query: PAGE,
        ..op(
            "get",
            "/api/v4/projects",
            "projects",
            "The projects the caller may see",
            200,
            Some("[Project]"),
        )
    },
    Op {
        body: Some("NewProject"),
        ..op(
            "post",
            "/api/v4/projects",
            "projects",
            "Create a project and its repository",
            201,
            Some("Project"),
        )
    },
    op(
        "get",
        "/api/v4/projects/{id}",
        "projects",
        "A project",
        200,
        Some("Project"),
    ),
    Op {
        query: &["ref", "status", "sha", "source", "page", "per_page"],
        ..op(
            "get",
            "/api/v4/projects/{id}/pipelines",
            "pipelines",
            "A project's pipelines, newest first",
            200,
            Some("[Pipeline]"),
        )
    },
    Op {
        body: Some("NewPipeline"),
        ..op(
            "post",
            "/api/v4/projects/{id}/pipeline",
            "pipelines",
            "Run a pipeline on a ref",
            201,
            Some("Pipeline"),
        )
    },
    op(
        "get",
        "/api/v4/projects/{id}/pipelines/{pipeline}",
        "pipelines",
        "A pipeline",
        200,
        Some("Pipeline"),
    ),
    op(
        "post",
        "/api/v4/projects/{id}/pipelines/{pipeline}/cancel",
        "pipelines",
        "Cancel a pipeline",
        200,
        Some("Pipeline"),
    ),
    op(
        "get",
        "/api/v4/projects/{id}/pipelines/{pipeline}/bridges",
        "pipelines",
        "A pipeline's trigger jobs, each with the downstream pipeline it created",
        200,
        Some("[Bridge]"),
    ),
    op(
        "post",
        "/api/v4/projects/{id}/pipelines/{pipeline}/retry",
        "pipelines",
        "Retry a pipeline's failed and canceled jobs",
        201,
        Some("Pipeline"),
    ),
    Op {
        query: &["scope[]"],
        ..op(
            "get",
            "/api/v4/projects/{id}/pipelines/{pipeline}/jobs",
            "jobs",
            "A pipeline's jobs",
            200,
            Some("[Job]"),
        )
    },
    Op {
        body: Some("NewTrigger"),
        ..op(
            "post",
            "/api/v4/projects/{id}/triggers",
            "pipelines",
            "Create a pipeline trigger token",
            201,
            Some("Trigger"),
        )
    },
    Op {
        body: Some("TriggerPipeline"),
        ..op(
            "post",
            "/api/v4/projects/{id}/trigger/pipeline",
            "pipelines",
            "Run a pipeline with a trigger token (form or JSON; no other authentication)",
            201,
            Some("Pipeline"),
        )
    },
    Op {
        query: &["scope[]", "page", "per_page"],
        ..op(
            "get",
            "/api/v4/projects/{id}/jobs",
            "jobs",
            "A project's jobs, newest first",
            200,
            Some("[Job]"),
        )
    },
    op(
        "get",
        "/api/v4/projects/{id}/jobs/{job}",
        "jobs",
        "A job",
        200,
        Some("Job"),
    ),
    op(
        "get",
        "/api/v4/projects/{id}/jobs/{job}/trace",
        "jobs",
        "A job's log so far (masked values replaced)",
        200,
        Some("text"),
    ),
    op(
        "post",
        "/api/v4/projects/{id}/jobs/{job}/retry",
        "jobs",
        "Retry a finished job",
        201,
        Some("Job"),
    ),
    op(
        "post",
        "/api/v4/projects/{id}/jobs/{job}/cancel",
        "jobs",
        "Cancel a job",
        201,
        Some("Job"),
    ),
    op(
        "post",
        "/api/v4/projects/{id}/jobs/{job}/play",
        "jobs",
        "Run a manual job",
        200,
        Some("Job"),
    ),
    op(
        "get",
        "/api/v4/projects/{id}/jobs/{job}/artifacts",
        "jobs",
        "A job's artifacts archive",
        200,
        Some("zip"),
    ),
    op(
        "get",
        "/api/v4/projects/{id}/protected_branches",
        "protected branches",
        "A project's protected branches",
        200,
        Some("[ProtectedBranch]"),
    ),
    Op {
        body: Some("NewProtectedBranch"),
        ..op(
            "post",
            "/api/v4/projects/{id}/protected_branches",
            "protected branches",
            "Protect a branch or a wildcard pattern",
            201,
            Some("ProtectedBranch"),
        )
    },
    op(
        "get",
        "/api/v4/projects/{id}/protected_branches/{name}",
        "protected branches",
        "A protected branch rule",
        200,
        Some("ProtectedBranch"),
    ),
    op(
        "delete",
        "/api/v4/projects/{id}/protected_branches/{name}",
        "protected branches",
        "Unprotect a branch",
        204,
        None,
    ),
    op(
        "get",
        "/api/v4/projects/{id}/environments",
        "environments",
        "A project's environments, each with its last deployment",
        200,
        Some("[Environment]"),
    ),
    op(
        "get",
        "/api/v4/projects/{id}/environments/{environment}",
        "environments",
        "An environment",
        200,
        Some("Environment"),
    ),
    op(
        "post",
        "/api/v4/projects/{id}/environments/{environment}/stop",
        "environments",
        "Stop an environment: runs its on_stop job, or stops it at once without one",
        200,
        Some("Environment"),
    ),
    op(
        "get",
        "/api/v4/projects/{id}/deployments",
        "environments",
        "A project's deployments, newest first (`environment` and `status` filter them)",
        200,
        Some("[Deployment]"),
    ),
    op(
        "get",
        "/api/v4/projects/{id}/deployments/{deployment}",
        "environments",
        "One deployment, with its job, environment and the user who deployed",
        200,
        Some("Deployment"),
    ),
    op(
        "get",
        "/api/v4/projects/{id}/variables",
        "variables",
        "A project's CI/CD variables (maintainers)",
        200,
        Some("[Variable]"),
    ),
    Op {
        body: Some("NewVariable"),
        ..op(
            "post",
            "/api/v4/projects/{id}/variables",
            "variables",
            "Create a CI/CD variable (stored encrypted)",
            201,
            Some("Variable"),
        )
    },
    Op {
        query: &["filter[environment_scope]"],
        ..op(
            "get",
            "/api/v4/projects/{id}/variables/{key}",
            "variables",
            "A CI/CD variable",
            200,
            Some("Variable"),
        )
    },
    Op {
        body: Some("NewVariable"),
        query: &["filter[environment_scope]"],
        ..op(
            "put",
            "/api/v4/projects/{id}/variables/{key}",
            "variables",
            "Change a CI/CD variable",
            200,
            Some("Variable"),
        )
    },
    Op {
        query: &["filter[environment_scope]"],
        ..op(
            "delete",
            "/api/v4/projects/{id}/variables/{key}",
            "variables",
            "Delete a CI/CD variable",
            204,
            None,
        )
    },
    Op {
        body: Some("NewRunner"),
        ..op(
            "post",
            "/api/v4/user/runners",
            "runners",
            "Create a runner (administrators: instance runners; maintainers: project runners); its token is in this answer only",
            201,
            Some("RunnerToken"),
        )
    },
    op(
        "get",
        "/api/v4/runners",
        "runners",
        "The runners the caller manages",
        200,
        Some("[Runner]"),
    ),
    op(
        "get",
        "/api/v4/runners/all",
        "runners",
        "Every runner (administrators)",
        200,
        Some("[Runner]"),
    ),
    op(
        "get",
        "/api/v4/runners/{runner}",
        "runners",
        "A runner",
        200,
        Some("Runner"),
    ),
    Op {
        body: Some("NewRunner"),
        ..op(
            "put",
            "/api/v4/runners/{runner}",
            "runners",
            "Change a runner (pause, tags, protection, timeout)",
            200,
            Some("Runner"),
        )
    },
    op(
        "delete",
        "/api/v4/runners/{runner}",
        "runners",
        "Delete a runner",
        204,
        None,
    ),
    Op {
        body: Some("RunnerRegistration"),
        ..op(
            "post",
            "/api/v4/runners",
            "runner protocol",
            "Register a runner with a registration token (legacy `gitlab-runner register --registration-token`)",
            201,
            Some("RunnerToken"),
        )
    },
    op(
        "post",
        "/api/v4/runners/reset_registration_token",
        "runners",
        "A new registration token for instance runners (administrators); in this answer only",
        201,
        Some("RegistrationToken"),
    ),
    op(
        "post",
        "/api/v4/projects/{id}/runners/reset_registration_token",
        "runners",
        "A new registration token for the project's runners (maintainers); in this answer only",
        201,
        Some("RegistrationToken"),
    ),
    Op {
        body: Some("RunnerAuth"),
        ..op(
            "post",
            "/api/v4/runners/verify",
            "runner protocol",
            "A runner checks its token (`gitlab-runner register --token glrt-...`)",
            200,
            Some("RunnerToken"),
        )
    },
    Op {
        body: Some("RunnerAuth"),
        ..op(
            "delete",
            "/api/v4/runners",
            "runner protocol",
            "A runner unregisters itself (its record goes)",
            204,
            None,
        )
    },
    Op {
        body: Some("RunnerAuth"),
        ..op(
            "delete",
            "/api/v4/runners/managers",
            "runner protocol",
            "A host stops using a runner token",
            204,
            None,
        )
    },
    Op {
        body: Some("JobRequest"),
        ..op(
            "post",
            "/api/v4/jobs/request",
            "runner protocol",
            "A runner asks for a job: 201 with one, or 204 with `X-GitLab-Last-Update` (held while nothing is queued when `last_update` is the current tick)",
            201,
            Some("RunnerJob"),
        )
    },
    Op {
        body: Some("JobStateUpdate"),
        ..op(
            "put",
            "/api/v4/jobs/{job}",
            "runner protocol",
            "A runner confirms, keeps alive or ends a job (job token); answers `Job-Status`",
            200,
            None,
        )
    },
    op(
        "patch",
        "/api/v4/jobs/{job}/trace",
        "runner protocol",
        "A runner appends to a job's log at `Content-Range`'s start (job token in `JOB-TOKEN`); 202 with `Range: 0-<length>`, 416 at another offset",
        202,
        None,
    ),
    Op {
        query: &["artifact_format", "artifact_type", "expire_in"],
        ..op(
            "post",
            "/api/v4/jobs/{job}/artifacts",
            "runner protocol",
            "A runner uploads a job's artifacts or a report (multipart field `file`, job token in `JOB-TOKEN`); 413 over the limit",
            201,
            None,
        )
    },
    op(
        "get",
        "/api/v4/jobs/{job}/artifacts",
        "runner protocol",
        "A runner downloads the archive of a job its running job depends on (that job's token in `JOB-TOKEN`)",
        200,
        Some("zip"),
    ),
    op("get", "/api/v4/openapi.json", "meta", "This document", 200, None),
];

fn schema_ref(name: &str) -> Value {
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(item) => json!({"type": "array", "items": schema_ref(item)}),
        None => json!({"$ref": format!("#/components/schemas/{name}")}),
    }
}

fn parameter(name: &str, place: &str) -> Value {
    let description = match name {
        "id" => "The project's numeric id or its URL-encoded path (`group%2Fname`)",
        "page" => "The page, from 1",
        "per_page" => "Items per page (at most 100)",
        "scope[]" => "Only jobs with these statuses",
        _ => "",
    };
    let kind = if matches!(name, "pipeline" | "job" | "user" | "page" | "per_page") {
        "integer"
    } else {
        "string"
    };
    json!({
        "name": name,
        "in": place,
        "required": place == "path",
        "description": description,
        "schema": {"type": kind},
    })
}

fn operation(op: &Op) -> Value {
    let mut params: Vec<Value> = op
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| parameter(name, "path"))
        .collect();
    params.extend(op.query.iter().map(|q| parameter(q, "query")));
    let content = match op.schema {
        None => None,
        Some("text") => Some(json!({"text/plain": {"schema": {"type": "string"}}})),
        Some("zip") => Some(json!({"application/zip": {"schema": {"type": "string", "format": "binary"}}})),
        Some(s) => Some(json!({"application/json": {"schema": schema_ref(s)}})),
    };
    let mut success = json!({"description": op.summary});
    if let Some(content) = content {
        success["content"] = content;
    }
    let error = json!({"$ref": "#/components/responses/Error"});
    let mut responses = Map::new();
    responses.insert(op.status.to_string(), success);
    for code in ["400", "401", "403", "404"] {
        responses.insert(code.to_owned(), error.clone());
    }
    let mut v = json!({
        "tags": [op.tag],
        "summary": op.summary,
        "parameters": params,
        "responses": responses,
    });
    if let Some(body) = op.body {
        v["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": schema_ref(body)}},
        });
    }
    if op.path.ends_with("/trigger/pipeline") || op.path.ends_with("/openapi.json") {
        v["security"] = json!([]);
    }
    v
}

/// The whole document.
pub(crate) fn document() -> Value {
    let mut paths = Map::new();
    for op in OPERATIONS {
        let entry = paths
            .entry(op.path.trim_start_matches("/api/v4").to_owned())
            .or_insert_with(|| json!({}));
        entry[op.method] = operation(op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "gantry API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "GitLab's v4 REST API shape: the same paths, fields, status words, \
                pagination headers (x-total, x-page, x-per-page, x-next-page, link) and error bodies.",
        },
        "servers": [{"url": "/api/v4"}],
        "security": [{"PrivateToken": []}, {"Bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "PrivateToken": {"type": "apiKey", "in": "header", "name": "PRIVATE-TOKEN"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
            "responses": {
                "Error": {
                    "description": "An error, as GitLab words it (`404 Project Not Found`)",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
            "schemas": super::openapi_schemas::schemas(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// `(method, path)` of every route `super::routes` registers, read from its source: each
    /// `.route("path", get(..).post(..))` call.
    fn registered() -> BTreeSet<(String, String)> {
        let source = include_str!("mod.rs");
        let body = &source[source.find("pub(crate) fn routes()").expect("routes()")..];
        let body = &body[..body.find("\n}\n").expect("end of routes()")];
        let mut out = BTreeSet::new();
        for call in body.split(".route(").skip(1) {
            let path = call.split('"').nth(1).expect("a path literal").to_owned();
            for method in ["get", "post", "put", "delete", "patch"] {
                let needle = format!("{method}(");
                let called = call
                    .match_indices(&needle)
                    .any(|(at, _)| call[..at].ends_with([' ', '.', '(', '\n']));
                if called {
                    out.insert((method.to_owned(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_lists_exactly_the_routes_served() {
        let documented: BTreeSet<(String, String)> = OPERATIONS
            .iter()
            .map(|o| (o.method.to_owned(), o.path.to_owned()))
            .collect();
        assert_eq!(documented.len(), OPERATIONS.len(), "an operation is listed twice");
        let served = registered();
        assert!(served.len() > 20, "routes not found in the source: {served:?}");
        let missing: Vec<_> = served.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(missing.is_empty(), "served but not documented: {missing:?}");
        assert!(extra.is_empty(), "documented but not served: {extra:?}");
    }

    #[test]
    fn every_schema_referenced_is_defined() {
        let doc = document();
        let text = doc.to_string();
        let defined = doc["components"]["schemas"].as_object().expect("schemas");
        for piece in text.split("#/components/schemas/").skip(1) {
            let name = piece.split('"').next().expect("name");
            assert!(defined.contains_key(name), "{name} is referenced but not defined");
        }
        assert_eq!(
            doc["paths"]["/projects/{id}/pipelines"]["get"]["parameters"][0]["name"],
            "id"
        );
    }
}
