//! Pipelines: per-project iids under concurrency, filters and pages, updates, resuming.

use crate::NOW;
use crate::backend::{each_backend, each_backend_url, project};
use gantry_store::db::{Db, NewPipeline, Page, Pipeline, PipelineFilter, PipelineUpdate, StoreError};

pub(crate) fn new_pipeline(project_id: i64, ref_name: &str) -> NewPipeline {
    NewPipeline {
        project_id,
        ref_name: ref_name.to_owned(),
        tag: false,
        sha: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        before_sha: "0".repeat(40),
        source: "push".to_owned(),
        status: "created".to_owned(),
        config_errors: None,
        variables_json: "[]".to_owned(),
        user_id: None,
        commit_title: "Add the pipeline".to_owned(),
        parent_job_id: None,
        root_config: None,
    }
}

pub(crate) async fn pipeline(db: &Db, project_id: i64) -> Pipeline {
    let p = db
        .create_pipeline(&new_pipeline(project_id, "main"), NOW)
        .await
        .expect("pipeline");
    assert_eq!(p.commit_title, "Add the pipeline", "the commit's title is kept");
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn iids_are_unique_and_gapless_per_project_under_concurrent_creation() {
    // Two pools on one database, as two server processes would have.
    each_backend_url(async |url| {
        let db = Db::connect(url).await.expect("connect");
        let other = Db::connect(url).await.expect("connect again");
        let a = project(&db, "a").await;
        let b = project(&db, "b").await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let db = if i % 4 < 2 { db.clone() } else { other.clone() };
            let project_id = if i % 2 == 0 { a.id } else { b.id };
            tasks.push(tokio::spawn(async move {
                db.create_pipeline(&new_pipeline(project_id, "main"), NOW + i)
                    .await
            }));
        }
        let mut iids_a = Vec::new();
        let mut iids_b = Vec::new();
        for task in tasks {
            let p = task.await.expect("task").expect("create");
            if p.project_id == a.id {
                iids_a.push(p.iid)
            } else {
                iids_b.push(p.iid)
            }
        }
        iids_a.sort_unstable();
        iids_b.sort_unstable();
        assert_eq!(iids_a, (1..=20).collect::<Vec<_>>());
        assert_eq!(iids_b, (1..=20).collect::<Vec<_>>());
        let p = db
            .pipeline_by_iid(a.id, 7)
            .await
            .expect("by iid")
            .expect("exists");
        assert_eq!((p.project_id, p.iid), (a.id, 7));
        db.close().await;
        other.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_pipeline_keeps_what_it_was_created_with() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let mut new = new_pipeline(p.id, "v1.0");
        new.tag = true;
        new.source = "api".to_owned();
        new.status = "failed".to_owned();
        new.config_errors = Some(r#"["jobs:x config should be a hash"]"#.to_owned());
        new.variables_json = r#"[{"key":"A","value":"1"}]"#.to_owned();
        let created = db.create_pipeline(&new, NOW).await.expect("create");
        assert_eq!(created.iid, 1);
        assert!(created.tag);
        assert_eq!(created.config_errors, new.config_errors);
        assert_eq!(created.variables_json, new.variables_json);
        assert_eq!((created.created_at, created.updated_at), (NOW, NOW));
        assert_eq!(
            (created.started_at, created.finished_at, created.duration),
            (None, None, None)
        );
        assert!(created.is_finished());
        assert_eq!(
            db.pipeline(created.id).await.expect("read"),
            Some(created.clone())
        );
        let err = db
            .create_pipeline(&new_pipeline(p.id + 99, "main"), NOW)
            .await
            .expect_err("no project");
        assert!(err.is_not_found(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn pipelines_are_listed_newest_first_with_filters_and_totals() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let other = project(&db, "other").await;
        for i in 0..12 {
            let mut new = new_pipeline(p.id, if i % 3 == 0 { "feature" } else { "main" });
            if i % 4 == 0 {
                new.source = "web".to_owned();
            }
            db.create_pipeline(&new, NOW + i).await.expect("create");
        }
        pipeline(&db, other.id).await;
        let all = PipelineFilter::default();
        let (page, total) = db
            .list_pipelines(p.id, &all, Page { page: 1, per_page: 5 })
            .await
            .expect("list");
        assert_eq!(total, 12);
        assert_eq!(page.iter().map(|p| p.iid).collect::<Vec<_>>(), [12, 11, 10, 9, 8]);
        let (page, _) = db
            .list_pipelines(p.id, &all, Page { page: 3, per_page: 5 })
            .await
            .expect("list");
        assert_eq!(page.iter().map(|p| p.iid).collect::<Vec<_>>(), [2, 1]);

        let feature = PipelineFilter {
            ref_name: Some("feature".to_owned()),
            ..PipelineFilter::default()
        };
        let (page, total) = db
            .list_pipelines(p.id, &feature, Page::default())
            .await
            .expect("list");
        assert_eq!(total, 4);
        assert!(page.iter().all(|p| p.ref_name == "feature"));
        let web_feature = PipelineFilter {
            source: Some("web".to_owned()),
            ..feature
        };
        let (page, total) = db
            .list_pipelines(p.id, &web_feature, Page::default())
            .await
            .expect("list");
        assert_eq!(total, 1);
        assert_eq!(page[0].iid, 1);
        let by_sha_and_status = PipelineFilter {
            sha: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
            status: Some("running".to_owned()),
            ..PipelineFilter::default()
        };
        let (page, total) = db
            .list_pipelines(p.id, &by_sha_and_status, Page::default())
            .await
            .expect("list");
        assert_eq!((page.len(), total), (0, 0));
    })
    .await;
}

#[tokio::test]
async fn updates_change_only_the_given_columns_and_unfinished_pipelines_are_found() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let first = pipeline(&db, p.id).await;
        let second = pipeline(&db, p.id).await;
        let third = pipeline(&db, p.id).await;
        let running = PipelineUpdate {
            status: Some("running".to_owned()),
            started_at: Some(NOW + 5),
            ..PipelineUpdate::default()
        };
        db.update_pipeline(first.id, &running).await.expect("start");
        let read = db.pipeline(first.id).await.expect("read").expect("exists");
        assert_eq!(read.status, "running");
        assert_eq!(
            (read.started_at, read.updated_at, read.finished_at),
            (Some(NOW + 5), NOW + 5, None)
        );
        let done = PipelineUpdate {
            status: Some("success".to_owned()),
            finished_at: Some(NOW + 65_000),
            duration: Some(60),
            ..PipelineUpdate::default()
        };
        db.update_pipeline(first.id, &done).await.expect("finish");
        let read = db.pipeline(first.id).await.expect("read").expect("exists");
        assert_eq!(read.status, "success");
        assert_eq!(read.started_at, Some(NOW + 5));
        assert_eq!(
            (read.finished_at, read.duration, read.updated_at),
            (Some(NOW + 65_000), Some(60), NOW + 65_000)
        );
        let touched = PipelineUpdate {
            config_errors: Some("[]".to_owned()),
            updated_at: Some(NOW + 70_000),
            ..PipelineUpdate::default()
        };
        db.update_pipeline(second.id, &touched).await.expect("touch");
        let read = db.pipeline(second.id).await.expect("read").expect("exists");
        assert_eq!(
            (read.config_errors.as_deref(), read.updated_at),
            (Some("[]"), NOW + 70_000)
        );
        db.update_pipeline(third.id, &PipelineUpdate::default())
            .await
            .expect("no change");
        let canceled = PipelineUpdate {
            status: Some("canceled".to_owned()),
            ..PipelineUpdate::default()
        };
        db.update_pipeline(third.id, &canceled).await.expect("cancel");
        let unfinished: Vec<i64> = db
            .unfinished_pipelines()
            .await
            .expect("unfinished")
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(unfinished, [second.id]);
        for update in [PipelineUpdate::default(), canceled] {
            let err = db
                .update_pipeline(third.id + 99, &update)
                .await
                .expect_err("missing");
            assert!(
                matches!(
                    err,
                    StoreError::NotFound {
                        entity: "pipeline",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    })
    .await;
}
