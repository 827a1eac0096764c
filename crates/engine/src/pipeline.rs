//! The state machine: events in, effects out.
//!
//! After every event the pipeline is processed like GitLab's atomic processing service:
//! each `created` job looks at the composite status of the jobs before it (its needs, or
//! every job of earlier stages); once that is complete, the job's `when` decides whether it
//! is enqueued (pending, manual or scheduled) or skipped. Repeats until nothing changes.

use crate::composite::composite;
use crate::job::{AutoCancel, JobDef, JobId, JobResult, JobState, Status, When};
use std::collections::{HashMap, VecDeque};

/// Something that happened to the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The executor started a pending job.
    Started(JobId),
    /// An attempt ended.
    Finished(JobId, JobResult),
    /// Someone played a manual job.
    Play(JobId),
    /// A delayed job's `start_in` elapsed.
    TimerFired(JobId),
    /// The whole pipeline is canceled.
    Cancel,
    /// A newer pipeline on the same ref was created: cancel what the mode says is redundant
    /// (GitLab's auto-cancel of redundant pipelines).
    AutoCancel(AutoCancel),
    /// Someone retried a finished job (success, failed or canceled): it is enqueued again at
    /// once, and the skipped jobs after it are processed again (GitLab's job retry).
    Retry(JobId),
    /// Someone retried the pipeline: every failed or canceled job is created again and the
    /// pipeline is processed again, in stage and `needs` order (GitLab's pipeline retry).
    RetryPipeline,
}

/// What the caller must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Run an attempt of the job (it is pending).
    Run(JobId),
    /// Send [`Event::TimerFired`] after this many seconds.
    Timer(JobId, u64),
    /// Stop the running job; send [`Event::Finished`] with [`JobResult::Canceled`] when it stopped.
    Stop(JobId),
}

/// A pipeline's jobs and their states.
#[derive(Clone, Debug)]
pub struct Pipeline {
    defs: Vec<JobDef>,
    states: Vec<JobState>,
    /// Which job holds each resource group, and who waits for it, in order.
    holders: HashMap<String, JobId>,
    waiting: HashMap<String, VecDeque<JobId>>,
    canceled: bool,
}

impl Pipeline {
    /// A pipeline of `created` jobs. `needs` must point at existing jobs.
    pub fn new(defs: Vec<JobDef>) -> Self {
        let states = defs
            .iter()
            .map(|_| JobState {
                status: Status::Created,
                attempts: 0,
                exit_code: None,
                failure: None,
                allowed_failure: false,
            })
            .collect();
        Pipeline {
            defs,
            states,
            holders: HashMap::new(),
            waiting: HashMap::new(),
            canceled: false,
        }
    }

