//! Creating runners: with a personal access token (`gantry runner create`, as GitLab's
//! runner creation flow), and with a legacy registration token (`POST /runners`, what
//! `gitlab-runner register --registration-token` calls, and `gantry runner register
//! --registration-token`). A reset replaces a registration token; only an administrator
//! resets the instance's, a project's maintainers their project's.

use super::*;
use serde_json::{Value, json};

fn gantry_runner(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut command = Command::new(gantry());
    command.arg("runner").args(args).stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("gantry runner");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn runner(server: &Server, id: i64) -> Value {
    server.get(&format!("runners/{id}"))
}

#[test]
fn runners_are_created_with_access_tokens_and_with_registration_tokens() {
    for database in databases() {
        let data = tempfile::tempdir().expect("data dir");
        let server = Server::start(data.path(), database.as_deref());
        let (status, project) = server.post("projects", json!({"name": "reg", "namespace": "team"}));
        assert_eq!(status, 201, "{project}");
        let project_id = project["id"].as_i64().expect("id");

        // `gantry runner create`: a project runner, by the project's path; the token alone
        // on stdout.
        let (ok, stdout, stderr) = gantry_runner(
            &[
                "create",
                "--url",
                &server.url,
                "--project",
                "team/reg",
                "--tag",
                "linux,docker",
                "--description",
                "made by the cli",
                "--protected",
                "--maximum-timeout",
                "600",
            ],
            &[("GANTRY_TOKEN", TOKEN)],
        );
        assert!(ok, "{stderr}");
        let token = stdout.trim().to_owned();
        assert!(token.starts_with("glrt-") && !token.contains('\n'), "{stdout}");
        let listed = server.get("runners/all");
        let made = listed
            .as_array()
            .and_then(|l| l.iter().find(|r| r["description"] == "made by the cli"))
            .unwrap_or_else(|| panic!("{listed}"))
            .clone();
        assert_eq!(made["runner_type"], "project_type");
        assert_eq!(made["tag_list"], json!(["docker", "linux"]));
        assert_eq!(made["access_level"], "ref_protected");
        assert_eq!(made["maximum_timeout"], 600);
        assert_eq!(made["run_untagged"], false);
        assert_eq!(made["projects"], json!([{"id": project_id}]));
        let (ok, _, stderr) = gantry_runner(
            &[
                "create",
                "--url",
                &server.url,
                "--token",
                "glpat-wrong0000000000000",
            ],
            &[],
        );
        assert!(!ok && stderr.contains("401"), "a wrong access token: {stderr}");

        // No registration token exists until one is reset; only an administrator resets the
        // instance's.
        let register = |token: &str, body: Value| {
            let mut body = body;
            body["token"] = json!(token);
            let r = server
                .http
                .post(format!("{}/api/v4/runners", server.url))
                .json(&body)
                .send()
                .expect("register");
            (r.status().as_u16(), r.json::<Value>().unwrap_or(Value::Null))
        };
        assert_eq!(register("GR1348941nothing", json!({})).0, 403);
        let (status, bob) = server.post("users", json!({"username": "bob"}));
        assert_eq!(status, 201, "{bob}");
        let (_, bob_token) = server.post(
            &format!("users/{}/personal_access_tokens", bob["id"]),
            json!({"name": "bob's", "scopes": ["api"]}),
        );
        let bob_token = bob_token["token"].as_str().expect("token").to_owned();
        let (status, _) = server.call(
            reqwest::Method::POST,
            "runners/reset_registration_token",
            None,
            &bob_token,
        );
        assert_eq!(status, 403, "only an administrator resets the instance's token");
        let (status, _) = server.call(
            reqwest::Method::POST,
            &format!("projects/{project_id}/runners/reset_registration_token"),
            None,
            &bob_token,
        );
        assert_eq!(status, 404, "bob is not a member of the project");

        let (status, first) = server.post("runners/reset_registration_token", json!({}));
        assert_eq!(status, 201, "{first}");
        let first = first["token"].as_str().expect("token").to_owned();
        assert!(first.starts_with("GR1348941"), "{first}");
        let (status, created) = register(
            &first,
            json!({"description": "legacy", "tag_list": "a, b", "info": {"name": "gitlab-runner", "version": "18.4.0"}}),
        );
        assert_eq!(status, 201, "{created}");
        let glrt = created["token"].as_str().expect("token");
        assert!(glrt.starts_with("glrt-"), "{created}");
        let shown = runner(&server, created["id"].as_i64().expect("id"));
        assert_eq!(shown["runner_type"], "instance_type", "{shown}");
        assert_eq!(shown["tag_list"], json!(["a", "b"]));
        assert_eq!(shown["version"], "18.4.0");
        let verified = server
            .http
            .post(format!("{}/api/v4/runners/verify", server.url))
            .json(&json!({"token": glrt}))
            .send()
            .expect("verify");
        assert_eq!(verified.status().as_u16(), 200);

        // A reset ends the old token; the new one registers.
        let (_, second) = server.post("runners/reset_registration_token", json!({}));
        let second = second["token"].as_str().expect("token").to_owned();
        assert_ne!(first, second);
        assert_eq!(register(&first, json!({})).0, 403, "the old token is gone");
        let (status, untagged) = register(&second, json!({"tag_list": " , "}));
        assert_eq!(status, 201, "{untagged}");
        let untagged = runner(&server, untagged["id"].as_i64().expect("id"));
        assert_eq!(
            (untagged["tag_list"].clone(), untagged["run_untagged"].clone()),
            (json!([]), json!(true)),
            "empty tags are no tags"
        );

        // A project's registration token registers project runners, here through
        // `gantry runner register --registration-token`, which writes the configuration.
        let (status, reset) = server.post(
            &format!("projects/{project_id}/runners/reset_registration_token"),
            json!({}),
        );
        assert_eq!(status, 201, "{reset}");
        let config = data.path().join("legacy-runner.toml");
        let (ok, _, stderr) = gantry_runner(
            &[
                "register",
                "--url",
                &server.url,
                "--name",
                "legacy-cli",
                "--tag",
                "remote",
                "--config",
                config.to_str().expect("path"),
            ],
            &[(
                "GANTRY_REGISTRATION_TOKEN",
                reset["token"].as_str().expect("token"),
            )],
        );
        assert!(ok, "{stderr}");
        let text = std::fs::read_to_string(&config).expect("configuration");
        assert!(text.contains("glrt-") && text.contains("legacy-cli"), "{text}");
        assert!(
            !text.contains("GR1348941"),
            "the registration token is not kept: {text}"
        );
        let listed = server.get("runners/all");
        let project_runner = listed
            .as_array()
            .and_then(|l| l.iter().rfind(|r| r["runner_type"] == "project_type"))
            .unwrap_or_else(|| panic!("{listed}"))
            .clone();
        assert_eq!(project_runner["tag_list"], json!(["remote"]), "{project_runner}");
        assert_eq!(
            project_runner["locked"], true,
            "a project runner registered is locked"
        );
    }
}
