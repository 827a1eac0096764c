//! Artifact metadata: per job, by expiry, deletion.

use crate::NOW;
use crate::backend::{each_backend, project};
use crate::jobs::new_job;
use crate::pipelines::pipeline;
use gantry_store::db::{NewArtifact, StoreError};

fn artifact(job_id: i64, file_type: &str, expire_at: Option<i64>) -> NewArtifact {
    NewArtifact {
        job_id,
        file_type: file_type.to_owned(),
        file_format: "zip".to_owned(),
        filename: "artifacts.zip".to_owned(),
        blob_key: format!("artifacts/{job_id}/{file_type}"),
        size: 1234,
        sha256: Some("ab".repeat(32)),
        expire_at,
    }
}

#[tokio::test]
async fn artifacts_are_listed_per_job_found_when_expired_and_deleted() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let pl = pipeline(&db, p.id).await;
        let jobs = db
            .create_jobs(
                pl.id,
                &[new_job("a", "success", 0), new_job("b", "success", 1)],
                NOW,
            )
            .await
            .expect("jobs");
        let archive = db
            .add_artifact(&artifact(jobs[0].id, "archive", Some(NOW + 100)), NOW)
            .await
            .expect("add");
        assert_eq!(
            (archive.size, archive.created_at, archive.expire_at),
            (1234, NOW, Some(NOW + 100))
        );
        assert_eq!(archive.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        let dotenv = db
            .add_artifact(&artifact(jobs[0].id, "dotenv", None), NOW)
            .await
            .expect("add");
        let other = db
            .add_artifact(&artifact(jobs[1].id, "archive", Some(NOW + 50)), NOW)
            .await
            .expect("add");
        assert_eq!(
            db.artifacts_of_job(jobs[0].id).await.expect("list"),
            [archive.clone(), dotenv.clone()]
        );
        assert_eq!(db.artifact(other.id).await.expect("one"), Some(other.clone()));

        let err = db
            .add_artifact(&artifact(jobs[0].id, "archive", None), NOW)
            .await
            .expect_err("same type");
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

        assert!(db.expired_artifacts(NOW + 49, 10).await.expect("none").is_empty());
        let expired = db.expired_artifacts(NOW + 100, 10).await.expect("expired");
        assert_eq!(expired, [other.clone(), archive.clone()]);
        assert_eq!(
            db.expired_artifacts(NOW + 100, 1).await.expect("limited"),
            std::slice::from_ref(&other)
        );

        db.delete_artifact(other.id).await.expect("delete");
        db.delete_artifact(other.id).await.expect("delete again");
        assert_eq!(
            db.expired_artifacts(i64::MAX, 10).await.expect("expired"),
            [archive]
        );
    })
    .await;
}
