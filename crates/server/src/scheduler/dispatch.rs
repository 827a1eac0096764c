//! Jobs waiting for a runner that asks over the runner protocol, and the runners' long polls.
//!
//! A pipeline's actor queues a job here (with its payload, all but the token) when the
//! in-process runner does not take it: it has tags, or the server runs no jobs itself. A
//! runner's `POST /jobs/request` takes the oldest queued job it may run (GitLab's rules:
//! every tag of the job among the runner's, untagged jobs only for `run_untagged` runners,
//! `ref_protected` runners only for protected refs, project runners only for their project).
//! The queue's tick changes whenever a job is queued; a held poll waits for it to change.
//! The queue is rebuilt from the pipelines after a restart (their actors queue again).

use gantry_store::db::Runner;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// A job waiting for a runner.
#[derive(Clone, Debug)]
pub(crate) struct Queued {
    /// The job's row.
    pub(crate) job_id: i64,
    /// Its pipeline.
    pub(crate) pipeline_id: i64,
    /// Its position in the pipeline's plan.
    pub(crate) plan_index: usize,
    /// Its project.
    pub(crate) project_id: i64,
    /// `tags:`.
    pub(crate) tags: Vec<String>,
    /// Whether its ref is protected.
    pub(crate) protected: bool,
    /// The payload of `POST /jobs/request`, without the job token.
    pub(crate) payload: Arc<serde_json::Value>,
}

impl Queued {
    /// Whether `runner` may run this job.
    pub(crate) fn fits(&self, runner: &Runner) -> bool {
        if runner.paused {
            return false;
        }
        if runner.runner_type == "project_type" && runner.project_id != Some(self.project_id) {
            return false;
        }
        if runner.access_level == "ref_protected" && !self.protected {
            return false;
        }
        if self.tags.is_empty() {
            return runner.run_untagged;
        }
        let own = runner.tag_list();
        self.tags.iter().all(|t| own.contains(t))
    }
}

/// A job taken out of the queue; back in it when dropped without [`Taken::keep`].
pub(crate) struct Taken<'a> {
    dispatch: &'a Dispatch,
    job: Option<Queued>,
}

impl Taken<'_> {
    /// The job.
    pub(crate) fn job(&self) -> &Queued {
        self.job.as_ref().expect("a taken job until kept")
    }

    /// It stays out of the queue (a runner has it, or it ended).
    pub(crate) fn keep(mut self) -> Queued {
        self.job.take().expect("kept once")
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            self.dispatch.push(job);
        }
    }
}

/// The queue, its tick, and the remote jobs someone asked to stop.
pub(crate) struct Dispatch {
    queue: Mutex<VecDeque<Queued>>,
    tick: watch::Sender<u64>,
    canceling: Mutex<HashSet<i64>>,
}

impl Dispatch {
    pub(crate) fn new() -> Self {
        Dispatch {
            queue: Mutex::new(VecDeque::new()),
            tick: watch::Sender::new(1),
            canceling: Mutex::new(HashSet::new()),
        }
    }

    /// Queues a job (again, when a runner did not confirm it) and wakes the held polls.
    pub(crate) fn push(&self, job: Queued) {
        {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.retain(|q| q.job_id != job.job_id);
            queue.push_back(job);
        }
        self.tick.send_modify(|t| *t = t.wrapping_add(1));
    }

