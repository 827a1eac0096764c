//! Small checked readers from YAML nodes to Rust values, reporting mismatches as diagnostics.
//!
//! Every typed part of the model is read through these, so the wording of type errors is
//! the same everywhere: "`build.stage` must be a string, found a list".

use crate::diagnostic::Diagnostic;
use crate::yaml::{Map, Node, Value};

/// Joins a YAML path and a key: `build` + `script` → `build.script`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Appends a list index: `build.script` + 2 → `build.script[2]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// The items of a list with nested lists (left by `!reference`) spliced in, as GitLab flattens them.
pub(crate) fn flatten(items: &[Node]) -> Vec<&Node> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match &item.value {
            Value::Seq(inner) => out.extend(flatten(inner)),
            _ => out.push(item),
        }
    }
    out
}

/// Collects diagnostics while typing a tree.
pub(crate) struct Checker<'d> {
    pub(crate) diags: &'d mut Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(crate) fn error(&mut self, code: &'static str, node: &Node, path: &str, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(code, Some(node.span), path, message));
    }

    pub(crate) fn type_error(&mut self, node: &Node, path: &str, expected: &str) {
        self.error(
            "type",
            node,
            path,
            format!("`{path}` must be {expected}, found {}", node.kind()),
        );
    }

    /// A string (strictly: numbers and booleans are type errors).
    pub(crate) fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.type_error(node, path, "a string");
                None
            }
        }
    }

    /// A scalar turned into text (strings, numbers, booleans), as GitLab accepts for variable values.
    pub(crate) fn text(&mut self, node: &Node, path: &str) -> Option<String> {
        match node.scalar_text() {
            Some(t) => Some(t),
            None => {
                self.type_error(node, path, "a string");
                None
            }
        }
    }

    pub(crate) fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.type_error(node, path, "a boolean");
                None
            }
        }
    }

    pub(crate) fn int(&mut self, node: &Node, path: &str) -> Option<i64> {
        match node.value {
            Value::Int(i) => Some(i),
            _ => {
                self.type_error(node, path, "an integer");
                None
            }
        }
    }

    /// A string or a list of strings.
    pub(crate) fn strings(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        match &node.value {
            Value::Str(s) => Some(vec![s.clone()]),
            Value::Seq(nested) => {
                let items = flatten(nested);
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    out.push(self.string(item, &index(path, i))?);
                }
                Some(out)
            }
            _ => {
                self.type_error(node, path, "a string or a list of strings");
                None
            }
        }
    }

    /// A list of strings (nested lists flattened); a single string is a type error, as in GitLab.
    pub(crate) fn string_list(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        match &node.value {
            Value::Seq(_) => self.strings(node, path),
            _ => {
                self.type_error(node, path, "a list of strings");
                None
            }
        }
    }

    /// A list (a single non-list value is a type error).
    pub(crate) fn seq<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            _ => {
                self.type_error(node, path, "a list");
                None
            }
        }
    }

    /// A map whose keys must all be in `allowed`; unknown keys are reported, as GitLab does.
    pub(crate) fn map<'n>(&mut self, node: &'n Node, path: &str, allowed: &[&str]) -> Option<&'n Map> {
        let Value::Map(map) = &node.value else {
            self.type_error(node, path, "a map");
            return None;
        };
        self.known_keys(map, path, allowed);
        Some(map)
    }

    pub(crate) fn known_keys(&mut self, map: &Map, path: &str, allowed: &[&str]) {
        for (key, entry) in map {
            if !allowed.contains(&key.as_str()) {
                self.diags.push(
                    Diagnostic::error(
                        "unknown-keyword",
                        Some(entry.key_span),
                        join(path, key),
                        format!(
                            "unknown keyword `{key}` in `{}`",
                            if path.is_empty() { "<root>" } else { path }
                        ),
                    )
                    .with_help(format!("allowed here: {}", allowed.join(", "))),
                );
            }
        }
    }
}
