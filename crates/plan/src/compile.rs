//! The compiler: configuration + trigger context → [`Plan`] + diagnostics.

use crate::context::{Context, Repository};
use crate::dag::link_needs;
use crate::environment::plan_environment;
use crate::matching::Scope;
use crate::matrix::{MAX_INSTANCES, instances};
use crate::model::{Excluded, Plan, PlannedJob};
use crate::predefined::pipeline_variables;
use crate::slug::slugify;
use crate::variables::VarSet;
use gantry_config::model::{AllowFailure, Config, Job, Rule, When};
use gantry_config::vars::{ExpandOptions, expand, references};
use gantry_config::{Diagnostic, FileSource, Files, IncludeEnv, Resolved, resolve};
use indexmap::IndexMap;

/// The outcome of compiling: a plan (unless the configuration could not be read) and diagnostics.
#[derive(Debug, Default)]
pub struct Compiled {
    /// The plan; present whenever the configuration could be typed, even with errors.
    pub plan: Option<Plan>,
    /// Every diagnostic, from reading the files to linking `needs`.
    pub diagnostics: Vec<Diagnostic>,
    /// The files the configuration was read from.
    pub files: Files,
}

impl Compiled {
    /// True when a diagnostic is an error (the pipeline would not be created).
    pub fn has_errors(&self) -> bool {
        gantry_config::diagnostic::has_errors(&self.diagnostics)
    }
}

struct Env<'a> {
    vars: IndexMap<String, String>,
    ctx: &'a Context,
    repo: &'a dyn Repository,
}

impl IncludeEnv for Env<'_> {
    fn variable(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    fn rules_allow(&self, rules: &[Rule]) -> bool {
        let scope = Scope::new(self.ctx, self.repo, &self.vars);
        rules
            .iter()
            .find(|r| scope.rule_matches(r))
            .is_some_and(|r| r.when != Some(When::Never))
    }
}

/// Compiles the configuration at `root` for the pipeline described by `ctx`.
pub fn compile(root: &str, source: &dyn FileSource, ctx: &Context, repo: &dyn Repository) -> Compiled {
    let mut predefined = VarSet::new();
    for (k, v) in pipeline_variables(ctx) {
        predefined.set(&k, &v, false);
    }
    let mut pipeline = VarSet::new();
    for (k, v) in &ctx.pipeline_variables {
        pipeline.set(k, v, false);
    }
    let mut include_vars = predefined.clone();
    include_vars.extend(&pipeline);
    let env = Env {
        vars: include_vars.expanded(),
        ctx,
        repo,
    };
    let resolved = resolve(root, source, &env);
    let Some(config) = resolved.config.as_ref() else {
        return Compiled {
            plan: None,
            diagnostics: resolved.diagnostics,
            files: resolved.files,
        };
    };
    let mut planner = Planner {
        ctx,
        repo,
        resolved: &resolved,
        diags: Vec::new(),
        predefined,
        pipeline,
        with_globals: None,
    };
    let plan = planner.plan(config);
    let mut diagnostics = resolved.diagnostics.clone();
    diagnostics.extend(planner.diags);
    Compiled {
        plan: Some(plan),
        diagnostics,
        files: resolved.files.clone(),
    }
}

struct Planner<'a> {
    ctx: &'a Context,
    repo: &'a dyn Repository,
    resolved: &'a Resolved,
    diags: Vec<Diagnostic>,
    predefined: VarSet,
    pipeline: VarSet,
    /// Predefined and global variables, for jobs that inherit all globals.
    with_globals: Option<VarSet>,
}

