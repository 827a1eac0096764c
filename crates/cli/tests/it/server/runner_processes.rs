//! `gantry runner` processes against the server, as a team scales out: two runners share a
//! 50-job tagged pipeline (artifacts and a dotenv report passed between them), a runner
//! killed with -9 in mid-job leaves a `runner_system_failure` that the other runner's retry
//! repairs, and SIGQUIT lets a runner finish its job before it exits.
//! On SQLite only: the database plays no part beyond what the protocol test covers on both.

use super::*;
use serde_json::{Value, json};
use std::process::Child;

const PIPELINE: &str = r#"
stages: [build, test, slow]
build:
  stage: build
  tags: [remote]
  script: ['mkdir -p out && echo built-by-a-runner > out/file', 'echo V=42 > vars.env']
  artifacts:
    paths: [out/]
    reports: {dotenv: vars.env}
test:
  stage: test
  tags: [remote]
  parallel: 48
  script: ['cat out/file', 'echo "v=$V builds=$CI_BUILDS_DIR"']
slow:
  stage: slow
  tags: [remote]
  retry: {max: 1, when: runner_system_failure}
  script:
    - echo "builds=$CI_BUILDS_DIR"
    - if [ ! -e "$SCRATCH/slow-once" ]; then touch "$SCRATCH/slow-once"; echo $$ > "$SCRATCH/slow.pid"; echo slow-started; sleep 300; fi
    - echo second attempt
"#;

/// A `gantry runner run` process, killed when dropped.
struct RunnerProcess {
    child: Child,
    builds: PathBuf,
}