    /// Takes a job out of the queue without running it (canceled); whether it was queued.
    pub(crate) fn remove(&self, job_id: i64) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let before = queue.len();
        queue.retain(|q| q.job_id != job_id);
        queue.len() != before
    }

    /// The oldest queued job `runner` may run, taken out of the queue: it goes back unless
    /// [`Taken::keep`] is called (the assignment failed, or the poll was dropped meanwhile).
    pub(crate) fn take(&self, runner: &Runner) -> Option<Taken<'_>> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let at = queue.iter().position(|q| q.fits(runner))?;
        let job = queue.remove(at)?;
        Some(Taken {
            dispatch: self,
            job: Some(job),
        })
    }

    /// How many jobs wait for a runner.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.queue.lock().map_or(0, |q| q.len())
    }

    /// The current tick, as `X-GitLab-Last-Update` says it.
    pub(crate) fn tick(&self) -> String {
        format!("{:x}", *self.tick.borrow())
    }

    /// A receiver that sees the tick change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.tick.subscribe()
    }

    /// Marks a job a runner holds as asked to stop (`Job-Status: canceling` from now on).
    pub(crate) fn cancel(&self, job_id: i64) {
        if let Ok(mut set) = self.canceling.lock() {
            set.insert(job_id);
        }
    }

    /// Whether someone asked to stop the job.
    pub(crate) fn is_canceling(&self, job_id: i64) -> bool {
        self.canceling.lock().is_ok_and(|s| s.contains(&job_id))
    }

    /// Forgets a job that ended.
    pub(crate) fn forget(&self, job_id: i64) {
        if let Ok(mut set) = self.canceling.lock() {
            set.remove(&job_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(tags: &str, run_untagged: bool) -> Runner {
        Runner {
            id: 1,
            token_sha256: String::new(),
            description: String::new(),
            runner_type: "instance_type".into(),
            project_id: None,
            tags: tags.into(),
            run_untagged,
            paused: false,
            locked: false,
            access_level: "not_protected".into(),
            maximum_timeout: None,
            created_by: None,
            created_at: 0,
            contacted_at: None,
            info_json: None,
        }
    }

    fn job(id: i64, tags: &[&str], protected: bool) -> Queued {
        Queued {
            job_id: id,
            pipeline_id: 1,
            plan_index: 0,
            project_id: 7,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            protected,
            payload: Arc::new(serde_json::json!({})),
        }
    }

    #[test]
    fn runners_take_only_the_jobs_gitlab_would_give_them() {
        let linux = runner("docker,linux", false);
        assert!(job(1, &["linux"], false).fits(&linux));
        assert!(job(1, &["linux", "docker"], false).fits(&linux));
        assert!(
            !job(1, &["linux", "gpu"], false).fits(&linux),
            "every tag of the job"
        );
        assert!(
            !job(1, &[], false).fits(&linux),
            "untagged jobs need run_untagged"
        );
        assert!(job(1, &[], false).fits(&runner("", true)));

        let mut protected_only = runner("", true);
        protected_only.access_level = "ref_protected".into();
        assert!(!job(1, &[], false).fits(&protected_only));
        assert!(job(1, &[], true).fits(&protected_only));

        let mut project = runner("", true);
        project.runner_type = "project_type".into();
        project.project_id = Some(8);
        assert!(!job(1, &[], false).fits(&project));
        project.project_id = Some(7);
        assert!(job(1, &[], false).fits(&project));

        let mut paused = runner("", true);
        paused.paused = true;
        assert!(!job(1, &[], false).fits(&paused));
    }

    #[test]
    fn the_oldest_fitting_job_is_taken_and_queueing_moves_the_tick() {
        let d = Dispatch::new();
        let before = d.tick();
        d.push(job(1, &["gpu"], false));
        d.push(job(2, &[], false));
        d.push(job(3, &[], false));
        assert_ne!(d.tick(), before);
        let untagged = runner("", true);
        assert_eq!(d.take(&untagged).map(Taken::keep).map(|q| q.job_id), Some(2));
        // Taken and dropped (a failed assignment): back in the queue.
        assert_eq!(d.take(&untagged).map(|t| t.job().job_id), Some(3));
        assert!(d.remove(3));
        assert!(d.take(&untagged).is_none());
        assert_eq!(d.len(), 1);
        // Queued again (a runner did not confirm it): once, at the end.
        d.push(job(1, &["gpu"], false));
        assert_eq!(d.len(), 1);
    }
}
