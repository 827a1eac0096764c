//! `!reference [name, key, ...]`: reuse a part of another job or template.
//!
//! References are resolved after `extends`, against the extended configuration. A
//! referenced value may itself contain references; GitLab only rejects circular chains, so
//! chains are followed as deep as they go, with a cycle check and a bound on total work.

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::yaml::{Map, Node, Value};

/// A safety bound on reference chains, far above anything real configurations use.
pub const MAX_REFERENCE_DEPTH: usize = 64;
const WORK_LIMIT: usize = 2_000_000;

/// Resolves every `!reference` in the map. Returns the positions of references that could
/// not be resolved (later checks stay quiet about the null left there).
pub(crate) fn resolve_references(map: &mut Map, diags: &mut Vec<Diagnostic>) -> Vec<Span> {
    // Only entries that contain a reference are copied and rewritten; the rest stay in place.
    let with_refs: Vec<usize> = (0..map.len())
        .filter(|&i| contains_reference(&map[i].value))
        .collect();
    let mut r = Resolver {
        root: map,
        diags,
        work: 0,
        failed: Vec::new(),
        chain: Vec::new(),
        cycle_reported: false,
    };
    let mut resolved = Vec::with_capacity(with_refs.len());
    for i in with_refs {
        let (name, entry) = r.root.get_index(i).expect("index from this map");
        let mut node = entry.value.clone();
        r.node(&mut node, name);
        resolved.push((i, node));
    }
    let failed = r.failed;
    for (i, node) in resolved {
        map[i].value = node;
    }
    failed
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
    failed: Vec<Span>,
    chain: Vec<Vec<String>>,
    cycle_reported: bool,
}

impl Resolver<'_> {
    fn node(&mut self, node: &mut Node, path: &str) {
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
                node.value = self.lookup(&items, node.span, path);
            }
            Value::Seq(items) => items.iter_mut().for_each(|n| self.node(n, path)),
            Value::Map(map) => map.values_mut().for_each(|e| self.node(&mut e.value, path)),
            _ => {}
        }
    }

    fn fail(&mut self, span: Span, diag: Diagnostic) -> Value {
        self.failed.push(span);
        self.diags.push(diag);
        Value::Null
    }

    fn lookup(&mut self, items: &[Node], span: Span, path: &str) -> Value {
        let keys: Option<Vec<String>> = items.iter().map(Node::scalar_text).collect();
        let shown = keys.as_ref().map(|k| k.join(", ")).unwrap_or_default();
        let Some(keys) = keys.filter(|k| !k.is_empty()) else {
            let d = Diagnostic::error(
                "reference-syntax",
                Some(span),
                path,
                "`!reference` takes a list of names",
            );
            return self.fail(span, d);
        };
        if self.chain.contains(&keys) {
            self.failed.push(span);
            if self.cycle_reported {
                return Value::Null;
            }
            self.cycle_reported = true;
            let d = Diagnostic::error(
                "reference-cycle",
                Some(span),
                path,
                format!("`!reference [{shown}]` is part of a circular chain"),
            );
            return self.fail(span, d);
        }
        if self.chain.len() >= MAX_REFERENCE_DEPTH {
            let d = Diagnostic::error(
                "reference-depth",
                Some(span),
                path,
                format!("`!reference [{shown}]` is nested more than {MAX_REFERENCE_DEPTH} levels deep"),
            );
            return self.fail(span, d);
        }
        let mut current = self.root.get(&keys[0]).map(|e| &e.value);
        for key in &keys[1..] {
            current = current
                .and_then(Node::as_map)
                .and_then(|m| m.get(key))
                .map(|e| &e.value);
        }
        match current {
            Some(target) => {
                let mut copy = target.clone();
                self.chain.push(keys);
                self.node(&mut copy, path);
                self.chain.pop();
                copy.value
            }
            None => {
                let d = Diagnostic::error(
                    "unknown-reference",
                    Some(span),
                    path,
                    format!("`!reference [{shown}]` could not be found"),
                );
                self.fail(span, d)
            }
        }
    }
}
