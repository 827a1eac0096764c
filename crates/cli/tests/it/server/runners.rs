//! The runner protocol, spoken by this test as a runner would
//! (docs: `gitlab-runner-protocol.md`): a runner created through the API verifies its
//! token, long-polls for jobs with tags, fetches the commit with the job token, confirms,
//! sends its log and ends jobs; a runner that goes silent fails its job as a system failure
//! (and the job is retried), a job taken and never confirmed is queued again, and a cancel
//! reaches the runner as `Job-Status: canceling`. Artifacts and dotenv reports a runner
//! uploads reach the later jobs, on the server and on runners.

use super::*;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const PIPELINE: &str = r#"
stages: [one, two]
here:
  stage: one
  script: ['echo ran on the server']
remote:
  stage: one
  tags: [remote]
  variables: {GREETING: hello}
  image: {name: 'alpine:$ALPINE', entrypoint: [''], pull_policy: [if-not-present], docker: {user: '1000'}}
  services:
    - name: postgres:16
      alias: db, pg
      command: [postgres, -c, fsync=off]
      variables: {POSTGRES_PASSWORD: pw}
  before_script: ['echo before']
  script: ['echo "$GREETING from a runner"']
  after_script: ['echo after']
  artifacts:
    paths: [out/]
    expire_in: 1 week
    reports: {dotenv: build.env}
uses-remote:
  stage: two
  script: ['cat out/remote.txt', 'echo "version=$BUILD_VERSION"']
silent:
  stage: two
  tags: [remote]
  retry: {max: 1, when: runner_system_failure}
  script: ['sleep 600']
"#;

/// A runner speaking the protocol over HTTP.
struct FakeRunner<'a> {
    server: &'a Server,
    token: String,
}

impl FakeRunner<'_> {
    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        build: impl FnOnce(reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder,
    ) -> Response {
        let req = self
            .server
            .http
            .request(method, format!("{}/api/v4/{path}", self.server.url))
            .timeout(Duration::from_secs(120));
        build(req).send().expect("a runner request")
    }

    /// `POST /jobs/request`; the job when one came, and the tick.
    fn request(&self, last_update: Option<&str>) -> (Option<Value>, String) {
        let mut body = json!({"token": self.token, "info": {"name": "fake-runner", "version": "1.0", "executor": "shell", "features": {"two_phase_job_commit": true, "cancel_gracefully": true}}});
        if let Some(tick) = last_update {
            body["last_update"] = json!(tick);
        }
        let r = self.send(reqwest::Method::POST, "jobs/request", |b| b.json(&body));
        match r.status().as_u16() {
            201 => {
                let kind = r.headers()["content-type"]
                    .to_str()
                    .unwrap_or_default()
                    .to_owned();
                assert!(
                    kind.starts_with("application/json"),
                    "201 must be JSON, got {kind}"
                );
                (Some(r.json().expect("a job")), String::new())
            }
            204 => {
                let tick = r.headers().get("x-gitlab-last-update").expect("a tick on 204");
                (None, tick.to_str().unwrap_or_default().to_owned())
            }
            other => panic!("jobs/request answered {other}: {}", r.text().unwrap_or_default()),
        }
    }

    /// Polls (answered at once: no `last_update`) until a job comes.
    fn next_job(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let (Some(job), _) = self.request(None) {
                return job;
            }
            assert!(Instant::now() < deadline, "no job came");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `PUT /jobs/:id`: the status code and `Job-Status`.
    fn update(&self, job: &Value, body: Value) -> (u16, String) {
        let mut body = body;
        body["token"] = job["token"].clone();
        let r = self.send(reqwest::Method::PUT, &format!("jobs/{}", job["id"]), |b| {
            b.json(&body)
        });
        let status = r
            .headers()
            .get("job-status")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        (r.status().as_u16(), status)
    }

    /// `PATCH /jobs/:id/trace` at `start`: status, `Range`, `Job-Status`.
    fn trace(&self, job: &Value, start: usize, text: &str) -> (u16, String, String) {
        let token = job["token"].as_str().unwrap_or_default().to_owned();
        let range = format!("{start}-{}", start + text.len().saturating_sub(1));
        let r = self.send(
            reqwest::Method::PATCH,
            &format!("jobs/{}/trace", job["id"]),
            |b| {
                b.header("JOB-TOKEN", token)
                    .header("Content-Range", range)
                    .header("Content-Type", "text/plain")
                    .body(text.to_owned())
            },
        );
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .unwrap_or_default()
        };
        (r.status().as_u16(), header("range"), header("job-status"))
    }
}

