//! Who may see and push what (access levels, protected branches, protected variables), and
//! the auto-cancel of redundant pipelines.

use super::*;
use serde_json::json;

const GUARDED_PIPELINE: &str = r#"
show:
  script:
    - echo "deploy key is ${DEPLOY_KEY:-withheld}"
"#;

#[test]
fn access_levels_and_protected_branches_decide_who_sees_pushes_and_gets_protected_variables() {
    for database in databases() {
        let label = if database.is_some() { "postgres" } else { "sqlite" };
        println!("server: access scenario on {label}");
        let data = tempfile::tempdir().expect("data dir");
        let server = Server::start(data.path(), database.as_deref());
        let (status, project) = server.post("projects", json!({"name": "guarded", "namespace": "ops"}));
        assert_eq!(status, 201, "{project}");
        let id = "ops%2Fguarded";
        let (status, var) = server.post(
            &format!("projects/{id}/variables"),
            json!({"key": "DEPLOY_KEY", "value": "only-on-protected", "protected": true}),
        );
        assert_eq!(status, 201, "{var}");
        // A new project's default branch is protected, for maintainers to push.
        let rules = server.get(&format!("projects/{id}/protected_branches"));
        assert_eq!(rules[0]["name"], "main", "{rules}");
        assert_eq!(rules[0]["push_access_levels"][0]["access_level"], 40, "{rules}");

        // Protected variables reach jobs on protected branches only.
        let remote = server.remote("ops/guarded", TOKEN);
        let work = Work::new(&[(".gitlab-ci.yml", GUARDED_PIPELINE)]);
        work.git(&["branch", "feature"]);
        work.git(&["push", "-q", &remote, "main", "feature"]);
        for (branch, expected) in [("main", "only-on-protected"), ("feature", "withheld")] {
            let pipeline = server.finished_pipeline(id, branch, 0);
            assert_eq!(pipeline["status"], "success", "{pipeline}");
            let jobs = server.jobs(id, pipeline["id"].as_i64().expect("id"));
            let log = server.trace(id, job_named(&jobs, "show")["id"].as_i64().expect("job id"));
            assert!(
                log.contains(&format!("deploy key is {expected}")),
                "{branch}: {log}"
            );
        }

        // Another user cannot see a private project: 404 in the API and for git, not listed.
        let (status, bob) = server.post("users", json!({"username": "bob"}));
        assert_eq!(status, 201, "{bob}");
        let (status, token) = server.post(
            &format!("users/{}/personal_access_tokens", bob["id"]),
            json!({"name": "bob's", "scopes": ["api"]}),
        );
        assert_eq!(status, 201, "{token}");
        let bob_token = token["token"].as_str().expect("token").to_owned();
        let (status, body) = server.call(reqwest::Method::GET, &format!("projects/{id}"), None, &bob_token);
        assert_eq!((status, body), (404, json!({"message": "404 Project Not Found"})));
        let (status, list) = server.call(reqwest::Method::GET, "projects", None, &bob_token);
        assert_eq!((status, list), (200, json!([])));
        let (status, _) = server.call(
            reqwest::Method::POST,
            "users",
            Some(json!({"username": "eve"})),
            &bob_token,
        );
        assert_eq!(status, 403, "only an administrator creates users");
        let (ok, err) = push(&work, &server.remote("ops/guarded", &bob_token), &["main:bobs"]);
        assert!(!ok && err.contains("not found"), "bob pushed: {err}");

        // include:project reads the projects the including project's owner may read: root's
        // own shared templates, but not root's private project for bob's pipeline.
        let (status, _) = server.post("projects", json!({"name": "templates", "namespace": "ops"}));
        assert_eq!(status, 201);
        let templates = Work::new(&[(
            "ci/common.yml",
            "shared:\n  script: [echo from the shared template]\n",
        )]);
        templates.git(&["push", "-q", &server.remote("ops/templates", TOKEN), "main"]);
        let including = "include:\n  - project: ops/templates\n    file: ci/common.yml\n";
        let (status, _) = server.post("projects", json!({"name": "uses-templates", "namespace": "ops"}));
        assert_eq!(status, 201);
        let user_work = Work::new(&[(".gitlab-ci.yml", including)]);
        user_work.git(&["push", "-q", &server.remote("ops/uses-templates", TOKEN), "main"]);
        let included = server.finished_pipeline("ops%2Fuses-templates", "main", 0);
        assert_eq!(included["status"], "success", "{included}");
        let (status, bobs) = server.call(
            reqwest::Method::POST,
            "projects",
            Some(json!({"name": "app", "namespace": "bob"})),
            &bob_token,
        );
        assert_eq!(status, 201, "{bobs}");
        let bob_work = Work::new(&[(".gitlab-ci.yml", including)]);
        bob_work.git(&["push", "-q", &server.remote("bob/app", &bob_token), "main"]);
        let refused = server.wait_for("bob's pipeline", |s| {
            let (_, list) = s.call(
                reqwest::Method::GET,
                "projects/bob%2Fapp/pipelines",
                None,
                &bob_token,
            );
            let p = list.as_array()?.first()?.clone();
            (p["status"] != "created").then_some(p["id"].as_i64()?)
        });
        let (_, refused) = server.call(
            reqwest::Method::GET,
            &format!("projects/bob%2Fapp/pipelines/{refused}"),
            None,
            &bob_token,
        );
        assert_eq!(refused["status"], "failed", "{refused}");
        let errors = refused["yaml_errors"].as_str().unwrap_or_default();
        assert!(errors.contains("not found or access denied"), "{refused}");

        // A rule with "No one" refuses every push to its branches, with git's own error.
        let (status, rule) = server.post(
            &format!("projects/{id}/protected_branches"),
            json!({"name": "release/*", "push_access_level": 0}),
        );
        assert_eq!(status, 201, "{rule}");
        assert_eq!(
            rule["push_access_levels"][0]["access_level_description"],
            "No one"
        );
        let (status, _) = server.post(
            &format!("projects/{id}/protected_branches"),
            json!({"name": "release/*"}),
        );
        assert_eq!(status, 409, "protecting twice");
        let (ok, err) = push(&work, &remote, &["main:release/1.0"]);
        assert!(!ok, "pushed to a branch no one may push to");
        assert!(
            err.contains("not allowed to push code to the protected branch release/1.0"),
            "{err}"
        );
        assert_eq!(remote_head(&work, &remote, "release/1.0"), None);

        // Even a maintainer cannot force push to or delete a protected branch.
        let main_before = remote_head(&work, &remote, "main").expect("main");
        work.git(&["commit", "-q", "--amend", "-m", "rewritten"]);
        let (ok, err) = push(&work, &remote, &["--force", "main"]);
        assert!(!ok && err.contains("not allowed to force push"), "{err}");
        let (ok, err) = push(&work, &remote, &[":main"]);
        assert!(
            !ok && err.contains("cannot delete the protected branch main"),
            "{err}"
        );
        assert_eq!(remote_head(&work, &remote, "main"), Some(main_before));
        // An unprotected branch takes a force push.
        let (ok, err) = push(&work, &remote, &["--force", "main:feature"]);
        assert!(ok, "{err}");

        // Unprotecting lifts the rule.
        let (status, _) = server.call(
            reqwest::Method::DELETE,
            &format!("projects/{id}/protected_branches/release%2F*"),
            None,
            TOKEN,
        );
        assert_eq!(status, 204);
        let (ok, err) = push(&work, &remote, &["main:release/1.0"]);
        assert!(ok, "{err}");
        assert!(remote_head(&work, &remote, "release/1.0").is_some());
    }
}

