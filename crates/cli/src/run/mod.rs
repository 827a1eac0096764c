//! `gantry run`: compile the pipeline, then drive the engine with the shell or container executor:
//! the engine says which jobs may run, job tasks run them and report back.

mod report;
mod select;
mod terminal;

use crate::cli::{DockerArgs, ExecutorArg, RunArgs};
use anyhow::Context as _;
use gantry_engine::{Effect, Event, JobId, JobResult, Pipeline, Status};
use gantry_executor::docker::Engine;
use gantry_executor::job::PullPolicy;
use gantry_plan::PlannedJob;
use gantry_runner::container::{ExecutorMode, Executors};
use gantry_runner::job::{self, JobEvent, JobTask, Shared};
use gantry_runner::workspace::Workspace;
use report::{JobReport, PipelineReport, Report};
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use terminal::Terminal;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

/// Messages from job tasks, timers and the signal handler to the loop.
pub(crate) enum Msg {
    Log(JobId, String),
    Started(JobId),
    Finished(JobId, JobResult),
    Timer(JobId),
    Interrupt,
}

impl From<JobEvent> for Msg {
    fn from(event: JobEvent) -> Self {
        match event {
            JobEvent::Started(id) => Msg::Started(id),
            JobEvent::Log(id, line) => Msg::Log(id, line),
            JobEvent::Finished(id, result) => Msg::Finished(id, result),
        }
    }
}

/// The executors of `--executor`: `docker` needs an engine, `auto` uses one that answers.
/// `any_pull_policy`: jobs may name every pull policy (on one's own machine).
pub(crate) async fn executors(
    executor: ExecutorArg,
    docker: &DockerArgs,
    any_pull_policy: bool,
) -> anyhow::Result<Executors> {
    let mode = match executor {
        ExecutorArg::Shell => return Ok(Executors::shell()),
        ExecutorArg::Docker => ExecutorMode::Docker,
        ExecutorArg::Auto => ExecutorMode::Auto,
    };
    let mut config = docker
        .section()
        .executor_config()
        .map_err(|e| anyhow::anyhow!("--docker-*: {e}"))?;
    if any_pull_policy {
        config.allowed_pull_policies = vec![PullPolicy::Always, PullPolicy::IfNotPresent, PullPolicy::Never];
    }
    let docker = match Engine::connect(config).await {
        Ok(engine) => {
            if let Err(e) = engine.remove_leftovers().await {
                eprintln!("gantry: looking for containers left by earlier runs: {e}");
            }
            Some(engine)
        }
        Err(e) if mode == ExecutorMode::Docker => return Err(anyhow::anyhow!("--executor docker: {e}")),
        Err(_) => None,
    };
    Ok(Executors { mode, docker })
}

pub(crate) fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(run_pipeline(args))
}

