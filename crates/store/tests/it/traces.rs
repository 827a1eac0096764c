//! Traces: appends at the current length only, reads from any offset.

use crate::NOW;
use crate::backend::{each_backend, project};
use crate::jobs::new_job;
use crate::pipelines::pipeline;
use gantry_store::db::{Db, Job, StoreError};

async fn job(db: &Db) -> Job {
    let p = project(db, "app").await;
    let pl = pipeline(db, p.id).await;
    db.create_jobs(pl.id, &[new_job("build", "running", 0)], NOW)
        .await
        .expect("create")
        .remove(0)
}

#[tokio::test]
async fn a_trace_grows_by_appends_and_reads_from_any_offset() {
    each_backend(async |db| {
        let job = job(&db).await;
        assert_eq!(db.trace_len(job.id).await.expect("len"), 0);
        assert_eq!(db.trace(job.id, 0).await.expect("read"), b"");
        assert_eq!(db.append_trace(job.id, 0, b"hello ").await.expect("append"), 6);
        assert_eq!(db.append_trace(job.id, 6, b"").await.expect("empty append"), 6);
        assert_eq!(db.append_trace(job.id, 6, b"world\n").await.expect("append"), 12);
        let binary = [0u8, 0xff, 0x1b, b'[', b'0', b'm'];
        assert_eq!(db.append_trace(job.id, 12, &binary).await.expect("append"), 18);
        assert_eq!(db.trace_len(job.id).await.expect("len"), 18);
        let mut all = b"hello world\n".to_vec();
        all.extend_from_slice(&binary);
        assert_eq!(db.trace(job.id, 0).await.expect("read"), all);
        assert_eq!(db.trace(job.id, 3).await.expect("read"), all[3..]);
        assert_eq!(db.trace(job.id, 6).await.expect("read"), all[6..]);
        assert_eq!(db.trace(job.id, 13).await.expect("read"), all[13..]);
        assert_eq!(db.trace(job.id, 18).await.expect("read"), b"");
        assert_eq!(db.trace(job.id, 100).await.expect("read"), b"");
        assert_eq!(db.trace(job.id, -5).await.expect("read"), all);
    })
    .await;
}

#[tokio::test]
async fn an_append_at_the_wrong_offset_is_refused_with_the_length() {
    each_backend(async |db| {
        let job = job(&db).await;
        db.append_trace(job.id, 0, b"abc").await.expect("append");
        for wrong in [0, 2, 4] {
            let err = db
                .append_trace(job.id, wrong, b"x")
                .await
                .expect_err("wrong offset");
            assert!(
                matches!(err, StoreError::TraceOffset { expected: 3, given } if given == wrong),
                "{err:?}"
            );
        }
        assert_eq!(db.trace(job.id, 0).await.expect("read"), b"abc");
        let err = db.append_trace(job.id + 99, 0, b"x").await.expect_err("no job");
        assert!(err.is_not_found(), "{err:?}");
        assert!(db.trace(job.id + 99, 0).await.expect_err("no job").is_not_found());
        assert!(
            db.trace_len(job.id + 99)
                .await
                .expect_err("no job")
                .is_not_found()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_appends_at_one_offset_exactly_one_wins() {
    each_backend(async |db| {
        let job = job(&db).await;
        let mut tasks = Vec::new();
        for i in 0..8u8 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.append_trace(job.id, 0, &[b'a' + i; 4]).await
            }));
        }
        let mut won = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(len) => {
                    assert_eq!(len, 4);
                    won += 1;
                }
                Err(StoreError::TraceOffset {
                    expected: 4,
                    given: 0,
                }) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!(won, 1);
        assert_eq!(db.trace(job.id, 0).await.expect("read").len(), 4);
    })
    .await;
}

#[tokio::test]
async fn a_retry_starts_an_empty_trace() {
    each_backend(async |db| {
        let job = job(&db).await;
        db.append_trace(job.id, 0, b"first attempt")
            .await
            .expect("append");
        let retry = db.create_retry(job.id, NOW).await.expect("retry");
        assert_eq!(db.trace_len(retry.id).await.expect("len"), 0);
        assert_eq!(db.trace(job.id, 0).await.expect("old trace"), b"first attempt");
    })
    .await;
}
