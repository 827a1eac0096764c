//! `--image-pull-secret`: the registry secret made from the job's registry credentials, and
//! the pod templates that get it in their `imagePullSecrets`.
//!
//! Pure: values in, values out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// Credentials for one registry (its `Debug` leaves the password out).
#[derive(Clone, PartialEq, Eq)]
pub struct PullSecret {
    /// The secret's name.
    pub name: String,
    /// The registry, as images name it (`host:port`).
    pub registry: String,
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
}

impl std::fmt::Debug for PullSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullSecret")
            .field("name", &self.name)
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// The `kubernetes.io/dockerconfigjson` Secret `kubectl create secret docker-registry` makes.
pub fn secret(s: &PullSecret) -> Value {
    let auth = STANDARD.encode(format!("{}:{}", s.username, s.password));
    let config =
        json!({"auths": {&s.registry: {"username": s.username, "password": s.password, "auth": auth}}});
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": s.name},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": STANDARD.encode(config.to_string())},
    })
}

/// Adds `name` to the `imagePullSecrets` of every pod spec in `object` (a Pod, a workload's
/// template, a CronJob's job template) that does not list it yet.
pub fn add_to_pods(object: &mut Value, name: &str) {
    let kind = object["kind"].as_str().unwrap_or_default().to_owned();
    let spec = match kind.as_str() {
        "Pod" => object.get_mut("spec"),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            object.pointer_mut("/spec/template/spec")
        }
        "CronJob" => object.pointer_mut("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    };
    let Some(Value::Object(spec)) = spec else { return };
    let list = spec.entry("imagePullSecrets").or_insert_with(|| json!([]));
    let Some(list) = list.as_array_mut() else { return };
    if !list.iter().any(|s| s["name"] == name) {
        list.push(json!({"name": name}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_holds_a_docker_config_for_the_registry() {
        let s = secret(&PullSecret {
            name: "gantry-registry".into(),
            registry: "127.0.0.1:5000".into(),
            username: "gitlab-ci-token".into(),
            password: "t0k".into(),
        });
        assert_eq!(s["type"], "kubernetes.io/dockerconfigjson");
        let data = STANDARD
            .decode(s["data"][".dockerconfigjson"].as_str().unwrap())
            .unwrap();
        let config: Value = serde_json::from_slice(&data).unwrap();
        let entry = &config["auths"]["127.0.0.1:5000"];
        assert_eq!(entry["username"], "gitlab-ci-token");
        assert_eq!(
            STANDARD.decode(entry["auth"].as_str().unwrap()).unwrap(),
            b"gitlab-ci-token:t0k"
        );
    }

    #[test]
    fn pod_templates_get_the_secret_once() {
        let mut d = json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": []}}}});
        add_to_pods(&mut d, "reg");
        add_to_pods(&mut d, "reg");
        assert_eq!(
            d["spec"]["template"]["spec"]["imagePullSecrets"],
            json!([{"name": "reg"}])
        );
        let mut cron = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "imagePullSecrets": [{"name": "other"}]}}}}}});
        add_to_pods(&mut cron, "reg");
        assert_eq!(
            cron.pointer("/spec/jobTemplate/spec/template/spec/imagePullSecrets")
                .unwrap(),
            &json!([{"name": "other"}, {"name": "reg"}])
        );
        let mut svc = json!({"kind": "Service", "spec": {}});
        add_to_pods(&mut svc, "reg");
        assert_eq!(svc, json!({"kind": "Service", "spec": {}}));
    }
}
