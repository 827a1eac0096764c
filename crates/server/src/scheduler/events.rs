//! Engine events as the store keeps them (one JSON object per event), so that a pipeline's
//! state machine can be rebuilt by replaying them.

use gantry_engine::{AutoCancel, Event, FailureReason, JobId, JobResult};
use serde_json::{Value, json};

/// The stored form of an event.
pub(crate) fn encode(event: &Event) -> String {
    let v = match event {
        Event::Started(j) => json!({"event": "started", "job": j.0}),
        Event::Finished(j, result) => match result {
            JobResult::Success => json!({"event": "finished", "job": j.0, "result": "success"}),
            JobResult::Canceled => json!({"event": "finished", "job": j.0, "result": "canceled"}),
            JobResult::Failed { exit_code, reason } => json!({
                "event": "finished", "job": j.0, "result": "failed",
                "exit_code": exit_code, "reason": reason.as_str(),
            }),
        },
        Event::Play(j) => json!({"event": "play", "job": j.0}),
        Event::TimerFired(j) => json!({"event": "timer", "job": j.0}),
        Event::Cancel => json!({"event": "cancel"}),
        Event::AutoCancel(mode) => json!({"event": "auto_cancel", "mode": match mode {
            AutoCancel::Conservative => "conservative",
            AutoCancel::Interruptible => "interruptible",
            AutoCancel::None => "none",
        }}),
        Event::Retry(j) => json!({"event": "retry", "job": j.0}),
        Event::RetryPipeline => json!({"event": "retry_pipeline"}),
    };
    v.to_string()
}

/// The event a stored form stands for; `None` for anything else (or a job out of range).
pub(crate) fn decode(text: &str, jobs: usize) -> Option<Event> {
    let v: Value = serde_json::from_str(text).ok()?;
    let job = || {
        v["job"]
            .as_u64()
            .and_then(|j| usize::try_from(j).ok())
            .filter(|j| *j < jobs)
            .map(JobId)
    };
    Some(match v["event"].as_str()? {
        "started" => Event::Started(job()?),
        "finished" => {
            let result = match v["result"].as_str()? {
                "success" => JobResult::Success,
                "canceled" => JobResult::Canceled,
                _ => JobResult::Failed {
                    exit_code: v["exit_code"].as_i64(),
                    reason: reason(v["reason"].as_str().unwrap_or_default()),
                },
            };
            Event::Finished(job()?, result)
        }
        "play" => Event::Play(job()?),
        "timer" => Event::TimerFired(job()?),
        "cancel" => Event::Cancel,
        "auto_cancel" => Event::AutoCancel(match v["mode"].as_str()? {
            "conservative" => AutoCancel::Conservative,
            "interruptible" => AutoCancel::Interruptible,
            "none" => AutoCancel::None,
            _ => return None,
        }),
        "retry" => Event::Retry(job()?),
        "retry_pipeline" => Event::RetryPipeline,
        _ => return None,
    })
}

fn reason(text: &str) -> FailureReason {
    match text {
        "script_failure" => FailureReason::ScriptFailure,
        "job_execution_timeout" => FailureReason::JobExecutionTimeout,
        "runner_system_failure" => FailureReason::RunnerSystemFailure,
        "image_pull_failure" => FailureReason::ImagePullFailure,
        "stuck_or_timeout_failure" => FailureReason::StuckOrTimeoutFailure,
        "trace_size_exceeded" => FailureReason::TraceSizeExceeded,
        "downstream_pipeline_creation_failed" => FailureReason::DownstreamPipelineCreationFailed,
        _ => FailureReason::UnknownFailure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_survives_the_round_trip() {
        let events = [
            Event::Started(JobId(1)),
            Event::Finished(JobId(0), JobResult::Success),
            Event::Finished(JobId(2), JobResult::Canceled),
            Event::Finished(
                JobId(2),
                JobResult::Failed {
                    exit_code: Some(3),
                    reason: FailureReason::ScriptFailure,
                },
            ),
            Event::Finished(
                JobId(1),
                JobResult::Failed {
                    exit_code: None,
                    reason: FailureReason::RunnerSystemFailure,
                },
            ),
            Event::Play(JobId(2)),
            Event::TimerFired(JobId(0)),
            Event::Cancel,
            Event::AutoCancel(AutoCancel::Conservative),
            Event::AutoCancel(AutoCancel::Interruptible),
            Event::AutoCancel(AutoCancel::None),
            Event::Retry(JobId(1)),
            Event::RetryPipeline,
        ];
        for e in events {
            assert_eq!(decode(&encode(&e), 3), Some(e), "{}", encode(&e));
        }
        assert_eq!(
            decode(r#"{"event":"started","job":3}"#, 3),
            None,
            "job out of range"
        );
        assert_eq!(decode("not json", 3), None);
    }
}
