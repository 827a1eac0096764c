//! The container executor end to end, as the seed's first deployment step: a pipeline whose
//! first job builds the application's image from a local base image with the docker client
//! (the engine's socket bound into the job) and pushes it to `$CI_REGISTRY_IMAGE` with the
//! job's credentials, and whose next job runs in that image, pulled from gantry's registry,
//! with the same image as a service beside it. On a `gantry runner` with the docker executor,
//! then the same pipeline under `gantry run --executor docker`.

use super::registry::{busybox_image, run};
use super::*;
use serde_json::{Value, json};

const PIPELINE: &str = r#"
stages: [build, test]
variables:
  APP_IMAGE: $CI_REGISTRY_IMAGE/app:$CI_COMMIT_SHORT_SHA
build-image:
  stage: build
  tags: [docker]
  image: localhost/gantry-test-docker-cli:latest
  script:
    - docker build -t "$APP_IMAGE" .
    # `docker login` asks the engine to check the credentials, and Podman's compatible API
    # checks them over HTTPS only: the client's configuration is written instead.
    - busybox mkdir -p "$HOME/.docker"
    - AUTH=$(busybox printf '%s:%s' "$CI_REGISTRY_USER" "$CI_REGISTRY_PASSWORD" | busybox base64 -w0)
    - busybox printf '{"auths":{"%s":{"auth":"%s"}}}' "$CI_REGISTRY" "$AUTH" > "$HOME/.docker/config.json"
    - docker push "$APP_IMAGE"
    # The next job must pull it from the registry.
    - docker rmi "$APP_IMAGE"
test-image:
  stage: test
  tags: [docker]
  image: $APP_IMAGE
  services:
    - name: $APP_IMAGE
      alias: web
  script:
    - echo "job image is $CI_JOB_IMAGE"
    - cat /www/index.html
    - wget -qO- http://web:8080/
"#;

/// The engine's address, or `None` outside CI (with the reason printed).
fn engine_host() -> Option<String> {
    match std::env::var("GANTRY_TEST_DOCKER_HOST") {
        Ok(host) if !host.is_empty() => Some(host),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must run the container tests: scripts/services.sh starts Podman's API"
            );
            eprintln!("skipped: GANTRY_TEST_DOCKER_HOST is not set");
            None
        }
    }
}

/// An image with the docker client (scripts/install-peers.sh takes it out of Debian's
/// docker.io package) and the C library it links, on the busybox base.
fn docker_cli_image() -> &'static str {
    const IMAGE: &str = "localhost/gantry-test-docker-cli:latest";
    let exists = Command::new("podman")
        .args(["image", "exists", IMAGE])
        .status()
        .is_ok_and(|s| s.success());
    if exists {
        return IMAGE;
    }
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/peers/docker-cli/docker");
    assert!(
        client.exists(),
        "{} (bash scripts/install-peers.sh)",
        client.display()
    );
    let ctx = tempfile::tempdir().expect("context");
    std::fs::copy(&client, ctx.path().join("docker")).expect("copy docker");
    let mut containerfile = format!("FROM {}\nCOPY docker /bin/docker\n", busybox_image());
    // The libraries `ldd` names, at the same paths.
    let ldd = run(Command::new("ldd").arg(&client));
    for (i, lib) in ldd.split_whitespace().filter(|w| w.starts_with('/')).enumerate() {
        std::fs::copy(lib, ctx.path().join(format!("lib{i}"))).expect("copy library");
        containerfile.push_str(&format!("COPY lib{i} {lib}\n"));
    }
    containerfile.push_str("ENV HOME=/root\n");
    std::fs::write(ctx.path().join("Containerfile"), containerfile).expect("Containerfile");
    run(Command::new("podman")
        .args(["build", "-q", "-t", IMAGE])
        .arg(ctx.path()));
    IMAGE
}

/// The application: a web page served by busybox's httpd.
fn app_files() -> Vec<(&'static str, String)> {
    vec![
        (".gitlab-ci.yml", PIPELINE.to_owned()),
        ("index.html", "the app's page\n".to_owned()),
        (
            "Dockerfile",
            format!(
                "FROM {}\nCOPY index.html /www/index.html\nEXPOSE 8080\n\
                 CMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
                busybox_image()
            ),
        ),
    ]
}

fn assert_second_job_ran_in_the_pushed_image(log: &str, image: &str) {
    assert!(
        log.contains(&format!("Pulling docker image {image}")),
        "pulled from gantry: {log}"
    );
    assert!(log.contains(&format!("job image is {image}")), "{log}");
    assert_eq!(
        log.matches("the app's page").count(),
        2,
        "in the image and from the service: {log}"
    );
}

