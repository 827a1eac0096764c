//! `spec:inputs` headers and `$[[ inputs.name ]]` interpolation of included files.
//!
//! Inputs are checked against the header (type, options, regex, required), then every
//! string and key of the file's content is interpolated. A string that is exactly one
//! `$[[ ... ]]` block takes the input's typed value (a boolean stays a boolean).

use crate::diagnostic::Diagnostic;
use crate::include::IncludeEnv;
use crate::span::Span;
use crate::typing::{Checker, join};
use crate::vars::{ExpandOptions, expand};
use crate::yaml::{Entry, Map, Node, Value};
use indexmap::IndexMap;

/// Resolves the inputs of a file with a `spec:` header and interpolates its content.
pub(crate) fn apply_inputs(
    header: &Node,
    given: Option<&Node>,
    content: &mut Node,
    env: &dyn IncludeEnv,
    diags: &mut Vec<Diagnostic>,
) {
    let mut ck = Checker { diags };
    let Some(spec_map) = ck.map(header, "", &["spec"]) else {
        return;
    };
    let Some(spec) = spec_map.get("spec") else { return };
    let Some(spec) = ck.map(
        &spec.value,
        "spec",
        &["inputs", "component", "description", "include"],
    ) else {
        return;
    };
    let declared = match spec.get("inputs") {
        Some(e) if !e.value.is_null() => ck.map(&e.value, "spec.inputs", &[]).cloned(),
        _ => Some(Map::new()),
    };
    let Some(declared) = declared else { return };
    ck.diags
        .retain(|d| !(d.code == "unknown-keyword" && d.path.starts_with("spec.inputs.")));
    let given_map = match given {
        Some(g) => match &g.value {
            Value::Map(m) => m.clone(),
            _ => {
                ck.type_error(g, "include.inputs", "a map of input names to values");
                Map::new()
            }
        },
        None => Map::new(),
    };
    for (name, e) in &given_map {
        if !declared.contains_key(name) {
            ck.diags.push(Diagnostic::error(
                "include-inputs",
                Some(e.key_span),
                join("inputs", name),
                format!("unknown input `{name}`: the file's `spec:inputs` does not declare it"),
            ));
        }
    }
    let mut values: IndexMap<String, Node> = IndexMap::new();
    for (name, decl) in &declared {
        // An input that failed its checks interpolates as null, so that only the input's
        // own error is reported, not every place it is used.
        let value = resolve_input(&mut ck, name, decl, given_map.get(name), header.span)
            .unwrap_or_else(|| Node::new(Value::Null, header.span));
        values.insert(name.clone(), value);
    }
    let mut interp = Interpolator {
        values: &values,
        env,
        diags: ck.diags,
    };
    interp.node(content);
}

fn resolve_input(
    ck: &mut Checker<'_>,
    name: &str,
    decl: &Entry,
    given: Option<&Entry>,
    at: Span,
) -> Option<Node> {
    let path = join("spec.inputs", name);
    let spec = match &decl.value.value {
        Value::Null => Map::new(),
        Value::Map(_) => ck
            .map(
                &decl.value,
                &path,
                &["default", "description", "options", "regex", "type", "rules"],
            )?
            .clone(),
        _ => {
            ck.type_error(&decl.value, &path, "a map (or empty)");
            return None;
        }
    };
    let kind = match spec.get("type") {
        Some(t) => ck.string(&t.value, &join(&path, "type"))?,
        None => "string".to_owned(),
    };
    if !["string", "number", "boolean", "array"].contains(&kind.as_str()) {
        ck.error(
            "include-inputs",
            &spec["type"].value,
            &join(&path, "type"),
            format!("unknown input type `{kind}`"),
        );
        return None;
    }
    let value = match (given, spec.get("default")) {
        (Some(g), _) => g.value.clone(),
        (None, Some(d)) => d.value.clone(),
        (None, None) => {
            ck.diags.push(Diagnostic::error(
                "include-inputs",
                Some(at),
                path,
                format!("input `{name}` is required: it has no default and no value was given"),
            ));
            return None;
        }
    };
    let type_ok = match kind.as_str() {
        "string" => matches!(value.value, Value::Str(_)),
        "number" => matches!(value.value, Value::Int(_) | Value::Float(_)),
        "boolean" => matches!(value.value, Value::Bool(_)),
        _ => matches!(value.value, Value::Seq(_)),
    };
    if !type_ok {
        ck.error(
            "include-inputs",
            &value,
            &path,
            format!("input `{name}` must be a {kind}, found {}", value.kind()),
        );
        return None;
    }
    if let Some(options) = spec.get("options") {
        let allowed: Vec<String> = options
            .value
            .as_seq()
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar_text)
            .collect();
        let text = value.scalar_text().unwrap_or_default();
        if !allowed.contains(&text) {
            ck.error(
                "include-inputs",
                &value,
                &path,
                format!(
                    "input `{name}` is `{text}`, which is not one of its options: {}",
                    allowed.join(", ")
                ),
            );
            return None;
        }
    }
    if let Some(re) = spec.get("regex").and_then(|r| r.value.as_str()) {
        let pattern = re.trim_start_matches('/').trim_end_matches('/');
        let text = value.scalar_text().unwrap_or_default();
        match regex::Regex::new(pattern) {
            Ok(r) if r.is_match(&text) => {}
            Ok(_) => {
                ck.error(
                    "include-inputs",
                    &value,
                    &path,
                    format!("input `{name}` does not match its regex {re}"),
                );
                return None;
            }
            Err(_) => {
                ck.error(
                    "include-inputs",
                    &spec["regex"].value,
                    &join(&path, "regex"),
                    format!("invalid regex {re}"),
                );
                return None;
            }
        }
    }
    Some(value)
}

