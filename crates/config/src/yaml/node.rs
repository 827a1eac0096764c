//! The YAML tree: values with the position they were written at.

use crate::span::Span;
use indexmap::IndexMap;

/// A mapping: keys in the order GitLab keeps them (Ruby hash order), each with its position.
pub type Map = IndexMap<String, Entry>;

/// A mapping entry: where its key was written, and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Position of the key.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// A YAML value with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts.
    pub span: Span,
}

/// A YAML value, with scalars typed as Psych types them.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// `true`, `yes`, `on` and their opposites (YAML 1.1).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping.
    Map(Map),
    /// `!reference [job, key, ...]`, not yet resolved.
    Reference(Vec<Node>),
}

impl Node {
    /// A node with a value at a position.
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    /// The string, when the node is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The mapping, when the node is one.
    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence, when the node is one.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The text of a scalar as GitLab turns it into a string (numbers and booleans included).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(ruby_float(*f)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A short name of the value's type, for messages (`a string`, `a map`, ...).
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
            Value::Reference(_) => "an unresolved !reference",
        }
    }
}

/// Formats a float the way Ruby's `Float#to_s` does for ordinary values (`1.0`, `1.5`, `1.0e+20`).
fn ruby_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if f.fract() == 0.0 && f.abs() < 1e16 {
        return format!("{f:.1}");
    }
    f.to_string()
}
