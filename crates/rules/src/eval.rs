//! Evaluation, with the values and conversions of GitLab's Ruby implementation.
//!
//! Every node evaluates to a [`Value`]: `nil`, a boolean, a string or a regular expression.
//! Comparisons produce booleans; `&&` and `||` return one of their operands, as Ruby does;
//! the whole expression is true when its value is "present" in ActiveSupport's sense (not
//! `nil`, not `false`, not a blank string).

use crate::expr::{BinaryOp, Node};
use crate::pattern::Pattern;
use crate::variables::Variables;

/// The value of a node.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    /// Ruby's `nil`: `null`, or a variable that is not defined.
    Null,
    Bool(bool),
    Str(&'a str),
    Regex(&'a Pattern),
}

/// Evaluates a node. Recursion is bounded by the parser's token limit.
pub(crate) fn value<'a>(node: &'a Node, vars: &'a dyn Variables) -> Value<'a> {
    match node {
        Node::Variable(name) => vars.get(name).map_or(Value::Null, Value::Str),
        Node::String(s) => Value::Str(s),
        Node::Regex(pattern) => Value::Regex(pattern),
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Not(operand) => Value::Bool(!is_present(&value(operand, vars))),
        Node::Binary(BinaryOp::And, left, right) => {
            let left = value(left, vars);
            if is_truthy(&left) {
                value(right, vars)
            } else {
                left
            }
        }
        Node::Binary(BinaryOp::Or, left, right) => {
            let left = value(left, vars);
            if is_truthy(&left) {
                left
            } else {
                value(right, vars)
            }
        }
        Node::Binary(op, left, right) => {
            let (left, right) = (value(left, vars), value(right, vars));
            Value::Bool(match op {
                BinaryOp::Eq => equals(&left, &right),
                BinaryOp::Ne => !equals(&left, &right),
                BinaryOp::Match => matches(&left, &right),
                _ => !matches(&left, &right),
            })
        }
    }
}

/// Ruby truthiness, which decides `&&` and `||`: only `nil` and `false` are falsy, so an
/// empty string is truthy here even though it is not present.
pub(crate) fn is_truthy(value: &Value<'_>) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}

/// ActiveSupport's `present?`, which decides the result of the whole expression.
///
/// A string of only whitespace (Unicode `White_Space`, as `[[:space:]]`) is blank.
pub(crate) fn is_present(value: &Value<'_>) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Str(s) => !s.trim().is_empty(),
        Value::Regex(_) => true,
    }
}

/// `==`: values of the same kind compare as Ruby does; since GitLab 18 a boolean equals the
/// string `"true"` or `"false"`; other kinds never compare equal.
fn equals(left: &Value<'_>, right: &Value<'_>) -> bool {
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Bool(b), Value::Str(s)) | (Value::Str(s), Value::Bool(b)) => *s == bool_text(*b),
        (Value::Regex(a), Value::Regex(b)) => a.source() == b.source(),
        _ => false,
    }
}

/// `=~`. `!~` is always its negation, in GitLab as here.
///
/// The left side is converted to a string (`nil` becomes `""`, so an undefined variable is
/// matched as the empty string). The right side is used as a regular expression when it is
/// one, or when it is a string that reads as a valid `/pattern/flags`; any other string is
/// searched for the left side as a substring, as GitLab's troubleshooting docs describe.
/// `nil` and `false` on the right never match. `true` on the right makes GitLab fail with an
/// internal error; here it does not match.
fn matches(left: &Value<'_>, right: &Value<'_>) -> bool {
    let text = match left {
        Value::Null => "",
        Value::Bool(b) => bool_text(*b),
        Value::Str(s) => s,
        // GitLab would search Ruby's object description here, which is meaningless; the
        // literal as written is the closest sensible stand-in.
        Value::Regex(pattern) => pattern.literal(),
    };
    match right {
        Value::Regex(pattern) => pattern.is_match(text),
        Value::Str(s) => match Pattern::from_value(s) {
            Some(pattern) => pattern.is_match(text),
            None => s.contains(text),
        },
        Value::Null | Value::Bool(_) => false,
    }
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}