const REDUNDANT_PIPELINE: &str = r#"
long:
  interruptible: true
  script: [sh work.sh]
"#;

/// The id of the newest pipeline on `git_ref` once its job `name` runs.
fn running_pipeline(server: &Server, project: &str, git_ref: &str, name: &str) -> i64 {
    server.wait_for(&format!("{name} running on {git_ref}"), |s| {
        let list = s.get(&format!("projects/{project}/pipelines?ref={git_ref}"));
        let id = list.as_array()?.first()?["id"].as_i64()?;
        // A pipeline's jobs appear just after the pipeline itself.
        let jobs = s.jobs(project, id);
        (jobs.iter().find(|j| j["name"] == name)?["status"] == "running").then_some(id)
    })
}

// The auto-cancel decision does not depend on the database, so SQLite alone runs it.
#[test]
fn a_newer_push_cancels_the_redundant_pipeline_unless_a_job_that_is_not_interruptible_started() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::start(data.path(), None);
    let (status, project) = server.post("projects", json!({"name": "busy", "namespace": "team"}));
    assert_eq!(status, 201, "{project}");
    let id = "team%2Fbusy";
    let remote = server.remote("team/busy", TOKEN);

    // Every job started is interruptible: the older pipeline is canceled.
    let work = Work::new(&[(".gitlab-ci.yml", REDUNDANT_PIPELINE), ("work.sh", "sleep 60\n")]);
    work.git(&["push", "-q", &remote, "main"]);
    let older = running_pipeline(&server, id, "main", "long");
    work.commit(&[("work.sh", "echo second commit\n")], "second");
    work.git(&["push", "-q", &remote, "main"]);
    let newer = server.finished_pipeline(id, "main", older);
    assert_eq!(newer["status"], "success", "{newer}");
    let old = server.wait_for("the older pipeline to end", |s| {
        let p = s.get(&format!("projects/{id}/pipelines/{older}"));
        (p["status"] != "running").then_some(p)
    });
    assert_eq!(old["status"], "canceled", "{old}");
    assert_eq!(job_named(&server.jobs(id, older), "long")["status"], "canceled");

    // A started job that is not interruptible keeps the older pipeline (conservative).
    work.commit(
        &[
            (
                ".gitlab-ci.yml",
                &REDUNDANT_PIPELINE.replace("interruptible: true", "interruptible: false"),
            ),
            ("work.sh", "sleep 3\n"),
        ],
        "third",
    );
    work.git(&["push", "-q", &remote, "main"]);
    let kept = running_pipeline(&server, id, "main", "long");
    work.commit(&[("work.sh", "echo fourth commit\n")], "fourth");
    work.git(&["push", "-q", &remote, "main"]);
    let finished = server.wait_for("the third pipeline to end", |s| {
        let p = s.get(&format!("projects/{id}/pipelines/{kept}"));
        (p["status"] != "running").then_some(p)
    });
    assert_eq!(finished["status"], "success", "{finished}");
}
