//! Jobs: creation, retries as new rows, the claim queue under concurrency, updates, pages.

use crate::NOW;
use crate::backend::{each_backend, each_backend_url, project};
use crate::pipelines::pipeline;
use gantry_store::db::{Db, JobUpdate, NewJob, Page, StoreError};
use std::collections::BTreeSet;

pub(crate) fn new_job(name: &str, status: &str, plan_index: i64) -> NewJob {
    NewJob {
        name: name.to_owned(),
        stage: "test".to_owned(),
        stage_idx: 1,
        status: status.to_owned(),
        allow_failure: plan_index % 2 == 1,
        when: "on_success".to_owned(),
        plan_index,
        needs_json: "[\"build\"]".to_owned(),
        variable_names: "[]".to_owned(),
    }
}

#[tokio::test]
async fn jobs_are_created_in_order_and_pending_ones_are_queued() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        let jobs = db
            .create_jobs(
                pl.id,
                &[new_job("build", "created", 0), new_job("lint", "pending", 1)],
                NOW,
            )
            .await
            .expect("create");
        assert_eq!(jobs.len(), 2);
        let (build, lint) = (&jobs[0], &jobs[1]);
        assert_eq!((build.pipeline_id, build.project_id), (pl.id, p.id));
        assert_eq!(build.needs_json, r#"["build"]"#, "needs are kept for the graph");
        assert_eq!(
            (build.name.as_str(), build.stage.as_str(), build.stage_idx),
            ("build", "test", 1)
        );
        assert_eq!(
            (build.when.as_str(), build.plan_index, build.attempt),
            ("on_success", 0, 1)
        );
        assert!(!build.allow_failure && lint.allow_failure);
        assert!(!build.retried);
        assert_eq!((build.queued_at, lint.queued_at), (None, Some(NOW)));
        assert_eq!(
            (build.exit_code, build.runner_id, build.failure_reason.as_deref()),
            (None, None, None)
        );
        assert_eq!(db.job(lint.id).await.expect("read"), Some(lint.clone()));
        assert_eq!(db.jobs_of_pipeline(pl.id, false).await.expect("list"), jobs);
        let retry = db.create_retry(build.id, NOW + 1).await.expect("retry");
        assert_eq!(retry.needs_json, build.needs_json, "a retry keeps them");
        let err = db
            .create_jobs(pl.id + 99, &[new_job("x", "created", 0)], NOW)
            .await
            .expect_err("no pipeline");
        assert!(err.is_not_found(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn a_retry_adds_a_row_and_marks_the_old_one_retried() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        let jobs = db
            .create_jobs(
                pl.id,
                &[new_job("build", "created", 0), new_job("test", "created", 1)],
                NOW,
            )
            .await
            .expect("create");
        let failed = JobUpdate {
            status: Some("failed".to_owned()),
            exit_code: Some(1),
            failure_reason: Some("script_failure".to_owned()),
            finished_at: Some(NOW + 10),
            ..JobUpdate::default()
        };
        db.update_job(jobs[1].id, &failed).await.expect("fail");
        assert!(
            db.set_play_variables(jobs[1].id, Some(b"sealed"))
                .await
                .expect("play")
        );
        let retry = db.create_retry(jobs[1].id, NOW + 20).await.expect("retry");
        assert_eq!(
            db.play_variables(retry.id).await.expect("read").as_deref(),
            Some(&b"sealed"[..]),
            "a retry runs with the variables its job was played with"
        );
        assert_eq!(db.play_variables(jobs[0].id).await.expect("read"), None);
        assert_ne!(retry.id, jobs[1].id);
        assert_eq!(
            (retry.name.as_str(), retry.plan_index, retry.attempt),
            ("test", 1, 2)
        );
        assert_eq!(
            (retry.status.as_str(), retry.queued_at, retry.created_at),
            ("pending", Some(NOW + 20), NOW + 20)
        );
        assert_eq!(
            (retry.allow_failure, retry.retried, retry.exit_code),
            (true, false, None)
        );
        let old = db.job(jobs[1].id).await.expect("read").expect("exists");
        assert!(old.retried);
        assert_eq!((old.status.as_str(), old.exit_code), ("failed", Some(1)));

        let current: Vec<i64> = db
            .jobs_of_pipeline(pl.id, false)
            .await
            .expect("list")
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(current, [jobs[0].id, retry.id]);
        let all: Vec<i64> = db
            .jobs_of_pipeline(pl.id, true)
            .await
            .expect("list")
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(all, [jobs[0].id, jobs[1].id, retry.id]);

        let err = db.create_retry(jobs[1].id, NOW).await.expect_err("retried twice");
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let third = db
            .create_retry(retry.id, NOW + 30)
            .await
            .expect("retry the retry");
        assert_eq!(third.attempt, 3);
        let err = db.create_retry(third.id + 99, NOW).await.expect_err("missing");
        assert!(err.is_not_found(), "{err:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_hand_out_each_pending_job_exactly_once() {
    // Two pools on one database, as two server processes would have: on SQLite they share
    // only the file lock, not the in-process writer queue.
    each_backend_url(async |url| {
        let db = Db::connect(url).await.expect("connect");
        let other = Db::connect(url).await.expect("connect again");
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        let new: Vec<NewJob> = (0..50)
            .map(|i| new_job(&format!("job {i}"), "pending", i))
            .collect();
        let mut expected: Vec<i64> = db
            .create_jobs(pl.id, &new, NOW)
            .await
            .expect("create")
            .iter()
            .map(|j| j.id)
            .collect();
        db.create_jobs(pl.id, &[new_job("manual", "manual", 50)], NOW)
            .await
            .expect("create");
        let mut tasks = Vec::new();
        for runner in 1..=8 {
            let db = if runner % 2 == 0 {
                db.clone()
            } else {
                other.clone()
            };
            tasks.push(tokio::spawn(async move {
                let mut claimed = Vec::new();
                while let Some(job) = db.claim_pending_job(runner, NOW + 1).await.expect("claim") {
                    assert_eq!(
                        (job.status.as_str(), job.runner_id, job.started_at),
                        ("running", Some(runner), Some(NOW + 1))
                    );
                    claimed.push(job.id);
                }
                claimed
            }));
        }
        let mut claimed = Vec::new();
        for task in tasks {
            claimed.extend(task.await.expect("task"));
        }
        let unique: BTreeSet<i64> = claimed.iter().copied().collect();
        assert_eq!(
            unique.len(),
            claimed.len(),
            "a job was claimed twice: {claimed:?}"
        );
        claimed.sort_unstable();
        expected.sort_unstable();
        assert_eq!(claimed, expected);
        assert!(db.claim_pending_job(1, NOW).await.expect("claim").is_none());
        db.close().await;
        other.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_oldest_pending_job_is_claimed_first() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        assert!(db.claim_pending_job(1, NOW).await.expect("claim").is_none());
        let jobs = db
            .create_jobs(
                pl.id,
                &[
                    new_job("a", "created", 0),
                    new_job("b", "pending", 1),
                    new_job("c", "pending", 2),
                ],
                NOW,
            )
            .await
            .expect("create");
        let pending = JobUpdate {
            status: Some("pending".to_owned()),
            queued_at: Some(NOW + 5),
            ..JobUpdate::default()
        };
        db.update_job(jobs[0].id, &pending).await.expect("queue a");
        let order: Vec<String> = [
            db.claim_pending_job(7, NOW).await,
            db.claim_pending_job(7, NOW).await,
            db.claim_pending_job(7, NOW).await,
        ]
        .into_iter()
        .map(|j| j.expect("claim").expect("a job").name)
        .collect();
        assert_eq!(order, ["a", "b", "c"]);
    })
    .await;
}

#[tokio::test]
async fn job_updates_and_project_job_pages_with_scopes() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let other = project(&db, "other").await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            let pl = pipeline(&db, p.id).await;
            let new: Vec<NewJob> = (0..5).map(|i| new_job(&format!("j{i}"), "created", i)).collect();
            ids.extend(
                db.create_jobs(pl.id, &new, NOW)
                    .await
                    .expect("create")
                    .iter()
                    .map(|j| j.id),
            );
        }
        let other_pl = pipeline(&db, other.id).await;
        db.create_jobs(other_pl.id, &[new_job("x", "created", 0)], NOW)
            .await
            .expect("create");
        for (i, id) in ids.iter().enumerate() {
            let status = ["success", "failed", "running"][i % 3];
            let update = JobUpdate {
                status: Some(status.to_owned()),
                runner_id: Some(3),
                started_at: Some(NOW + 1),
                ..JobUpdate::default()
            };
            db.update_job(*id, &update).await.expect("update");
        }
        let job = db.job(ids[0]).await.expect("read").expect("exists");
        assert_eq!(
            (
                job.status.as_str(),
                job.runner_id,
                job.started_at,
                job.finished_at
            ),
            ("success", Some(3), Some(NOW + 1), None)
        );

        let (page, total) = db
            .list_project_jobs(p.id, &[], Page { page: 1, per_page: 4 })
            .await
            .expect("list");
        assert_eq!(total, 15);
        assert_eq!(
            page.iter().map(|j| j.id).collect::<Vec<_>>(),
            ids.iter().rev().take(4).copied().collect::<Vec<_>>()
        );
        let scopes = ["failed".to_owned(), "running".to_owned()];
        let (page, total) = db
            .list_project_jobs(p.id, &scopes, Page { page: 2, per_page: 8 })
            .await
            .expect("list");
        assert_eq!((page.len(), total), (2, 10));
        assert!(page.iter().all(|j| j.status != "success"));
        let (_, total) = db
            .list_project_jobs(p.id, &["canceled".to_owned()], Page::default())
            .await
            .expect("list");
        assert_eq!(total, 0);

        db.update_job(ids[0], &JobUpdate::default())
            .await
            .expect("no change");
        let err = db
            .update_job(
                ids[0] + 999,
                &JobUpdate {
                    exit_code: Some(0),
                    ..JobUpdate::default()
                },
            )
            .await
            .expect_err("missing");
        assert!(
            matches!(err, StoreError::NotFound { entity: "job", .. }),
            "{err:?}"
        );
    })
    .await;
}
