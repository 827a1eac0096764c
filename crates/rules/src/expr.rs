//! The parsed form of an expression and its canonical text.
//!
//! [`Expr`] is what `config` stores for every `rules:if` and `only:variables` entry and what
//! `plan` evaluates. Parentheses are not kept: the tree's shape carries the grouping, and
//! [`Display`](std::fmt::Display) writes the fewest parentheses that give the same tree, so
//! `parse(&expr.to_string())` returns an equal `Expr`.

use std::fmt;

use crate::eval;
use crate::pattern::Pattern;
use crate::variables::Variables;

/// A parsed CI/CD variable expression, ready to be evaluated.
///
/// Build one with [`parse`](crate::parse).
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub(crate) node: Node,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// `$NAME`.
    Variable(String),
    /// A quoted string, without its quotes. It never holds both kinds of quote nor a newline.
    String(String),
    /// A regex literal.
    Regex(Pattern),
    Null,
    Bool(bool),
    /// `!operand`.
    Not(Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Eq,
    Ne,
    Match,
    NotMatch,
    And,
    Or,
}

impl BinaryOp {
    fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Match => "=~",
            Self::NotMatch => "!~",
            Self::And => "&&",
            Self::Or => "||",
        }
    }

    /// Binding strength: comparisons bind tighter than `&&`, which binds tighter than `||`.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            Self::Or => 1,
            Self::And => 2,
            Self::Eq | Self::Ne | Self::Match | Self::NotMatch => 3,
        }
    }
}

/// Binding strength of `!` and of operands, above every binary operator.
const UNARY: u8 = 4;

impl Node {
    fn precedence(&self) -> u8 {
        match self {
            Self::Binary(op, ..) => op.precedence(),
            _ => UNARY,
        }
    }
}

impl Expr {
    /// Evaluates the expression, as `rules:if` does, against the given variables.
    ///
    /// This follows GitLab's evaluation exactly, including its surprises: `&&` and `||` pass
    /// values through like Ruby's operators, so with `$EMPTY` defined as `""`, `$EMPTY && $X`
    /// is true whenever `$X` is set, while `$EMPTY || $X` is false. See the crate
    /// documentation for the full list. Evaluation never fails and never panics.
    pub fn evaluate(&self, vars: &dyn Variables) -> bool {
        eval::is_present(&eval::value(&self.node, vars))
    }

    /// The names of the variables the expression reads, in order of first appearance.
    pub fn variable_names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        collect_names(&self.node, &mut names);
        names
    }
}

fn collect_names<'e>(node: &'e Node, names: &mut Vec<&'e str>) {
    match node {
        Node::Variable(name) if !names.contains(&name.as_str()) => names.push(name),
        Node::Not(operand) => collect_names(operand, names),
        Node::Binary(_, left, right) => {
            collect_names(left, names);
            collect_names(right, names);
        }
        _ => {}
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Variable(name) => write!(f, "${name}"),
            // A string has no escapes, so it is quoted with a quote it does not contain.
            Self::String(s) if s.contains('"') => write!(f, "'{s}'"),
            Self::String(s) => write!(f, "\"{s}\""),
            Self::Regex(pattern) => f.write_str(pattern.literal()),
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Not(operand) => {
                f.write_str("!")?;
                write_operand(f, operand, UNARY)
            }
            Self::Binary(op, left, right) => {
                let precedence = op.precedence();
                // Operators are left-associative, so only a right operand of the same
                // strength needs parentheses.
                write_operand(f, left, precedence)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, right, precedence + 1)
            }
        }
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, node: &Node, min_precedence: u8) -> fmt::Result {
    if node.precedence() < min_precedence {
        write!(f, "({node})")
    } else {
        write!(f, "{node}")
    }
}
