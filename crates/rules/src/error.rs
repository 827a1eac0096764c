//! The error returned when an expression cannot be parsed.
//!
//! GitLab reports every such mistake as "invalid expression syntax" when it validates the
//! configuration; gantry says which part is wrong and where, so `config` can point at it.

/// An expression that GitLab would reject as invalid syntax.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at byte {offset}")]
pub struct ParseError {
    /// Byte offset in the source where the problem starts.
    pub offset: usize,
    /// What is wrong, as a lowercase fragment (for example "unexpected `)`").
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}
