//! Changes the dashboard follows live: a pipeline (or one of its jobs) changed status, or a
//! job's trace grew. Writers announce a change after it is stored; readers (the dashboard's
//! event streams) subscribe and read the store again, so a missed or lagging announcement
//! costs a refresh, never a wrong page.

use tokio::sync::broadcast;

/// Something stored changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// A pipeline of the project, or one of its jobs, changed.
    Pipeline {
        /// The project.
        project_id: i64,
        /// The pipeline.
        pipeline_id: i64,
    },
    /// The trace of a job attempt grew.
    Trace {
        /// The job attempt.
        job_id: i64,
    },
}

/// The announcements.
pub struct Live {
    tx: broadcast::Sender<Change>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    /// A hub without subscribers.
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(1024).0,
        }
    }

    /// Announces a stored change (nobody listening is fine).
    pub fn send(&self, change: Change) {
        let _ = self.tx.send(change);
    }

    /// Hears every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }
}
