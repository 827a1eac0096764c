//! Splits an expression into tokens, the way GitLab's expression lexer does.
//!
//! GitLab skips whitespace (`\s`, ASCII only) and then tries each kind of lexeme at the
//! current position: `(`, `)`, `$NAME`, quoted strings, `/regex/flags`, `null`, `true`,
//! `false`, `==`, `=~`, `!=`, `!~`, `&&`, `||` and `!`. Anything else is invalid syntax, and so
//! is an expression of more than [`MAX_TOKENS`] tokens. Tokens are produced lazily so that the
//! parser's nesting limit is reported before the token limit for deeply nested input.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::ParseError;

/// The most tokens an expression may have: GitLab's lexer gives up on the 100th.
pub(crate) const MAX_TOKENS: usize = 99;

/// GitLab's regular-expression lexeme: a `/`, one or more characters that are not `/` (or
/// `\/`), one more character that is not a backslash, the closing `/` and `[ismU]` flags.
/// The `regex` crate's leftmost-first semantics pick the same match as Ruby's backtracking,
/// which matters for odd inputs such as `/a//` (the pattern `a/`) and `/a/` (no match: a
/// single-character pattern is rejected, as the docs warn).
static REGEX_LEXEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\A/(?:[^/]|\\/)+[^\\]/[ismU]*").expect("the lexeme pattern is a valid constant")
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    LParen,
    RParen,
    /// `$NAME`; the name is the token text without the `$`.
    Variable,
    /// A quoted string; the value is the token text without its quotes.
    String,
    /// `/pattern/flags`, kept as written.
    Regex,
    Null,
    True,
    False,
    Eq,
    Ne,
    Match,
    NotMatch,
    And,
    Or,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'s> {
    pub(crate) kind: TokenKind,
    /// The token exactly as written.
    pub(crate) text: &'s str,
    /// Byte offset of the token in the source.
    pub(crate) offset: usize,
}

impl Token<'_> {
    /// The value a variable or string token stands for.
    pub(crate) fn inner(&self) -> &str {
        match self.kind {
            TokenKind::Variable => &self.text[1..],
            TokenKind::String => &self.text[1..self.text.len() - 1],
            _ => self.text,
        }
    }
}

pub(crate) struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    count: usize,
}

impl<'s> Lexer<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Self {
            src,
            pos: 0,
            count: 0,
        }
    }

    /// Returns the next token, `Ok(None)` at the end of the source.
    pub(crate) fn next_token(&mut self) -> Result<Option<Token<'s>>, ParseError> {
        let rest = &self.src[self.pos..];
        let trimmed = rest.trim_start_matches(is_ruby_space);
        self.pos += rest.len() - trimmed.len();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if self.count == MAX_TOKENS {
            return Err(ParseError::new(
                self.pos,
                format!("expression has too many tokens (GitLab allows at most {MAX_TOKENS})"),
            ));
        }
        let (kind, len) = self.scan(trimmed)?;
        let token = Token {
            kind,
            text: &trimmed[..len],
            offset: self.pos,
        };
        self.pos += len;
        self.count += 1;
        Ok(Some(token))
    }

    /// Recognises the token at the start of `rest` (which is not empty).
    fn scan(&self, rest: &str) -> Result<(TokenKind, usize), ParseError> {
        let bytes = rest.as_bytes();
        let two = bytes.get(..2).unwrap_or(&[]);
        let kind_len = match bytes[0] {
            b'(' => (TokenKind::LParen, 1),
            b')' => (TokenKind::RParen, 1),
            b'$' => return self.variable(rest),
            b'"' | b'\'' => return self.string(rest),
            b'/' => return self.regex(rest),
            _ if two == b"==" => (TokenKind::Eq, 2),
            _ if two == b"=~" => (TokenKind::Match, 2),
            _ if two == b"!=" => (TokenKind::Ne, 2),
            _ if two == b"!~" => (TokenKind::NotMatch, 2),
            _ if two == b"&&" => (TokenKind::And, 2),
            _ if two == b"||" => (TokenKind::Or, 2),
            b'!' => (TokenKind::Not, 1),
            b if is_word_byte(b) => return self.word(rest),
            _ => return Err(self.unexpected(rest)),
        };
        Ok(kind_len)
    }

    fn variable(&self, rest: &str) -> Result<(TokenKind, usize), ParseError> {
        let name_len = rest[1..].bytes().take_while(|&b| is_word_byte(b)).count();
        if name_len > 0 {
            return Ok((TokenKind::Variable, 1 + name_len));
        }
        let message = if rest.starts_with("${") {
            "`${NAME}` is not supported in expressions, write `$NAME`"
        } else if rest.starts_with("$[[") {
            "input references `$[[ ... ]]` are not supported in expressions"
        } else {
            "expected a variable name after `$`"
        };
        Err(ParseError::new(self.pos, message))
    }

    /// Strings end at the first matching quote; they have no escapes and, since Ruby's `.`
    /// does not match a newline, cannot span lines.
    fn string(&self, rest: &str) -> Result<(TokenKind, usize), ParseError> {
        let quote = rest.as_bytes()[0];
        let body = &rest[1..];
        match body.bytes().position(|b| b == quote || b == b'\n') {
            Some(end) if body.as_bytes()[end] == quote => Ok((TokenKind::String, end + 2)),
            _ => Err(ParseError::new(self.pos, "unterminated string")),
        }
    }

    fn regex(&self, rest: &str) -> Result<(TokenKind, usize), ParseError> {
        if let Some(m) = REGEX_LEXEME.find(rest) {
            return Ok((TokenKind::Regex, m.end()));
        }
        let mut chars = rest[1..].chars();
        let message = if chars.next().is_some() && chars.next() == Some('/') {
            "single-character regular expressions like `/a/` are not supported"
        } else {
            "unterminated regular expression"
        };
        Err(ParseError::new(self.pos, message))
    }

    /// Keywords. GitLab matches `null` as a prefix and `true`/`false` between word
    /// boundaries; a longer word is invalid either way, so the whole word is reported.
    fn word(&self, rest: &str) -> Result<(TokenKind, usize), ParseError> {
        let len = rest.bytes().take_while(|&b| is_word_byte(b)).count();
        match &rest[..len] {
            "null" => Ok((TokenKind::Null, len)),
            "true" => Ok((TokenKind::True, len)),
            "false" => Ok((TokenKind::False, len)),
            word => Err(ParseError::new(
                self.pos,
                format!("unexpected `{word}`: write strings in quotes and variables as `$NAME`"),
            )),
        }
    }

    fn unexpected(&self, rest: &str) -> ParseError {
        let c = rest.chars().next().unwrap_or(' ');
        let hint = match c {
            '=' => ", did you mean `==`?",
            '&' => ", did you mean `&&`?",
            '|' => ", did you mean `||`?",
            _ => "",
        };
        ParseError::new(self.pos, format!("unexpected `{c}`{hint}"))
    }
}

/// Ruby's `\s`: space, tab, line feed, carriage return, form feed and vertical tab.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0B' | '\x0C')
}

/// Ruby's `\w`, which is ASCII-only.
pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}
