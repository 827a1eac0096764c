//! `environment:` with variables expanded, its slug and its deployment tier.

use crate::model::PlannedEnvironment;
use crate::slug::environment_slug;
use crate::variables::VarSet;
use gantry_config::model::Environment;
use gantry_config::vars::{ExpandOptions, expand, references};

/// Expands an environment's name and URL with the job's variables.
pub(crate) fn plan_environment(
    env: &Environment,
    job_vars: &VarSet,
    pipeline: &VarSet,
) -> PlannedEnvironment {
    let mut vars = job_vars.clone();
    vars.extend(pipeline);
    let namespace = env
        .kubernetes
        .as_ref()
        .and_then(|k| k.as_map())
        .and_then(|m| m.get("namespace"))
        .and_then(|e| e.value.scalar_text());
    let mut wanted = references(&env.name);
    if let Some(url) = &env.url {
        wanted.extend(references(url));
    }
    if let Some(ns) = &namespace {
        wanted.extend(references(ns));
    }
    let values = vars.expanded_only(wanted);
    let lookup = |n: &str| values.get(n).map(String::as_str);
    let name = expand(&env.name, &lookup, ExpandOptions::default());
    let slug = environment_slug(&name);
    // The URL may use the environment's own name and slug (GitLab's dynamic environments).
    let url_lookup = |n: &str| match n {
        "CI_ENVIRONMENT_NAME" => Some(name.as_str()),
        "CI_ENVIRONMENT_SLUG" => Some(slug.as_str()),
        _ => lookup(n),
    };
    let url = env
        .url
        .as_ref()
        .map(|u| expand(u, &url_lookup, ExpandOptions::default()));
    let kubernetes_namespace = namespace
        .map(|n| expand(&n, &url_lookup, ExpandOptions::default()))
        .filter(|n| !n.is_empty());
    let tier = env
        .deployment_tier
        .clone()
        .unwrap_or_else(|| guess_tier(&name).to_owned());
    PlannedEnvironment {
        slug,
        name,
        url,
        action: env.action.clone().unwrap_or_else(|| "start".into()),
        tier,
        on_stop: env.on_stop.clone(),
        auto_stop_in: env.auto_stop_in.clone(),
        kubernetes_namespace,
    }
}

/// GitLab's guess of a deployment tier from the environment name.
pub fn guess_tier(name: &str) -> &'static str {
    let n = name.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&["dev", "review", "trunk"]) {
        "development"
    } else if has(&[
        "test", "tst", "int", "acpt", "accept", "qa", "qc", "control", "quality",
    ]) {
        "testing"
    } else if has(&["stg", "stag", "model", "modl", "pre", "demo", "non"]) {
        "staging"
    } else if has(&["prod", "prd", "live"]) {
        "production"
    } else {
        "other"
    }
}
