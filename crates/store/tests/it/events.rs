//! Pipeline events: numbered per pipeline, read back in order.

use crate::NOW;
use crate::backend::{each_backend, project};
use crate::pipelines::pipeline;
use gantry_store::db::{EventBatch, JobUpdate, PipelineUpdate, TraceAppend};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_are_numbered_per_pipeline_and_replayed_in_order() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let first = pipeline(&db, p.id).await;
        let second = pipeline(&db, p.id).await;
        assert!(db.events(first.id).await.expect("none").is_empty());
        assert_eq!(
            db.append_event(first.id, r#"{"started":0}"#, NOW)
                .await
                .expect("append"),
            1
        );
        assert_eq!(
            db.append_event(second.id, r#"{"started":1}"#, NOW)
                .await
                .expect("append"),
            1
        );
        assert_eq!(
            db.append_event(first.id, r#"{"finished":0}"#, NOW)
                .await
                .expect("append"),
            2
        );
        let events = db.events(first.id).await.expect("read");
        assert_eq!(
            events,
            [
                (1, r#"{"started":0}"#.to_owned()),
                (2, r#"{"finished":0}"#.to_owned())
            ]
        );

        let mut tasks = Vec::new();
        for i in 0..10 {
            let db = db.clone();
            let id = second.id;
            tasks.push(tokio::spawn(async move {
                db.append_event(id, &format!("{{\"n\":{i}}}"), NOW).await
            }));
        }
        for task in tasks {
            task.await.expect("task").expect("append");
        }
        let seqs: Vec<i64> = db
            .events(second.id)
            .await
            .expect("read")
            .iter()
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(seqs, (1..=11).collect::<Vec<_>>());
        let err = db
            .append_event(second.id + 99, "{}", NOW)
            .await
            .expect_err("no pipeline");
        assert!(err.is_not_found(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn an_event_and_the_statuses_it_changed_are_stored_together_or_not_at_all() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        let jobs = db
            .create_jobs(pl.id, &[crate::jobs::new_job("build", "pending", 0)], NOW)
            .await
            .expect("create");
        let running = JobUpdate {
            status: Some("running".into()),
            started_at: Some(NOW + 1),
            ..JobUpdate::default()
        };
        let pipeline_running = PipelineUpdate {
            status: Some("running".into()),
            started_at: Some(NOW + 1),
            ..PipelineUpdate::default()
        };
        let seq = db
            .record_event(
                pl.id,
                r#"{"started":0}"#,
                &[(jobs[0].id, running.clone())],
                Some(&pipeline_running),
                NOW + 1,
            )
            .await
            .expect("record");
        assert_eq!(seq, 1);
        let job = db.job(jobs[0].id).await.expect("read").expect("job");
        assert_eq!((job.status.as_str(), job.started_at), ("running", Some(NOW + 1)));
        let stored = db.pipeline(pl.id).await.expect("read").expect("pipeline");
        assert_eq!(stored.status, "running");

        // An update of a job that does not exist undoes the whole record, event included.
        let err = db
            .record_event(
                pl.id,
                r#"{"finished":0}"#,
                &[(jobs[0].id + 999, running)],
                None,
                NOW + 2,
            )
            .await
            .expect_err("a missing job");
        assert!(err.is_not_found(), "{err:?}");
        assert_eq!(db.events(pl.id).await.expect("events").len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_batch_stores_its_traces_events_and_statuses_together_or_not_at_all() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        let jobs = db
            .create_jobs(
                pl.id,
                &[
                    crate::jobs::new_job("a", "running", 0),
                    crate::jobs::new_job("b", "running", 1),
                ],
                NOW,
            )
            .await
            .expect("create");
        db.append_event(pl.id, r#"{"started":0}"#, NOW)
            .await
            .expect("append");
        db.append_trace(jobs[0].id, 0, b"first\n").await.expect("trace");
        let done = JobUpdate {
            status: Some("success".into()),
            finished_at: Some(NOW + 1),
            ..JobUpdate::default()
        };
        let batch = EventBatch {
            traces: vec![
                TraceAppend {
                    job_id: jobs[0].id,
                    offset: 6,
                    bytes: b"second\n".to_vec(),
                },
                TraceAppend {
                    job_id: jobs[1].id,
                    offset: 0,
                    bytes: b"b's log\n".to_vec(),
                },
            ],
            events: vec![r#"{"finished":0}"#.into(), r#"{"finished":1}"#.into()],
            jobs: vec![(jobs[0].id, done.clone()), (jobs[1].id, done.clone())],
            pipeline: Some(PipelineUpdate {
                status: Some("success".into()),
                ..PipelineUpdate::default()
            }),
        };
        let recorded = db.record_events(pl.id, &batch, NOW + 1).await.expect("record");
        assert_eq!(recorded.last_seq, 3);
        assert_eq!(recorded.trace_lens, [13, 8]);
        assert_eq!(db.trace(jobs[0].id, 0).await.expect("trace"), b"first\nsecond\n");
        assert_eq!(db.trace(jobs[1].id, 0).await.expect("trace"), b"b's log\n");
        let seqs: Vec<i64> = db
            .events(pl.id)
            .await
            .expect("events")
            .iter()
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(
            db.job(jobs[1].id).await.expect("read").expect("job").status,
            "success"
        );
        assert_eq!(
            db.pipeline(pl.id).await.expect("read").expect("pl").status,
            "success"
        );

        // A trace whose length moved (here: appended at a stale offset) undoes the whole
        // batch: no event, no status, no other trace bytes.
        let stale = EventBatch {
            traces: vec![
                TraceAppend {
                    job_id: jobs[1].id,
                    offset: 8,
                    bytes: b"more\n".to_vec(),
                },
                TraceAppend {
                    job_id: jobs[0].id,
                    offset: 6,
                    bytes: b"again\n".to_vec(),
                },
            ],
            events: vec![r#"{"retry":0}"#.into()],
            jobs: vec![(
                jobs[0].id,
                JobUpdate {
                    status: Some("pending".into()),
                    ..JobUpdate::default()
                },
            )],
            pipeline: None,
        };
        let err = db
            .record_events(pl.id, &stale, NOW + 2)
            .await
            .expect_err("stale offset");
        assert!(
            matches!(
                err,
                gantry_store::db::StoreError::TraceOffset {
                    expected: 13,
                    given: 6
                }
            ),
            "{err:?}"
        );
        assert_eq!(db.trace(jobs[1].id, 0).await.expect("trace"), b"b's log\n");
        assert_eq!(db.events(pl.id).await.expect("events").len(), 3);
        assert_eq!(
            db.job(jobs[0].id).await.expect("read").expect("job").status,
            "success"
        );
    })
    .await;
}
