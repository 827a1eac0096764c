//! `rules:` entries (jobs, `workflow:` and `include:`), `only:`/`except:`, and `when:`.

use super::need::{Need, read_needs};
use super::variable::{Variable, read_variables};
use crate::span::Span;
use crate::typing::{Checker, index, join};
use crate::yaml::{Node, Value};
use std::sync::Arc;

/// When a job runs (`when:`), or what a matching rule decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum When {
    /// Run when every job of earlier stages (or every need) succeeded.
    OnSuccess,
    /// Run when a job of an earlier stage failed.
    OnFailure,
    /// Run whatever happened before.
    Always,
    /// Wait for someone to start it.
    Manual,
    /// Run after a delay (`start_in`).
    Delayed,
    /// Do not create the job (rules) or never run it.
    Never,
}

impl When {
    /// GitLab's word for this value.
    pub fn as_str(self) -> &'static str {
        match self {
            When::OnSuccess => "on_success",
            When::OnFailure => "on_failure",
            When::Always => "always",
            When::Manual => "manual",
            When::Delayed => "delayed",
            When::Never => "never",
        }
    }

    /// Every value, in GitLab's order.
    pub const ALL: [When; 6] = [
        When::OnSuccess,
        When::OnFailure,
        When::Always,
        When::Manual,
        When::Delayed,
        When::Never,
    ];

    pub(crate) fn read(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<When> {
        Self::read_one_of(ck, node, path, &Self::ALL)
    }

    /// Reads a `when:` that may only take some of the values.
    pub(crate) fn read_one_of(
        ck: &mut Checker<'_>,
        node: &Node,
        path: &str,
        allowed: &[When],
    ) -> Option<When> {
        let word = ck.string(node, path)?;
        let when = match word.as_str() {
            "on_success" => When::OnSuccess,
            "on_failure" => When::OnFailure,
            "always" => When::Always,
            "manual" => When::Manual,
            "delayed" => When::Delayed,
            "never" => When::Never,
            _ => When::OnSuccess,
        };
        if word != when.as_str() || !allowed.contains(&when) {
            let names: Vec<&str> = allowed.iter().map(|w| w.as_str()).collect();
            let extra = if word == "never" {
                " (`when: never` is only allowed in `rules`)"
            } else {
                ""
            };
            ck.error(
                "invalid-value",
                node,
                path,
                format!("`{path}` is `{word}`; expected {}{extra}", names.join(", ")),
            );
            return None;
        }
        Some(when)
    }
}

/// A parsed `if:` expression with its source text.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The expression as written.
    pub source: String,
    /// The parsed expression (shared: the same text in many jobs is parsed once).
    pub expr: std::sync::Arc<gantry_rules::Expr>,
    /// Where it was written.
    pub span: Span,
}

/// `rules:changes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changes {
    /// Glob patterns (may contain variables).
    pub paths: Vec<String>,
    /// The ref to compare with instead of the push's previous commit.
    pub compare_to: Option<String>,
    /// Where `compare_to` is written.
    pub compare_to_span: Option<Span>,
}

/// `rules:exists`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exists {
    /// Glob patterns (may contain variables).
    pub paths: Vec<String>,
    /// Another project to look in.
    pub project: Option<String>,
    /// The ref of that project.
    pub reference: Option<String>,
}

/// One `rules:` entry.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Rule {
    /// Where the entry starts.
    pub span: Span,
    /// `if:`.
    pub condition: Option<Condition>,
    /// `changes:`.
    pub changes: Option<Changes>,
    /// `exists:`.
    pub exists: Option<Exists>,
    /// `when:`.
    pub when: Option<When>,
    /// `allow_failure:`.
    pub allow_failure: Option<bool>,
    /// `start_in:` (with `when: delayed`).
    pub start_in: Option<String>,
    /// `variables:`.
    pub variables: Vec<Variable>,
    /// `needs:`.
    pub needs: Option<Vec<Need>>,
    /// `interruptible:`.
    pub interruptible: Option<bool>,
    /// `auto_cancel:` (workflow rules).
    pub auto_cancel: Option<Node>,
}

