//! CI/CD variables: one per (project, key, environment scope).

use crate::backend::{each_backend, project};
use gantry_store::db::Variable;

fn variable(project_id: i64, key: &str, scope: &str, value: &[u8]) -> Variable {
    Variable {
        project_id,
        key: key.to_owned(),
        value: value.to_vec(),
        variable_type: "env_var".to_owned(),
        protected: false,
        masked: false,
        raw: false,
        environment_scope: scope.to_owned(),
    }
}

#[tokio::test]
async fn variables_are_upserted_by_key_and_environment_scope() {
    each_backend(async |db| {
        let p = project(&db, "app").await;
        let other = project(&db, "other").await;
        let sealed = [0u8, 1, 2, 0xfe, 0xff];
        db.upsert_variable(&variable(p.id, "TOKEN", "*", &sealed))
            .await
            .expect("insert");
        db.upsert_variable(&variable(p.id, "TOKEN", "production", b"prod"))
            .await
            .expect("insert");
        db.upsert_variable(&variable(other.id, "TOKEN", "*", b"other"))
            .await
            .expect("insert");
        let mut replaced = variable(p.id, "TOKEN", "*", b"new");
        replaced.variable_type = "file".to_owned();
        replaced.protected = true;
        replaced.masked = true;
        replaced.raw = true;
        db.upsert_variable(&replaced).await.expect("replace");
        db.upsert_variable(&variable(p.id, "A_FIRST", "*", b"a"))
            .await
            .expect("insert");

        let vars = db.variables(p.id).await.expect("list");
        let keys: Vec<(&str, &str)> = vars
            .iter()
            .map(|v| (v.key.as_str(), v.environment_scope.as_str()))
            .collect();
        assert_eq!(keys, [("A_FIRST", "*"), ("TOKEN", "*"), ("TOKEN", "production")]);
        assert_eq!(vars[1], replaced);
        assert_eq!(vars[2].value, b"prod");
        assert_eq!(
            db.variable(p.id, "TOKEN", "production").await.expect("one"),
            Some(vars[2].clone())
        );
        db.upsert_variable(&variable(p.id, "BIN", "*", &sealed))
            .await
            .expect("insert");
        assert_eq!(
            db.variable(p.id, "BIN", "*")
                .await
                .expect("one")
                .expect("exists")
                .value,
            sealed
        );

        assert!(
            db.delete_variable(p.id, "TOKEN", "production")
                .await
                .expect("delete")
        );
        assert!(
            !db.delete_variable(p.id, "TOKEN", "production")
                .await
                .expect("delete again")
        );
        assert_eq!(db.variables(p.id).await.expect("list").len(), 3);
        assert_eq!(db.variables(other.id).await.expect("list")[0].value, b"other");
    })
    .await;
}
