//! `variables:` entries, global or per job.

use crate::span::Span;
use crate::typing::{Checker, join};
use crate::yaml::{Node, Value};

/// One CI/CD variable defined in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Its value as written (not yet expanded).
    pub value: String,
    /// `description:` (global variables; shown in the run-pipeline form).
    pub description: Option<String>,
    /// `options:` (global variables; the values the form offers).
    pub options: Vec<String>,
    /// `expand: false` keeps `$` references literal.
    pub expand: bool,
    /// Where the variable is defined.
    pub span: Span,
}

/// Reads a `variables:` map. `global` allows `description` and `options`.
pub(crate) fn read_variables(
    ck: &mut Checker<'_>,
    node: &Node,
    path: &str,
    global: bool,
) -> Option<Vec<Variable>> {
    if node.is_null() {
        return Some(Vec::new());
    }
    let Value::Map(map) = &node.value else {
        ck.type_error(node, path, "a map of variable names to values");
        return None;
    };
    let mut out = Vec::with_capacity(map.len());
    for (name, entry) in map {
        let p = join(path, name);
        let v = &entry.value;
        let mut var = Variable {
            name: name.clone(),
            value: String::new(),
            description: None,
            options: Vec::new(),
            expand: true,
            span: entry.key_span,
        };
        match &v.value {
            Value::Map(_) => {
                let allowed: &[&str] = if global {
                    &["value", "description", "options", "expand"]
                } else {
                    &["value", "expand"]
                };
                let Some(m) = ck.map(v, &p, allowed) else { continue };
                for (key, e) in m {
                    let kp = join(&p, key);
                    match key.as_str() {
                        "value" => var.value = ck.text(&e.value, &kp).unwrap_or_default(),
                        "description" => var.description = ck.string(&e.value, &kp),
                        "options" => var.options = ck.string_list(&e.value, &kp).unwrap_or_default(),
                        "expand" => var.expand = ck.bool(&e.value, &kp).unwrap_or(true),
                        _ => {}
                    }
                }
                if !var.options.is_empty() && !var.options.contains(&var.value) {
                    ck.error(
                        "invalid-value",
                        v,
                        &p,
                        format!("the value of `{name}` must be one of its `options`"),
                    );
                }
            }
            Value::Null => {}
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                var.value = v.scalar_text().unwrap_or_default()
            }
            _ => {
                ck.type_error(v, &p, "a string, a number or a map with `value`");
                continue;
            }
        }
        out.push(var);
    }
    Some(out)
}
