//! The whole configuration (`Config`) and `workflow:`.

use super::job::{Job, read_job};
use super::rule::{Rule, RulesOf, read_rules};
use super::variable::{Variable, read_variables};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::typing::{Checker, join};
use crate::yaml::{Map, Node, Value};

/// `workflow:`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Workflow {
    /// `rules:` deciding whether a pipeline is created.
    pub rules: Option<Vec<Rule>>,
    /// `name:` of the pipeline (may contain variables).
    pub name: Option<String>,
    /// `auto_cancel:` settings, as written.
    pub auto_cancel: Option<Node>,
}

/// A resolved configuration: stages, global variables, workflow and the visible jobs.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Config {
    /// Stage names in order, with `.pre` first and `.post` last.
    pub stages: Vec<String>,
    /// Where `stages:` is written, if it is.
    pub stages_span: Option<Span>,
    /// Global `variables:`.
    pub variables: Vec<Variable>,
    /// `workflow:`.
    pub workflow: Workflow,
    /// Jobs (hidden `.name` keys excluded), in definition order.
    pub jobs: Vec<Job>,
}

/// The default stages when `stages:` is not written.
pub const DEFAULT_STAGES: &[&str] = &["build", "test", "deploy"];

/// Types the fully resolved top-level map.
pub(crate) fn read_config(map: &Map, root_span: Span, diags: &mut Vec<Diagnostic>) -> Config {
    let mut ck = Checker { diags };
    let mut config = Config::default();
    let mut stages: Option<Vec<String>> = None;
    for (key, entry) in map {
        let v = &entry.value;
        match key.as_str() {
            "stages" | "types" => {
                if v.is_null() {
                    continue;
                }
                stages = ck.string_list(v, key);
                config.stages_span = Some(entry.key_span);
            }
            "variables" => config.variables = read_variables(&mut ck, v, key, true).unwrap_or_default(),
            "workflow" => config.workflow = read_workflow(&mut ck, v, key),
            "default" | "include" | "spec" | "image" | "services" | "cache" | "before_script"
            | "after_script" => {}
            name if name.starts_with('.') => {}
            name => {
                if !matches!(v.value, Value::Map(_)) {
                    ck.error(
                        "invalid-job",
                        v,
                        name,
                        format!(
                            "`{name}` is not a keyword, so it is a job, and a job must be a map (found {})",
                            v.kind()
                        ),
                    );
                    continue;
                }
                if let Some(job) = read_job(&mut ck, name, entry.key_span, v) {
                    config.jobs.push(job);
                }
            }
        }
    }
    if config.workflow.rules.is_none() {
        for job in &config.jobs {
            warn_rules_when(&mut ck, job);
        }
    }
    let mut list: Vec<String> =
        stages.unwrap_or_else(|| DEFAULT_STAGES.iter().map(|s| (*s).to_owned()).collect());
    list.retain(|s| s != ".pre" && s != ".post");
    list.insert(0, ".pre".into());
    list.push(".post".into());
    config.stages = list;
    if config.jobs.is_empty() && !ck.diags.iter().any(Diagnostic::is_error) {
        ck.diags.push(Diagnostic::error(
            "no-jobs",
            Some(root_span),
            "",
            "the configuration must contain at least one visible job",
        ));
    }
    config
}

fn read_workflow(ck: &mut Checker<'_>, node: &Node, path: &str) -> Workflow {
    let mut wf = Workflow::default();
    let Some(map) = ck.map(node, path, &["rules", "name", "auto_cancel"]) else {
        return wf;
    };
    for (key, e) in map {
        let p = join(path, key);
        match key.as_str() {
            "rules" => wf.rules = read_rules(ck, &e.value, &p, RulesOf::Workflow),
            "name" => wf.name = ck.text(&e.value, &p),
            "auto_cancel" => {
                if let Some(ac) = ck.map(&e.value, &p, &["on_new_commit", "on_job_failure"]) {
                    for (k, allowed) in [
                        ("on_new_commit", &["conservative", "interruptible", "none"][..]),
                        ("on_job_failure", &["none", "all"][..]),
                    ] {
                        let Some(v) = ac.get(k) else { continue };
                        let kp = join(&p, k);
                        if let Some(word) = ck.string(&v.value, &kp)
                            && !allowed.contains(&word.as_str())
                        {
                            ck.error(
                                "invalid-value",
                                &v.value,
                                &kp,
                                format!("`{kp}` is `{word}`; expected {}", allowed.join(", ")),
                            );
                        }
                    }
                }
                wf.auto_cancel = Some(e.value.clone());
            }
            _ => {}
        }
    }
    wf
}

/// GitLab warns when a job's last rule is a bare `when:` and there are no `workflow:rules`:
/// such a job also runs in merge request pipelines, so one push can start two pipelines.
fn warn_rules_when(ck: &mut Checker<'_>, job: &Job) {
    let Some(last) = job.rules.as_ref().and_then(|r| r.last()) else {
        return;
    };
    let bare = last.condition.is_none()
        && last.changes.is_none()
        && last.exists.is_none()
        && last.allow_failure.is_none()
        && last.start_in.is_none()
        && last.variables.is_empty()
        && last.needs.is_none()
        && last.interruptible.is_none();
    if bare && last.when.is_some_and(|w| w != super::When::Never) {
        let index = job.rules.as_ref().map_or(0, |r| r.len() - 1);
        ck.diags.push(Diagnostic::warning(
            "rules-when-without-workflow",
            Some(last.span),
            format!("{}.rules[{index}]", job.name),
            format!(
                "job `{}` may allow multiple pipelines to run for a single action due to `rules:when` clause with no `workflow:rules`",
                job.name
            ),
        ));
    }
}
