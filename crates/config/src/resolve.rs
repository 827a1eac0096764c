//! The entry point: one function from a root file to a typed [`Config`] plus diagnostics.

use crate::defaults::apply_defaults;
use crate::diagnostic::{Diagnostic, INCLUDE_UNAVAILABLE};
use crate::extends::resolve_extends;
use crate::include::{IncludeEnv, Includer};
use crate::model::Config;
use crate::reference::resolve_references;
use crate::source::{FileSource, SourceError};
use crate::span::Files;
use std::collections::HashSet;

/// The outcome of resolving a configuration.
#[derive(Debug, Default)]
pub struct Resolved {
    /// The typed configuration; `None` when it could not be read at all.
    pub config: Option<Config>,
    /// Every problem found, errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// The files the configuration is made of (for rendering diagnostics).
    pub files: Files,
    /// True when some include could not be loaded offline.
    pub includes_unavailable: bool,
    /// Jobs and templates whose `extends` or `!reference` pointed at something missing.
    pub incomplete: HashSet<String>,
}

impl Resolved {
    /// Marks `diag` as a consequence of an unavailable include when it concerns an
    /// incomplete job (or may only be because of the missing files).
    pub fn mark_consequence(&self, diag: &mut Diagnostic, depends_on_missing: bool) {
        if !self.includes_unavailable || diag.severity != crate::diagnostic::Severity::Error {
            return;
        }
        let about_incomplete = self.incomplete.iter().any(|job| {
            diag.path
                .strip_prefix(job.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        });
        if depends_on_missing || about_incomplete {
            diag.caused_by = Some(INCLUDE_UNAVAILABLE);
        }
    }
}

/// Reads `root` (a path in `source`) with everything it includes, and types it.
pub fn resolve(root: &str, source: &dyn FileSource, env: &dyn IncludeEnv) -> Resolved {
    let mut out = Resolved::default();
    let text = match source.read(root) {
        Ok(text) => text,
        Err(e) => {
            let why = match e {
                SourceError::NotFound => "file not found".to_owned(),
                other => other.to_string(),
            };
            out.files.intern(root);
            out.diagnostics.push(Diagnostic::error(
                "config-not-found",
                None,
                "",
                format!("cannot read `{root}`: {why}"),
            ));
            return out;
        }
    };
    resolve_text(root, &text, source, env)
}

/// Like [`resolve`], with the root file's text already at hand.
pub fn resolve_text(root: &str, text: &str, source: &dyn FileSource, env: &dyn IncludeEnv) -> Resolved {
    let mut includer = Includer::new(source, env);
    let root_map = includer.root(root, text);
    let mut out = Resolved {
        includes_unavailable: includer.unavailable,
        files: std::mem::take(&mut includer.files),
        diagnostics: std::mem::take(&mut includer.diags),
        ..Resolved::default()
    };
    let Some((mut map, root_span)) = root_map else {
        return out;
    };
    let mut diags = Vec::new();
    let earlier_errors = crate::diagnostic::has_errors(&out.diagnostics);
    out.incomplete = resolve_extends(&mut map, &mut diags);
    let failed_references = resolve_references(&mut map, &mut diags);
    let before_typing = diags.len();
    apply_defaults(&mut map, &mut diags);
    let config = crate::model::read_config(&map, root_span, &mut diags);
    // Follow-on noise: the null a failed reference left behind, and one problem reported
    // again at the same place (a `default:` value is checked once, then copied into jobs).
    let mut seen = HashSet::new();
    let mut index = 0;
    diags.retain(|d| {
        index += 1;
        let after_null = index > before_typing && d.span.is_some_and(|s| failed_references.contains(&s));
        !after_null && d.span.is_none_or(|s| seen.insert((d.code, s, d.severity)))
    });
    if earlier_errors {
        // "No visible job" only repeats an include error that lost the jobs.
        diags.retain(|d| d.code != "no-jobs");
    }
    for d in &mut diags {
        // A job whose script comes from an unavailable include (same-named jobs deep-merge) has none here.
        let missing_target = matches!(d.code, "unknown-extends" | "unknown-reference" | "missing-script");
        out.mark_consequence(d, missing_target);
    }
    out.diagnostics.extend(diags);
    out.config = Some(config);
    out
}