impl<'a> FakeRunner<'a> {
    /// A project `team/<project>` and an instance runner with the tag `tag`, speaking for it.
    fn for_project(server: &'a Server, project: &str, tag: &str) -> Self {
        let (status, body) = server.post("projects", json!({"name": project, "namespace": "team"}));
        assert_eq!(status, 201, "{body}");
        let (status, created) = server.post(
            "user/runners",
            json!({"runner_type": "instance_type", "tag_list": [tag]}),
        );
        assert_eq!(status, 201, "{created}");
        FakeRunner {
            server,
            token: created["token"].as_str().expect("token").to_owned(),
        }
    }
}

impl FakeRunner<'_> {
    /// `POST /jobs/:id/artifacts` with `bytes` as the `file` part.
    fn upload(&self, job: &Value, query: &str, filename: &str, bytes: Vec<u8>) -> u16 {
        let token = job["token"].as_str().unwrap_or_default().to_owned();
        let part = reqwest::blocking::multipart::Part::bytes(bytes).file_name(filename.to_owned());
        let form = reqwest::blocking::multipart::Form::new().part("file", part);
        self.send(
            reqwest::Method::POST,
            &format!("jobs/{}/artifacts?{query}", job["id"]),
            |b| b.header("JOB-TOKEN", token).multipart(form),
        )
        .status()
        .as_u16()
    }
}

/// A zip archive holding `files`.
fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, text) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip");
    out.into_inner()
}

fn gzip_of(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).expect("gzip");
    gz.finish().expect("gzip")
}

fn variable<'a>(job: &'a Value, key: &str) -> &'a Value {
    job["variables"]
        .as_array()
        .and_then(|vars| vars.iter().rev().find(|v| v["key"] == key))
        .unwrap_or_else(|| panic!("no variable {key} in {job}"))
}

fn job_status(server: &Server, id: i64) -> Value {
    server.get(&format!("projects/team%2Fremote/jobs/{id}"))
}

