//! Interoperability with a runner gantry did not write: the `gitlab-runner` crate, an
//! independent client of the runner protocol (the official gitlab-runner cannot be built
//! here: see `scripts/official-runner.sh`). The crate's runner takes the jobs, runs their
//! scripts with bash, and the server sees what GitLab would:
//! - artifacts pass between jobs: the crate uploads them with its parameters as form
//!   fields after the file, and downloads its dependencies' archives;
//! - a masked variable arrives flagged masked (the crate prints it as `<MASKED>`);
//! - the crate confirms nothing (no `two_phase_job_commit`), so a job is running as soon
//!   as it is taken and is not queued again;
//! - a cancel reaches it as `Job-Status: canceled`, as it does not cancel gracefully: the
//!   job ends canceled and its script is stopped.

use super::*;
use gitlab_runner::job::Job;
use gitlab_runner::{JobHandler, JobResult, Phase, RunnerBuilder, UploadableFile};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::path::PathBuf;

const PIPELINE: &str = r#"
stages: [build, test]
build:
  stage: build
  tags: [crate]
  script:
    - mkdir -p out
    - echo "built by $CI_JOB_NAME" > out/result.txt
    - test "$SECRET_TOKEN" = "$(printf 's3cret-%s' value-1234)" && echo "the secret arrived"
  artifacts:
    paths: [out/]
check:
  stage: test
  tags: [crate]
  script: ['cat out/result.txt']
endless:
  stage: test
  tags: [crate]
  script: ['while true; do echo "still here $(date +%s%N)" >> ../endless.log; echo tick; sleep 0.5; done']
"#;

/// A job run by the crate's runner: its script lines, one bash each, in its build dir.
struct Bash {
    job: Job,
    dir: PathBuf,
}

impl Bash {
    async fn new(job: Job) -> Result<Self, ()> {
        let dir = job.build_dir().to_path_buf();
        for dependency in job.dependencies() {
            let Some(mut artifact) = dependency.download().await.map_err(|_| ())? else {
                continue;
            };
            for i in 0..artifact.len() {
                let Some(mut file) = artifact.by_index(i) else {
                    continue;
                };
                let Some(path) = file.path() else { continue };
                let target = dir.join(path);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|_| ())?;
                }
                let mut out = std::fs::File::create(&target).map_err(|_| ())?;
                std::io::copy(&mut file, &mut out).map_err(|_| ())?;
            }
        }
        if let Some(secret) = job.variable("SECRET_TOKEN") {
            job.trace(format!("masked={} shown as {secret}\n", secret.masked()));
        }
        Ok(Bash { job, dir })
    }
}

#[async_trait::async_trait]
impl JobHandler<Made> for Bash {
    async fn step(&mut self, script: &[String], _phase: Phase) -> JobResult {
        for line in script {
            self.job.trace(format!("$ {line}\n"));
            let mut command = tokio::process::Command::new("bash");
            command
                .arg("-c")
                .arg(line)
                .current_dir(&self.dir)
                .kill_on_drop(true);
            for v in self.job.variables() {
                command.env(v.key(), v.value());
            }
            let out = command.output().await.map_err(|_| ())?;
            self.job.trace(&out.stdout);
            self.job.trace(&out.stderr);
            if !out.status.success() {
                return Err(());
            }
        }
        Ok(())
    }

    async fn get_uploadable_files(&mut self) -> Result<Box<dyn Iterator<Item = Made> + Send>, ()> {
        let mut files = Vec::new();
        let mut dirs = vec![self.dir.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|_| ())?.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.dir) {
                    files.push(Made {
                        rel: rel.to_string_lossy().into_owned(),
                        path,
                    });
                }
            }
        }
        Ok(Box::new(files.into_iter()))
    }
}

/// A file a job made.
struct Made {
    rel: String,
    path: PathBuf,
}

#[async_trait::async_trait]
impl UploadableFile for Made {
    type Data<'a> = futures::io::Cursor<Vec<u8>>;

    fn get_path(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.rel)
    }

    async fn get_data(&self) -> Result<Self::Data<'_>, ()> {
        std::fs::read(&self.path)
            .map(futures::io::Cursor::new)
            .map_err(|_| ())
    }
}

