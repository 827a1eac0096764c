//! Prometheus metrics served at `/metrics` (OpenMetrics text): pipelines created by source,
//! jobs finished by status, jobs waiting for a slot and running, and job durations.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    pipelines: Family<SourceLabel, Counter>,
    jobs: Family<StatusLabel, Counter>,
    queued: Gauge,
    running: Gauge,
    durations: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gantry");
        let pipelines = Family::<SourceLabel, Counter>::default();
        registry.register(
            "pipelines_created",
            "Pipelines created, by source",
            pipelines.clone(),
        );
        let jobs = Family::<StatusLabel, Counter>::default();
        registry.register("jobs_finished", "Job attempts finished, by status", jobs.clone());
        let queued = Gauge::default();
        registry.register(
            "jobs_queued",
            "Jobs pending, waiting for a runner slot",
            queued.clone(),
        );
        let running = Gauge::default();
        registry.register("jobs_running", "Jobs running", running.clone());
        let durations = Histogram::new(exponential_buckets(0.05, 2.0, 16));
        registry.register(
            "job_duration_seconds",
            "How long job attempts ran",
            durations.clone(),
        );
        Metrics {
            registry,
            pipelines,
            jobs,
            queued,
            running,
            durations,
        }
    }

    /// A pipeline was created.
    pub fn pipeline_created(&self, source: &str) {
        self.pipelines
            .get_or_create(&SourceLabel {
                source: source.to_owned(),
            })
            .inc();
    }

    /// A job attempt was handed to the runner and waits for a slot.
    pub fn job_queued(&self) {
        self.queued.inc();
    }

    /// A queued job started.
    pub fn job_started(&self) {
        self.queued.dec();
        self.running.inc();
    }

    /// A job attempt ended after running `seconds` (`None` when it never started).
    pub fn job_finished(&self, status: &str, seconds: Option<f64>) {
        match seconds {
            Some(s) => {
                self.running.dec();
                self.durations.observe(s);
            }
            None => {
                self.queued.dec();
            }
        }
        self.jobs
            .get_or_create(&StatusLabel {
                status: status.to_owned(),
            })
            .inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counters_and_gauges_show_in_the_text() {
        let m = super::Metrics::new();
        m.pipeline_created("push");
        m.job_queued();
        m.job_started();
        m.job_finished("success", Some(0.2));
        m.job_queued();
        let text = m.encode();
        assert!(
            text.contains("gantry_pipelines_created_total{source=\"push\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("gantry_jobs_finished_total{status=\"success\"} 1"),
            "{text}"
        );
        assert!(text.contains("gantry_jobs_queued 1"), "{text}");
        assert!(text.contains("gantry_jobs_running 0"), "{text}");
        assert!(text.contains("gantry_job_duration_seconds_count 1"), "{text}");
    }
}
