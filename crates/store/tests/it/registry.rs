//! The registry's records: repositories per project, blobs seen per repository, manifests
//! with their tag written together, referrers by subject, uploads, and garbage collection
//! that spares what manifests refer to.

use crate::NOW;
use crate::backend::{each_backend, project};
use gantry_store::db::NewManifest;

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn manifest(c: char, refs: &[String], subject: Option<String>) -> NewManifest {
    NewManifest {
        digest: digest(c),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        size: 100,
        artifact_type: Some("application/vnd.example".into()),
        subject_digest: subject,
        annotations: Some(r#"{"k":"v"}"#.into()),
        refs: refs.to_vec(),
    }
}

#[tokio::test]
async fn manifests_tags_blobs_and_referrers_are_kept_per_repository() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let repo = db
            .ensure_registry_repository(p.id, "owner/app", NOW)
            .await
            .expect("repo");
        let again = db
            .ensure_registry_repository(p.id, "owner/app", NOW + 1)
            .await
            .expect("repo");
        assert_eq!(repo, again, "one repository per name");
        let other = db
            .ensure_registry_repository(p.id, "owner/app/web", NOW)
            .await
            .expect("repo");

        db.link_registry_blob(repo.id, &digest('a'), 2, NOW)
            .await
            .expect("link");
        db.link_registry_blob(repo.id, &digest('a'), 2, NOW)
            .await
            .expect("linked twice");
        assert_eq!(
            db.registry_blob(repo.id, &digest('a')).await.expect("read"),
            Some(2)
        );
        assert_eq!(
            db.registry_blob(other.id, &digest('a')).await.expect("read"),
            None,
            "not seen there"
        );
        let missing = db
            .registry_missing(repo.id, &[digest('a'), digest('b')])
            .await
            .expect("missing");
        assert_eq!(missing, [digest('b')]);

        let stored = db
            .put_registry_manifest(repo.id, &manifest('m', &[digest('a')], None), Some("v1"), NOW)
            .await
            .expect("manifest");
        assert_eq!(stored.digest, digest('m'));
        assert_eq!(
            db.registry_tag(repo.id, "v1").await.expect("tag"),
            Some(digest('m'))
        );
        db.put_registry_manifest(
            repo.id,
            &manifest('m', &[digest('a')], None),
            Some("latest"),
            NOW + 1,
        )
        .await
        .expect("pushed again under another tag");
        assert_eq!(
            db.registry_tags(repo.id, "", 10).await.expect("tags"),
            ["latest", "v1"]
        );
        assert_eq!(
            db.registry_tags(repo.id, "latest", 10).await.expect("tags"),
            ["v1"]
        );
        assert_eq!(
            db.registry_missing(repo.id, &[digest('m')])
                .await
                .expect("missing"),
            Vec::<String>::new(),
            "an index may refer to the manifest"
        );

        let sbom = manifest('s', &[digest('a')], Some(digest('m')));
        db.put_registry_manifest(repo.id, &sbom, None, NOW + 2)
            .await
            .expect("referrer");
        let referrers = db
            .registry_referrers(repo.id, &digest('m'))
            .await
            .expect("referrers");
        assert_eq!(referrers.len(), 1);
        assert_eq!(
            referrers[0].artifact_type.as_deref(),
            Some("application/vnd.example")
        );

        assert!(
            db.delete_registry_tag(repo.id, "latest")
                .await
                .expect("delete tag")
        );
        assert!(!db.delete_registry_tag(repo.id, "latest").await.expect("gone"));
        assert!(
            db.delete_registry_manifest(repo.id, &digest('m'))
                .await
                .expect("delete")
        );
        assert_eq!(
            db.registry_tag(repo.id, "v1").await.expect("tag"),
            None,
            "its tags go with it"
        );
        assert!(
            db.registry_manifest(repo.id, &digest('m'))
                .await
                .expect("read")
                .is_none()
        );

        let names: Vec<String> = db
            .registry_repositories("", 10)
            .await
            .expect("catalog")
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["owner/app", "owner/app/web"]);
    })
    .await;
}

#[tokio::test]
async fn uploads_are_tracked_and_garbage_collection_spares_referenced_blobs() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let repo = db
            .ensure_registry_repository(p.id, "owner/app", NOW)
            .await
            .expect("repo");
        let u = db
            .create_registry_upload("u-1", repo.id, NOW)
            .await
            .expect("upload");
        assert_eq!(u.size, 0);
        db.set_registry_upload_size("u-1", 42, NOW + 5)
            .await
            .expect("size");
        assert_eq!(
            db.registry_upload("u-1").await.expect("read").map(|u| u.size),
            Some(42)
        );
        assert_eq!(db.stale_registry_uploads(NOW + 5, 10).await.expect("stale"), []);
        assert_eq!(
            db.stale_registry_uploads(NOW + 6, 10).await.expect("stale").len(),
            1
        );
        assert!(db.delete_registry_upload("u-1").await.expect("end"));
        assert!(db.registry_upload("u-1").await.expect("read").is_none());

        // `a` is a layer of a manifest, `b` was only uploaded, `c` is unlinked everywhere.
        for c in ['a', 'b', 'c'] {
            db.link_registry_blob(repo.id, &digest(c), 1, NOW)
                .await
                .expect("link");
        }
        db.put_registry_manifest(repo.id, &manifest('m', &[digest('a')], None), Some("v1"), NOW)
            .await
            .expect("manifest");
        assert!(
            db.unlink_registry_blob(repo.id, &digest('c'))
                .await
                .expect("unlink")
        );
        assert_eq!(
            db.collect_registry_blobs(NOW, 10).await.expect("gc"),
            Vec::<String>::new(),
            "nothing is old enough yet"
        );
        let mut collected = db.collect_registry_blobs(NOW + 1, 10).await.expect("gc");
        collected.sort();
        assert_eq!(collected, [digest('b'), digest('c')]);
        assert_eq!(
            db.registry_blob(repo.id, &digest('a')).await.expect("read"),
            Some(1)
        );
        assert_eq!(db.registry_blob(repo.id, &digest('b')).await.expect("read"), None);
    })
    .await;
}
