//! `gantry up`: the all-in-one start for a newcomer. Starts the server in a data directory
//! (SQLite and files inside it), makes sure a demo project `demo/hello` exists with a pipeline
//! pushed to it, follows that pipeline, and prints where everything is and how to push a
//! repository of one's own. Serves until Ctrl-C (`--once` stops after the demo pipeline).

use crate::cli::UpArgs;
use anyhow::{Context as _, bail};
use gantry_server::config::ServerConfig;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const DEMO_PIPELINE: &str = "\
stages: [build, test]

build:
  stage: build
  script:
    - echo \"building $CI_PROJECT_PATH at $CI_COMMIT_SHORT_SHA\"
    - mkdir -p out && date > out/built-at.txt
  artifacts:
    paths: [out/]

test:
  stage: test
  script:
    - cat out/built-at.txt
    - echo \"tests passed\"
";

pub(crate) fn run(args: &UpArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = args
        .data_dir
        .canonicalize()
        .with_context(|| format!("reading {}", args.data_dir.display()))?;
    let token = root_token(&data_dir)?;
    let mut config = ServerConfig::new(data_dir.clone());
    config.listen = args.listen;
    config.initial_root_token = Some(token.clone());
    let runtime = crate::server::runtime()?;
    runtime.block_on(async {
        let running = crate::server::start(config).await?;
        let url = running.url.clone();
        let api = Api {
            client: reqwest::Client::new(),
            url: url.clone(),
            token: token.clone(),
        };
        let status = demo(&api, &data_dir).await?;
        let host = url.trim_start_matches("http://");
        println!("\ngantry is up at {url}");
        println!("  data directory:  {}", data_dir.display());
        println!("  API token:       {token}   (user root; kept in {}/root-token)", data_dir.display());
        println!("  demo pipeline:   {status}   ({url}/demo/hello/-/pipelines)");
        println!("  dashboard:       {url}/users/sign_in   (user root, the API token as access token)");
        println!("\nTo run your own repository's .gitlab-ci.yml on every push:");
        println!(
            "  curl -s -H 'PRIVATE-TOKEN: {token}' -H 'Content-Type: application/json' \\\n       -d '{{\"name\": \"myproject\", \"namespace\": \"me\"}}' {url}/api/v4/projects"
        );
        println!("  git remote add gantry http://root:{token}@{host}/me/myproject.git");
        println!("  git push gantry HEAD");
        if args.once {
            running.task.abort();
            return Ok(if status == "success" { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        println!("\nServing until Ctrl-C.");
        tokio::select! {
            served = running.task => {
                served.context("the server task")?.context("serving")?;
            }
            _ = tokio::signal::ctrl_c() => println!("gantry up: stopping"),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The root token kept in the data directory (made on the first `up`).
fn root_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("root-token");
    if let Ok(token) = std::fs::read_to_string(&path) {
        return Ok(token.trim().to_owned());
    }
    let token = gantry_server::auth::new_token("glpat-");
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(token.as_bytes())?;
    Ok(token)
}

struct Api {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = self
            .client
            .request(method, format!("{}/api/v4/{path}", self.url))
            .header("PRIVATE-TOKEN", &self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.with_context(|| format!("calling {path}"))?;
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }
}

/// Makes sure `demo/hello` exists and has a pipeline, and follows it; its final status.
async fn demo(api: &Api, data_dir: &Path) -> anyhow::Result<String> {
    let (status, _) = api
        .call(reqwest::Method::GET, "projects/demo%2Fhello", None)
        .await?;
    if status == 404 {
        let (status, body) = api
            .call(
                reqwest::Method::POST,
                "projects",
                Some(json!({"name": "hello", "namespace": "demo"})),
            )
            .await?;
        if status != 201 {
            bail!("creating the demo project: {status} {body}");
        }
        push_demo(api, data_dir)?;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, list) = api
            .call(reqwest::Method::GET, "projects/demo%2Fhello/pipelines", None)
            .await?;
        if let Some(status) = list.get(0).and_then(|p| p["status"].as_str())
            && ["success", "failed", "canceled", "skipped", "manual"].contains(&status)
        {
            return Ok(status.to_owned());
        }
        if Instant::now() > deadline {
            return Ok("still running".to_owned());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Pushes a one-commit repository with the demo pipeline to `demo/hello`.
fn push_demo(api: &Api, data_dir: &Path) -> anyhow::Result<()> {
    let work = data_dir.join("demo-work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    std::fs::write(work.join(".gitlab-ci.yml"), DEMO_PIPELINE)?;
    std::fs::write(work.join("README.md"), "# hello\n\nA demo project for gantry.\n")?;
    let host = api.url.trim_start_matches("http://");
    let remote = format!("http://root:{}@{host}/demo/hello.git", api.token);
    for args in [
        vec!["init", "-q", "-b", "main"],
        vec!["add", "-A"],
        vec!["commit", "-q", "-m", "Demo pipeline"],
        vec!["push", "-q", &remote, "main"],
    ] {
        let ok = Command::new("git")
            .args(["-c", "user.name=gantry", "-c", "user.email=demo@gantry.local"])
            .args(["-c", "commit.gpgsign=false"])
            .args(&args)
            .current_dir(&work)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("running git {}", args[0]))?
            .success();
        if !ok {
            bail!("git {} failed while pushing the demo project", args[0]);
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
