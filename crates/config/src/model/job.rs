//! A job: its keywords, typed and checked.

use super::artifacts::{Artifacts, Cache, read_artifacts, read_caches};
use super::environment::{Environment, read_environment};
use super::image::{Image, Service, read_image, read_services};
use super::need::{Need, NeedMatrix, read_matrix, read_needs};
use super::rule::{OnlyExcept, Rule, RulesOf, When, read_only_except, read_rules};
use super::variable::{Variable, read_variables};
use crate::duration::parse_duration;
use crate::span::Span;
use crate::typing::{Checker, index, join};
use crate::yaml::{Map, Node, Value};

/// `allow_failure:`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum AllowFailure {
    /// Not written: GitLab's default (true for `when: manual` jobs outside rules, false otherwise).
    #[default]
    Unset,
    /// `true` or `false`.
    Bool(bool),
    /// `exit_codes:`: only these exit codes are allowed to fail.
    ExitCodes(Vec<i64>),
}

/// `retry:`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Retry {
    /// How many times to retry (0 to 2).
    pub max: u32,
    /// Failure kinds to retry on (empty: `always`).
    pub when: Vec<String>,
    /// Exit codes to retry on.
    pub exit_codes: Vec<i64>,
}

/// `parallel:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parallel {
    /// `parallel: N`.
    Count(u32),
    /// `parallel:matrix`.
    Matrix(Vec<NeedMatrix>),
}

/// `trigger:`: a downstream pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    /// `project:` for a multi-project pipeline.
    pub project: Option<String>,
    /// `branch:` of that project.
    pub branch: Option<String>,
    /// `strategy:` (`depend`, `mirror`).
    pub strategy: Option<String>,
    /// `include:` for a child pipeline, kept as written.
    pub include: Option<Node>,
    /// `forward:` settings, kept as written.
    pub forward: Option<Node>,
}

/// A job as the configuration defines it.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Its name.
    pub name: String,
    /// Where its key is written.
    pub span: Span,
    /// `stage:` (default `test`).
    pub stage: String,
    /// Where `stage:` is written, if it is.
    pub stage_span: Option<Span>,
    /// `before_script:` lines.
    pub before_script: Vec<String>,
    /// `script:` lines.
    pub script: Vec<String>,
    /// `after_script:` lines.
    pub after_script: Vec<String>,
    /// `image:`.
    pub image: Option<Image>,
    /// `services:`.
    pub services: Vec<Service>,
    /// `rules:`.
    pub rules: Option<Vec<Rule>>,
    /// `only:`.
    pub only: Option<OnlyExcept>,
    /// `except:`.
    pub except: Option<OnlyExcept>,
    /// `needs:` (`Some(vec![])` is `needs: []`).
    pub needs: Option<Vec<Need>>,
    /// `dependencies:`.
    pub dependencies: Option<Vec<String>>,
    /// `when:` as written.
    pub when: Option<When>,
    /// `start_in:` (with `when: delayed`), in seconds.
    pub start_in: Option<u64>,
    /// `allow_failure:`.
    pub allow_failure: AllowFailure,
    /// `retry:`.
    pub retry: Retry,
    /// `timeout:`, in seconds.
    pub timeout: Option<u64>,
    /// `parallel:`.
    pub parallel: Option<Parallel>,
    /// `artifacts:`.
    pub artifacts: Option<Artifacts>,
    /// `cache:`.
    pub cache: Vec<Cache>,
    /// `environment:`.
    pub environment: Option<Environment>,
    /// `resource_group:`.
    pub resource_group: Option<String>,
    /// `interruptible:`.
    pub interruptible: Option<bool>,
    /// `coverage:` regex.
    pub coverage: Option<String>,
    /// `tags:`.
    pub tags: Vec<String>,
    /// `variables:` (global ones are merged in by the planner).
    pub variables: Vec<Variable>,
    /// `inherit:variables`: `None` inherits all, `Some(list)` only those.
    pub inherit_variables: Option<Vec<String>>,
    /// `trigger:`.
    pub trigger: Option<Trigger>,
    /// `hooks:pre_get_sources_script` lines.
    pub pre_get_sources_script: Vec<String>,
    /// Keywords gantry checks but does not act on (`secrets`, `id_tokens`, `release`, `pages`, ...), as written.
    pub other: Vec<(String, Node)>,
}

