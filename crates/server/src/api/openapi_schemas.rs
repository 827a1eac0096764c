//! The schemas of the OpenAPI document (`components.schemas`): the entities the API answers
//! with and the bodies it takes, by name.

use serde_json::{Value, json};

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

pub(super) fn schemas() -> Value {
    let s = json!({"type": "string"});
    let i = json!({"type": "integer"});
    let b = json!({"type": "boolean"});
    let t = json!({"type": ["string", "null"], "format": "date-time"});
    let status = json!({"type": "string", "enum": [
        "created", "waiting_for_resource", "preparing", "pending", "running", "success",
        "failed", "canceled", "skipped", "manual", "scheduled"
    ]});
    let mut all = json!({
        "Error": object(&["message"], json!({"message": s})),
        "Version": object(&["version"], json!({"version": s, "revision": s})),
        "User": object(&["id", "username"], json!({
            "id": i, "username": s, "name": s, "state": s, "is_admin": b, "web_url": s, "created_at": t,
        })),
        "NewUser": object(&["username"], json!({"username": s, "admin": b})),
        "NewToken": object(&["name"], json!({
            "name": s, "scopes": {"type": "array", "items": s}, "expires_at": {"type": "string", "format": "date"},
        })),
        "Token": object(&["id", "token"], json!({
            "id": i, "name": s, "user_id": i, "scopes": {"type": "array", "items": s}, "token": s,
            "active": b, "revoked": b, "created_at": t, "expires_at": {"type": ["string", "null"]},
        })),
        "Project": object(&["id", "path_with_namespace"], json!({
            "id": i, "name": s, "path": s, "path_with_namespace": s, "name_with_namespace": s,
            "default_branch": s, "visibility": {"type": "string", "enum": ["private", "internal", "public"]},
            "http_url_to_repo": s, "web_url": s, "created_at": t,
            "namespace": object(&[], json!({"name": s, "path": s, "full_path": s, "kind": s})),
        })),
        "NewProject": object(&[], json!({
            "name": s, "path": s, "namespace": s, "default_branch": s,
            "visibility": {"type": "string", "enum": ["private", "internal", "public"]},
        })),
        "Pipeline": object(&["id", "status"], json!({
            "id": i, "iid": i, "project_id": i, "status": status, "source": s, "ref": s, "sha": s,
            "before_sha": s, "tag": b, "web_url": s, "created_at": t, "updated_at": t,
            "started_at": t, "finished_at": t, "duration": {"type": ["number", "null"]},
            "yaml_errors": {"type": ["string", "null"]},
        })),
        "NewPipeline": object(&["ref"], json!({
            "ref": s,
            "variables": {"type": "array", "items": object(&["key", "value"], json!({"key": s, "value": s, "variable_type": s}))},
        })),
        "NewTrigger": object(&[], json!({"description": s})),
        "Trigger": object(&["id", "token"], json!({"id": i, "token": s, "description": s})),
        "TriggerPipeline": object(&["token", "ref"], json!({
            "token": s, "ref": s, "variables": {"type": "object", "additionalProperties": s},
        })),
        "Job": object(&["id", "name", "status"], json!({
            "id": i, "name": s, "stage": s, "status": status, "ref": s, "tag": b, "allow_failure": b,
            "when": s, "created_at": t, "started_at": t, "finished_at": t,
            "duration": {"type": ["number", "null"]}, "failure_reason": {"type": ["string", "null"]},
            "web_url": s, "pipeline": object(&[], json!({"id": i, "status": status, "ref": s, "sha": s})),
            "artifacts_file": {"type": ["object", "null"]}, "runner": {"type": ["object", "null"]},
        })),
        "ProtectedBranch": object(&["id", "name"], json!({
            "id": i, "name": s, "allow_force_push": b, "code_owner_approval_required": b,
            "push_access_levels": {"type": "array", "items": object(&[], json!({"access_level": i, "access_level_description": s}))},
            "merge_access_levels": {"type": "array", "items": object(&[], json!({"access_level": i, "access_level_description": s}))},
        })),
        "NewProtectedBranch": object(&["name"], json!({
            "name": s, "push_access_level": {"type": "integer", "enum": [0, 30, 40, 60]},
        })),
        "Variable": object(&["key"], json!({
            "key": s, "value": {"type": ["string", "null"]}, "variable_type": {"type": "string", "enum": ["env_var", "file"]},
            "protected": b, "masked": b, "raw": b, "environment_scope": s, "description": {"type": ["string", "null"]},
        })),
        "NewVariable": object(&["key", "value"], json!({
            "key": s, "value": s, "variable_type": {"type": "string", "enum": ["env_var", "file"]},
            "protected": b, "masked": b, "raw": b, "environment_scope": s, "description": s,
        })),
        "NewRunner": object(&[], json!({
            "runner_type": {"type": "string", "enum": ["instance_type", "project_type"]}, "project_id": i,
            "description": s, "paused": b, "locked": b, "run_untagged": b,
            "tag_list": {"oneOf": [{"type": "array", "items": s}, s]},
            "access_level": {"type": "string", "enum": ["not_protected", "ref_protected"]},
            "maximum_timeout": i,
        })),
        "RunnerToken": object(&["id", "token"], json!({
            "id": i, "token": s, "token_expires_at": {"type": ["string", "null"]},
        })),
        "Runner": object(&["id"], json!({
            "id": i, "description": s, "runner_type": s, "paused": b, "active": b, "is_shared": b,
            "locked": b, "run_untagged": b, "tag_list": {"type": "array", "items": s}, "access_level": s,
            "maximum_timeout": {"type": ["integer", "null"]}, "online": b, "status": s,
            "contacted_at": t, "created_at": t,
        })),
        "RunnerAuth": object(&["token"], json!({"token": s, "system_id": s, "info": {"type": "object"}})),
        "RunnerRegistration": object(&["token"], json!({
            "token": s, "description": s, "paused": b, "active": b, "locked": b, "run_untagged": b,
            "tag_list": {"oneOf": [{"type": "array", "items": s}, s]},
            "access_level": {"type": "string", "enum": ["not_protected", "ref_protected"]},
            "maximum_timeout": i, "info": {"type": "object"},
        })),
        "RegistrationToken": object(&["token"], json!({
            "token": s, "token_expires_at": {"type": ["string", "null"]},
        })),
        "JobRequest": object(&["token"], json!({
            "token": s, "system_id": s, "last_update": s, "info": {"type": "object"},
        })),
        "RunnerJob": object(&["id", "token"], json!({
            "id": i, "token": s, "allow_git_fetch": b, "job_info": {"type": "object"},
            "git_info": {"type": "object"}, "runner_info": {"type": "object"},
            "variables": {"type": "array", "items": {"type": "object"}},
            "steps": {"type": "array", "items": {"type": "object"}},
            "artifacts": {"type": "array", "items": {"type": "object"}},
            "cache": {"type": "array", "items": {"type": "object"}},
            "dependencies": {"type": "array", "items": {"type": "object"}},
            "features": {"type": "object"},
        })),
        "JobStateUpdate": object(&["state"], json!({
            "token": s, "state": {"type": "string", "enum": ["pending", "running", "success", "failed"]},
            "failure_reason": s, "exit_code": i, "output": {"type": "object"},
        })),
    });
    if let Value::Object(map) = &mut all {
        map.extend(environment_schemas(&s, &i));
    }
    all
}

/// Environments and deployments (apart: one `json!` of everything is past its recursion limit).
fn environment_schemas(s: &Value, i: &Value) -> serde_json::Map<String, Value> {
    let v = json!({
        "Deployment": object(&["id", "iid", "status"], json!({
            "id": i, "iid": i, "ref": s, "sha": s, "status": s, "created_at": s, "updated_at": s,
            "finished_at": {"type": ["string", "null"]}, "deployable": {"type": ["object", "null"]},
            "environment": {"type": "object"}, "user": {"type": ["object", "null"]},
        })),
        "Bridge": object(&["id", "name", "status"], json!({
            "id": i, "name": s, "stage": s, "status": s, "pipeline": {"type": "object"},
            "downstream_pipeline": {"type": "object"},
        })),
        "Environment": object(&["id", "name", "state"], json!({
            "id": i, "name": s, "slug": s, "external_url": {"type": ["string", "null"]}, "state": s,
            "tier": s, "created_at": s, "updated_at": s, "auto_stop_at": {"type": ["string", "null"]},
            "last_deployment": {"type": ["object", "null"]},
        })),
    });
    match v {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}
