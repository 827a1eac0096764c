//! Variable sets with GitLab's precedence and expansion.
//!
//! Layers are applied lowest first (predefined, global, workflow rules, job, matrix, job
//! rules, pipeline variables), each replacing the one before. Expansion then works like
//! GitLab: the server expands references recursively (a cycle is left alone, unknown
//! references and `$$` are kept), and the runner expands once more (`$$` becomes `$`,
//! unknown references become empty). Variables with `expand: false` are never expanded.

use gantry_config::vars::{ExpandOptions, expand, references};
use indexmap::IndexMap;

/// One variable's value and whether it may be expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    /// The value as defined.
    pub value: String,
    /// `expand: false`: the value is used literally.
    pub raw: bool,
}

/// An ordered set of variables where later definitions replace earlier ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VarSet {
    vars: IndexMap<String, Var>,
}

impl VarSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defines (or replaces) a variable.
    pub fn set(&mut self, name: &str, value: &str, raw: bool) {
        self.vars.insert(
            name.to_owned(),
            Var {
                value: value.to_owned(),
                raw,
            },
        );
    }

    /// Adds every variable of `other`, replacing existing ones.
    pub fn extend(&mut self, other: &VarSet) {
        for (k, v) in &other.vars {
            self.vars.insert(k.clone(), v.clone());
        }
    }

    /// The value as defined (not expanded).
    pub fn raw(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    /// Names and definitions in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Every variable with its final value, as a job's environment would have it.
    pub fn expanded(&self) -> IndexMap<String, String> {
        let server = self.server_expanded();
        let lookup = |n: &str| server.get(n).map(String::as_str);
        let runner = ExpandOptions {
            keep_unknown: false,
            dollar_escape: true,
        };
        self.vars
            .iter()
            .map(|(k, v)| {
                let value = if v.raw {
                    v.value.clone()
                } else {
                    expand(&server[k], &lookup, runner)
                };
                (k.clone(), value)
            })
            .collect()
    }

    /// Like [`VarSet::expanded`], for the named variables only (and what they refer to):
    /// planning needs a handful of values per job, not the whole environment.
    pub fn expanded_only<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> IndexMap<String, String> {
        let names: Vec<&str> = names.into_iter().filter(|n| self.vars.contains_key(*n)).collect();
        let mut done: IndexMap<String, String> = IndexMap::new();
        for name in &names {
            self.expand_one(name, &mut done, &mut Vec::new());
        }
        // The runner's pass reads what the server's pass left as references (raw variables).
        let referenced: Vec<String> = done
            .values()
            .flat_map(|v| references(v))
            .map(str::to_owned)
            .collect();
        for name in &referenced {
            self.expand_one(name, &mut done, &mut Vec::new());
        }
        let lookup = |n: &str| done.get(n).map(String::as_str);
        let runner = ExpandOptions {
            keep_unknown: false,
            dollar_escape: true,
        };
        names
            .iter()
            .map(|k| {
                let v = &self.vars[*k];
                let value = if v.raw {
                    v.value.clone()
                } else {
                    expand(&done[*k], &lookup, runner)
                };
                ((*k).to_owned(), value)
            })
            .collect()
    }

    /// Server-side expansion: recursive, keeping unknown references, `$$` and references
    /// to raw variables for the runner.
    fn server_expanded(&self) -> IndexMap<String, String> {
        let mut done: IndexMap<String, String> = IndexMap::new();
        for name in self.vars.keys() {
            self.expand_one(name, &mut done, &mut Vec::new());
        }
        done
    }

    fn expand_one(
        &self,
        name: &str,
        done: &mut IndexMap<String, String>,
        stack: &mut Vec<String>,
    ) -> Option<String> {
        if let Some(v) = done.get(name) {
            return Some(v.clone());
        }
        let var = self.vars.get(name)?;
        if var.raw || !var.value.contains('$') {
            done.insert(name.to_owned(), var.value.clone());
            return Some(var.value.clone());
        }
        if stack.iter().any(|s| s == name) || stack.len() > 64 {
            return Some(var.value.clone());
        }
        stack.push(name.to_owned());
        let mut known = IndexMap::new();
        for r in references(&var.value) {
            if let Some(dep) = self.vars.get(r)
                && !dep.raw
                && let Some(value) = self.expand_one(r, done, stack)
            {
                known.insert(r.to_owned(), value);
            }
        }
        stack.pop();
        let value = expand_keeping_dollars(&var.value, &known);
        if !stack.is_empty()
            && references(&var.value)
                .iter()
                .any(|r| stack.iter().any(|s| s == r))
        {
            return Some(value);
        }
        done.insert(name.to_owned(), value.clone());
        Some(value)
    }
}

/// Expands the known references and keeps everything else (`$$` included) as written.
fn expand_keeping_dollars(text: &str, known: &IndexMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split("$$");
    if let Some(first) = parts.next() {
        out.push_str(&expand(
            first,
            &|n| known.get(n).map(String::as_str),
            ExpandOptions {
                keep_unknown: true,
                dollar_escape: false,
            },
        ));
    }
    for part in parts {
        out.push_str("$$");
        out.push_str(&expand(
            part,
            &|n| known.get(n).map(String::as_str),
            ExpandOptions {
                keep_unknown: true,
                dollar_escape: false,
            },
        ));
    }
    out
}

/// A lookup view of expanded values for the rules language.
pub(crate) struct Lookup<'a>(pub(crate) &'a IndexMap<String, String>);

impl gantry_rules::Variables for Lookup<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_expand_recursively_and_dollar_dollar_is_a_dollar() {
        let mut v = VarSet::new();
        v.set("A", "a", false);
        v.set("B", "$A-b", false);
        v.set("C", "${B}-c-$$B-$MISSING", false);
        v.set("RAW", "$A $$", true);
        v.set("D", "$RAW", false);
        let e = v.expanded();
        assert_eq!(e["B"], "a-b");
        assert_eq!(e["C"], "a-b-c-$B-");
        assert_eq!(e["RAW"], "$A $$");
        assert_eq!(e["D"], "$A $$");
    }

    #[test]
    fn expanding_only_some_names_gives_the_same_values_as_expanding_all() {
        let mut v = VarSet::new();
        v.set("A", "a", false);
        v.set("RAW", "$A $$", true);
        v.set("B", "$A-$RAW-$$x-${MISSING}", false);
        v.set("C", "unrelated", false);
        let all = v.expanded();
        let some = v.expanded_only(["B", "NOT_DEFINED"]);
        assert_eq!(some.len(), 1);
        assert_eq!(some["B"], all["B"]);
    }

    #[test]
    fn a_reference_cycle_terminates() {
        let mut v = VarSet::new();
        v.set("X", "$Y", false);
        v.set("Y", "$X", false);
        let e = v.expanded();
        assert!(e.contains_key("X") && e.contains_key("Y"));
    }
}