    /// Processes the pipeline for the first time.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.process(&mut effects);
        effects
    }

    /// The job definitions.
    pub fn defs(&self) -> &[JobDef] {
        &self.defs
    }

    /// A job's state.
    pub fn state(&self, job: JobId) -> &JobState {
        &self.states[job.0]
    }

    /// GitLab's pipeline status: the composite of all jobs.
    pub fn status(&self) -> Status {
        composite((0..self.states.len()).map(|i| self.contribution(JobId(i))), false)
            .unwrap_or(Status::Created)
    }

    /// True when nothing more happens unless someone plays a manual job: no job is pending,
    /// running, scheduled or waiting for a resource (jobs still `created` are blocked).
    pub fn is_settled(&self) -> bool {
        self.states.iter().all(|s| {
            !matches!(
                s.status,
                Status::Pending | Status::Running | Status::Scheduled | Status::WaitingForResource
            )
        })
    }

    /// Applies an event and returns what to do next.
    pub fn apply(&mut self, event: Event) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            Event::Started(job) => {
                if self.states[job.0].status == Status::Pending {
                    self.states[job.0].status = Status::Running;
                }
            }
            Event::Finished(job, result) => self.finish(job, result, &mut effects),
            Event::Play(job) => {
                if self.states[job.0].status == Status::Manual && !self.canceled {
                    self.enqueue_now(job, &mut effects);
                }
            }
            Event::TimerFired(job) => {
                if self.states[job.0].status == Status::Scheduled && !self.canceled {
                    self.enqueue_now(job, &mut effects);
                }
            }
            Event::Cancel => self.cancel(&mut effects),
            Event::AutoCancel(mode) => self.auto_cancel(mode, &mut effects),
            Event::Retry(job) => {
                if matches!(
                    self.states[job.0].status,
                    Status::Success | Status::Failed | Status::Canceled
                ) {
                    self.canceled = false;
                    self.reset(job);
                    self.reset_skipped_after(&[job]);
                    self.enqueue_now(job, &mut effects);
                }
            }
            Event::RetryPipeline => {
                let retried: Vec<JobId> = (0..self.states.len())
                    .map(JobId)
                    .filter(|j| matches!(self.states[j.0].status, Status::Failed | Status::Canceled))
                    .collect();
                if !retried.is_empty() {
                    self.canceled = false;
                    for j in &retried {
                        self.reset(*j);
                    }
                    self.reset_skipped_after(&retried);
                }
            }
        }
        self.process(&mut effects);
        effects
    }

    fn finish(&mut self, job: JobId, result: JobResult, effects: &mut Vec<Effect>) {
        let def = &self.defs[job.0];
        let state = &mut self.states[job.0];
        if state.status.is_completed() {
            return;
        }
        match result {
            JobResult::Success => {
                state.status = Status::Success;
                state.exit_code = Some(0);
                state.failure = None;
            }
            JobResult::Canceled => state.status = Status::Canceled,
            JobResult::Failed { exit_code, reason } => {
                state.exit_code = exit_code;
                state.failure = Some(reason);
                let retry = &def.retry;
                let reason_ok = retry.when.iter().any(|w| w == "always" || w == reason.as_str())
                    || (retry.when.is_empty() && retry.exit_codes.is_empty());
                let code_ok = exit_code.is_some_and(|c| retry.exit_codes.contains(&c));
                if !self.canceled && state.attempts <= retry.max && (reason_ok || code_ok) {
                    state.status = Status::Created;
                    self.release(job, effects);
                    self.enqueue_now(job, effects);
                    return;
                }
                state.status = Status::Failed;
                // With `allow_failure:exit_codes`, only the listed exit codes are allowed.
                state.allowed_failure = if def.allow_failure_exit_codes.is_empty() {
                    def.allow_failure
                } else {
                    exit_code.is_some_and(|c| def.allow_failure_exit_codes.contains(&c))
                };
            }
        }
        self.release(job, effects);
    }

    /// Frees the job's resource group and starts the next job waiting for it.
    fn release(&mut self, job: JobId, effects: &mut Vec<Effect>) {
        let Some(group) = self.defs[job.0].resource_group.clone() else {
            return;
        };
        if self.holders.get(&group) != Some(&job) {
            return;
        }
        self.holders.remove(&group);
        while let Some(next) = self.waiting.get_mut(&group).and_then(VecDeque::pop_front) {
            if self.states[next.0].status == Status::WaitingForResource {
                self.holders.insert(group.clone(), next);
                self.states[next.0].status = Status::Pending;
                self.states[next.0].attempts += 1;
                effects.push(Effect::Run(next));
                break;
            }
        }
    }

    /// Makes the job pending now (or waiting for its resource group).
    fn enqueue_now(&mut self, job: JobId, effects: &mut Vec<Effect>) {
        if let Some(group) = self.defs[job.0].resource_group.clone() {
            if self.holders.get(&group).is_some_and(|h| *h != job) {
                self.states[job.0].status = Status::WaitingForResource;
                self.waiting.entry(group).or_default().push_back(job);
                return;
            }
            self.holders.insert(group, job);
        }
        self.states[job.0].status = Status::Pending;
        self.states[job.0].attempts += 1;
        effects.push(Effect::Run(job));
    }

    /// A job back to `created`, its last result forgotten (its attempts count on).
    fn reset(&mut self, job: JobId) {
        let state = &mut self.states[job.0];
        state.status = Status::Created;
        state.exit_code = None;
        state.failure = None;
        state.allowed_failure = false;
    }

    /// Skipped jobs that come after any of `jobs` (a later stage, or needing one of them,
    /// directly or through other reset jobs) go back to `created`.
    fn reset_skipped_after(&mut self, jobs: &[JobId]) {
        let mut reset: Vec<JobId> = jobs.to_vec();
        loop {
            let mut changed = false;
            for i in 0..self.defs.len() {
                if self.states[i].status != Status::Skipped {
                    continue;
                }
                let def = &self.defs[i];
                let after = match &def.needs {
                    Some(needs) => needs.iter().any(|n| reset.contains(n)),
                    None => reset.iter().any(|r| self.defs[r.0].stage_index < def.stage_index),
                };
                if after {
                    self.reset(JobId(i));
                    reset.push(JobId(i));
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn auto_cancel(&mut self, mode: AutoCancel, effects: &mut Vec<Effect>) {
        match mode {
            AutoCancel::None => {}
            AutoCancel::Conservative => {
                let started_uninterruptible = self.defs.iter().zip(&self.states).any(|(d, s)| {
                    !d.interruptible
                        && (matches!(s.status, Status::Running | Status::Success | Status::Failed)
                            || (s.status == Status::Canceled && s.attempts > 0))
                });
                if !started_uninterruptible {
                    self.cancel(effects);
                }
            }
            AutoCancel::Interruptible => {
                for i in 0..self.states.len() {
                    if !self.defs[i].interruptible {
                        continue;
                    }
                    match self.states[i].status {
                        Status::Running | Status::Pending => effects.push(Effect::Stop(JobId(i))),
                        Status::Created | Status::WaitingForResource | Status::Manual | Status::Scheduled => {
                            self.states[i].status = Status::Canceled
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn cancel(&mut self, effects: &mut Vec<Effect>) {
        self.canceled = true;
        for i in 0..self.states.len() {
            match self.states[i].status {
                Status::Running | Status::Pending => effects.push(Effect::Stop(JobId(i))),
                Status::Created | Status::WaitingForResource | Status::Manual | Status::Scheduled => {
                    self.states[i].status = Status::Canceled;
                }
                _ => {}
            }
        }
    }

    /// The composite status of what comes before `job`, once it is complete.
    fn ready(&self, job: JobId) -> Option<Status> {
        let def = &self.defs[job.0];
        let before: Vec<(Status, bool)> = match &def.needs {
            Some(needs) => needs.iter().map(|n| self.contribution(*n)).collect(),
            None => (0..self.defs.len())
                .filter(|&i| self.defs[i].stage_index < def.stage_index)
                .map(|i| self.contribution(JobId(i)))
                .collect(),
        };
        let status = composite(before, def.needs.is_some()).unwrap_or(Status::Success);
        status.is_completed().then_some(status)
    }

    fn contribution(&self, job: JobId) -> (Status, bool) {
        let s = &self.states[job.0];
        let allowed = match s.status {
            Status::Manual => self.defs[job.0].allow_failure,
            _ => s.allowed_failure,
        };
        (s.status, allowed)
    }

    fn process(&mut self, effects: &mut Vec<Effect>) {
        if self.canceled {
            return;
        }
        loop {
            let mut changed = false;
            for i in 0..self.defs.len() {
                if self.states[i].status != Status::Created {
                    continue;
                }
                let Some(before) = self.ready(JobId(i)) else {
                    continue;
                };
                let def = &self.defs[i];
                let dag = def.needs.is_some();
                let valid = match def.when {
                    When::OnSuccess | When::Manual | When::Delayed => {
                        before == Status::Success || (!dag && before == Status::Skipped)
                    }
                    When::OnFailure => before == Status::Failed,
                    When::Always => matches!(before, Status::Success | Status::Failed | Status::Skipped),
                };
                changed = true;
                if !valid {
                    self.states[i].status = Status::Skipped;
                    continue;
                }
                match def.when {
                    When::Manual => self.states[i].status = Status::Manual,
                    When::Delayed => {
                        self.states[i].status = Status::Scheduled;
                        effects.push(Effect::Timer(JobId(i), def.start_in.unwrap_or(0)));
                    }
                    _ => self.enqueue_now(JobId(i), effects),
                }
            }
            if !changed {
                break;
            }
        }
    }
}