#[test]
fn an_independent_runner_passes_artifacts_sees_masked_variables_and_is_canceled() {
    for database in databases() {
        let data = tempfile::tempdir().expect("data dir");
        // A short ack deadline: a job the crate runs must not be queued again for want of
        // a confirmation it never sends.
        let server = Server::start_with(
            data.path(),
            database.as_deref(),
            &["--runner-ack-timeout", "1", "--runner-heartbeat-timeout", "60"],
        );
        let (status, project) = server.post("projects", json!({"name": "interop", "namespace": "team"}));
        assert_eq!(status, 201, "{project}");
        let (status, variable) = server.post(
            "projects/team%2Finterop/variables",
            json!({"key": "SECRET_TOKEN", "value": "s3cret-value-1234", "masked": true}),
        );
        assert_eq!(status, 201, "{variable}");
        let (status, created) = server.post(
            "user/runners",
            json!({"runner_type": "instance_type", "description": "crate", "tag_list": ["crate"], "run_untagged": false}),
        );
        assert_eq!(status, 201, "{created}");
        let token = created["token"].as_str().expect("token").to_owned();

        let builds = tempfile::tempdir().expect("builds dir");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let url: url::Url = server.url.parse().expect("url");
        let build_dir = builds.path().to_path_buf();
        let runner = runtime.spawn(async move {
            let (_layer, jobs) = gitlab_runner::GitlabLayer::new::<tracing_subscriber::Registry>();
            let mut runner = RunnerBuilder::new(url, token, build_dir, jobs)
                .system_id("s_interop00001")
                .build()
                .await;
            let _ = runner.run(Bash::new, 4).await;
        });

        let work = Work::new(&[(".gitlab-ci.yml", PIPELINE)]);
        work.git(&["push", "-q", &server.remote("team/interop", TOKEN), "main"]);
        let jobs = server.wait_for("build and check to end and endless to run", |s| {
            let pipelines = pipelines_of(s, "team%2Finterop", "main");
            let jobs = s.jobs("team%2Finterop", pipelines.first()?["id"].as_i64()?);
            let done = |name| job_named(&jobs, name)["status"] == "success";
            (done("build") && done("check") && job_named(&jobs, "endless")["status"] == "running")
                .then_some(jobs)
        });
        let id = |name| job_named(&jobs, name)["id"].as_i64().expect("id");
        let build_log = server.trace("team%2Finterop", id("build"));
        assert!(build_log.contains("masked=true shown as <MASKED>"), "{build_log}");
        assert!(build_log.contains("the secret arrived"), "{build_log}");
        assert!(!build_log.contains("s3cret-value-1234"), "{build_log}");
        let check_log = server.trace("team%2Finterop", id("check"));
        assert!(check_log.contains("built by build"), "{check_log}");
        let artifacts: Value = server.get(&format!("projects/team%2Finterop/jobs/{}", id("build")));
        assert_eq!(
            artifacts["artifacts_file"]["filename"], "artifacts.zip",
            "{artifacts}"
        );

        // The endless job, taken and never confirmed, stays with the crate past the ack
        // deadline; a cancel then stops it.
        std::thread::sleep(Duration::from_secs(3));
        let endless = server.get(&format!("projects/team%2Finterop/jobs/{}", id("endless")));
        assert_eq!(endless["status"], "running", "{endless}");
        assert_eq!(endless["runner"]["description"], "crate", "{endless}");
        let (status, _) = server.post(
            &format!("projects/team%2Finterop/jobs/{}/cancel", id("endless")),
            json!({}),
        );
        assert_eq!(status, 201);
        let pipeline = server.wait_for("the pipeline to end canceled", |s| {
            let pipeline = pipelines_of(s, "team%2Finterop", "main").first()?.clone();
            (pipeline["status"] == "canceled").then_some(pipeline)
        });
        assert_eq!(pipeline["status"], "canceled");
        let log = builds.path().join("endless.log");
        let lines = || {
            std::fs::read_to_string(&log)
                .map(|t| t.lines().count())
                .unwrap_or(0)
        };
        let stopped = server.wait_for("the endless script to stop", |_| {
            let before = lines();
            std::thread::sleep(Duration::from_secs(2));
            (lines() == before).then_some(before)
        });
        assert!(stopped > 0, "the endless job never ran");
        let jobs = server.jobs("team%2Finterop", pipeline["id"].as_i64().expect("id"));
        assert_eq!(job_named(&jobs, "endless")["status"], "canceled");
        assert_eq!(job_named(&jobs, "build")["status"], "success");
        runner.abort();
        drop(runtime);
    }
}
