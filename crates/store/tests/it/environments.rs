//! Environments and deployments.

use crate::NOW;
use crate::backend::{each_backend, project};
use crate::jobs::new_job;
use crate::pipelines::pipeline;
use gantry_store::db::DeploymentRecord;

fn record(project_id: i64, pipeline_id: i64, job_id: i64, env: &str, status: &str) -> DeploymentRecord {
    DeploymentRecord {
        project_id,
        environment: env.to_owned(),
        slug: env.replace('/', "-"),
        external_url: Some(format!("https://{}.example", env.replace('/', "-"))),
        tier: "development".to_owned(),
        job_id,
        pipeline_id,
        ref_name: "main".to_owned(),
        sha: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        status: status.to_owned(),
        on_stop: Some("stop_review".to_owned()),
    }
}

#[tokio::test]
async fn a_deploying_job_creates_its_environment_and_one_numbered_deployment_per_attempt() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        let jobs = db
            .create_jobs(
                pl.id,
                &[new_job("deploy", "manual", 0), new_job("other", "pending", 1)],
                NOW,
            )
            .await
            .expect("jobs");
        let d = db
            .record_deployment(&record(p.id, pl.id, jobs[0].id, "review/x", "created"), NOW)
            .await
            .expect("record");
        assert_eq!((d.iid, d.status.as_str(), d.finished_at), (1, "created", None));
        let env = db
            .environment(d.environment_id)
            .await
            .expect("read")
            .expect("env");
        assert_eq!((env.name.as_str(), env.state.as_str()), ("review/x", "available"));
        db.set_environment_state(env.id, "stopped", None, NOW)
            .await
            .expect("stop");
        let d2 = db
            .record_deployment(&record(p.id, pl.id, jobs[0].id, "review/x", "success"), NOW + 5)
            .await
            .expect("record again");
        assert_eq!(
            (d2.id, d2.iid, d2.finished_at),
            (d.id, 1, Some(NOW + 5)),
            "the same attempt's deployment"
        );
        let env = db.environment(env.id).await.expect("read").expect("env");
        assert_eq!(env.state, "available", "a deployment makes it available again");
        let retry = db.create_retry(jobs[0].id, NOW + 6).await.expect("retry");
        let d3 = db
            .record_deployment(&record(p.id, pl.id, retry.id, "review/x", "running"), NOW + 7)
            .await
            .expect("record retry");
        assert_eq!((d3.iid, d3.environment_id), (2, env.id));
        let other = db
            .record_deployment(&record(p.id, pl.id, jobs[1].id, "production", "running"), NOW + 8)
            .await
            .expect("record production");
        assert_eq!(other.iid, 3, "numbered per project");
        let listed = db.deployments_of(env.id, 10).await.expect("list");
        assert_eq!(listed.iter().map(|d| d.iid).collect::<Vec<_>>(), [2, 1]);
        let names: Vec<String> = db
            .environments(p.id)
            .await
            .expect("envs")
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["production", "review/x"]);
        assert_eq!(
            db.deployment_of_job(retry.id)
                .await
                .expect("by job")
                .map(|d| d.iid),
            Some(2)
        );
        assert_eq!(db.deployments(p.id, 2).await.expect("project").len(), 2);
        assert!(
            db.environment_by_name(p.id, "production")
                .await
                .expect("by name")
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn environments_past_their_auto_stop_time_are_found() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        let jobs = db
            .create_jobs(pl.id, &[new_job("deploy", "running", 0)], NOW)
            .await
            .expect("jobs");
        let d = db
            .record_deployment(&record(p.id, pl.id, jobs[0].id, "review/y", "success"), NOW)
            .await
            .expect("record");
        db.set_environment_state(d.environment_id, "available", Some(NOW + 100), NOW)
            .await
            .expect("auto stop");
        assert!(db.environments_to_stop(NOW + 99).await.expect("list").is_empty());
        let due = db.environments_to_stop(NOW + 100).await.expect("list");
        assert_eq!(due.len(), 1);
        db.set_environment_state(d.environment_id, "stopped", None, NOW + 100)
            .await
            .expect("stop");
        assert!(db.environments_to_stop(NOW + 200).await.expect("list").is_empty());
    })
    .await;
}