#[test]
fn runners_take_tagged_jobs_over_the_runner_protocol() {
    for database in databases() {
        let data = tempfile::tempdir().expect("data dir");
        let server = Server::start_with(
            data.path(),
            database.as_deref(),
            &[
                "--runner-poll-timeout",
                "30",
                "--runner-ack-timeout",
                "2",
                "--runner-heartbeat-timeout",
                "3",
                "--max-artifacts-bytes",
                "100000",
            ],
        );
        let (status, project) = server.post("projects", json!({"name": "remote", "namespace": "team"}));
        assert_eq!(status, 201, "{project}");

        // A runner is created through the API; its token is shown once and verifies.
        let (status, created) = server.post(
            "user/runners",
            json!({"runner_type": "instance_type", "description": "fake", "tag_list": ["remote"], "run_untagged": false}),
        );
        assert_eq!(status, 201, "{created}");
        let token = created["token"].as_str().expect("token").to_owned();
        assert!(token.starts_with("glrt-"), "{token}");
        assert!(created["token_expires_at"].is_null());
        let verify = |t: &str| {
            server
                .http
                .post(format!("{}/api/v4/runners/verify", server.url))
                .json(&json!({"token": t, "system_id": "s_000000000001"}))
                .send()
                .expect("verify")
        };
        let ok = verify(&token);
        assert_eq!(ok.status().as_u16(), 200);
        assert_eq!(ok.json::<Value>().expect("json")["id"], created["id"]);
        assert_eq!(verify("glrt-wrong").status().as_u16(), 403);
        let listed = server.get("runners/all");
        assert_eq!(listed[0]["tag_list"], json!(["remote"]), "{listed}");
        let runner = FakeRunner {
            server: &server,
            token,
        };

        let work = Work::new(&[(".gitlab-ci.yml", PIPELINE)]);
        let remote = server.remote("team/remote", TOKEN);
        work.git(&["push", "-q", &remote, "main"]);

        // The tagged job comes to the runner, with what it needs to run it.
        let job = runner.next_job();
        assert_eq!(job["job_info"]["name"], "remote", "{job}");
        let job_id = job["id"].as_i64().expect("id");
        let sha = String::from_utf8(work.run_git(&["rev-parse", "HEAD"]).stdout).expect("sha");
        assert_eq!(job["git_info"]["sha"], sha.trim());
        assert_eq!(job["git_info"]["ref"], "main");
        assert_eq!(
            job["steps"][0]["script"],
            json!(["echo before", "echo \"$GREETING from a runner\""])
        );
        assert_eq!(job["steps"][1]["name"], "after_script");
        assert_eq!(variable(&job, "GREETING")["value"], "hello");
        // image and services as written: the runner expands them with the job's variables.
        assert_eq!(
            job["image"],
            json!({"name": "alpine:$ALPINE", "entrypoint": [""], "pull_policy": ["if-not-present"],
                   "ports": [], "executor_opts": {"docker": {"user": "1000", "platform": null}}})
        );
        assert_eq!(
            job["services"],
            json!([{"name": "postgres:16", "alias": "db, pg", "command": ["postgres", "-c", "fsync=off"],
                    "pull_policy": [], "ports": [], "variables": [{"key": "POSTGRES_PASSWORD", "value": "pw"}]}])
        );
        assert_eq!(variable(&job, "CI_JOB_ID")["value"], job_id.to_string());
        assert_eq!(variable(&job, "CI_JOB_TOKEN")["masked"], true);
        assert_eq!(variable(&job, "CI_JOB_TOKEN")["value"], job["token"]);
        assert_eq!(variable(&job, "CI_PROJECT_PATH")["value"], "team/remote");
        // The registry's credentials: the job token as gitlab-ci-token, on this server.
        assert_eq!(variable(&job, "CI_REGISTRY_USER")["value"], "gitlab-ci-token");
        assert_eq!(variable(&job, "CI_REGISTRY_PASSWORD")["value"], job["token"]);
        assert_eq!(variable(&job, "CI_REGISTRY_PASSWORD")["masked"], true);
        let host = server.url.trim_start_matches("http://");
        assert_eq!(variable(&job, "CI_REGISTRY")["value"], host);
        assert_eq!(
            job["credentials"],
            json!([{"type": "registry", "url": host, "username": "gitlab-ci-token", "password": job["token"]}]),
            "for pulling the job's images from the registry"
        );
        assert_eq!(
            variable(&job, "CI_REGISTRY_IMAGE")["value"],
            format!("{host}/team/remote")
        );
        // The untagged job ran on the server meanwhile.
        let here = server.wait_for("the untagged job on the server", |s| {
            let jobs = s.jobs("team%2Fremote", job["job_info"]["pipeline_id"].as_i64()?);
            let here = job_named(&jobs, "here").clone();
            (here["status"] == "success").then_some(here)
        });
        assert_eq!(here["status"], "success");

        // The job token fetches the pipeline's ref of its project (and nothing with a wrong one).
        let repo_url = job["git_info"]["repo_url"].as_str().expect("repo_url");
        assert!(repo_url.contains("gitlab-ci-token:"), "{repo_url}");
        let fetch = Work::new(&[("x", "x")]);
        let refspec = job["git_info"]["refspecs"][0].as_str().expect("refspec");
        let out = fetch.run_git(&["fetch", "-q", repo_url, refspec]);
        assert!(
            out.status.success(),
            "fetch with the job token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bad = repo_url.replace(job["token"].as_str().expect("token"), "glcbt-wrong");
        assert!(!fetch.run_git(&["fetch", "-q", &bad, refspec]).status.success());

        // Confirm, send the log in two pieces (one at a stale offset), end it.
        assert_eq!(
            runner.update(&job, json!({"state": "running"})),
            (200, "running".into())
        );
        server.wait_for("the job to run", |s| {
            (job_status(s, job_id)["status"] == "running").then_some(())
        });
        let first = "$ echo before\nbefore\n";
        assert_eq!(
            runner.trace(&job, 0, first),
            (202, format!("0-{}", first.len()), "running".into())
        );
        let (status, range, _) = runner.trace(&job, 3, "again");
        assert_eq!((status, range), (416, format!("0-{}", first.len())));
        let second = "hello from a runner\n";
        assert_eq!(runner.trace(&job, first.len(), second).0, 202);
        // Its artifacts as the runner describes them, uploaded; one over the limit is refused.
        let archive = &job["artifacts"][0];
        assert_eq!(
            (archive["paths"].clone(), archive["artifact_type"].clone()),
            (json!(["out/"]), json!("archive"))
        );
        let zip = zip_of(&[("out/remote.txt", "made remotely\n")]);
        // Large enough that the server answers while the client is still sending.
        let big = vec![b'x'; 8 << 20];
        assert_eq!(
            runner.upload(&job, "artifact_type=archive&artifact_format=zip", "big.zip", big),
            413
        );
        assert_eq!(
            runner.upload(
                &job,
                "artifact_type=archive&artifact_format=zip&expire_in=1%20week",
                "artifacts.zip",
                zip.clone()
            ),
            201
        );
        assert_eq!(
            runner.upload(
                &job,
                "artifact_type=dotenv&artifact_format=gzip",
                "build.env.gz",
                gzip_of("BUILD_VERSION=1.2.3\n")
            ),
            201
        );
        assert_eq!(runner.update(&job, json!({"state": "success"})).0, 200);
        let done = server.wait_for("the remote job to succeed", |s| {
            let j = job_status(s, job_id);
            (j["status"] == "success").then_some(j)
        });
        assert_eq!(done["status"], "success");
        assert_eq!(server.trace("team%2Fremote", job_id), format!("{first}{second}"));
        // The token ends with the job.
        server.wait_for("the job token to end", |_| {
            (runner.update(&job, json!({"state": "running"})).0 == 403).then_some(())
        });

        // The API serves the uploaded archive; the next stage's job on the server got it and
        // the dotenv variable.
        let downloaded = server.bytes(&format!("projects/team%2Fremote/jobs/{job_id}/artifacts"));
        assert_eq!(downloaded, zip);
        let pipeline_id = job["job_info"]["pipeline_id"].as_i64().expect("pipeline");
        let uses = server.wait_for("the job using the remote artifacts", |s| {
            let jobs = s.jobs("team%2Fremote", pipeline_id);
            let j = job_named(&jobs, "uses-remote").clone();
            ["success", "failed"]
                .contains(&j["status"].as_str()?)
                .then_some(j)
        });
        assert_eq!(uses["status"], "success", "{uses}");
        let log = server.trace("team%2Fremote", uses["id"].as_i64().expect("id"));
        assert!(
            log.contains("made remotely") && log.contains("version=1.2.3"),
            "{log}"
        );

        // The next job: it depends on the remote one (its archive to download with its own
        // token, its dotenv variable); taken and never confirmed, it is queued again with a
        // new token.
        let taken = runner.next_job();
        assert_eq!(taken["job_info"]["name"], "silent");
        assert_eq!(variable(&taken, "BUILD_VERSION")["value"], "1.2.3");
        let dependency = &taken["dependencies"][0];
        assert_eq!(dependency["id"], job_id, "{taken}");
        assert_eq!(dependency["artifacts_file"]["filename"], "artifacts.zip");
        assert_eq!(dependency["token"], taken["token"]);
        let fetched = server
            .http
            .get(format!("{}/api/v4/jobs/{job_id}/artifacts", server.url))
            .header("JOB-TOKEN", taken["token"].as_str().expect("token"))
            .send()
            .expect("download");
        assert_eq!(fetched.status().as_u16(), 200);
        assert_eq!(fetched.bytes().expect("bytes").to_vec(), zip);
        let refused = server
            .http
            .get(format!("{}/api/v4/jobs/{job_id}/artifacts", server.url))
            .header("JOB-TOKEN", "glcbt-wrong")
            .send()
            .expect("download");
        assert_eq!(refused.status().as_u16(), 401);
        let again = runner.next_job();
        assert_eq!(again["id"], taken["id"], "the same job, queued again");
        assert_ne!(again["token"], taken["token"]);
        assert_eq!(
            runner.update(&taken, json!({"state": "running"})).0,
            403,
            "the old token is gone"
        );

        // Confirmed, then the runner goes silent: the job fails as a system failure and its
        // retry comes to the runner.
        assert_eq!(runner.update(&again, json!({"state": "running"})).0, 200);
        let retry = runner.next_job();
        assert_eq!(retry["job_info"]["name"], "silent");
        assert_ne!(retry["id"], again["id"], "a retry is a new job");
        let lost = job_status(&server, again["id"].as_i64().expect("id"));
        assert_eq!(lost["status"], "failed", "{lost}");
        assert_eq!(lost["failure_reason"], "runner_system_failure", "{lost}");
        assert!(
            server
                .trace("team%2Fremote", again["id"].as_i64().expect("id"))
                .contains("stopped reporting"),
            "the log says why"
        );

        // A cancel reaches the runner on its next report; its final `failed` ends the job
        // canceled.
        assert_eq!(runner.update(&retry, json!({"state": "running"})).0, 200);
        let retry_id = retry["id"].as_i64().expect("id");
        let (status, _) = server.call(
            reqwest::Method::POST,
            &format!("projects/team%2Fremote/jobs/{retry_id}/cancel"),
            None,
            TOKEN,
        );
        assert_eq!(status, 201);
        let told = server.wait_for("canceling", |_| {
            let (code, _, job_status) = runner.trace(&retry, 0, "working\n");
            assert!(code == 202 || code == 416, "{code}");
            (job_status == "canceling").then_some(job_status)
        });
        assert_eq!(told, "canceling");
        assert_eq!(
            runner.update(
                &retry,
                json!({"state": "failed", "failure_reason": "script_failure", "exit_code": 143})
            ),
            (200, "canceled".into())
        );
        let pipeline = server.finished_pipeline("team%2Fremote", "main", 0);
        assert_eq!(pipeline["status"], "canceled", "{pipeline}");
        assert_eq!(job_status(&server, retry_id)["status"], "canceled");

        // With nothing queued, a poll carrying the current tick is held, and answered with
        // the job a push queues meanwhile.
        let (none, tick) = runner.request(None);
        assert!(none.is_none());
        let held = std::thread::scope(|scope| {
            let poll = scope.spawn(|| runner.request(Some(&tick)));
            std::thread::sleep(Duration::from_millis(500));
            work.commit(&[("README", "again\n")], "again");
            work.git(&["push", "-q", &remote, "main"]);
            poll.join().expect("the held poll")
        });
        let (job, _) = held;
        let job = job.expect("the held poll gets the new pipeline's job");
        assert_eq!(job["job_info"]["name"], "remote");
    }
}

#[test]
fn a_runner_keeps_its_job_across_a_server_restart() {
    for database in databases() {
        let data = tempfile::tempdir().expect("data dir");
        let mut server = Server::start(data.path(), database.as_deref());
        let (status, _) = server.post("projects", json!({"name": "remote", "namespace": "team"}));
        assert_eq!(status, 201);
        let (_, created) = server.post(
            "user/runners",
            json!({"runner_type": "instance_type", "tag_list": "remote"}),
        );
        let token = created["token"].as_str().expect("token").to_owned();
        let work = Work::new(&[(
            ".gitlab-ci.yml",
            "long:\n  tags: [remote]\n  script: ['sleep 30']\n",
        )]);
        work.git(&["push", "-q", &server.remote("team/remote", TOKEN), "main"]);
        let job = {
            let runner = FakeRunner {
                server: &server,
                token: token.clone(),
            };
            let job = runner.next_job();
            assert_eq!(runner.update(&job, json!({"state": "running"})).0, 200);
            assert_eq!(runner.trace(&job, 0, "part one\n").0, 202);
            job
        };
        server.kill9();
        let server = Server::start(data.path(), database.as_deref());
        let runner = FakeRunner {
            server: &server,
            token,
        };
        // The runner goes on where it was: the server kept its job, its token and its log.
        assert_eq!(
            runner.trace(&job, 9, "part two\n"),
            (202, "0-18".into(), "running".into())
        );
        assert_eq!(runner.update(&job, json!({"state": "success"})).0, 200);
        let pipeline = server.finished_pipeline("team%2Fremote", "main", 0);
        assert_eq!(pipeline["status"], "success", "{pipeline}");
        let id = job["id"].as_i64().expect("id");
        assert_eq!(server.trace("team%2Fremote", id), "part one\npart two\n");
    }
}

#[test]
fn a_job_no_runner_takes_fails_as_stuck_after_the_pending_timeout() {
    for database in databases() {
        let data = tempfile::tempdir().expect("data dir");
        let server = Server::start_with(data.path(), database.as_deref(), &["--pending-job-timeout", "2"]);
        let (status, project) = server.post("projects", json!({"name": "stuck", "namespace": "team"}));
        assert_eq!(status, 201, "{project}");
        // A runner exists, but not with the job's tag.
        let (status, created) = server.post(
            "user/runners",
            json!({"runner_type": "instance_type", "tag_list": ["other"], "run_untagged": false}),
        );
        assert_eq!(status, 201, "{created}");
        let work = Work::new(&[(
            ".gitlab-ci.yml",
            "waiting:\n  tags: [gpu]\n  retry: {max: 1, when: stuck_or_timeout_failure}\n  script: ['true']\n",
        )]);
        work.git(&["push", "-q", &server.remote("team/stuck", TOKEN), "main"]);
        let pipeline = server.finished_pipeline("team%2Fstuck", "main", 0);
        assert_eq!(pipeline["status"], "failed", "{pipeline}");
        let jobs = server.get(&format!(
            "projects/team%2Fstuck/pipelines/{}/jobs?include_retried=true",
            pipeline["id"]
        ));
        let jobs = jobs.as_array().expect("jobs");
        assert_eq!(jobs.len(), 2, "retried once, as its retry says: {jobs:#?}");
        for job in jobs {
            assert_eq!(job["status"], "failed", "{job}");
            assert_eq!(job["failure_reason"], "stuck_or_timeout_failure", "{job}");
            let log = server.trace("team%2Fstuck", job["id"].as_i64().expect("id"));
            assert!(log.contains("no runner took this job within 2 s"), "{log}");
        }
    }
}

#[test]
fn a_log_past_the_servers_limit_fails_the_job_and_the_runner_is_told_to_stop() {
    for database in databases() {
        let data = tempfile::tempdir().expect("data dir");
        let server = Server::start_with(data.path(), database.as_deref(), &["--max-trace-bytes", "1000"]);
        let runner = FakeRunner::for_project(&server, "noisy", "remote");
        let work = Work::new(&[(".gitlab-ci.yml", "noisy:\n  tags: [remote]\n  script: ['yes']\n")]);
        work.git(&["push", "-q", &server.remote("team/noisy", TOKEN), "main"]);
        let job = runner.next_job();
        assert_eq!(runner.update(&job, json!({"state": "running"})).0, 200);
        let first = "y\n".repeat(400);
        assert_eq!(runner.trace(&job, 0, &first).0, 202);
        let (status, _, told) = runner.trace(&job, first.len(), &"y\n".repeat(150));
        assert_eq!((status, told.as_str()), (403, "failed"), "past 1000 bytes");
        let pipeline = server.finished_pipeline("team%2Fnoisy", "main", 0);
        assert_eq!(pipeline["status"], "failed", "{pipeline}");
        let id = job["id"].as_i64().expect("id");
        let ended = server.get(&format!("projects/team%2Fnoisy/jobs/{id}"));
        assert_eq!(ended["failure_reason"], "trace_size_exceeded", "{ended}");
        let log = server.trace("team%2Fnoisy", id);
        assert!(log.starts_with(&first), "what came before the limit is kept");
        assert!(log.contains("exceeded the server's limit of 1000 bytes"), "{log}");
    }
}

#[test]
fn a_job_canceled_before_its_runner_confirms_it_ends_canceled_on_the_confirmation() {
    for database in databases() {
        let data = tempfile::tempdir().expect("data dir");
        let server = Server::start(data.path(), database.as_deref());
        let runner = FakeRunner::for_project(&server, "early", "remote");
        let work = Work::new(&[(".gitlab-ci.yml", "early:\n  tags: [remote]\n  script: ['true']\n")]);
        work.git(&["push", "-q", &server.remote("team/early", TOKEN), "main"]);
        let job = runner.next_job();
        let id = job["id"].as_i64().expect("id");
        let (status, _) = server.post(&format!("projects/team%2Fearly/jobs/{id}/cancel"), json!({}));
        assert_eq!(status, 201);
        // The runner (graceful or not) gives the job up when its confirmation is answered so.
        assert_eq!(
            runner.update(&job, json!({"state": "running"})),
            (200, "canceled".into())
        );
        let pipeline = server.finished_pipeline("team%2Fearly", "main", 0);
        assert_eq!(pipeline["status"], "canceled", "{pipeline}");
    }
}
