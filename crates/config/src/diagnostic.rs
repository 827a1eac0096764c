//! Diagnostics: user mistakes in a configuration, reported with file, line, column and YAML path.
//!
//! Resolving and planning never stop at the first problem; they collect [`Diagnostic`]s and
//! the caller decides (errors make the configuration invalid, warnings and infos do not).

use crate::span::{Files, Span};
use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The configuration is invalid; no pipeline can be created.
    Error,
    /// Accepted, but probably not what the author meant.
    Warning,
    /// Information, such as "no pipeline is created for this context".
    Info,
}

impl Severity {
    /// The lowercase word used in output (`error`, `warning`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The code of the diagnostic every offline-only failure is traced back to.
pub const INCLUDE_UNAVAILABLE: &str = "include-unavailable";

/// One problem found in a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error, warning or info.
    pub severity: Severity,
    /// A stable kebab-case code, such as `unknown-keyword`.
    pub code: &'static str,
    /// What is wrong, as a lowercase sentence fragment.
    pub message: String,
    /// Where it is; `None` for problems of the whole configuration.
    pub span: Option<Span>,
    /// The YAML path of the offending node, such as `build.script[2]`.
    pub path: String,
    /// How to fix it, when there is a useful hint.
    pub help: Option<String>,
    /// The code of the diagnostic this one only exists because of (see [`INCLUDE_UNAVAILABLE`]).
    pub caused_by: Option<&'static str>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(
        code: &'static str,
        span: Option<Span>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            path: path.into(),
            help: None,
            caused_by: None,
        }
    }

    /// A warning diagnostic.
    pub fn warning(
        code: &'static str,
        span: Option<Span>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, path, message)
        }
    }

    /// An informational diagnostic.
    pub fn info(
        code: &'static str,
        span: Option<Span>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Info,
            ..Diagnostic::error(code, span, path, message)
        }
    }

    /// Adds a hint on how to fix the problem.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic as `file:line:col: severity[code]: message`, with path and help lines.
    pub fn display<'a>(&'a self, files: &'a Files) -> impl fmt::Display + 'a {
        DisplayDiagnostic { diag: self, files }
    }
}

struct DisplayDiagnostic<'a> {
    diag: &'a Diagnostic,
    files: &'a Files,
}

impl fmt::Display for DisplayDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.diag;
        if let Some(span) = d.span {
            write!(f, "{}:{}:{}: ", self.files.name(span.file), span.line, span.col)?;
        }
        write!(f, "{}[{}]: {}", d.severity.as_str(), d.code, d.message)?;
        if !d.path.is_empty() {
            write!(f, "\n  at: {}", d.path)?;
        }
        if let Some(help) = &d.help {
            write!(f, "\n  help: {help}")?;
        }
        if let Some(cause) = d.caused_by {
            write!(f, "\n  caused by: {cause}")?;
        }
        Ok(())
    }
}

/// True when any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}
