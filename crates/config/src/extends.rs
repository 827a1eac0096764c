//! `extends:`: jobs inherit from other jobs or hidden templates by deep merge.
//!
//! Parents merge in order (a later parent wins), then the job's own keys win; maps merge
//! recursively and everything else is replaced. GitLab allows eleven levels of inheritance.

use crate::diagnostic::Diagnostic;
use crate::merge::deep_merge;
use crate::typing::{index, join};
use crate::yaml::{Map, Node, Value};
use std::collections::{HashMap, HashSet};

/// How many levels of `extends` GitLab follows ("up to eleven levels of inheritance").
pub const MAX_EXTENDS_DEPTH: usize = 11;

/// Resolves `extends` in every top-level entry. Returns the names of entries whose
/// parents could not all be found (their content is incomplete).
pub(crate) fn resolve_extends(map: &mut Map, diags: &mut Vec<Diagnostic>) -> HashSet<String> {
    let names: Vec<String> = map
        .iter()
        .filter(|(_, e)| e.value.as_map().is_some_and(|m| m.contains_key("extends")))
        .map(|(k, _)| k.clone())
        .collect();
    let mut state = State {
        original: map,
        done: HashMap::new(),
        incomplete: HashSet::new(),
        diags,
    };
    let mut resolved = Vec::with_capacity(names.len());
    for name in names {
        if let Some(r) = state.resolve(&name, &mut Vec::new()) {
            resolved.push((name, r));
        }
    }
    let incomplete = state.incomplete;
    for (name, r) in resolved {
        map[&name].value.value = Value::Map(r);
    }
    incomplete
}

struct State<'d> {
    original: &'d Map,
    done: HashMap<String, Option<Map>>,
    incomplete: HashSet<String>,
    diags: &'d mut Vec<Diagnostic>,
}

impl State<'_> {
    fn resolve(&mut self, name: &str, chain: &mut Vec<String>) -> Option<Map> {
        if let Some(done) = self.done.get(name) {
            return done.clone();
        }
        let entry = self.original.get(name)?;
        let Value::Map(own) = &entry.value.value else {
            return None;
        };
        let Some(extends) = own.get("extends") else {
            return Some(own.clone());
        };
        let parents = self.parent_names(name, &extends.value)?;
        chain.push(name.to_owned());
        let mut acc = Map::new();
        for (parent, node) in parents {
            if chain.len() > MAX_EXTENDS_DEPTH {
                self.diags.push(Diagnostic::error(
                    "extends-depth",
                    Some(node.span),
                    join(name, "extends"),
                    format!(
                        "`extends` is nested too deeply: at most {} levels ({})",
                        MAX_EXTENDS_DEPTH,
                        chain.join(" → ")
                    ),
                ));
                chain.pop();
                return None;
            }
            if chain.contains(&parent) {
                self.diags.push(Diagnostic::error(
                    "extends-cycle",
                    Some(node.span),
                    join(name, "extends"),
                    format!("circular `extends`: {} → {parent}", chain.join(" → ")),
                ));
                chain.pop();
                return None;
            }
            match self.original.get(&parent).map(|e| &e.value.value) {
                None => {
                    self.incomplete.insert(name.to_owned());
                    self.diags.push(Diagnostic::error(
                        "unknown-extends",
                        Some(node.span),
                        join(name, "extends"),
                        format!("`{name}` extends `{parent}`, which is not defined"),
                    ));
                    continue;
                }
                Some(Value::Map(_)) => {}
                Some(_) => {
                    self.diags.push(Diagnostic::error(
                        "invalid-extends",
                        Some(node.span),
                        join(name, "extends"),
                        format!("`{name}` extends `{parent}`, which is not a map"),
                    ));
                    continue;
                }
            }
            if let Some(p) = self.resolve(&parent, chain) {
                if self.incomplete.contains(&parent) {
                    self.incomplete.insert(name.to_owned());
                }
                deep_merge(&mut acc, p);
            }
        }
        chain.pop();
        let mut own = own.clone();
        own.shift_remove("extends");
        deep_merge(&mut acc, own);
        self.done.insert(name.to_owned(), Some(acc.clone()));
        Some(acc)
    }

    fn parent_names(&mut self, name: &str, node: &Node) -> Option<Vec<(String, Node)>> {
        let path = join(name, "extends");
        match &node.value {
            Value::Str(s) => Some(vec![(s.clone(), node.clone())]),
            Value::Seq(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let Value::Str(s) = &item.value else {
                        self.diags.push(Diagnostic::error(
                            "type",
                            Some(item.span),
                            index(&path, i),
                            format!("`{path}` must list job names, found {}", item.kind()),
                        ));
                        return None;
                    };
                    out.push((s.clone(), item.clone()));
                }
                Some(out)
            }
            _ => {
                self.diags.push(Diagnostic::error(
                    "type",
                    Some(node.span),
                    path.clone(),
                    format!(
                        "`{path}` must be a job name or a list of job names, found {}",
                        node.kind()
                    ),
                ));
                None
            }
        }
    }
}