async fn run_pipeline(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let project = crate::project::compile(args.file.as_deref(), &args.context)?;
    let compiled = &project.compiled;
    let plan = match &compiled.plan {
        Some(plan) if !compiled.has_errors() => plan,
        _ => {
            let errors: Vec<String> = compiled
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.display(&compiled.files).to_string())
                .collect();
            for e in &errors {
                eprintln!("{e}");
            }
            write_report(args, "error", None, errors, Vec::new(), start)?;
            eprintln!("gantry: the configuration is invalid; no pipeline is created");
            return Ok(ExitCode::FAILURE);
        }
    };
    if !plan.created {
        let why: Vec<String> = compiled.diagnostics.iter().map(|d| d.message.clone()).collect();
        println!("no pipeline is created for this context: {}", why.join("; "));
        write_report(args, "not_created", None, Vec::new(), Vec::new(), start)?;
        return Ok(ExitCode::SUCCESS);
    }
    let selection = select::select(plan, &args.jobs, args.stage.as_deref(), args.needs)?;
    let jobs: Vec<&PlannedJob> = selection.jobs.clone();
    let mut engine = Pipeline::new(gantry_runner::defs::engine_defs(&jobs));
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| project.repo.root().join(".gantry"));
    let workspace = Workspace::open(project.repo.root(), &data_dir, &project.ctx.sha, args.dirty)?;
    let names: Vec<String> = jobs.iter().map(|j| j.name.clone()).collect();
    let term = Terminal::new(&names);
    let concurrency = args
        .concurrency
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()).max(2));
    let mut shared = Shared::new(workspace, project.ctx.pipeline_variables.clone());
    // Without a job naming an image, `auto` needs no engine. On one's own machine every pull
    // policy a job names is allowed.
    let executor = match args.executor {
        ExecutorArg::Auto if !jobs.iter().any(|j| j.config.image.is_some()) => ExecutorArg::Shell,
        other => other,
    };
    shared.executors = executors(executor, &args.docker, true).await?;
    let shared = Arc::new(shared);
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let semaphore = Arc::new(Semaphore::new(concurrency));
    let mut tokens: HashMap<JobId, CancellationToken> = HashMap::new();
    let mut logs: Vec<String> = vec![String::new(); jobs.len()];
    let mut started: Vec<Option<f64>> = vec![None; jobs.len()];
    let mut finished: Vec<Option<f64>> = vec![None; jobs.len()];
    let mut in_flight = 0usize;
    let ctrl_c = tx.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = ctrl_c.send(Msg::Interrupt);
        }
    });
    let mut effects = engine.start();
    loop {
        for j in auto_play(&engine, &selection.play) {
            effects.extend(engine.apply(Event::Play(j)));
        }
        for effect in effects.drain(..) {
            match effect {
                Effect::Run(id) => {
                    in_flight += 1;
                    let token = CancellationToken::new();
                    tokens.insert(id, token.clone());
                    let attempt = engine.state(id).attempts;
                    let task = JobTask {
                        id,
                        job: jobs[id.0].clone(),
                        attempt,
                        sources: job::artifact_sources(jobs[id.0], &jobs),
                        job_id: None,
                        variables: Vec::new(),
                        run_variables: Vec::new(),
                    };
                    tokio::spawn(task.run(shared.clone(), tx.clone(), semaphore.clone(), token));
                }
                Effect::Timer(id, secs) => {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
                        let _ = tx.send(Msg::Timer(id));
                    });
                }
                Effect::Stop(id) => {
                    if let Some(t) = tokens.get(&id) {
                        t.cancel();
                    }
                }
            }
        }
        if in_flight == 0 && engine.is_settled() {
            break;
        }
        let Some(msg) = rx.recv().await else { break };
        let now = start.elapsed().as_secs_f64();
        match msg {
            Msg::Log(id, line) => {
                term.line(id.0, &names[id.0], &line);
                logs[id.0].push_str(&report::strip_ansi(&line));
                logs[id.0].push('\n');
            }
            Msg::Started(id) => {
                started[id.0].get_or_insert(now);
                term.event(
                    id.0,
                    &names[id.0],
                    &format!("started (attempt {})", engine.state(id).attempts),
                );
                effects.extend(engine.apply(Event::Started(id)));
            }
            Msg::Finished(id, result) => {
                in_flight -= 1;
                finished[id.0] = Some(now);
                effects.extend(engine.apply(Event::Finished(id, result)));
                let state = engine.state(id);
                term.event(
                    id.0,
                    &names[id.0],
                    &format!(
                        "{} ({:.2}s)",
                        state.status.as_str(),
                        now - started[id.0].unwrap_or(now)
                    ),
                );
            }
            Msg::Timer(id) => effects.extend(engine.apply(Event::TimerFired(id))),
            Msg::Interrupt => {
                eprintln!("gantry: interrupted, canceling the pipeline");
                effects.extend(engine.apply(Event::Cancel));
            }
        }
    }
    let status = engine.status();
    let mut rows = Vec::new();
    let mut reports = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let state = engine.state(JobId(i));
        let allow_failure = if state.status == Status::Failed {
            state.allowed_failure
        } else {
            job.allow_failure
        };
        let duration = match (started[i], finished[i]) {
            (Some(s), Some(f)) => Some(f - s),
            _ => None,
        };
        rows.push((
            job.name.clone(),
            job.stage.clone(),
            state.status.as_str().to_owned(),
            duration,
        ));
        reports.push(JobReport {
            name: job.name.clone(),
            stage: job.stage.clone(),
            status: state.status.as_str().into(),
            allow_failure,
            exit_code: state.exit_code,
            attempts: state.attempts,
            started_s: started[i],
            finished_s: finished[i],
            log: std::mem::take(&mut logs[i]),
        });
    }
    print!("{}", terminal::summary(&rows, status.as_str()));
    write_report(
        args,
        status.as_str(),
        plan.name.clone(),
        Vec::new(),
        reports,
        start,
    )?;
    Ok(if matches!(status, Status::Failed | Status::Canceled) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Manual jobs named on the command line are played as soon as they wait to be.
fn auto_play(engine: &Pipeline, play: &[JobId]) -> Vec<JobId> {
    play.iter()
        .copied()
        .filter(|j| engine.state(*j).status == Status::Manual)
        .collect()
}

fn write_report(
    args: &RunArgs,
    status: &str,
    name: Option<String>,
    errors: Vec<String>,
    jobs: Vec<JobReport>,
    start: Instant,
) -> anyhow::Result<()> {
    let Some(path) = &args.report else { return Ok(()) };
    let report = Report {
        schema_version: 1,
        pipeline: PipelineReport {
            status: status.into(),
            name,
            errors,
            duration_s: start.elapsed().as_secs_f64(),
        },
        jobs,
    };
    let text = serde_json::to_string_pretty(&report).context("encoding the report")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
