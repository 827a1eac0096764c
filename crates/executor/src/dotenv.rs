//! `artifacts:reports:dotenv`: the variables a job hands to later jobs, parsed by GitLab's
//! rules (`Ci::ParseDotenvArtifactService`, <https://docs.gitlab.com/ci/yaml/artifacts_reports/#artifactsreportsdotenv>).
//!
//! Every line is `KEY=VALUE`, split at the first `=`; key and value lose their surrounding
//! whitespace and nothing else: quotes stay, there is no escaping, no variable substitution,
//! no multiline value. The key holds only ASCII letters, digits and `_` (at most 255 of them).
//! Empty lines and `#` comments are not allowed. A key given twice keeps its first place and
//! its last value. A UTF-8 byte order mark is dropped. The file may hold at most 5 KB and, by
//! default, 20 variables (GitLab Self-Managed's defaults; GitLab.com allows 50 to 150 by tier).

/// GitLab's limits on a dotenv report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DotenvLimits {
    /// The most bytes of the file.
    pub max_bytes: usize,
    /// The most variables (distinct keys).
    pub max_variables: usize,
}

impl DotenvLimits {
    /// 5 KB, the documented `dotenv_size` limit.
    pub const DEFAULT_MAX_BYTES: usize = 5 * 1024;
    /// 20, the documented `dotenv_variables` default of GitLab Self-Managed.
    pub const DEFAULT_MAX_VARIABLES: usize = 20;
    /// The longest key GitLab stores (`Ci::HasVariable`).
    pub const MAX_KEY_LENGTH: usize = 255;
}

impl Default for DotenvLimits {
    fn default() -> Self {
        DotenvLimits {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_variables: Self::DEFAULT_MAX_VARIABLES,
        }
    }
}

/// Why a dotenv report was refused (GitLab then fails the job).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DotenvError {
    /// The file is larger than [`DotenvLimits::max_bytes`].
    #[error("dotenv file is {size} bytes, more than the maximum allowable size of {limit}")]
    TooLarge {
        /// The file's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// More distinct keys than [`DotenvLimits::max_variables`].
    #[error("dotenv files cannot have more than {limit} variables (this one has {count})")]
    TooManyVariables {
        /// The distinct keys found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A line that is not `KEY=VALUE` with a valid key.
    #[error("line {line}: {problem}")]
    InvalidLine {
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with it.
        problem: LineProblem,
    },
}

/// What is wrong with one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// An empty (or blank) line.
    #[error("empty lines are not allowed")]
    Empty,
    /// A line without `=` (a `#` comment is one).
    #[error("invalid format: expected KEY=VALUE")]
    NoEquals,
    /// A key with characters other than ASCII letters, digits and `_`, or none at all.
    #[error("key `{0}` can contain only letters, digits and '_'")]
    InvalidKey(String),
    /// A key longer than [`DotenvLimits::MAX_KEY_LENGTH`].
    #[error("key `{0}` is longer than 255 characters")]
    KeyTooLong(String),
}

/// Parses a dotenv report with GitLab's default limits.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, DotenvError> {
    parse_with_limits(text, &DotenvLimits::default())
}

/// Parses a dotenv report: its variables in the order their keys first appear.
pub fn parse_with_limits(text: &str, limits: &DotenvLimits) -> Result<Vec<(String, String)>, DotenvError> {
    if text.len() > limits.max_bytes {
        return Err(DotenvError::TooLarge {
            size: text.len(),
            limit: limits.max_bytes,
        });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut variables: Vec<(String, String)> = Vec::new();
    // Ruby's `each_line`: a final newline does not start another line.
    for (index, line) in text.strip_suffix('\n').unwrap_or(text).split('\n').enumerate() {
        let invalid = |problem| DotenvError::InvalidLine {
            line: index + 1,
            problem,
        };
        if text.is_empty() {
            break;
        }
        let Some((key, value)) = line.split_once('=') else {
            let problem = if ruby_strip(line).is_empty() {
                LineProblem::Empty
            } else {
                LineProblem::NoEquals
            };
            return Err(invalid(problem));
        };
        let (key, value) = (ruby_strip(key), ruby_strip(value));
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(invalid(LineProblem::InvalidKey(key.to_owned())));
        }
        if key.len() > DotenvLimits::MAX_KEY_LENGTH {
            return Err(invalid(LineProblem::KeyTooLong(key.to_owned())));
        }
        match variables.iter_mut().find(|(k, _)| k == key) {
            Some(existing) => existing.1 = value.to_owned(),
            None => variables.push((key.to_owned(), value.to_owned())),
        }
    }
    if variables.len() > limits.max_variables {
        return Err(DotenvError::TooManyVariables {
            count: variables.len(),
            limit: limits.max_variables,
        });
    }
    Ok(variables)
}

/// Ruby's `String#strip`: ASCII whitespace and NUL.
fn ruby_strip(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | '\0'))
}
