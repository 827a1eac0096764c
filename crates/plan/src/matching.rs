//! Conditions of `rules:` and `only:`/`except:` against the trigger context.
//!
//! `changes` and `exists` use Ruby's `File.fnmatch` with FNM_PATHNAME, FNM_DOTMATCH and
//! FNM_EXTGLOB, as GitLab documents: `*` stays inside a directory, `**/` crosses any
//! number of them, dot files match, `{a,b}` alternates.

use crate::context::{Context, Repository};
use crate::variables::Lookup;
use gantry_config::model::{Changes, Exists, OnlyExcept, Rule};
use gantry_config::vars::{ExpandOptions, expand};
use globset::{GlobBuilder, GlobMatcher};
use indexmap::IndexMap;

/// Compiles a GitLab path pattern. With FNM_PATHNAME only `**/` crosses directories; a `**`
/// anywhere else is a plain `*` (so `docs/**` matches `docs/a.md`, not `docs/x/a.md`).
pub(crate) fn glob(pattern: &str) -> Option<GlobMatcher> {
    thread_local! {
        /// Compiled patterns: templates repeat the same `changes:` lists in hundreds of jobs.
        static COMPILED: std::cell::RefCell<std::collections::HashMap<String, Option<GlobMatcher>>> = Default::default();
    }
    if let Some(hit) = COMPILED.with(|c| c.borrow().get(pattern).cloned()) {
        return hit;
    }
    let compiled = compile_glob(pattern);
    COMPILED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < 100_000 {
            c.insert(pattern.to_owned(), compiled.clone());
        }
    });
    compiled
}