impl Planner<'_> {
    fn error(&mut self, mut d: Diagnostic) {
        self.resolved.mark_consequence(&mut d, true);
        self.diags.push(d);
    }

    fn plan(&mut self, config: &Config) -> Plan {
        let mut plan = Plan {
            stages: config.stages.clone(),
            ..Plan::default()
        };
        let mut global = VarSet::new();
        for v in &config.variables {
            global.set(&v.name, &v.value, !v.expand);
        }
        self.check_stages(config);
        let Some((workflow_vars, rule_auto_cancel)) = self.workflow(config, &global) else {
            return plan;
        };
        plan.auto_cancel_on_new_commit = rule_auto_cancel
            .or_else(|| on_new_commit(config.workflow.auto_cancel.as_ref()))
            .unwrap_or_else(|| "conservative".to_owned());
        let mut globals = global.clone();
        globals.extend(&workflow_vars);
        let mut pipeline_vars = self.predefined.clone();
        pipeline_vars.extend(&globals);
        pipeline_vars.extend(&self.pipeline);
        if let Some(name) = &config.workflow.name {
            let values = pipeline_vars.expanded();
            let name = expand(
                name,
                &|n| values.get(n).map(String::as_str),
                ExpandOptions::default(),
            )
            .trim()
            .to_owned();
            if !name.is_empty() {
                self.predefined.set("CI_PIPELINE_NAME", &name, true);
                pipeline_vars.set("CI_PIPELINE_NAME", &name, true);
                plan.name = Some(name);
            }
        }
        plan.variables = pipeline_vars;
        for job in &config.jobs {
            let list = instances(job);
            if list.len() > MAX_INSTANCES {
                self.error(Diagnostic::error(
                    "parallel-limit",
                    Some(job.span),
                    format!("{}.parallel", job.name),
                    format!(
                        "`{}` expands to {} jobs; at most {MAX_INSTANCES} are allowed",
                        job.name,
                        list.len()
                    ),
                ));
                continue;
            }
            // Matrix rows with the same values make the same name; the later one overwrites.
            let mut by_name: IndexMap<String, PlannedJob> = IndexMap::new();
            for inst in list {
                match self.job(config, job, &globals, inst) {
                    Ok(planned) => {
                        by_name.insert(planned.name.clone(), planned);
                    }
                    Err(excluded) => plan.excluded.push(excluded),
                }
            }
            plan.jobs.extend(by_name.into_values());
        }
        plan.jobs.sort_by_key(|j| j.stage_index);
        let only_edges = plan.jobs.iter().all(|j| j.stage == ".pre" || j.stage == ".post");
        if plan.jobs.is_empty() || only_edges {
            let why = if plan.jobs.is_empty() {
                "no jobs are created for this context, so no pipeline is created"
            } else {
                "only `.pre` and `.post` jobs are created for this context, so no pipeline is created"
            };
            self.diags
                .push(Diagnostic::info("pipeline-not-created", None, "", why));
            plan.jobs.clear();
            return plan;
        }
        let config_jobs: IndexMap<&str, &Job> = config.jobs.iter().map(|j| (j.name.as_str(), j)).collect();
        let mut link_diags = Vec::new();
        link_needs(&mut plan, &config_jobs, &mut link_diags);
        for d in link_diags {
            self.error(d);
        }
        plan.created = true;
        plan
    }

    fn check_stages(&mut self, config: &Config) {
        for job in &config.jobs {
            if !config.stages.contains(&job.stage) {
                let d = Diagnostic::error(
                    "unknown-stage",
                    job.stage_span.or(Some(job.span)),
                    format!("{}.stage", job.name),
                    format!(
                        "job `{}` uses stage `{}`, which is not in `stages` ({})",
                        job.name,
                        job.stage,
                        config.stages.join(", ")
                    ),
                );
                self.error(d);
            }
        }
    }

    /// Evaluates `workflow:rules`: the matching rule's variables and its
    /// `auto_cancel:on_new_commit`; `None` when no pipeline is created.
    fn workflow(&mut self, config: &Config, global: &VarSet) -> Option<(VarSet, Option<String>)> {
        let Some(rules) = &config.workflow.rules else {
            return Some((VarSet::new(), None));
        };
        let mut scope_vars = self.predefined.clone();
        scope_vars.extend(global);
        scope_vars.extend(&self.pipeline);
        let values = scope_vars.expanded();
        let scope = Scope::new(self.ctx, self.repo, &values);
        let Some((i, rule)) = rules.iter().enumerate().find(|(_, r)| scope.rule_matches(r)) else {
            self.diags.push(Diagnostic::info(
                "pipeline-not-created",
                None,
                "workflow.rules",
                "no `workflow:rules` entry matches this context, so no pipeline is created",
            ));
            return None;
        };
        if rule.when == Some(When::Never) {
            self.diags.push(Diagnostic::info(
                "pipeline-not-created",
                Some(rule.span),
                format!("workflow.rules[{i}]"),
                format!("`workflow:rules[{i}]` matches with `when: never`, so no pipeline is created"),
            ));
            return None;
        }
        let mut vars = VarSet::new();
        for v in &rule.variables {
            vars.set(&v.name, &v.value, !v.expand);
        }
        Some((vars, on_new_commit(rule.auto_cancel.as_ref())))
    }

    fn job(
        &mut self,
        config: &Config,
        job: &Job,
        globals: &VarSet,
        inst: crate::matrix::Instance,
    ) -> Result<PlannedJob, Excluded> {
        let mut job_predefined = vec![
            ("CI_JOB_NAME", inst.name.clone()),
            ("CI_JOB_NAME_SLUG", slugify(&inst.name)),
            ("CI_JOB_STAGE", job.stage.clone()),
        ];
        match inst.node {
            Some((i, n)) => {
                job_predefined.push(("CI_NODE_INDEX", i.to_string()));
                job_predefined.push(("CI_NODE_TOTAL", n.to_string()));
            }
            None => job_predefined.push(("CI_NODE_TOTAL", "1".into())),
        }
        // Predefined, then global variables: built once per pipeline and cloned per job,
        // unless `inherit:variables` picks some. Job-level predefined values stay below globals.
        let mut vars = match &job.inherit_variables {
            None => self
                .with_globals
                .get_or_insert_with(|| {
                    let mut base = self.predefined.clone();
                    base.extend(globals);
                    base
                })
                .clone(),
            Some(list) => {
                let mut base = self.predefined.clone();
                for (name, var) in globals.iter().filter(|(n, _)| list.iter().any(|l| l == n)) {
                    base.set(name, &var.value, var.raw);
                }
                base
            }
        };
        for (name, value) in &job_predefined {
            if globals.raw(name).is_none() {
                vars.set(name, value, false);
            }
        }
        for v in &job.variables {
            vars.set(&v.name, &v.value, !v.expand);
        }
        for (k, v) in &inst.matrix {
            vars.set(k, v, false);
        }
        let mut scope_vars = vars.clone();
        scope_vars.extend(&self.pipeline);
        let values = scope_vars.expanded_only(condition_variables(job).iter().map(String::as_str));
        let scope = Scope::new(self.ctx, self.repo, &values);
        let excluded = |reason: String| Excluded {
            name: inst.name.clone(),
            reason,
        };
        let mut when = job.when.unwrap_or(When::OnSuccess);
        let mut allow_failure = match &job.allow_failure {
            AllowFailure::Bool(b) => Some(*b),
            AllowFailure::ExitCodes(_) => Some(false),
            AllowFailure::Unset => None,
        };
        // GitLab derives the default from the job-level `when` only: `when: manual` written on
        // the job makes it optional, a manual coming from `rules` does not.
        let manual_by_job = job.when == Some(When::Manual);
        let mut exit_codes = match &job.allow_failure {
            AllowFailure::ExitCodes(codes) => codes.clone(),
            _ => Vec::new(),
        };
        let mut start_in = job.start_in;
        let mut needs = job.needs.clone();
        let mut interruptible = job.interruptible;
        if let Some(rules) = &job.rules {
            let found = rules.iter().enumerate().find(|(_, r)| scope.rule_matches(r));
            if let Some(reference) = scope.invalid_refs.borrow_mut().drain(..).next() {
                let rule = rules
                    .iter()
                    .enumerate()
                    .find(|(_, r)| r.changes.as_ref().is_some_and(|c| c.compare_to.is_some()));
                let (i, span) = rule.map_or((0, None), |(i, r)| {
                    (i, r.changes.as_ref().and_then(|c| c.compare_to_span))
                });
                self.error(Diagnostic::error(
                    "invalid-compare-to",
                    span,
                    format!("{}.rules[{i}].changes.compare_to", job.name),
                    format!("failed to parse rule for `{}`: `rules:changes:compare_to` is not a valid ref: `{reference}`", job.name),
                ));
                return Err(excluded("`rules:changes:compare_to` is not a valid ref".into()));
            }
            let Some((i, rule)) = found else {
                return Err(excluded("no `rules` entry matches".into()));
            };
            when = rule.when.or(job.when).unwrap_or(When::OnSuccess);
            if when == When::Never {
                return Err(excluded(format!("`rules[{i}]` matches with `when: never`")));
            }
            if let Some(af) = rule.allow_failure {
                allow_failure = Some(af);
                exit_codes.clear();
            }
            if let Some(s) = &rule.start_in {
                start_in = gantry_config::duration::parse_duration(s);
            }
            if rule.needs.is_some() {
                needs = rule.needs.clone();
            }
            if rule.interruptible.is_some() {
                interruptible = rule.interruptible;
            }
            for v in &rule.variables {
                vars.set(&v.name, &v.value, !v.expand);
            }
        } else {
            let default_only = gantry_config::model::OnlyExcept {
                refs: Some(vec!["branches".into(), "tags".into()]),
                ..Default::default()
            };
            // `only: [branches, tags]` is the default only when there are no `workflow:rules`.
            let fallback = if config.workflow.rules.is_some() {
                None
            } else {
                Some(&default_only)
            };
            if let Some(only) = job.only.as_ref().or(fallback)
                && !scope.only(only)
            {
                return Err(excluded("`only` does not match this context".into()));
            }
            if let Some(except) = &job.except
                && scope.except(except)
            {
                return Err(excluded("`except` matches this context".into()));
            }
            if when == When::Never {
                return Err(excluded("`when: never`".into()));
            }
        }
        let allow_failure = allow_failure.unwrap_or(manual_by_job);
        let environment = job
            .environment
            .as_ref()
            .map(|env| plan_environment(env, &vars, &self.pipeline));
        if let Some(env) = &environment {
            vars.set("CI_ENVIRONMENT_NAME", &env.name, true);
            vars.set("CI_ENVIRONMENT_SLUG", &env.slug, true);
            vars.set("CI_ENVIRONMENT_ACTION", &env.action, true);
            vars.set("CI_ENVIRONMENT_TIER", &env.tier, true);
            if let Some(url) = &env.url {
                vars.set("CI_ENVIRONMENT_URL", url, true);
            }
            // A deployment variable: below the job's own variables in GitLab's precedence.
            if let Some(ns) = &env.kubernetes_namespace
                && vars.raw("KUBE_NAMESPACE").is_none()
            {
                vars.set("KUBE_NAMESPACE", ns, true);
            }
        }
        vars.extend(&self.pipeline);
        let group_refs: Vec<&str> = job.resource_group.as_deref().map(references).unwrap_or_default();
        let values = vars.expanded_only(group_refs);
        let resource_group = job.resource_group.as_ref().map(|g| {
            expand(
                g,
                &|n| values.get(n).map(String::as_str),
                ExpandOptions::default(),
            )
        });
        let stage_index = config
            .stages
            .iter()
            .position(|s| *s == job.stage)
            .unwrap_or(config.stages.len());
        let mut planned_job = job.clone();
        planned_job.needs = needs;
        Ok(PlannedJob {
            name: inst.name,
            config_name: job.name.clone(),
            stage: job.stage.clone(),
            stage_index,
            when,
            start_in,
            allow_failure,
            allow_failure_exit_codes: exit_codes,
            needs: None,
            dependencies: None,
            variables: vars,
            environment,
            resource_group,
            interruptible: interruptible.unwrap_or(false),
            node: inst.node,
            matrix: inst.matrix,
            config: planned_job,
        })
    }
}

