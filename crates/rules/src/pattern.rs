//! Regular expressions written the GitLab way, `/pattern/flags`.
//!
//! GitLab turns such text into an RE2 regular expression in three steps, which this module
//! follows: every `\/` becomes `/`; the text must then read `/pattern/flags` on one line, with
//! flags among `i`, `m`, `s` and `U` (`^/(.*)/([ismU]*)$` in Ruby, so the last `/` of the line
//! closes the pattern); finally the flags are put in front as `(?flags)` and the result is
//! compiled by RE2. The same steps apply to regex literals in an expression and to the values
//! of variables (or strings) on the right of `=~` and `!~`; only the failure handling differs.

use regex::{Regex, RegexBuilder};

use crate::re2;

/// A compiled regular expression together with the text it came from.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    /// The text as written, for example `/a\/b/i`.
    literal: String,
    /// What GitLab hands to RE2, for example `(?i)a/b`.
    source: String,
    regex: Regex,
}

/// Two patterns are the same expression when they were written the same way.
impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.literal == other.literal
    }
}

impl Pattern {
    /// Compiles a regex literal of an expression; the error explains why it is invalid.
    pub(crate) fn from_literal(literal: &str) -> Result<Self, String> {
        let unescaped = literal.replace("\\/", "/");
        let (body, flags) =
            split_ruby_syntax(&unescaped).ok_or("the pattern must be written as `/pattern/flags`")?;
        let source = if flags.is_empty() {
            body.to_owned()
        } else {
            format!("(?{flags}){body}")
        };
        let regex = compile(&source)?;
        Ok(Self {
            literal: literal.to_owned(),
            source,
            regex,
        })
    }

    /// Reads a value on the right of `=~` as a pattern, as GitLab does since 15.0.
    ///
    /// `None` means the value is not a valid `/pattern/flags`; GitLab then falls back to
    /// checking whether the left side is a substring of the value.
    pub(crate) fn from_value(value: &str) -> Option<Self> {
        Self::from_literal(value).ok()
    }

    /// The text as written.
    pub(crate) fn literal(&self) -> &str {
        &self.literal
    }

    /// The pattern GitLab compiles; `==` between two regex literals compares these.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches anywhere in `text` (matching is not anchored).
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// Splits `/body/flags` the way Ruby's `^/(?<regexp>.*)/(?<flags>[ismU]*)$` does.
///
/// Ruby's `^` and `$` match at line boundaries and `.` stops at a newline, so the first line
/// that has this shape is used; within it, the greedy `.*` makes the last `/` the closing one.
fn split_ruby_syntax(text: &str) -> Option<(&str, &str)> {
    text.split('\n').find_map(|line| {
        let rest = line.strip_prefix('/')?;
        let close = rest.rfind('/')?;
        let flags = &rest[close + 1..];
        flags
            .chars()
            .all(|c| matches!(c, 'i' | 'm' | 's' | 'U'))
            .then(|| (&rest[..close], flags))
    })
}

/// Compiles an RE2 pattern with the `regex` crate, after translating the syntax differences.
fn compile(source: &str) -> Result<Regex, String> {
    let translated = re2::translate(source)?;
    RegexBuilder::new(&translated).build().map_err(|e| match e {
        regex::Error::Syntax(text) => {
            let last = text.lines().last().unwrap_or_default();
            last.strip_prefix("error: ").unwrap_or(last).to_owned()
        }
        regex::Error::CompiledTooBig(_) => "the pattern is too large".to_owned(),
        other => other.to_string(),
    })
}