fn compile_glob(pattern: &str) -> Option<GlobMatcher> {
    let mut fixed = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(at) = rest.find("**") {
        fixed.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let at_segment_start = at == 0 || rest[..at].ends_with('/');
        if after.starts_with('/') && at_segment_start {
            fixed.push_str("**");
        } else {
            fixed.push('*');
        }
        rest = after.trim_start_matches('*');
    }
    fixed.push_str(rest);
    GlobBuilder::new(&fixed)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

/// Everything a condition may look at.
pub(crate) struct Scope<'a> {
    pub(crate) ctx: &'a Context,
    pub(crate) repo: &'a dyn Repository,
    pub(crate) vars: &'a IndexMap<String, String>,
    /// `compare_to` refs that could not be resolved (each makes pipeline creation fail).
    pub(crate) invalid_refs: std::cell::RefCell<Vec<String>>,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(
        ctx: &'a Context,
        repo: &'a dyn Repository,
        vars: &'a IndexMap<String, String>,
    ) -> Self {
        Scope {
            ctx,
            repo,
            vars,
            invalid_refs: Default::default(),
        }
    }

    /// Expands variables in a path; an unknown `$NAME` stays, as part of the path (GitLab's docs).
    fn expand(&self, text: &str) -> String {
        expand(
            text,
            &|n| self.vars.get(n).map(String::as_str),
            ExpandOptions {
                keep_unknown: true,
                dollar_escape: false,
            },
        )
    }

    /// True when every condition of the rule holds.
    pub(crate) fn rule_matches(&self, rule: &Rule) -> bool {
        if let Some(c) = &rule.condition
            && !c.expr.evaluate(&Lookup(self.vars))
        {
            return false;
        }
        if let Some(ch) = &rule.changes
            && !self.changes(ch)
        {
            return false;
        }
        if let Some(ex) = &rule.exists
            && !self.exists(ex)
        {
            return false;
        }
        true
    }

    /// `changes:`: always true without a push event or when the changes are unknown.
    pub(crate) fn changes(&self, changes: &Changes) -> bool {
        let files = match &changes.compare_to {
            Some(reference) => {
                let reference = self.expand(reference);
                match self.repo.changed_since(&reference) {
                    Some(files) => files,
                    None => {
                        self.invalid_refs.borrow_mut().push(reference);
                        return false;
                    }
                }
            }
            None => {
                if !self.ctx.has_push_changes() || self.ctx.is_tag {
                    return true;
                }
                match &self.ctx.changed_files {
                    Some(files) => files.clone(),
                    None => return true,
                }
            }
        };
        self.any_match(&changes.paths, &files)
    }

    /// `exists:`: some project file matches a pattern (other projects cannot be checked here).
    pub(crate) fn exists(&self, exists: &Exists) -> bool {
        if exists.project.is_some() {
            return false;
        }
        self.any_match(&exists.paths, &self.ctx.project_files)
    }

    fn any_match(&self, patterns: &[String], files: &[String]) -> bool {
        if files.is_empty() {
            return false;
        }
        patterns.iter().any(|p| {
            let p = self.expand(p);
            glob(p.trim_start_matches("./")).is_some_and(|g| files.iter().any(|f| g.is_match(f)))
        })
    }

    /// `only:` holds when refs, variables, changes and kubernetes all hold.
    pub(crate) fn only(&self, only: &OnlyExcept) -> bool {
        let refs = only
            .refs
            .as_ref()
            .is_none_or(|r| r.iter().any(|p| self.ref_matches(p)));
        let vars =
            only.variables.is_empty() || only.variables.iter().any(|c| c.expr.evaluate(&Lookup(self.vars)));
        let changes = only.changes.as_ref().is_none_or(|paths| {
            self.changes(&Changes {
                paths: paths.clone(),
                compare_to: None,
                compare_to_span: None,
            })
        });
        refs && vars && changes && !only.kubernetes
    }

    /// `except:` excludes when any of refs, variables or changes matches.
    pub(crate) fn except(&self, except: &OnlyExcept) -> bool {
        let refs = except
            .refs
            .as_ref()
            .is_some_and(|r| r.iter().any(|p| self.ref_matches(p)));
        let vars = except
            .variables
            .iter()
            .any(|c| c.expr.evaluate(&Lookup(self.vars)));
        let changes = except.changes.as_ref().is_some_and(|paths| {
            self.changes(&Changes {
                paths: paths.clone(),
                compare_to: None,
                compare_to_span: None,
            })
        });
        refs || vars || changes
    }

    /// One `only:refs`/`except:refs` entry: a keyword, a `/regex/`, or a ref name.
    fn ref_matches(&self, pattern: &str) -> bool {
        let ctx = self.ctx;
        let (pattern, project) = match pattern.rsplit_once('@') {
            Some((p, proj)) if !p.starts_with('/') || p.ends_with('/') => (p, Some(proj)),
            _ => (pattern, None),
        };
        if project.is_some_and(|p| p != ctx.project_path) {
            return false;
        }
        match pattern {
            "branches" => return ctx.is_branch(),
            "tags" => return ctx.is_tag,
            "api" => return ctx.source == "api",
            "external" => return ctx.source == "external",
            "pipelines" => return ctx.source == "pipeline",
            "pushes" => return ctx.source == "push",
            "schedules" => return ctx.source == "schedule",
            "triggers" => return ctx.source == "trigger",
            "web" => return ctx.source == "web",
            "merge_requests" => return ctx.is_merge_request(),
            "chat" => return ctx.source == "chat",
            "external_pull_requests" => return ctx.source == "external_pull_request_event",
            _ => {}
        }
        if ctx.is_merge_request() {
            return false;
        }
        if pattern.len() >= 2 && pattern.starts_with('/') {
            return regex_ref(pattern).is_some_and(|re| re.is_match(&ctx.ref_name));
        }
        pattern == ctx.ref_name
    }
}

/// `/pattern/flags` as a regex (only `i` is meaningful for refs).
fn regex_ref(pattern: &str) -> Option<regex::Regex> {
    let end = pattern.rfind('/')?;
    if end == 0 {
        return None;
    }
    let flags = &pattern[end + 1..];
    let body = &pattern[1..end];
    let prefix = if flags.contains('i') { "(?i)" } else { "" };
    regex::Regex::new(&format!("{prefix}{body}")).ok()
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_follow_fnmatch_pathname_dotmatch_extglob() {
        let m = |p: &str, f: &str| glob(p).unwrap().is_match(f);
        assert!(m("*.md", "README.md") && !m("*.md", "docs/a.md"));
        assert!(m("docs/**/*.md", "docs/a.md") && m("docs/**/*.md", "docs/x/y/a.md"));
        assert!(m("**/*.rb", "a.rb"));
        assert!(m("*", ".env"));
        assert!(m("{src,lib}/*.c", "lib/x.c"));
        assert!(m("docs/**", "docs/a.md") && !m("docs/**", "docs/x/a.md"));
        assert!(m("**.yml", "a.yml") && !m("**.yml", "ci/a.yml"));
    }
}
