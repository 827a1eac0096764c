//! `!reference [name, key, ...]`: reuse a part of another job or template.
//!
//! References are resolved after `extends`, against the extended configuration; a
//! referenced value may itself contain references, up to GitLab's 10 levels.

use crate::diagnostic::Diagnostic;
use crate::yaml::{Map, Node, Value};

/// How deeply references may refer to references.
pub const MAX_REFERENCE_DEPTH: usize = 10;
const WORK_LIMIT: usize = 2_000_000;

/// Resolves every `!reference` in the map. Returns true when a reference was not found.
pub(crate) fn resolve_references(map: &mut Map, diags: &mut Vec<Diagnostic>) -> bool {
    // Only entries that contain a reference are copied and rewritten; the rest stay in place.
    let with_refs: Vec<usize> = (0..map.len()).filter(|&i| contains_reference(&map[i].value)).collect();
    let mut r = Resolver { root: map, diags, work: 0, missing: false };
    let mut resolved = Vec::with_capacity(with_refs.len());
    for i in with_refs {
        let (name, entry) = r.root.get_index(i).expect("index from this map");
        let mut node = entry.value.clone();
        r.node(&mut node, name, 0);
        resolved.push((i, node));
    }
    let missing = r.missing;
    for (i, node) in resolved {
        map[i].value = node;
    }
    missing
}

fn contains_reference(node: &Node) -> bool {
    match &node.value {
        Value::Reference(_) => true,
        Value::Seq(items) => items.iter().any(contains_reference),
        Value::Map(m) => m.values().any(|e| contains_reference(&e.value)),
        _ => false,
    }
}

struct Resolver<'a> {
    root: &'a Map,
    diags: &'a mut Vec<Diagnostic>,
    work: usize,
    missing: bool,
}

impl Resolver<'_> {
    fn node(&mut self, node: &mut Node, path: &str, depth: usize) {
        self.work += 1;
        if self.work > WORK_LIMIT {
            if self.work == WORK_LIMIT + 1 {
                self.diags.push(Diagnostic::error(
                    "reference-limit",
                    Some(node.span),
                    path,
                    "`!reference` expansion is too large",
                ));
            }
            node.value = Value::Null;
            return;
        }
        match &mut node.value {
            Value::Reference(items) => {
                let items = std::mem::take(items);
                node.value = self.lookup(&items, node.span, path, depth);
            }
            Value::Seq(items) => items.iter_mut().for_each(|n| self.node(n, path, depth)),
            Value::Map(map) => map.values_mut().for_each(|e| self.node(&mut e.value, path, depth)),
            _ => {}
        }
    }

    fn lookup(&mut self, items: &[Node], span: crate::span::Span, path: &str, depth: usize) -> Value {
        let keys: Option<Vec<String>> = items.iter().map(Node::scalar_text).collect();
        let shown = keys.as_ref().map(|k| k.join(", ")).unwrap_or_default();
        let Some(keys) = keys.filter(|k| !k.is_empty()) else {
            self.diags.push(Diagnostic::error("reference-syntax", Some(span), path, "`!reference` takes a list of names"));
            return Value::Null;
        };
        if depth >= MAX_REFERENCE_DEPTH {
            self.diags.push(Diagnostic::error(
                "reference-depth",
                Some(span),
                path,
                format!("`!reference [{shown}]` is nested more than {MAX_REFERENCE_DEPTH} levels deep"),
            ));
            return Value::Null;
        }
        let mut current = self.root.get(&keys[0]).map(|e| &e.value);
        for key in &keys[1..] {
            current = current.and_then(Node::as_map).and_then(|m| m.get(key)).map(|e| &e.value);
        }
        match current {
            Some(target) => {
                let mut copy = target.clone();
                self.node(&mut copy, path, depth + 1);
                copy.value
            }
            None => {
                self.missing = true;
                self.diags.push(Diagnostic::error(
                    "unknown-reference",
                    Some(span),
                    path,
                    format!("`!reference [{shown}]` could not be found"),
                ));
                Value::Null
            }
        }
    }
}