/// Reads a job's map. `inherit:default` has already been applied by the resolver.
pub(crate) fn read_job(ck: &mut Checker<'_>, name: &str, key_span: Span, node: &Node) -> Option<Job> {
    let map = ck.map(node, name, super::JOB_KEYWORDS)?;
    let mut job = Job {
        name: name.to_owned(),
        span: key_span,
        stage: "test".into(),
        stage_span: None,
        before_script: Vec::new(),
        script: Vec::new(),
        after_script: Vec::new(),
        image: None,
        services: Vec::new(),
        rules: None,
        only: None,
        except: None,
        needs: None,
        dependencies: None,
        when: None,
        start_in: None,
        allow_failure: AllowFailure::Unset,
        retry: Retry::default(),
        timeout: None,
        parallel: None,
        artifacts: None,
        cache: Vec::new(),
        environment: None,
        resource_group: None,
        interruptible: None,
        coverage: None,
        tags: Vec::new(),
        variables: Vec::new(),
        inherit_variables: None,
        trigger: None,
        pre_get_sources_script: Vec::new(),
        other: Vec::new(),
    };
    for (key, e) in map {
        let p = join(name, key);
        let v = &e.value;
        if v.is_null() && key != "variables" {
            continue;
        }
        match key.as_str() {
            "stage" | "type" => {
                if let Some(s) = ck.string(v, &p) {
                    job.stage = s;
                    job.stage_span = Some(v.span);
                }
            }
            "script" => job.script = read_script(ck, v, &p).unwrap_or_default(),
            "before_script" => job.before_script = read_script(ck, v, &p).unwrap_or_default(),
            "after_script" => job.after_script = read_script(ck, v, &p).unwrap_or_default(),
            "image" => job.image = read_image(ck, v, &p),
            "services" => job.services = read_services(ck, v, &p),
            "rules" => job.rules = read_rules(ck, v, &p, RulesOf::Job),
            "only" => job.only = read_only_except(ck, v, &p),
            "except" => job.except = read_only_except(ck, v, &p),
            "needs" => job.needs = read_needs(ck, v, &p),
            "dependencies" => job.dependencies = ck.string_list(v, &p),
            "when" => job.when = When::read_one_of(ck, v, &p, &When::ALL[..5]),
            "start_in" => {
                job.start_in = read_duration(ck, v, &p);
                check_start_in(ck, job.start_in, v, &p);
                if map.contains_key("rules") {
                    ck.error(
                        "start-in-with-rules",
                        v,
                        &p,
                        format!("job `{name}` uses `start_in` with `rules`; put `start_in` in the rule (\"config key may not be used with `rules`: start_in\")"),
                    );
                }
            }
            "allow_failure" => job.allow_failure = read_allow_failure(ck, v, &p),
            "retry" => job.retry = read_retry(ck, v, &p).unwrap_or_default(),
            "timeout" => job.timeout = read_duration(ck, v, &p),
            "parallel" => job.parallel = read_parallel(ck, v, &p),
            "artifacts" => job.artifacts = read_artifacts(ck, v, &p),
            "cache" => job.cache = read_caches(ck, v, &p).unwrap_or_default(),
            "environment" => job.environment = read_environment(ck, v, &p),
            "resource_group" => job.resource_group = ck.string(v, &p),
            "interruptible" => job.interruptible = ck.bool(v, &p),
            "coverage" => job.coverage = read_coverage(ck, v, &p),
            "tags" => job.tags = ck.string_list(v, &p).unwrap_or_default(),
            "variables" => job.variables = read_variables(ck, v, &p, false).unwrap_or_default(),
            "inherit" => job.inherit_variables = read_inherit_variables(ck, v, &p),
            "trigger" => job.trigger = read_trigger(ck, v, &p),
            "hooks" => {
                if let Some(h) = ck.map(v, &p, &["pre_get_sources_script"])
                    && let Some(s) = h.get("pre_get_sources_script")
                {
                    job.pre_get_sources_script =
                        read_script(ck, &s.value, &join(&p, "pre_get_sources_script")).unwrap_or_default();
                }
            }
            "extends" => {}
            _ => {
                check_other(ck, key, v, &p);
                job.other.push((key.clone(), v.clone()));
            }
        }
    }
    let at = Node::new(Value::Null, key_span);
    if job.when == Some(When::Delayed) && job.start_in.is_none() && !has_rule_start_in(&job) {
        ck.error(
            "missing-keyword",
            &at,
            name,
            format!("job `{name}` is `when: delayed` but has no `start_in`"),
        );
    }
    if job.start_in.is_some() && job.when != Some(When::Delayed) && job.rules.is_none() {
        ck.error(
            "invalid-value",
            &at,
            &join(name, "start_in"),
            "`start_in` needs `when: delayed`",
        );
    }
    match map.get("script") {
        Some(s)
            if job.script.is_empty() && matches!(&s.value.value, Value::Seq(items) if items.is_empty()) =>
        {
            ck.error(
                "missing-script",
                &s.value,
                &join(name, "script"),
                format!("job `{name}` has an empty `script`"),
            );
        }
        None if job.trigger.is_none() && !map.contains_key("run") => {
            ck.error(
                "missing-script",
                &at,
                name,
                format!("job `{name}` has no `script`, `run` or `trigger`"),
            );
        }
        _ => {}
    }
    if job.rules.is_some() && (job.only.is_some() || job.except.is_some()) {
        ck.error(
            "rules-with-only",
            &at,
            name,
            format!("job `{name}` uses `rules` with `only` or `except`; use one or the other"),
        );
    }
    if job.trigger.is_some() {
        check_trigger_keywords(ck, map, name);
    }
    Some(job)
}