impl RunnerProcess {
    fn start(server: &Server, dir: &Path, name: &str) -> RunnerProcess {
        let (status, created) = server.post(
            "user/runners",
            json!({"runner_type": "instance_type", "description": name, "tag_list": ["remote"]}),
        );
        assert_eq!(status, 201, "{created}");
        let config = dir.join(format!("{name}.toml"));
        let builds = dir.join(format!("{name}-builds"));
        let out = Command::new(gantry())
            .args([
                "runner",
                "register",
                "--url",
                &server.url,
                "--name",
                name,
                "--config",
            ])
            .arg(&config)
            .arg("--builds-dir")
            .arg(&builds)
            .env("GANTRY_RUNNER_TOKEN", created["token"].as_str().expect("token"))
            .output()
            .expect("gantry runner register");
        assert!(
            out.status.success(),
            "register: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&config).expect("the configuration file");
        assert!(text.contains("glrt-") && text.contains(name), "{text}");
        let child = Command::new(gantry())
            .args(["runner", "run", "--concurrency", "2", "--config"])
            .arg(&config)
            .env("GANTRY_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("gantry runner run");
        RunnerProcess { child, builds }
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{name}");
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_of(server: &Server, job: &Value) -> String {
    server.trace("team%2Fscale", job["id"].as_i64().expect("id"))
}

#[test]
fn two_runners_share_a_pipeline_survive_a_lost_runner_and_drain_on_sigquit() {
    let data = tempfile::tempdir().expect("data dir");
    let scratch = tempfile::tempdir().expect("scratch");
    let server = Server::start_with(
        data.path(),
        None,
        &["--runner-heartbeat-timeout", "3", "--runner-poll-timeout", "20"],
    );
    let (status, _) = server.post("projects", json!({"name": "scale", "namespace": "team"}));
    assert_eq!(status, 201);
    let (status, _) = server.post(
        "projects/team%2Fscale/variables",
        json!({"key": "SCRATCH", "value": scratch.path().to_string_lossy()}),
    );
    assert_eq!(status, 201);
    let runners_dir = tempfile::tempdir().expect("runners");
    let mut runners = vec![
        RunnerProcess::start(&server, runners_dir.path(), "one"),
        RunnerProcess::start(&server, runners_dir.path(), "two"),
    ];

    let work = Work::new(&[(".gitlab-ci.yml", PIPELINE)]);
    let remote = server.remote("team/scale", TOKEN);
    work.git(&["push", "-q", &remote, "main"]);

    // The slow job starts on one of the runners: kill that runner with -9.
    // The pipeline is listed as soon as it exists; its jobs are written just after.
    let pipeline_id = server.wait_for("the pipeline and its 50 jobs", |s| {
        let id = pipelines_of(s, "team%2Fscale", "main").first()?["id"].as_i64()?;
        (s.jobs("team%2Fscale", id).len() == 50).then_some(id)
    });
    // Its 50 jobs come in pages, 20 by default, as GitLab pages them.
    let first_page = server
        .http
        .get(format!(
            "{}/api/v4/projects/team%2Fscale/pipelines/{pipeline_id}/jobs",
            server.url
        ))
        .header("PRIVATE-TOKEN", TOKEN)
        .send()
        .expect("jobs");
    assert_eq!(first_page.headers()["x-total"], "50");
    assert_eq!(first_page.headers()["x-next-page"], "2");
    assert_eq!(
        first_page.json::<Value>().expect("json").as_array().map(Vec::len),
        Some(20)
    );
    let (slow, builds) = server.wait_for("the slow job to start", |s| {
        let jobs = s.get(&format!(
            "projects/team%2Fscale/pipelines/{pipeline_id}/jobs?per_page=100"
        ));
        let slow = jobs
            .as_array()?
            .iter()
            .find(|j| j["name"] == "slow" && j["status"] == "running")?
            .clone();
        let log = log_of(s, &slow);
        let builds = log.lines().find_map(|l| l.strip_prefix("builds="))?.to_owned();
        log.lines().any(|l| l == "slow-started").then_some((slow, builds))
    });
    let _ = slow;
    // The job's shell leads its own process group (the executor starts it so).
    let pgid: i32 = std::fs::read_to_string(scratch.path().join("slow.pid"))
        .expect("the job's pid")
        .trim()
        .parse()
        .expect("a pid");
    assert!(pgid > 1, "{pgid}");
    let victim = runners
        .iter()
        .position(|r| Path::new(&builds) == r.builds)
        .expect("the slow job ran on one of the runners");
    runners[victim].signal("KILL");
    // The killed runner's job process is orphaned, as with any runner killed with -9: end it.
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{pgid}")])
        .status();
    let victim_builds = runners.remove(victim).builds.clone();
    let mut survivor = runners.pop().expect("the other runner");

    let done = server.finished_pipeline("team%2Fscale", "main", 0);
    let jobs: Vec<Value> = server
        .get(&format!(
            "projects/team%2Fscale/pipelines/{pipeline_id}/jobs?include_retried=true&per_page=100"
        ))
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(done["status"], "success", "{jobs:?}");
    let lost = jobs
        .iter()
        .find(|j| j["name"] == "slow" && j["status"] == "failed")
        .expect("the lost attempt");
    assert_eq!(lost["failure_reason"], "runner_system_failure", "{lost}");
    let retried = jobs
        .iter()
        .find(|j| j["name"] == "slow" && j["status"] == "success")
        .expect("the retry");
    assert!(log_of(&server, retried).contains("second attempt"));
    assert!(
        !log_of(&server, retried).contains(&format!("builds={}", victim_builds.display())),
        "the retry ran on the other runner"
    );
    // 50 jobs, every test job saw the build's artifact and dotenv variable, and both runners
    // ran some of them.
    let tests: Vec<&Value> = jobs
        .iter()
        .filter(|j| j["name"].as_str().is_some_and(|n| n.starts_with("test ")))
        .collect();
    assert_eq!(tests.len(), 48);
    let mut dirs = std::collections::BTreeSet::new();
    for t in &tests {
        assert_eq!(t["status"], "success", "{t}");
        let log = log_of(&server, t);
        assert!(log.contains("built-by-a-runner") && log.contains("v=42"), "{log}");
        if let Some(dir) = log.lines().find_map(|l| l.strip_prefix("v=42 builds=")) {
            dirs.insert(dir.to_owned());
        }
    }
    assert_eq!(dirs.len(), 2, "jobs ran on both runners: {dirs:?}");
    // The job token went to git in its environment: no checkout keeps it in its remote.
    let mut configs = Vec::new();
    let mut todo: Vec<PathBuf> = dirs.iter().map(PathBuf::from).collect();
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.ends_with(".git/config") {
                configs.push(path);
            } else if path.is_dir() && !path.ends_with(".git/objects") {
                todo.push(path);
            }
        }
    }
    assert!(!configs.is_empty(), "no checkout under {dirs:?}");
    for config in configs {
        let text = std::fs::read_to_string(&config).expect("git config");
        assert!(text.contains("url = http://127.0.0.1:"), "{text}");
        assert!(
            !text.contains("glcbt-") && !text.contains("gitlab-ci-token"),
            "{text}"
        );
    }

    // SIGQUIT while a job runs: the job finishes, then the runner exits.
    work.commit(
        &[(
            ".gitlab-ci.yml",
            "drained:\n  tags: [remote]\n  script: ['echo started', 'sleep 2', 'echo drained-ok']\n",
        )],
        "drain",
    );
    work.git(&["push", "-q", &remote, "main"]);
    let newer = server.wait_for("the drained job to start", |s| {
        let p = pipelines_of(s, "team%2Fscale", "main").first()?.clone();
        let id = p["id"].as_i64()?;
        let jobs = s.jobs("team%2Fscale", id);
        (id != pipeline_id && jobs.first()?["status"] == "running").then_some(id)
    });
    survivor.signal("QUIT");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = survivor.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the runner did not exit after SIGQUIT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let drained = server.finished_pipeline("team%2Fscale", "main", newer - 1);
    assert_eq!(drained["status"], "success", "{drained}");
    let job = &server.jobs("team%2Fscale", newer)[0];
    assert!(log_of(&server, job).contains("drained-ok"));
}
