//! Check: the pure crates do not depend, directly or through other crates, on a runtime, network,
//! database, container or Kubernetes crate. Reads `cargo metadata`.

use super::{Failure, PURE_CRATES, Workspace};
use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};
use std::process::Command;

/// Crates the pure crates may not reach through normal (non-dev, non-build) dependencies.
pub const FORBIDDEN_DEPENDENCIES: &[&str] = &["tokio", "sqlx", "axum", "hyper", "reqwest", "kube", "bollard"];

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    resolve: Option<Resolve>,
}

#[derive(Deserialize)]
struct Package {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    deps: Vec<NodeDep>,
}

#[derive(Deserialize)]
struct NodeDep {
    pkg: String,
    dep_kinds: Vec<DepKind>,
}

#[derive(Deserialize)]
struct DepKind {
    /// `None` for a normal dependency, `"dev"` or `"build"` otherwise.
    kind: Option<String>,
}

/// No crate in [`PURE_CRATES`] reaches a crate in [`FORBIDDEN_DEPENDENCIES`] through normal
/// dependencies; each offence shows the chain that leads there.
///
/// # Panics
///
/// When `cargo metadata` cannot run or prints something unexpected, or when none of the pure
/// crates is in the workspace: the check would otherwise pass without looking.
pub fn check_dependency_edges(workspace: &Workspace) -> Result<(), Failure> {
    let metadata = cargo_metadata(workspace);
    let names: BTreeMap<&str, &str> = metadata
        .packages
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    let resolve = metadata
        .resolve
        .as_ref()
        .expect("cargo metadata printed no `resolve` graph");
    let normal_deps: BTreeMap<&str, Vec<&str>> = resolve
        .nodes
        .iter()
        .map(|node| {
            let deps = node
                .deps
                .iter()
                .filter(|dep| dep.dep_kinds.iter().any(|k| k.kind.is_none()))
                .map(|dep| dep.pkg.as_str())
                .collect();
            (node.id.as_str(), deps)
        })
        .collect();
    let pure_members: Vec<&str> = metadata
        .workspace_members
        .iter()
        .map(String::as_str)
        .filter(|id| names.get(id).is_some_and(|name| PURE_CRATES.contains(name)))
        .collect();
    assert!(
        !pure_members.is_empty(),
        "none of the pure crates {PURE_CRATES:?} is a workspace member; update PURE_CRATES"
    );

    let mut offenders = Vec::new();
    for root in pure_members {
        // Breadth first, so the chain reported for each forbidden crate is a shortest one.
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([root]);
        while let Some(id) = queue.pop_front() {
            for &dep in normal_deps.get(id).map(Vec::as_slice).unwrap_or_default() {
                if dep == root || parent.contains_key(dep) {
                    continue;
                }
                parent.insert(dep, id);
                let name = names.get(dep).copied().unwrap_or(dep);
                if FORBIDDEN_DEPENDENCIES.contains(&name) {
                    let mut chain = vec![name];
                    let mut at = id;
                    while at != root {
                        chain.push(names.get(at).copied().unwrap_or(at));
                        at = parent[at];
                    }
                    chain.push(names.get(root).copied().unwrap_or(root));
                    chain.reverse();
                    offenders.push(format!(
                        "{}: depends on {name} ({})",
                        chain[0],
                        chain.join(" -> ")
                    ));
                } else {
                    queue.push_back(dep);
                }
            }
        }
    }
    Failure::check(
        "the pure crates do not depend on tokio, sqlx, axum, hyper, reqwest, kube or bollard",
        "config, rules, plan and engine stay free of runtimes, network, databases and clusters so \
         they build fast and test in milliseconds (ARCHITECTURE.md); move the code that needs the \
         dependency to the crate that owns that boundary (server, store, runner, executor)",
        offenders,
    )
}

fn cargo_metadata(workspace: &Workspace) -> Metadata {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(&workspace.root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cargo} metadata`: {e}"));
    assert!(
        output.status.success(),
        "`cargo metadata` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("cannot read `cargo metadata` output: {e}"))
}
