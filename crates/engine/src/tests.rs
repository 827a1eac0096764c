//! Scripted event sequences with the expected job and pipeline states.

use crate::job::FailureReason;
use crate::{AutoCancel, Effect, Event, JobDef, JobId, JobResult, Pipeline, Retry, When};
use std::fmt::Write;

fn job(name: &str, stage: usize) -> JobDef {
    JobDef::new(name, stage)
}

const fn fail(code: i64) -> JobResult {
    JobResult::Failed {
        exit_code: Some(code),
        reason: FailureReason::ScriptFailure,
    }
}

/// Starts the pipeline, then for each step runs every job the engine asked to run, finishing
/// it with the scripted result (by name; `Success` when not listed), or applies a raw event.
enum Step {
    /// Finish these running jobs with these results (others keep running).
    Finish(Vec<(&'static str, JobResult)>),
    /// Apply an event to a job by name.
    Play(&'static str),
    Timer(&'static str),
    Cancel,
    AutoCancel(AutoCancel),
    Retry(&'static str),
    RetryPipeline,
}

fn check(defs: Vec<JobDef>, steps: &[Step], expected: &str) {
    let names: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    let id = |n: &str| {
        JobId(
            names
                .iter()
                .position(|x| x == n)
                .unwrap_or_else(|| panic!("no job {n}")),
        )
    };
    let mut p = Pipeline::new(defs);
    let mut log = String::new();
    let mut effects = p.start();
    for step in steps {
        for e in &effects {
            if let Effect::Run(j) = e {
                p.apply(Event::Started(*j));
            }
            let _ = write!(log, "{} ", render_effect(e, &names));
        }
        log.push_str("| ");
        effects = match step {
            Step::Finish(results) => {
                let mut out = Vec::new();
                for (name, result) in results {
                    out.extend(p.apply(Event::Finished(id(name), *result)));
                }
                out
            }
            Step::Play(name) => p.apply(Event::Play(id(name))),
            Step::Timer(name) => p.apply(Event::TimerFired(id(name))),
            Step::Cancel => p.apply(Event::Cancel),
            Step::AutoCancel(mode) => p.apply(Event::AutoCancel(*mode)),
            Step::Retry(name) => p.apply(Event::Retry(id(name))),
            Step::RetryPipeline => p.apply(Event::RetryPipeline),
        };
    }
    for e in &effects {
        if let Effect::Run(j) = e {
            p.apply(Event::Started(*j));
        }
        let _ = write!(log, "{} ", render_effect(e, &names));
    }
    let mut out = format!("effects: {}\n", log.trim());
    for (i, n) in names.iter().enumerate() {
        let s = p.state(JobId(i));
        let _ = writeln!(
            out,
            "{n}: {} x{}{}",
            s.status.as_str(),
            s.attempts,
            if s.allowed_failure { " (allowed)" } else { "" }
        );
    }
    let _ = write!(out, "pipeline: {}", p.status().as_str());
    assert_eq!(out.trim(), expected.trim(), "\n{out}");
}

fn render_effect(e: &Effect, names: &[String]) -> String {
    match e {
        Effect::Run(j) => format!("run:{}", names[j.0]),
        Effect::Timer(j, s) => format!("timer:{}:{s}", names[j.0]),
        Effect::Stop(j) => format!("stop:{}", names[j.0]),
    }
}

const OK: JobResult = JobResult::Success;

#[test]
fn stages_run_in_order_and_a_failure_skips_on_success_jobs() {
    let mut always = job("cleanup", 2);
    always.when = When::Always;
    let mut on_failure = job("notify", 2);
    on_failure.when = When::OnFailure;
    check(
        vec![
            job("build", 0),
            job("test", 1),
            job("deploy", 2),
            always,
            on_failure,
        ],
        &[
            Step::Finish(vec![("build", OK)]),
            Step::Finish(vec![("test", fail(1))]),
            Step::Finish(vec![("cleanup", OK), ("notify", OK)]),
        ],
        "effects: run:build | run:test | run:cleanup run:notify |
build: success x1
test: failed x1
deploy: skipped x0
cleanup: success x1
notify: success x1
pipeline: failed",
    );
}

#[test]
fn needs_start_a_job_before_its_stage_and_empty_needs_start_at_once() {
    let mut early = job("lint", 2);
    early.needs = Some(vec![]);
    let mut dag = job("unit", 1);
    dag.needs = Some(vec![JobId(0)]);
    check(
        vec![job("build", 0), job("slow", 0), dag, early],
        &[
            Step::Finish(vec![("build", OK)]),
            Step::Finish(vec![("unit", OK), ("lint", OK), ("slow", OK)]),
        ],
        "effects: run:build run:slow run:lint | run:unit |
build: success x1
slow: success x1
unit: success x1
lint: success x1
pipeline: success",
    );
}

#[test]
fn a_failed_need_skips_the_dag_job() {
    let mut dag = job("unit", 1);
    dag.needs = Some(vec![JobId(0)]);
    let mut always = job("report", 1);
    always.when = When::Always;
    always.needs = Some(vec![JobId(0)]);
    check(
        vec![job("build", 0), dag, always],
        &[
            Step::Finish(vec![("build", fail(2))]),
            Step::Finish(vec![("report", OK)]),
        ],
        "effects: run:build | run:report |
build: failed x1
unit: skipped x0
report: success x1
pipeline: failed",
    );
}

#[test]
fn allowed_failure_counts_as_success_and_exit_codes_decide_which_failures_are_allowed() {
    let mut flaky = job("flaky", 0);
    flaky.allow_failure = true;
    let mut coded = job("coded", 0);
    coded.allow_failure_exit_codes = vec![3];
    let mut on_failure = job("on-failure", 1);
    on_failure.when = When::OnFailure;
    check(
        vec![flaky, coded, job("next", 1), on_failure],
        &[
            Step::Finish(vec![("flaky", fail(1)), ("coded", fail(3))]),
            Step::Finish(vec![("next", OK)]),
        ],
        "effects: run:flaky run:coded | run:next |
flaky: failed x1 (allowed)
coded: failed x1 (allowed)
next: success x1
on-failure: skipped x0
pipeline: success",
    );
}

#[test]
fn manual_job_blocks_later_stages_only_when_not_allowed_to_fail() {
    let mut optional = job("optional", 0);
    optional.when = When::Manual;
    optional.allow_failure = true;
    let mut blocking = job("blocking", 1);
    blocking.when = When::Manual;
    check(
        vec![job("build", 0), optional, blocking, job("deploy", 2)],
        &[Step::Finish(vec![("build", OK)])],
        "effects: run:build |
build: success x1
optional: manual x0
blocking: manual x0
deploy: created x0
pipeline: manual",
    );
}

#[test]
fn playing_the_blocking_manual_job_unblocks_the_pipeline() {
    let mut blocking = job("approve", 0);
    blocking.when = When::Manual;
    check(
        vec![blocking, job("deploy", 1)],
        &[
            Step::Play("approve"),
            Step::Finish(vec![("approve", OK)]),
            Step::Finish(vec![("deploy", OK)]),
        ],
        "effects: | run:approve | run:deploy |
approve: success x1
deploy: success x1
pipeline: success",
    );
}

#[test]
fn delayed_job_waits_for_its_timer() {
    let mut later = job("later", 1);
    later.when = When::Delayed;
    later.start_in = Some(30);
    check(
        vec![job("build", 0), later],
        &[
            Step::Finish(vec![("build", OK)]),
            Step::Timer("later"),
            Step::Finish(vec![("later", OK)]),
        ],
        "effects: run:build | timer:later:30 | run:later |
build: success x1
later: success x1
pipeline: success",
    );
}

#[test]
fn retry_follows_max_when_and_exit_codes() {
    let mut any = job("any", 0);
    any.retry = Retry {
        max: 2,
        when: vec![],
        exit_codes: vec![],
    };
    let mut kind = job("kind", 0);
    kind.retry = Retry {
        max: 2,
        when: vec!["runner_system_failure".into()],
        exit_codes: vec![],
    };
    let mut code = job("code", 0);
    code.retry = Retry {
        max: 1,
        when: vec![],
        exit_codes: vec![3],
    };
    check(
        vec![any, kind, code],
        &[
            Step::Finish(vec![("any", fail(1)), ("kind", fail(1)), ("code", fail(3))]),
            Step::Finish(vec![("any", fail(1)), ("code", fail(3))]),
            Step::Finish(vec![("any", fail(1))]),
        ],
        "effects: run:any run:kind run:code | run:any run:code | run:any |
any: failed x3
kind: failed x1
code: failed x2
pipeline: failed",
    );
}

#[test]
fn resource_group_runs_one_job_at_a_time() {
    let mut a = job("deploy-a", 0);
    a.resource_group = Some("prod".into());
    let mut b = job("deploy-b", 0);
    b.resource_group = Some("prod".into());
    check(
        vec![a, b],
        &[
            Step::Finish(vec![("deploy-a", OK)]),
            Step::Finish(vec![("deploy-b", OK)]),
        ],
        "effects: run:deploy-a | run:deploy-b |
deploy-a: success x1
deploy-b: success x1
pipeline: success",
    );
}

#[test]
fn cancel_stops_running_jobs_and_cancels_the_rest() {
    check(
        vec![job("build", 0), job("test", 1)],
        &[Step::Cancel, Step::Finish(vec![("build", JobResult::Canceled)])],
        "effects: run:build | stop:build |
build: canceled x1
test: canceled x0
pipeline: canceled",
    );
}

#[test]
fn only_skipped_before_still_runs_on_success_jobs_in_stage_order() {
    let mut never_runs = job("on-failure", 0);
    never_runs.when = When::OnFailure;
    check(
        vec![never_runs, job("next", 1)],
        &[Step::Finish(vec![("next", OK)])],
        "effects: run:next |
on-failure: skipped x0
next: success x1
pipeline: success",
    );
}

#[test]
fn retrying_a_failed_job_runs_it_again_and_reprocesses_the_skipped_jobs_after_it() {
    let mut cleanup = job("cleanup", 2);
    cleanup.when = When::OnFailure;
    check(
        vec![job("build", 0), job("test", 1), cleanup],
        &[
            Step::Finish(vec![("build", fail(1))]),
            Step::Finish(vec![("cleanup", OK)]),
            Step::Retry("build"),
            Step::Finish(vec![("build", OK)]),
            Step::Finish(vec![("test", OK)]),
        ],
        "effects: run:build | run:cleanup | | run:build | run:test |
build: success x2
test: success x1
cleanup: success x1
pipeline: success",
    );
}

#[test]
fn retrying_a_canceled_pipeline_creates_its_canceled_jobs_again_in_stage_order() {
    check(
        vec![job("build", 0), job("test", 1)],
        &[
            Step::Cancel,
            Step::Finish(vec![("build", JobResult::Canceled)]),
            Step::RetryPipeline,
            Step::Finish(vec![("build", OK)]),
            Step::Finish(vec![("test", OK)]),
        ],
        "effects: run:build | stop:build | | run:build | run:test |
build: success x2
test: success x1
pipeline: success",
    );
}

#[test]
fn retrying_a_running_or_skipped_job_does_nothing() {
    let mut skipped = job("skipped", 0);
    skipped.when = When::OnFailure;
    check(
        vec![job("build", 0), skipped],
        &[Step::Retry("build"), Step::Retry("skipped")],
        "effects: run:build | |
build: running x1
skipped: skipped x0
pipeline: running",
    );
}

fn interruptible(name: &str, stage: usize) -> JobDef {
    let mut def = job(name, stage);
    def.interruptible = true;
    def
}

#[test]
fn conservative_auto_cancel_cancels_a_pipeline_whose_started_jobs_are_all_interruptible() {
    check(
        vec![interruptible("lint", 0), job("deploy", 1)],
        &[
            Step::AutoCancel(AutoCancel::Conservative),
            Step::Finish(vec![("lint", JobResult::Canceled)]),
        ],
        "effects: run:lint | stop:lint |
lint: canceled x1
deploy: canceled x0
pipeline: canceled",
    );
}

#[test]
fn conservative_auto_cancel_leaves_a_pipeline_once_a_job_that_is_not_interruptible_started() {
    check(
        vec![job("build", 0), interruptible("test", 1)],
        &[
            Step::Finish(vec![("build", OK)]),
            Step::AutoCancel(AutoCancel::Conservative),
        ],
        "effects: run:build | run:test |
build: success x1
test: running x1
pipeline: running",
    );
}

#[test]
fn interruptible_auto_cancel_cancels_only_interruptible_jobs() {
    check(
        vec![
            job("build", 0),
            interruptible("test", 0),
            interruptible("later", 1),
        ],
        &[
            Step::AutoCancel(AutoCancel::Interruptible),
            Step::Finish(vec![("test", JobResult::Canceled), ("build", OK)]),
        ],
        "effects: run:build run:test | stop:test |
build: success x1
test: canceled x1
later: canceled x0
pipeline: canceled",
    );
}

#[test]
fn auto_cancel_none_cancels_nothing() {
    check(
        vec![interruptible("test", 0)],
        &[
            Step::AutoCancel(AutoCancel::None),
            Step::Finish(vec![("test", OK)]),
        ],
        "effects: run:test | |
test: success x1
pipeline: success",
    );
}
