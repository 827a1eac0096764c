//! `default:` (and the deprecated top-level `image`, `services`, `cache`, `before_script`,
//! `after_script`): copied into every job that does not set the keyword itself and whose
//! `inherit:default` allows it. No deep merge: a job's own value replaces the default.

use crate::diagnostic::Diagnostic;
use crate::model::read_job;
use crate::model::{DEFAULT_KEYWORDS, GLOBAL_KEYWORDS};
use crate::typing::Checker;
use crate::yaml::{Entry, Map, Node, Value};

const LEGACY_GLOBALS: &[&str] = &["image", "services", "cache", "before_script", "after_script"];

/// Types the defaults once, as a job named `default` would be, so that a bad value is
/// reported at `default.<key>` even when no job inherits it.
fn check_once(defaults: &Map, diags: &mut Vec<Diagnostic>) {
    let mut pseudo = defaults.clone();
    let at = defaults.values().next().map(|e| e.key_span).unwrap_or_default();
    pseudo.insert(
        "script".into(),
        Entry {
            key_span: at,
            value: Node::new(Value::Str("true".into()), at),
        },
    );
    let mut ck = Checker { diags };
    read_job(&mut ck, "default", at, &Node::new(Value::Map(pseudo), at));
}

pub(crate) fn apply_defaults(map: &mut Map, diags: &mut Vec<Diagnostic>) {
    let mut defaults = Map::new();
    if let Some(entry) = map.get("default")
        && !entry.value.is_null()
    {
        let mut ck = Checker { diags };
        if let Some(d) = ck.map(&entry.value, "default", DEFAULT_KEYWORDS) {
            defaults = d.clone();
        }
    }
    for key in LEGACY_GLOBALS {
        if let Some(entry) = map.get(*key) {
            diags.push(Diagnostic::warning(
                "deprecated",
                Some(entry.key_span),
                *key,
                format!("top-level `{key}` is deprecated; use `default:{key}`"),
            ));
            if !defaults.contains_key(*key) {
                defaults.insert((*key).to_owned(), entry.clone());
            }
        }
    }
    defaults.retain(|k, _| DEFAULT_KEYWORDS.contains(&k.as_str()));
    if defaults.is_empty() {
        return;
    }
    check_once(&defaults, diags);
    for (name, entry) in map.iter_mut() {
        if name.starts_with('.') || GLOBAL_KEYWORDS.contains(&name.as_str()) {
            continue;
        }
        let Value::Map(job) = &mut entry.value.value else {
            continue;
        };
        // Trigger jobs run no script anywhere, so `default:` does not apply to them.
        if job.contains_key("trigger") {
            continue;
        }
        let inherit = job
            .get("inherit")
            .and_then(|i| i.value.as_map())
            .and_then(|i| i.get("default"))
            .map(|d| d.value.clone());
        for (key, value) in &defaults {
            if job.contains_key(key) {
                continue;
            }
            let allowed = match inherit.as_ref().map(|n| &n.value) {
                Some(Value::Bool(b)) => *b,
                Some(Value::Seq(list)) => list.iter().any(|n| n.as_str() == Some(key)),
                _ => true,
            };
            if allowed {
                job.insert(key.clone(), value.clone());
            }
        }
    }
}
