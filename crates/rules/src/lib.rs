//! GitLab's CI/CD variable expressions: the language of `rules:if`, `workflow:rules:if`,
//! `only:variables` and `except:variables`.
//!
//! In the data flow, `config` parses every expression while it types the configuration (so an
//! invalid one is a diagnostic with a position), and `plan` evaluates them against the
//! pipeline's variables. The crate is pure: no IO, no clock, no async.
//!
//! ```
//! use std::collections::HashMap;
//!
//! let expr = gantry_rules::parse(r#"$CI_COMMIT_BRANCH == "main" || $CI_COMMIT_TAG =~ /^v\d+/"#)?;
//! let vars = HashMap::from([("CI_COMMIT_TAG".to_owned(), "v1.2.0".to_owned())]);
//! assert!(expr.evaluate(&vars));
//! assert_eq!(expr.to_string(), r#"$CI_COMMIT_BRANCH == "main" || $CI_COMMIT_TAG =~ /^v\d+/"#);
//! # Ok::<(), gantry_rules::ParseError>(())
//! ```
//!
//! # Semantics
//!
//! GitLab's documentation (<https://docs.gitlab.com/ci/jobs/job_rules/#cicd-variable-expressions>)
//! is the reference; where it is silent, this crate does what GitLab's implementation
//! (`lib/gitlab/ci/pipeline/expression/` in `gitlab-org/gitlab`) does. `test_data/cases.txt`
//! has an example of every point, with its source.
//!
//! - **Operands**: `$NAME` (ASCII letters, digits, `_`; `${NAME}` is invalid), strings in
//!   double or single quotes (no escapes, no newlines, may be empty), `null` (there is no
//!   `nil`), `true` and `false` (GitLab 18), and regex literals `/pattern/flags` with flags
//!   `i`, `m`, `s`, `U`. A literal may stand on either side of an operator.
//! - **Operators**: `==`, `!=`, `=~`, `!~` bind tightest, then `&&`, then `||`; all are
//!   left-associative; parentheses group; `!` (GitLab 18) negates the operand after it.
//! - **Presence**: an expression is true when its value is present: a defined variable that
//!   is not empty (nor whitespace only), a non-blank string, `true`, a regex, or a true
//!   comparison.
//! - **Equality**: an undefined variable equals `null`; a variable defined as `""` equals `""`
//!   but not `null`; two variables compare by value.
//! - **Matching**: `=~` finds the pattern anywhere in the left side (RE2 syntax, translated
//!   for the `regex` crate by the `re2` module); an undefined left side is matched as `""`. A
//!   variable or string on the right that holds `/pattern/flags` is used as a pattern; any
//!   other value is searched for the left side as a substring. `!~` is always the negation.
//! - **`&&` and `||`** return one of their operands, like Ruby, which treats `""` as true:
//!   `$EMPTY && $X` is true when `$X` is set, and `$EMPTY || $X` is false. GitLab behaves
//!   this way (gitlab-org/gitlab#321371, #358775, #463528) and gantry keeps it.
//! - **Limits**: at most 99 tokens (GitLab's lexer limit) and 49 levels of parentheses.

mod error;
mod eval;
mod expr;
mod lexer;
mod parser;
mod pattern;
mod re2;
mod variables;

#[cfg(test)]
mod tests;

pub use error::ParseError;
pub use expr::Expr;
pub use parser::parse;
pub use variables::Variables;
