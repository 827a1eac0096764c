//! Tests of manifest parsing: documents, lists, positions of mistakes.

use super::*;
use serde_json::json;

fn names(text: &str) -> Vec<(String, String)> {
    parse("k8s/app.yaml", text)
        .unwrap()
        .into_iter()
        .map(|m| {
            (
                m.source,
                m.object["metadata"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn documents_are_objects_with_their_line_and_empty_ones_are_skipped() {
    let text = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\n---\n# only a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
    assert_eq!(
        names(text),
        [
            ("k8s/app.yaml:2".into(), "web".into()),
            ("k8s/app.yaml:9".into(), "web".into())
        ]
    );
}

#[test]
fn list_items_are_taken_one_by_one() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n";
    let got: Vec<_> = names(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(got, ["a", "b"]);
}

#[test]
fn scalars_are_typed_as_kubectl_reads_them() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  port: \"80\"\n  on: yes\nspec: {replicas: 2, ratio: 0.5, none: ~}\n";
    let m = &parse("c.yaml", text).unwrap()[0];
    // YAML 1.1: `on` is a boolean, as a key too; kubectl's reader makes that key "true" as well.
    assert_eq!(m.object["data"], json!({"port": "80", "true": true}));
    assert_eq!(
        m.object["spec"],
        json!({"replicas": 2, "ratio": 0.5, "none": null})
    );
}

#[test]
fn json_files_parse_too() {
    let text = r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "review-x"}}"#;
    assert_eq!(names(text)[0].1, "review-x");
}

#[test]
fn mistakes_say_where_they_are() {
    let err = |text: &str| parse("m.yaml", text).unwrap_err().to_string();
    assert_eq!(
        err("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"),
        "m.yaml:1:1: ConfigMap (v1): the object has no `metadata.name`"
    );
    assert_eq!(
        err("---\nkind: ConfigMap\nmetadata: {name: a}\n"),
        "m.yaml:2:1: the object has no `apiVersion`"
    );
    assert_eq!(
        err("- a\n- b\n"),
        "m.yaml:1:1: a Kubernetes object is a mapping, not a list"
    );
    assert!(
        err("apiVersion: v1\nkind: Pod\nmetadata: {generateName: p-}\n").contains("generateName"),
        "generateName is named"
    );
    let broken = err("apiVersion: v1\nkind: [Pod\n");
    assert!(broken.starts_with("m.yaml:"), "{broken}");
}
