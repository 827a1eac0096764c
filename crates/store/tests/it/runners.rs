//! Runners and job assignment: tokens by hash, settings, and one job never to two runners.

use crate::NOW;
use crate::backend::{each_backend, project};
use crate::pipelines::pipeline;
use gantry_store::db::{NewRunner, RunnerUpdate};

fn new_runner(tags: &[&str]) -> NewRunner {
    NewRunner {
        description: "builder".into(),
        runner_type: "instance_type".into(),
        project_id: None,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        run_untagged: false,
        paused: false,
        locked: false,
        access_level: "not_protected".into(),
        maximum_timeout: Some(600),
        created_by: None,
    }
}

#[tokio::test]
async fn runners_are_found_by_token_hash_and_changed() {
    each_backend(async |db| {
        let r = db
            .create_runner(&new_runner(&["linux", " docker", "linux", ""]), "hash-1", NOW)
            .await
            .expect("create");
        assert_eq!(r.tags, "docker,linux", "trimmed, sorted, once each");
        assert_eq!(r.tag_list(), ["docker", "linux"]);
        assert_eq!(db.runner_by_token("hash-1").await.expect("read"), Some(r.clone()));
        assert_eq!(db.runner_by_token("hash-2").await.expect("read"), None);
        let changed = db
            .update_runner(
                r.id,
                &RunnerUpdate {
                    paused: Some(true),
                    tags: Some(vec!["gpu".into()]),
                    maximum_timeout: Some(None),
                    ..RunnerUpdate::default()
                },
            )
            .await
            .expect("update");
        assert!(changed.paused);
        assert_eq!(changed.tags, "gpu");
        assert_eq!(changed.maximum_timeout, None);
        assert_eq!(changed.description, "builder", "the rest stays");
        db.touch_runner(r.id, Some(r#"{"version":"1"}"#), NOW + 5)
            .await
            .expect("touch");
        let seen = db.runner(r.id).await.expect("read").expect("runner");
        assert_eq!(seen.contacted_at, Some(NOW + 5));
        assert_eq!(seen.info_json.as_deref(), Some(r#"{"version":"1"}"#));
        assert_eq!(db.runners().await.expect("list").len(), 1);
        assert!(db.delete_runner(r.id).await.expect("delete"));
        assert!(!db.delete_runner(r.id).await.expect("delete again"));
        assert!(db.runner(r.id).await.expect("read").is_none());
    })
    .await;
}

#[tokio::test]
async fn a_job_goes_to_one_runner_and_its_token_lives_until_revoked() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        let jobs = db
            .create_jobs(pl.id, &[crate::jobs::new_job("build", "pending", 0)], NOW)
            .await
            .expect("create");
        let job = jobs[0].id;
        let a = db.create_runner(&new_runner(&[]), "a", NOW).await.expect("a");
        let b = db.create_runner(&new_runner(&[]), "b", NOW).await.expect("b");
        assert!(db.assign_job(job, a.id, "token-a", NOW).await.expect("assign"));
        assert!(
            !db.assign_job(job, b.id, "token-b", NOW).await.expect("assign"),
            "taken"
        );
        let held = db.job_by_token("token-a").await.expect("read").expect("job");
        assert_eq!((held.id, held.runner_id), (job, Some(a.id)));
        assert!(db.job_by_token("token-b").await.expect("read").is_none());
        // Taken back (not confirmed in time): another runner may have it.
        db.release_job(job).await.expect("release");
        assert!(db.job_by_token("token-a").await.expect("read").is_none());
        assert!(db.assign_job(job, b.id, "token-b", NOW).await.expect("assign"));
        db.revoke_job_token(job).await.expect("revoke");
        assert!(db.job_by_token("token-b").await.expect("read").is_none());
        // A finished job is given to nobody.
        db.release_job(job).await.expect("release");
        db.update_job(
            job,
            &gantry_store::db::JobUpdate {
                status: Some("canceled".into()),
                ..Default::default()
            },
        )
        .await
        .expect("cancel");
        assert!(!db.assign_job(job, a.id, "token-c", NOW).await.expect("assign"));
    })
    .await;
}

#[tokio::test]
async fn a_registration_token_reset_replaces_only_its_scopes_token() {
    each_backend(async |db| {
        let p = project(&db, "registered").await;
        db.reset_registration_token(None, "instance-1", NOW)
            .await
            .expect("reset");
        db.reset_registration_token(Some(p.id), "project-1", NOW)
            .await
            .expect("reset");
        assert_eq!(
            db.registration_scope("instance-1").await.expect("read"),
            Some(None)
        );
        assert_eq!(
            db.registration_scope("project-1").await.expect("read"),
            Some(Some(p.id))
        );
        db.reset_registration_token(None, "instance-2", NOW)
            .await
            .expect("reset");
        assert_eq!(
            db.registration_scope("instance-1").await.expect("read"),
            None,
            "replaced"
        );
        assert_eq!(
            db.registration_scope("instance-2").await.expect("read"),
            Some(None)
        );
        assert_eq!(
            db.registration_scope("project-1").await.expect("read"),
            Some(Some(p.id)),
            "kept"
        );
        assert_eq!(db.registration_scope("unknown").await.expect("read"), None);
    })
    .await;
}