const RULE_KEYS: &[&str] = &[
    "if",
    "changes",
    "exists",
    "when",
    "allow_failure",
    "start_in",
    "variables",
    "needs",
    "interruptible",
];
// `start_in`, `allow_failure` and `needs` "are not supported in workflow:rules, but do not
// cause a syntax violation" (GitLab's docs): accepted and ignored.
const WORKFLOW_RULE_KEYS: &[&str] = &[
    "if",
    "changes",
    "exists",
    "when",
    "variables",
    "auto_cancel",
    "start_in",
    "allow_failure",
    "needs",
];
const INCLUDE_RULE_KEYS: &[&str] = &["if", "changes", "exists", "when"];

/// Which `rules:` a list belongs to; each allows other keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RulesOf {
    Job,
    Workflow,
    Include,
}

/// Reads a `rules:` list. Nested lists (from `!reference`) are flattened, as GitLab does.
pub(crate) fn read_rules(ck: &mut Checker<'_>, node: &Node, path: &str, of: RulesOf) -> Option<Vec<Rule>> {
    let items = ck.seq(node, path)?;
    let mut flat = Vec::new();
    flatten(items, path, &mut flat);
    let mut rules = Vec::with_capacity(flat.len());
    for (item, item_path) in flat {
        if let Some(rule) = read_rule(ck, item, &item_path, of) {
            rules.push(rule);
        }
    }
    Some(rules)
}

fn flatten<'n>(items: &'n [Node], path: &str, out: &mut Vec<(&'n Node, String)>) {
    for (i, item) in items.iter().enumerate() {
        match &item.value {
            Value::Seq(inner) => flatten(inner, &index(path, i), out),
            _ => out.push((item, index(path, i))),
        }
    }
}

fn read_rule(ck: &mut Checker<'_>, node: &Node, path: &str, of: RulesOf) -> Option<Rule> {
    let allowed = match of {
        RulesOf::Job => RULE_KEYS,
        RulesOf::Workflow => WORKFLOW_RULE_KEYS,
        RulesOf::Include => INCLUDE_RULE_KEYS,
    };
    let map = ck.map(node, path, allowed)?;
    let mut rule = Rule {
        span: node.span,
        ..Rule::default()
    };
    for (key, entry) in map {
        let v = &entry.value;
        let p = join(path, key);
        match key.as_str() {
            "if" => rule.condition = read_condition(ck, v, &p),
            "changes" => rule.changes = read_changes(ck, v, &p),
            "exists" => rule.exists = read_exists(ck, v, &p),
            "when" => {
                rule.when = match of {
                    RulesOf::Job => When::read(ck, v, &p),
                    RulesOf::Workflow | RulesOf::Include => {
                        When::read_one_of(ck, v, &p, &[When::Always, When::Never])
                    }
                }
            }
            "allow_failure" => rule.allow_failure = ck.bool(v, &p),
            "start_in" => {
                rule.start_in = ck.text(v, &p);
                if let Some(text) = &rule.start_in {
                    match crate::duration::parse_duration(text) {
                        Some(secs) => super::job::check_start_in(ck, Some(secs), v, &p),
                        None => ck.error(
                            "invalid-duration",
                            v,
                            &p,
                            format!("`{p}` is not a duration: `{text}`"),
                        ),
                    }
                }
            }
            "variables" => rule.variables = read_variables(ck, v, &p, false).unwrap_or_default(),
            "needs" => rule.needs = read_needs(ck, v, &p),
            "interruptible" => rule.interruptible = ck.bool(v, &p),
            "auto_cancel" => rule.auto_cancel = Some(v.clone()),
            _ => {}
        }
    }
    if of == RulesOf::Workflow {
        rule.allow_failure = None;
        rule.start_in = None;
        rule.needs = None;
    }
    if of == RulesOf::Job && rule.when == Some(When::Delayed) && rule.start_in.is_none() {
        ck.error(
            "missing-keyword",
            node,
            path,
            format!("`{path}` is `when: delayed` but has no `start_in`"),
        );
    }
    Some(rule)
}

thread_local! {
    /// Parsed expressions by source text: anchors and templates repeat the same `if:` in
    /// hundreds of jobs, and compiling their regexes dominates otherwise.
    static PARSED: std::cell::RefCell<std::collections::HashMap<String, Result<Arc<gantry_rules::Expr>, gantry_rules::ParseError>>> =
        Default::default();
}

fn parse_cached(source: &str) -> Result<Arc<gantry_rules::Expr>, gantry_rules::ParseError> {
    PARSED.with(|cache| {
        if let Some(hit) = cache.borrow().get(source) {
            return hit.clone();
        }
        let parsed = gantry_rules::parse(source).map(Arc::new);
        let mut cache = cache.borrow_mut();
        if cache.len() < 100_000 {
            cache.insert(source.to_owned(), parsed.clone());
        }
        parsed
    })
}

