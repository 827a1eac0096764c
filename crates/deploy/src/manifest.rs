//! Manifests: the Kubernetes objects of YAML or JSON files, each with the file and line it was
//! written at, checked for what every object needs (apiVersion, kind, metadata.name).
//!
//! Pure: the caller reads the files ([`crate::load_paths`] does it for the CLI). YAML is read
//! with the loader of `.gitlab-ci.yml` (gantry-config), which types scalars as YAML 1.1 does,
//! as kubectl's YAML reader does too (`yes` is a boolean for both).

use gantry_config::Files;
use gantry_config::yaml::{LoadLimits, Node, Value as Yaml, load};
use serde_json::{Map, Value};
use std::fmt;

/// One object of a manifest file.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// Where it was written: `file:line`.
    pub source: String,
    /// The object, as the API server takes it.
    pub object: Value,
}

/// A manifest that cannot be applied, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ManifestError {
    /// `file:line:col`, or the file alone.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl ManifestError {
    fn at(file: &str, node: Option<&Node>, message: impl fmt::Display) -> Self {
        let location = match node {
            Some(n) => format!("{file}:{}:{}", n.span.line, n.span.col),
            None => file.to_owned(),
        };
        ManifestError {
            location,
            message: message.to_string(),
        }
    }
}

/// The most bytes one manifest file may have (the API server takes at most 3 MiB per object).
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// Parses every object of one file: YAML documents (`---`-separated; empty ones are skipped),
/// `kind: List` items taken one by one. `file` names the file in messages.
pub fn parse(file: &str, text: &str) -> Result<Vec<Manifest>, ManifestError> {
    let mut files = Files::default();
    let id = files.intern(file);
    let limits = LoadLimits {
        max_bytes: MAX_FILE_BYTES,
        ..LoadLimits::default()
    };
    let mut diags = Vec::new();
    let docs = load(text, id, &limits, &mut diags);
    let Some(docs) = docs else {
        let first = diags.iter().find(|d| d.is_error()).or(diags.first());
        return Err(match first {
            Some(d) => ManifestError {
                location: match d.span {
                    Some(s) => format!("{file}:{}:{}", s.line, s.col),
                    None => file.to_owned(),
                },
                message: d.message.clone(),
            },
            None => ManifestError::at(file, None, "not valid YAML"),
        });
    };
    let mut out = Vec::new();
    for doc in &docs {
        if doc.is_null() {
            continue;
        }
        collect(file, doc, &mut out)?;
    }
    Ok(out)
}

fn collect(file: &str, node: &Node, out: &mut Vec<Manifest>) -> Result<(), ManifestError> {
    let Some(map) = node.as_map() else {
        return Err(ManifestError::at(
            file,
            Some(node),
            format!("a Kubernetes object is a mapping, not {}", node.kind()),
        ));
    };
    let field = |name: &str| map.get(name).map(|e| &e.value);
    let kind = field("kind").and_then(Node::as_str);
    let api_version = field("apiVersion").and_then(Node::as_str);
    if kind.is_some_and(|k| k.ends_with("List")) && map.contains_key("items") {
        let items = field("items").expect("checked above");
        let Some(items) = items.as_seq() else {
            return Err(ManifestError::at(
                file,
                Some(items),
                "`items` of a List must be a sequence",
            ));
        };
        for item in items {
            collect(file, item, out)?;
        }
        return Ok(());
    }
    let Some(api_version) = api_version.filter(|v| !v.is_empty()) else {
        return Err(ManifestError::at(
            file,
            Some(node),
            "the object has no `apiVersion`",
        ));
    };
    let Some(kind) = kind.filter(|k| !k.is_empty()) else {
        return Err(ManifestError::at(file, Some(node), "the object has no `kind`"));
    };
    let metadata = field("metadata");
    let name = metadata
        .and_then(Node::as_map)
        .and_then(|m| m.get("name"))
        .and_then(|e| e.value.as_str());
    if name.is_none_or(str::is_empty) {
        let has_generate = metadata
            .and_then(Node::as_map)
            .is_some_and(|m| m.contains_key("generateName"));
        let why = if has_generate {
            "`metadata.generateName` cannot be applied (server-side apply needs a name)"
        } else {
            "the object has no `metadata.name`"
        };
        return Err(ManifestError::at(
            file,
            Some(node),
            format!("{kind} ({api_version}): {why}"),
        ));
    }
    let object = to_json(file, node)?;
    out.push(Manifest {
        source: format!("{file}:{}", node.span.line),
        object,
    });
    Ok(())
}

fn to_json(file: &str, node: &Node) -> Result<Value, ManifestError> {
    Ok(match &node.value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Int(i) => Value::from(*i),
        Yaml::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => Value::Number(n),
            None => {
                return Err(ManifestError::at(
                    file,
                    Some(node),
                    "a number JSON cannot hold (NaN or infinity)",
                ));
            }
        },
        Yaml::Str(s) => Value::String(s.clone()),
        Yaml::Seq(items) => Value::Array(items.iter().map(|n| to_json(file, n)).collect::<Result<_, _>>()?),
        Yaml::Map(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, entry) in map {
                out.insert(key.clone(), to_json(file, &entry.value)?);
            }
            Value::Object(out)
        }
        Yaml::Reference(_) => {
            return Err(ManifestError::at(
                file,
                Some(node),
                "`!reference` belongs in .gitlab-ci.yml, not in a manifest",
            ));
        }
    })
}

#[cfg(test)]
mod tests;