/// Every variable a job's `rules`, `only` and `except` can look at.
fn condition_variables(job: &Job) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let add_text =
        |text: &str, names: &mut Vec<String>| names.extend(references(text).into_iter().map(str::to_owned));
    for rule in job.rules.iter().flatten() {
        if let Some(c) = &rule.condition {
            names.extend(c.expr.variable_names().into_iter().map(str::to_owned));
        }
        if let Some(ch) = &rule.changes {
            ch.paths
                .iter()
                .chain(&ch.compare_to)
                .for_each(|p| add_text(p, &mut names));
        }
        if let Some(ex) = &rule.exists {
            ex.paths.iter().for_each(|p| add_text(p, &mut names));
        }
    }
    for oe in job.only.iter().chain(&job.except) {
        for c in &oe.variables {
            names.extend(c.expr.variable_names().into_iter().map(str::to_owned));
        }
        oe.changes.iter().flatten().for_each(|p| add_text(p, &mut names));
    }
    names.sort();
    names.dedup();
    names
}

/// The `on_new_commit` word of an `auto_cancel:` mapping; an unknown word (already
/// reported by the configuration check) counts as absent.
fn on_new_commit(auto_cancel: Option<&gantry_config::yaml::Node>) -> Option<String> {
    let entry = auto_cancel?.as_map()?.get("on_new_commit")?;
    let word = entry.value.as_str()?;
    matches!(word, "conservative" | "interruptible" | "none").then(|| word.to_owned())
}