/// GitLab limits delays to one week.
pub(crate) fn check_start_in(ck: &mut Checker<'_>, secs: Option<u64>, node: &Node, path: &str) {
    const WEEK: u64 = 7 * 24 * 3600;
    if let Some(s) = secs
        && s > WEEK
    {
        let text = node.scalar_text().unwrap_or_default();
        ck.error(
            "invalid-duration",
            node,
            path,
            format!("`{path}` is `{text}`; `start_in` must be less than or equal to one week"),
        );
    }
}

fn has_rule_start_in(job: &Job) -> bool {
    job.rules
        .as_ref()
        .is_some_and(|rs| rs.iter().any(|r| r.start_in.is_some()))
}

/// Reads a script: a string, or a list of strings and nested lists (up to 10 deep), flattened.
pub(crate) fn read_script(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Vec<String>> {
    fn walk(ck: &mut Checker<'_>, node: &Node, path: &str, depth: usize, out: &mut Vec<String>) -> bool {
        match &node.value {
            Value::Str(s) => {
                out.push(s.clone());
                true
            }
            Value::Seq(items) if depth < 10 => items
                .iter()
                .enumerate()
                .all(|(i, item)| walk(ck, item, &index(path, i), depth + 1, out)),
            _ => {
                ck.type_error(
                    node,
                    path,
                    "a string or a nested list of strings (up to 10 levels)",
                );
                false
            }
        }
    }
    let mut out = Vec::new();
    walk(ck, node, path, 0, &mut out).then_some(out)
}

fn read_duration(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<u64> {
    let text = ck.text(node, path)?;
    let secs = parse_duration(&text);
    if secs.is_none() {
        ck.error(
            "invalid-duration",
            node,
            path,
            format!("`{path}` is not a duration: `{text}`"),
        );
    }
    secs
}

fn read_allow_failure(ck: &mut Checker<'_>, node: &Node, path: &str) -> AllowFailure {
    match &node.value {
        Value::Bool(b) => AllowFailure::Bool(*b),
        Value::Map(_) => {
            let Some(map) = ck.map(node, path, &["exit_codes"]) else {
                return AllowFailure::Unset;
            };
            let Some(codes) = map.get("exit_codes") else {
                ck.error(
                    "missing-keyword",
                    node,
                    path,
                    "`allow_failure` as a map needs `exit_codes`",
                );
                return AllowFailure::Unset;
            };
            AllowFailure::ExitCodes(read_ints(ck, &codes.value, &join(path, "exit_codes")))
        }
        _ => {
            ck.type_error(node, path, "a boolean or a map with `exit_codes`");
            AllowFailure::Unset
        }
    }
}

fn read_ints(ck: &mut Checker<'_>, node: &Node, path: &str) -> Vec<i64> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, n)| ck.int(n, &index(path, i)))
            .collect(),
        _ => ck.int(node, path).into_iter().collect(),
    }
}

const RETRY_WHEN: &[&str] = &[
    "always",
    "unknown_failure",
    "script_failure",
    "api_failure",
    "stuck_or_timeout_failure",
    "runner_system_failure",
    "runner_unsupported",
    "stale_schedule",
    "job_execution_timeout",
    "archived_failure",
    "unmet_prerequisites",
    "scheduler_failure",
    "data_integrity_failure",
    "runner_interrupted",
];

fn read_retry(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Retry> {
    let mut retry = Retry::default();
    let max_node = match &node.value {
        Value::Map(_) => {
            let map = ck.map(node, path, &["max", "when", "exit_codes"])?;
            if let Some(w) = map.get("when") {
                let wp = join(path, "when");
                retry.when = ck.strings(&w.value, &wp).unwrap_or_default();
                for word in &retry.when {
                    if !RETRY_WHEN.contains(&word.as_str()) {
                        ck.error(
                            "invalid-value",
                            &w.value,
                            &wp,
                            format!("unknown `retry:when` value `{word}`"),
                        );
                    }
                }
            }
            if let Some(c) = map.get("exit_codes") {
                retry.exit_codes = read_ints(ck, &c.value, &join(path, "exit_codes"));
            }
            map.get("max").map(|e| (&e.value, join(path, "max")))
        }
        _ => Some((node, path.to_owned())),
    };
    if let Some((n, p)) = max_node {
        let max = ck.int(n, &p)?;
        if !(0..=2).contains(&max) {
            ck.error(
                "invalid-value",
                n,
                &p,
                format!("`{p}` must be 0, 1 or 2, found {max}"),
            );
        }
        retry.max = max.clamp(0, 2) as u32;
    }
    Some(retry)
}

fn read_parallel(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Parallel> {
    match &node.value {
        Value::Int(n) => {
            if !(1..=200).contains(n) {
                ck.error(
                    "invalid-value",
                    node,
                    path,
                    format!("`{path}` must be between 1 and 200, found {n}"),
                );
                return None;
            }
            Some(Parallel::Count(*n as u32))
        }
        _ => {
            let map = ck.map(node, path, &["matrix"])?;
            let Some(m) = map.get("matrix") else {
                ck.error(
                    "missing-keyword",
                    node,
                    path,
                    "`parallel` as a map needs `matrix`",
                );
                return None;
            };
            let rows = read_matrix(ck, &m.value, &join(path, "matrix"))?;
            Some(Parallel::Matrix(rows))
        }
    }
}

fn read_coverage(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<String> {
    let text = ck.string(node, path)?;
    if !(text.len() >= 2 && text.starts_with('/') && text.ends_with('/')) {
        ck.error(
            "invalid-value",
            node,
            path,
            "`coverage` must be a regular expression written as `/.../`",
        );
    }
    Some(text)
}

fn read_inherit_variables(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Vec<String>> {
    let map = ck.map(node, path, &["default", "variables"])?;
    for (key, e) in map {
        let p = join(path, key);
        if !matches!(e.value.value, Value::Bool(_) | Value::Seq(_)) {
            ck.type_error(&e.value, &p, "a boolean or a list of names");
        }
    }
    if let Some(d) = map.get("default")
        && let Value::Seq(items) = &d.value.value
    {
        for (i, item) in items.iter().enumerate() {
            if !item
                .as_str()
                .is_some_and(|k| super::DEFAULT_KEYWORDS.contains(&k))
            {
                let shown = item.scalar_text().unwrap_or_default();
                ck.error(
                    "invalid-value",
                    item,
                    &index(&join(path, "default"), i),
                    format!(
                        "`{shown}` is not a `default:` keyword; expected one of {}",
                        super::DEFAULT_KEYWORDS.join(", ")
                    ),
                );
            }
        }
    }
    match map.get("variables").map(|e| &e.value.value) {
        Some(Value::Bool(false)) => Some(Vec::new()),
        Some(Value::Seq(_)) => ck.string_list(&map["variables"].value, &join(path, "variables")),
        _ => None,
    }
}

fn read_trigger(ck: &mut Checker<'_>, node: &Node, path: &str) -> Option<Trigger> {
    if let Value::Str(s) = &node.value {
        return Some(Trigger {
            project: Some(s.clone()),
            branch: None,
            strategy: None,
            include: None,
            forward: None,
        });
    }
    let map = ck.map(
        node,
        path,
        &["project", "branch", "strategy", "include", "forward", "inputs"],
    )?;
    let get = |k: &str| map.get(k).map(|e| &e.value);
    let mut t = Trigger {
        project: None,
        branch: None,
        strategy: None,
        include: get("include").cloned(),
        forward: get("forward").cloned(),
    };
    if let Some(v) = get("project") {
        t.project = ck.string(v, &join(path, "project"));
    }
    if let Some(v) = get("branch") {
        t.branch = ck.string(v, &join(path, "branch"));
    }
    if let Some(v) = get("strategy") {
        t.strategy = ck.string(v, &join(path, "strategy"));
    }
    if t.project.is_none() && t.include.is_none() {
        ck.error(
            "missing-keyword",
            node,
            path,
            "`trigger` needs `project` or `include`",
        );
    }
    Some(t)
}

/// The keywords a trigger job may use (GitLab's docs, `trigger`).
const TRIGGER_JOB_KEYWORDS: &[&str] = &[
    "allow_failure",
    "extends",
    "needs",
    "only",
    "except",
    "parallel",
    "rules",
    "stage",
    "trigger",
    "variables",
    "when",
    "resource_group",
    "environment",
    "inherit",
    "interruptible",
];

fn check_trigger_keywords(ck: &mut Checker<'_>, map: &Map, name: &str) {
    for (key, e) in map {
        if !TRIGGER_JOB_KEYWORDS.contains(&key.as_str()) {
            ck.diags.push(
                crate::diagnostic::Diagnostic::error(
                    "unknown-keyword",
                    Some(e.key_span),
                    join(name, key),
                    format!("`{key}` cannot be used in trigger job `{name}`"),
                )
                .with_help(format!(
                    "trigger jobs can use: {}",
                    TRIGGER_JOB_KEYWORDS.join(", ")
                )),
            );
        }
    }
}

/// Shape checks of the keywords gantry keeps as written.
fn check_other(ck: &mut Checker<'_>, key: &str, v: &Node, p: &str) {
    match key {
        "secrets" | "id_tokens" | "dast_configuration" | "inputs" if !matches!(v.value, Value::Map(_)) => {
            ck.type_error(v, p, "a map");
        }
        "release" => {
            ck.map(
                v,
                p,
                &[
                    "tag_name",
                    "tag_message",
                    "name",
                    "description",
                    "ref",
                    "milestones",
                    "released_at",
                    "assets",
                ],
            );
        }
        "pages" if !matches!(v.value, Value::Bool(_)) => {
            ck.map(v, p, &["publish", "path_prefix", "expire_in"]);
        }
        "publish" | "identity" | "manual_confirmation" => {
            ck.string(v, p);
        }
        "run" => {
            ck.seq(v, p);
        }
        _ => {}
    }
}
