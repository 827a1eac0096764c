//! `environment:`.

use crate::typing::{Checker, join};
use crate::yaml::{Node, Value};

/// `environment:`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Environment {
    /// The name (may contain variables).
    pub name: String,
    /// `url:`.
    pub url: Option<String>,
    /// `action:`: start (default), prepare, stop, verify, access.
    pub action: Option<String>,
    /// `on_stop:`: the job that stops it.
    pub on_stop: Option<String>,
    /// `auto_stop_in:`.
    pub auto_stop_in: Option<String>,
    /// `deployment_tier:`.
    pub deployment_tier: Option<String>,
    /// `kubernetes:` settings, kept as written.
    pub kubernetes: Option<Node>,
}

pub(crate) fn read_environment(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Environment> {
    if let Value::Str(s) = &node.value {
        return Some(Environment {
            name: s.clone(),
            ..Environment::default()
        });
    }
    let map = ck.map(
        node,
        path,
        &[
            "name",
            "url",
            "action",
            "on_stop",
            "auto_stop_in",
            "deployment_tier",
            "kubernetes",
        ],
    )?;
    let mut env = Environment::default();
    for (key, e) in map {
        let p = join(path, key);
        let v = &e.value;
        match key.as_str() {
            "name" => env.name = ck.string(v, &p)?,
            "url" => env.url = ck.string(v, &p),
            "action" => {
                env.action = ck.string(v, &p);
                if let Some(a) = &env.action
                    && !["start", "prepare", "stop", "verify", "access"].contains(&a.as_str())
                {
                    ck.error(
                        "invalid-value",
                        v,
                        &p,
                        format!("`{p}` is `{a}`; expected start, prepare, stop, verify or access"),
                    );
                }
            }
            "on_stop" => env.on_stop = ck.string(v, &p),
            "auto_stop_in" => env.auto_stop_in = ck.text(v, &p),
            "deployment_tier" => {
                env.deployment_tier = ck.string(v, &p);
                if let Some(t) = &env.deployment_tier
                    && !["production", "staging", "testing", "development", "other"].contains(&t.as_str())
                {
                    ck.error(
                        "invalid-value",
                        v,
                        &p,
                        format!(
                            "`{p}` is `{t}`; expected production, staging, testing, development or other"
                        ),
                    );
                }
            }
            "kubernetes" => env.kubernetes = Some(v.clone()),
            _ => {}
        }
    }
    if env.name.is_empty() {
        ck.error("missing-keyword", node, path, "`environment` needs a `name`");
        return None;
    }
    Some(env)
}