/// A child process, killed when dropped (a failed assertion included).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_pipeline_builds_pushes_and_runs_its_image_with_a_service() {
    let Some(docker_host) = engine_host() else { return };
    docker_cli_image();
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::start(data.path(), None);
    let suffix = rand_suffix();
    let name = format!("app{suffix}");
    let (status, body) = server.post("projects", json!({"name": name, "namespace": "ship"}));
    assert_eq!(status, 201, "{body}");
    let project = format!("ship%2F{name}");
    let (status, created) = server.post(
        "user/runners",
        json!({"runner_type": "instance_type", "description": "containers", "tag_list": ["docker"]}),
    );
    assert_eq!(status, 201, "{created}");
    let dir = tempfile::tempdir().expect("runner dir");
    let config = dir.path().join("runner.toml");
    run(Command::new(gantry())
        .args(["runner", "register", "--url", &server.url, "--name", "containers"])
        .args([
            "--executor",
            "docker",
            "--docker-host",
            &docker_host,
            "--docker-socket",
        ])
        .arg("--config")
        .arg(&config)
        .arg("--builds-dir")
        .arg(dir.path().join("builds"))
        .env("GANTRY_RUNNER_TOKEN", created["token"].as_str().expect("token")));
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(
        text.contains("[runners.docker]") && text.contains("docker_socket = true"),
        "{text}"
    );
    let _runner = Killed(
        Command::new(gantry())
            .args(["runner", "run", "--config"])
            .arg(&config)
            .env("GANTRY_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("gantry runner run"),
    );

    let files = app_files();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let work = Work::new(&refs);
    work.git(&[
        "push",
        "-q",
        &server.remote(&format!("ship/{name}"), TOKEN),
        "main",
    ]);
    let pipeline = server.finished_pipeline(&project, "main", 0);
    let jobs = server.jobs(&project, pipeline["id"].as_i64().expect("id"));
    let log = |job: &str| server.trace(&project, job_named(&jobs, job)["id"].as_i64().expect("id"));
    assert_eq!(
        pipeline["status"],
        "success",
        "{}\n{}",
        log("build-image"),
        log("test-image")
    );
    let build_log = log("build-image");
    assert!(
        !build_log.contains(TOKEN) && build_log.contains("digest: sha256:"),
        "the job pushes with its own token, masked: {build_log}"
    );
    let host = server.url.trim_start_matches("http://");
    let sha = work.run_git(&["rev-parse", "--short=8", "HEAD"]);
    let sha = String::from_utf8_lossy(&sha.stdout).trim().to_owned();
    let image = format!("{host}/ship/{name}/app:{sha}");
    assert_second_job_ran_in_the_pushed_image(&log("test-image"), &image);
    let tags = server
        .http
        .get(format!("{}/v2/ship/{name}/app/tags/list", server.url))
        .basic_auth("root", Some(TOKEN))
        .send()
        .expect("tags");
    assert_eq!(tags.status(), 200);
    let tags: Value = tags.json().expect("tag list");
    assert_eq!(tags["tags"], json!([sha]), "the pushed tag is in the registry");

    // The same pipeline on this machine: the project's registry given as pipeline variables.
    let out = Command::new(gantry())
        .args([
            "run",
            "--executor",
            "docker",
            "--docker-host",
            &docker_host,
            "--docker-socket",
        ])
        .args(["--var", &format!("CI_REGISTRY={host}")])
        .args(["--var", &format!("CI_REGISTRY_IMAGE={host}/ship/{name}")])
        .args(["--var", "CI_REGISTRY_USER=root"])
        .args(["--var", &format!("CI_REGISTRY_PASSWORD={TOKEN}")])
        .current_dir(work.dir.path())
        .output()
        .expect("gantry run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_second_job_ran_in_the_pushed_image(&text, &image);
    let leftovers = run(Command::new("podman").args([
        "ps",
        "-a",
        "--filter",
        "label=dev.gantry.managed",
        "--filter",
        "label=dev.gantry.job=test-image",
        "--format",
        "{{.ID}}",
    ]));
    assert!(leftovers.trim().is_empty(), "containers left: {leftovers}");
}

#[test]
fn jobs_the_server_runs_itself_run_in_their_image_with_executor_docker() {
    let Some(docker_host) = engine_host() else { return };
    let data = tempfile::tempdir().expect("data dir");
    let server = Server::start_with(
        data.path(),
        None,
        &["--executor", "docker", "--docker-host", &docker_host],
    );
    let name = format!("inproc{}", rand_suffix());
    let (status, body) = server.post("projects", json!({"name": name, "namespace": "ship"}));
    assert_eq!(status, 201, "{body}");
    let project = format!("ship%2F{name}");
    let pipeline = format!(
        "in-image:\n  image: {}\n  script:\n    - echo \"dir=$CI_PROJECT_DIR image=$CI_JOB_IMAGE\"\n    - cat marker\n",
        busybox_image()
    );
    let work = Work::new(&[(".gitlab-ci.yml", &pipeline), ("marker", "from the commit\n")]);
    work.git(&[
        "push",
        "-q",
        &server.remote(&format!("ship/{name}"), TOKEN),
        "main",
    ]);
    let finished = server.finished_pipeline(&project, "main", 0);
    let jobs = server.jobs(&project, finished["id"].as_i64().expect("id"));
    let log = server.trace(&project, job_named(&jobs, "in-image")["id"].as_i64().expect("id"));
    assert_eq!(finished["status"], "success", "{log}");
    assert!(
        log.contains(&format!("dir=/builds/ship/{name} image={}", busybox_image()))
            && log.contains("from the commit"),
        "{log}"
    );
}