struct Interpolator<'a> {
    values: &'a IndexMap<String, Node>,
    env: &'a dyn IncludeEnv,
    diags: &'a mut Vec<Diagnostic>,
}

impl Interpolator<'_> {
    fn node(&mut self, node: &mut Node) {
        match &mut node.value {
            Value::Str(s) if s.contains("$[[") => {
                if let Some(v) = self.string(s, node.span) {
                    node.value = v;
                }
            }
            Value::Seq(items) | Value::Reference(items) => items.iter_mut().for_each(|n| self.node(n)),
            Value::Map(map) => {
                if map.keys().any(|k| k.contains("$[[")) {
                    let old = std::mem::take(map);
                    for (key, mut entry) in old {
                        let key = match self.string(&key, entry.key_span) {
                            Some(v) => Node::new(v, entry.key_span).scalar_text().unwrap_or(key),
                            None => key,
                        };
                        self.node(&mut entry.value);
                        map.insert(key, entry);
                    }
                } else {
                    map.values_mut().for_each(|e| self.node(&mut e.value));
                }
            }
            _ => {}
        }
    }

    /// Interpolates one string; `None` when it has no `inputs` block.
    fn string(&mut self, text: &str, span: Span) -> Option<Value> {
        let mut out = String::new();
        let mut rest = text;
        let mut changed = false;
        while let Some(start) = rest.find("$[[") {
            let Some(len) = rest[start..].find("]]") else {
                break;
            };
            let inner = rest[start + 3..start + len].trim();
            out.push_str(&rest[..start]);
            let block = &rest[start..start + len + 2];
            rest = &rest[start + len + 2..];
            let Some(expr) = inner.strip_prefix("inputs.") else {
                out.push_str(block);
                continue;
            };
            changed = true;
            let mut parts = expr.split('|').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let Some(value) = self.values.get(name) else {
                self.diags.push(Diagnostic::error(
                    "include-inputs",
                    Some(span),
                    "",
                    format!("unknown interpolation key `inputs.{name}`"),
                ));
                out.push_str(block);
                continue;
            };
            let functions: Vec<&str> = parts.collect();
            if functions.is_empty() && out.is_empty() && rest.is_empty() {
                return Some(value.value.clone());
            }
            let mut text = value
                .scalar_text()
                .unwrap_or_else(|| crate::include::fingerprint(value));
            for f in functions {
                text = self.function(f, text, span);
            }
            out.push_str(&text);
        }
        out.push_str(rest);
        changed.then_some(Value::Str(out))
    }

    fn function(&mut self, f: &str, text: String, span: Span) -> String {
        if f == "expand_vars" {
            return expand(
                &text,
                &|n| self.env.variable(n),
                ExpandOptions {
                    keep_unknown: true,
                    dollar_escape: false,
                },
            );
        }
        if f == "posix_escape" {
            return text
                .chars()
                .flat_map(|c| {
                    if c.is_ascii_alphanumeric() || "_-./".contains(c) {
                        vec![c]
                    } else {
                        vec!['\\', c]
                    }
                })
                .collect();
        }
        if let Some(args) = f.strip_prefix("truncate(").and_then(|a| a.strip_suffix(')')) {
            let nums: Vec<usize> = args.split(',').filter_map(|a| a.trim().parse().ok()).collect();
            if let [offset, length] = nums[..] {
                return text.chars().skip(offset).take(length).collect();
            }
        }
        self.diags.push(Diagnostic::error(
            "include-inputs",
            Some(span),
            "",
            format!("unknown interpolation function `{f}`"),
        ));
        text
    }
}
