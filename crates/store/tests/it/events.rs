//! Pipeline events: numbered per pipeline, read back in order.

use crate::NOW;
use crate::backend::{each_backend, project};
use crate::pipelines::pipeline;

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