/// Reads and parses an expression (`rules:if`, `only:variables`).
pub(crate) fn read_condition(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Condition> {
    let source = ck.string(node, path)?;
    match parse_cached(&source) {
        Ok(expr) => Some(Condition {
            source,
            expr,
            span: node.span,
        }),
        Err(e) => {
            let span = Span {
                col: node.span.col + e.offset as u32,
                ..node.span
            };
            ck.diags.push(crate::diagnostic::Diagnostic::error(
                "invalid-expression",
                Some(span),
                path,
                format!("invalid expression `{source}`: {}", e.message),
            ));
            None
        }
    }
}

fn read_changes(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Changes> {
    match &node.value {
        Value::Map(_) => {
            let map = ck.map(node, path, &["paths", "compare_to"])?;
            let paths = match map.get("paths") {
                Some(e) => ck.string_list(&e.value, &join(path, "paths"))?,
                None => {
                    ck.error("missing-keyword", node, path, "`changes` as a map needs `paths`");
                    return None;
                }
            };
            let compare_to = map
                .get("compare_to")
                .and_then(|e| ck.string(&e.value, &join(path, "compare_to")));
            let compare_to_span = map.get("compare_to").map(|e| e.value.span);
            Some(Changes {
                paths,
                compare_to,
                compare_to_span,
            })
        }
        _ => Some(Changes {
            paths: ck.string_list(node, path)?,
            compare_to: None,
            compare_to_span: None,
        }),
    }
}

fn read_exists(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Exists> {
    match &node.value {
        Value::Map(_) => {
            let map = ck.map(node, path, &["paths", "project", "ref"])?;
            let paths = match map.get("paths") {
                Some(e) => ck.string_list(&e.value, &join(path, "paths"))?,
                None => {
                    ck.error("missing-keyword", node, path, "`exists` as a map needs `paths`");
                    return None;
                }
            };
            let project = map
                .get("project")
                .and_then(|e| ck.string(&e.value, &join(path, "project")));
            let reference = map
                .get("ref")
                .and_then(|e| ck.string(&e.value, &join(path, "ref")));
            Some(Exists {
                paths,
                project,
                reference,
            })
        }
        _ => Some(Exists {
            paths: ck.string_list(node, path)?,
            project: None,
            reference: None,
        }),
    }
}

/// `only:` or `except:` (the legacy job filters).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct OnlyExcept {
    /// `refs:` (or the list form): keywords such as `branches`, ref names, `/regex/`.
    pub refs: Option<Vec<String>>,
    /// `variables:` expressions.
    pub variables: Vec<Condition>,
    /// `changes:` globs.
    pub changes: Option<Vec<String>>,
    /// `kubernetes: active`.
    pub kubernetes: bool,
}

pub(crate) fn read_only_except(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<OnlyExcept> {
    match &node.value {
        Value::Seq(_) => Some(OnlyExcept {
            refs: Some(ck.string_list(node, path)?),
            ..Default::default()
        }),
        Value::Map(_) => {
            let map = ck.map(node, path, &["refs", "variables", "changes", "kubernetes"])?;
            let mut oe = OnlyExcept::default();
            for (key, entry) in map {
                let p = join(path, key);
                match key.as_str() {
                    "refs" => oe.refs = ck.string_list(&entry.value, &p),
                    "variables" => {
                        for (i, expr) in ck
                            .strings(&entry.value, &p)
                            .unwrap_or_default()
                            .into_iter()
                            .enumerate()
                        {
                            let n = Node::new(Value::Str(expr), entry.value.span);
                            oe.variables.extend(read_condition(ck, &n, &index(&p, i)));
                        }
                    }
                    "changes" => oe.changes = read_changes(ck, &entry.value, &p).map(|c| c.paths),
                    "kubernetes" => {
                        oe.kubernetes = ck.string(&entry.value, &p).is_some_and(|s| s == "active")
                    }
                    _ => {}
                }
            }
            Some(oe)
        }
        Value::Null => Some(OnlyExcept::default()),
        _ => {
            ck.type_error(node, path, "a list of refs or a map");
            None
        }
    }
}

/// Reads `include:rules`.
pub(crate) fn read_include_rules(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Vec<Rule>> {
    read_rules(ck, node, path, RulesOf::Include)
}
