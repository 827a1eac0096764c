//! Trigger tokens: a hash finds its project.

use crate::NOW;
use crate::backend::{each_backend, project};
use gantry_store::db::StoreError;

#[tokio::test]
async fn a_trigger_token_hash_finds_its_project() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let trigger = db
            .create_trigger(p.id, &"f".repeat(64), "deploy", NOW)
            .await
            .expect("create");
        assert_eq!(
            (trigger.project_id, trigger.description.as_str()),
            (p.id, "deploy")
        );
        let (found, t) = db
            .project_by_trigger(&"f".repeat(64))
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!((found, t), (p.clone(), trigger.clone()));
        assert!(
            db.project_by_trigger(&"e".repeat(64))
                .await
                .expect("lookup")
                .is_none()
        );
        let err = db
            .create_trigger(p.id, &"f".repeat(64), "again", NOW)
            .await
            .expect_err("same hash");
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(
            db.triggers(p.id).await.expect("list"),
            std::slice::from_ref(&trigger)
        );
        assert!(db.delete_trigger(trigger.id).await.expect("delete"));
        assert!(!db.delete_trigger(trigger.id).await.expect("delete again"));
        assert!(
            db.project_by_trigger(&"f".repeat(64))
                .await
                .expect("lookup")
                .is_none()
        );
    })
    .await;
}
