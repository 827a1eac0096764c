//! Builds an [`Expr`] from tokens by recursive descent.
//!
//! The grammar, from loosest to tightest binding (all binary operators are left-associative):
//!
//! ```text
//! or         = and ("||" and)*
//! and        = comparison ("&&" comparison)*
//! comparison = unary (("==" | "!=" | "=~" | "!~") unary)*
//! unary      = "!"* primary
//! primary    = $NAME | "string" | 'string' | /regex/flags | null | true | false | "(" or ")"
//! ```
//!
//! GitLab uses a shunting-yard parser with these precedences (Ruby's: comparisons, then `&&`,
//! then `||`). It also accepts a few token orders that are not infix at all, such as
//! `== $A $B` or `$A ()`; nobody writes those on purpose and gantry rejects them.

use crate::error::ParseError;
use crate::expr::{BinaryOp, Expr, Node};
use crate::lexer::{Lexer, Token, TokenKind};
use crate::pattern::Pattern;

/// How deeply parentheses may nest. GitLab's 99-token limit already caps nesting at 49, so
/// this only makes the error for deep nesting clearer and arrive before the whole input has
/// been read.
pub(crate) const MAX_NESTING: usize = 49;

/// Parses a CI/CD variable expression, as written in `rules:if`, `only:variables`,
/// `except:variables` or `workflow:rules:if`.
///
/// Everything GitLab rejects as "invalid expression syntax" is an error, including an
/// invalid regular expression literal.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser {
        lexer: Lexer::new(src),
        peeked: None,
        src_len: src.len(),
    };
    if parser.peek()?.is_none() {
        return Err(ParseError::new(src.len(), "empty expression"));
    }
    let node = parser.or(0)?;
    match parser.next()? {
        None => Ok(Expr { node }),
        Some(token) if token.kind == TokenKind::RParen => {
            Err(ParseError::new(token.offset, "unexpected `)`"))
        }
        Some(token) => Err(ParseError::new(
            token.offset,
            format!("unexpected `{}`, expected an operator", token.text),
        )),
    }
}

struct Parser<'s> {
    lexer: Lexer<'s>,
    peeked: Option<Option<Token<'s>>>,
    src_len: usize,
}

impl<'s> Parser<'s> {
    fn peek(&mut self) -> Result<Option<Token<'s>>, ParseError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next_token()?);
        }
        Ok(self.peeked.flatten())
    }

    fn next(&mut self) -> Result<Option<Token<'s>>, ParseError> {
        let token = self.peek()?;
        self.peeked = None;
        Ok(token)
    }

    /// Consumes the next token when it is one of the binary operators in `ops`.
    fn binary_op(&mut self, ops: &[(TokenKind, BinaryOp)]) -> Result<Option<BinaryOp>, ParseError> {
        let Some(token) = self.peek()? else {
            return Ok(None);
        };
        let op = ops
            .iter()
            .find(|(kind, _)| *kind == token.kind)
            .map(|&(_, op)| op);
        if op.is_some() {
            self.next()?;
        }
        Ok(op)
    }

    fn or(&mut self, depth: usize) -> Result<Node, ParseError> {
        let mut left = self.and(depth)?;
        while let Some(op) = self.binary_op(&[(TokenKind::Or, BinaryOp::Or)])? {
            let right = self.and(depth)?;
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Node, ParseError> {
        let mut left = self.comparison(depth)?;
        while let Some(op) = self.binary_op(&[(TokenKind::And, BinaryOp::And)])? {
            let right = self.comparison(depth)?;
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison(&mut self, depth: usize) -> Result<Node, ParseError> {
        const OPS: [(TokenKind, BinaryOp); 4] = [
            (TokenKind::Eq, BinaryOp::Eq),
            (TokenKind::Ne, BinaryOp::Ne),
            (TokenKind::Match, BinaryOp::Match),
            (TokenKind::NotMatch, BinaryOp::NotMatch),
        ];
        let mut left = self.unary(depth)?;
        while let Some(op) = self.binary_op(&OPS)? {
            let right = self.unary(depth)?;
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `!` chains are read in a loop, so they cost no stack.
    fn unary(&mut self, depth: usize) -> Result<Node, ParseError> {
        let mut nots = 0;
        while self.eat(TokenKind::Not)? {
            nots += 1;
        }
        let mut node = self.primary(depth)?;
        for _ in 0..nots {
            node = Node::Not(Box::new(node));
        }
        Ok(node)
    }

    fn eat(&mut self, kind: TokenKind) -> Result<bool, ParseError> {
        let found = self.peek()?.is_some_and(|t| t.kind == kind);
        if found {
            self.next()?;
        }
        Ok(found)
    }

    fn primary(&mut self, depth: usize) -> Result<Node, ParseError> {
        let Some(token) = self.next()? else {
            return Err(ParseError::new(
                self.src_len,
                "unexpected end of expression, expected a value",
            ));
        };
        let node = match token.kind {
            TokenKind::Variable => Node::Variable(token.inner().to_owned()),
            TokenKind::String => Node::String(token.inner().to_owned()),
            TokenKind::Regex => Node::Regex(Pattern::from_literal(token.text).map_err(|reason| {
                ParseError::new(
                    token.offset,
                    format!("invalid regular expression `{}`: {reason}", token.text),
                )
            })?),
            TokenKind::Null => Node::Null,
            TokenKind::True => Node::Bool(true),
            TokenKind::False => Node::Bool(false),
            TokenKind::LParen => {
                if depth == MAX_NESTING {
                    return Err(ParseError::new(token.offset, "expression nested too deeply"));
                }
                let inner = self.or(depth + 1)?;
                match self.next()? {
                    Some(t) if t.kind == TokenKind::RParen => inner,
                    Some(t) => {
                        return Err(ParseError::new(
                            t.offset,
                            format!("unexpected `{}`, expected an operator or `)`", t.text),
                        ));
                    }
                    None => return Err(ParseError::new(token.offset, "unclosed `(`")),
                }
            }
            _ => {
                return Err(ParseError::new(
                    token.offset,
                    format!("unexpected `{}`, expected a value", token.text),
                ));
            }
        };
        Ok(node)
    }
}
