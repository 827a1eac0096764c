//! Projects and protected branches.

use crate::NOW;
use crate::backend::{each_backend, project};
use gantry_store::db::{MAINTAINER_ACCESS, NewProject, Page, StoreError};

fn new_project(namespace: &str, name: &str, creator_id: i64) -> NewProject {
    NewProject {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        default_branch: "main".to_owned(),
        visibility: "internal".to_owned(),
        creator_id,
    }
}

#[tokio::test]
async fn projects_are_found_by_id_and_by_nested_path() {
    each_backend(async |db| {
        let user = db.create_user("alice", false, NOW).await.expect("user");
        let p = db
            .create_project(&new_project("group/sub", "app", user.id), NOW)
            .await
            .expect("create");
        assert_eq!(p.path, "group/sub/app");
        assert_eq!((p.namespace.as_str(), p.name.as_str()), ("group/sub", "app"));
        assert_eq!(p.creator_id, Some(user.id));
        assert_eq!(p.visibility, "internal");
        assert_eq!(db.project(p.id).await.expect("by id"), Some(p.clone()));
        assert_eq!(
            db.project_by_path("Group/Sub/App").await.expect("by path"),
            Some(p.clone())
        );
        assert_eq!(db.project_by_path("group/sub").await.expect("by path"), None);
        db.set_default_branch(p.id, "trunk")
            .await
            .expect("default branch");
        assert_eq!(
            db.project(p.id)
                .await
                .expect("read")
                .expect("exists")
                .default_branch,
            "trunk"
        );
        let err = db.set_default_branch(p.id + 99, "x").await.expect_err("missing");
        assert!(err.is_not_found(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn a_taken_project_path_is_a_conflict_in_any_case() {
    each_backend(async |db| {
        let user = db.create_user("alice", false, NOW).await.expect("user");
        db.create_project(&new_project("group", "app", user.id), NOW)
            .await
            .expect("create");
        for (namespace, name) in [("group", "app"), ("GROUP", "App")] {
            let err = db
                .create_project(&new_project(namespace, name, user.id), NOW)
                .await
                .expect_err("taken");
            assert!(
                matches!(&err, StoreError::Conflict(m) if m.contains("is taken")),
                "{err:?}"
            );
        }
        for (namespace, name) in [
            ("", "x"),
            ("group", "a/b"),
            ("group//sub", "x"),
            ("group/..", "x"),
            ("g", ""),
        ] {
            let err = db
                .create_project(&new_project(namespace, name, user.id), NOW)
                .await
                .expect_err("invalid");
            assert!(
                matches!(err, StoreError::Invalid { .. }),
                "{namespace}/{name}: {err:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_user_lists_their_own_projects_and_the_non_private_ones() {
    each_backend(async |db| {
        let alice = db.create_user("alice", false, NOW).await.expect("alice");
        let bob = db.create_user("bob", false, NOW).await.expect("bob");
        for (name, creator, visibility) in [
            ("a-private", alice.id, "private"),
            ("b-private", bob.id, "private"),
            ("b-internal", bob.id, "internal"),
        ] {
            let mut new = new_project("g", name, creator);
            new.visibility = visibility.to_owned();
            db.create_project(&new, NOW).await.expect("create");
        }
        let page = Page {
            page: 1,
            per_page: 20,
        };
        let names = |list: Vec<gantry_store::db::Project>| -> Vec<String> {
            list.into_iter().map(|p| p.name).collect()
        };
        let (seen, total) = db.list_projects(Some(alice.id), page).await.expect("alice");
        assert_eq!(
            (names(seen), total),
            (vec!["b-internal".into(), "a-private".into()], 2)
        );
        let (seen, total) = db.list_projects(Some(bob.id), page).await.expect("bob");
        assert_eq!(
            (names(seen), total),
            (vec!["b-internal".into(), "b-private".into()], 2)
        );
        let (_, total) = db.list_projects(None, page).await.expect("admin");
        assert_eq!(total, 3);
    })
    .await;
}

#[tokio::test]
async fn project_pages_count_the_total_newest_first() {
    each_backend(async |db| {
        for i in 0..25 {
            project(&db, &format!("p{i:02}")).await;
        }
        let (first, total) = db
            .list_projects(
                None,
                Page {
                    page: 1,
                    per_page: 10,
                },
            )
            .await
            .expect("page 1");
        assert_eq!(total, 25);
        assert_eq!(first.len(), 10);
        assert_eq!(first[0].name, "p24");
        let (last, total) = db
            .list_projects(
                None,
                Page {
                    page: 3,
                    per_page: 10,
                },
            )
            .await
            .expect("page 3");
        assert_eq!((last.len(), total), (5, 25));
        assert_eq!(last[4].name, "p00");
        let (beyond, _) = db
            .list_projects(
                None,
                Page {
                    page: 9,
                    per_page: 10,
                },
            )
            .await
            .expect("page 9");
        assert!(beyond.is_empty());
        // Out-of-range values are clamped, not refused.
        let (clamped, _) = db
            .list_projects(
                None,
                Page {
                    page: 0,
                    per_page: 1000,
                },
            )
            .await
            .expect("clamped");
        assert_eq!(clamped.len(), 25);
    })
    .await;
}

#[tokio::test]
async fn protected_branches_are_replaced_and_matched_with_wildcards() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        assert!(db.protected_branches(p.id).await.expect("none").is_empty());
        let rules = db
            .set_project_protected_branches(p.id, &["main".to_owned(), "release/*".to_owned()])
            .await
            .expect("set");
        assert_eq!(rules.len(), 2);
        assert!(rules.iter().all(|r| r.push_access_level == MAINTAINER_ACCESS));
        let rules = db
            .set_project_protected_branches(p.id, &["stable-*".to_owned()])
            .await
            .expect("replace");
        assert_eq!(db.protected_branches(p.id).await.expect("read"), rules);
        assert!(rules[0].matches("stable-1.2") && !rules[0].matches("main"));
        let rule = db.protect_branch(p.id, "stable-*", 0).await.expect("upsert");
        assert_eq!((rule.id, rule.push_access_level), (rules[0].id, 0));
        assert!(db.unprotect_branch(p.id, "stable-*").await.expect("remove"));
        assert!(!db.unprotect_branch(p.id, "stable-*").await.expect("remove again"));
    })
    .await;
}
