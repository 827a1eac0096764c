//! Translates RE2 syntax, which GitLab matches with, into the `regex` crate's syntax.
//!
//! The two dialects mostly agree. Where they differ, the translation follows RE2 (with the
//! Perl extensions GitLab's default options enable):
//! - `\d`, `\w`, `\s`, `\b` and their negations are ASCII-only in RE2 and become explicit
//!   ASCII classes (`\s` is `[\t\n\f\r ]`, without `\v`);
//! - `{` that does not start a valid `{n}`, `{n,}` or `{n,m}` is a literal; counts above 1000,
//!   nested counts whose product is above 1000 (`(a{2}){501}`) and stacked repetitions
//!   (`a**`) are errors;
//! - inside a class, `[` is a literal (unless it starts `[:name:]`) and `&&`, `--`, `~~` are
//!   plain characters, so every class member is written as a `\x{...}` escape;
//! - octal escapes (`\0`, `\012`), `\Q...\E`, `\p{^Greek}` and repeated flags are accepted;
//! - escapes RE2 does not know (`\e`, `\h`, ...), the `x` flag and `\C` are errors, and `\<`
//!   is a plain `<` (the `regex` crate would read a word boundary).
//!
//! Known gaps: the `regex` crate accepts more Unicode property names than RE2, and its size
//! limit is not RE2's memory budget, so a very large pattern (such as `\pL{1000}`) may be
//! rejected by one and accepted by the other.

use std::fmt::Write as _;

mod class;
#[cfg(test)]
mod tests;

/// RE2's largest repetition count.
const MAX_REPEAT: u32 = 1000;

/// Translates an RE2 pattern; the error is a lowercase explanation.
pub(crate) fn translate(pattern: &str) -> Result<String, String> {
    let mut t = Translator {
        chars: pattern.chars().collect(),
        pos: 0,
        out: String::new(),
    };
    t.run()?;
    Ok(t.out)
}

/// An ASCII Perl class: the RE2 meaning of `\d`, `\s` and `\w`.
fn perl_class(letter: char) -> &'static str {
    match letter.to_ascii_lowercase() {
        'd' => r"0-9",
        's' => r"\x{9}\x{A}\x{C}\x{D}\x{20}",
        _ => r"0-9A-Za-z_",
    }
}

/// A literal character, escaped so that the `regex` crate reads it as itself anywhere.
fn literal(out: &mut String, c: char) {
    // Writing to a String cannot fail.
    let _ = write!(out, r"\x{{{:X}}}", u32::from(c));
}

/// What an escape sequence stands for.
enum Escape {
    Char(char),
    /// `\d`, `\D`, `\s`, `\S`, `\w` or `\W`.
    Perl(char),
    /// A Unicode class, already written in the `regex` crate's syntax.
    Unicode(String),
    /// `\A`, `\z`, `\b` or `\B`, already translated.
    Assertion(&'static str),
    /// The text of `\Q...\E`.
    Quoted(String),
}

/// A repetition operator as it will be written, with what RE2's nesting check needs.
struct Repeat {
    text: String,
    /// The factor it contributes to the nested repetition product.
    count: u32,
    /// Whether RE2 checks the nested product for this repetition.
    checked: bool,
}

struct Translator {
    chars: Vec<char>,
    pos: usize,
    out: String,
}

impl Translator {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn run(&mut self) -> Result<(), String> {
        // The repetition operator written just before, if the previous item was one.
        let mut last_repeat: Option<String> = None;
        // RE2 rejects nested counted repetitions whose counts multiply to more than 1000.
        // `atom` is that product within the item a repetition would apply to; each open
        // group keeps the largest product found inside it so far.
        let mut atom: u32 = 1;
        let mut groups: Vec<u32> = Vec::new();
        while let Some(c) = self.bump() {
            let mut repeat: Option<Repeat> = None;
            match c {
                '\\' => match self.escape()? {
                    Escape::Char(c) => literal(&mut self.out, c),
                    Escape::Perl(p) => {
                        let negate = if p.is_ascii_uppercase() { "^" } else { "" };
                        let _ = write!(self.out, "[{negate}{}]", perl_class(p));
                    }
                    Escape::Unicode(class) => self.out.push_str(&class),
                    Escape::Assertion(a) => self.out.push_str(a),
                    Escape::Quoted(text) => text.chars().for_each(|c| literal(&mut self.out, c)),
                },
                '[' => self.class()?,
                '(' => {
                    if self.group()? {
                        groups.push(1);
                    }
                }
                ')' => {
                    self.out.push(')');
                    atom = groups.pop().unwrap_or(1);
                }
                '*' | '+' | '?' => {
                    let mut text = c.to_string();
                    if self.peek() == Some('?') {
                        self.bump();
                        text.push('?');
                    }
                    repeat = Some(Repeat {
                        text,
                        count: 1,
                        checked: false,
                    });
                }
                '{' => match self.counted_repeat()? {
                    Some(counted) => repeat = Some(counted),
                    None => self.out.push_str(r"\{"),
                },
                '}' | ']' => literal(&mut self.out, c),
                c => self.out.push(c),
            }
            match &repeat {
                Some(Repeat { text, count, checked }) => {
                    if let Some(previous) = &last_repeat {
                        return Err(format!("bad repetition operator `{previous}{text}`"));
                    }
                    atom = atom.saturating_mul(*count);
                    if *checked && atom > MAX_REPEAT {
                        return Err(format!(
                            "bad repetition operator `{text}`: nested counts exceed 1000"
                        ));
                    }
                    self.out.push_str(text);
                }
                None if c != ')' => atom = 1,
                None => {}
            }
            if let Some(inside) = groups.last_mut() {
                *inside = (*inside).max(atom);
            }
            last_repeat = repeat.map(|r| r.text);
        }
        Ok(())
    }

    /// Reads the escape after a backslash, following RE2's rules.
    fn escape(&mut self) -> Result<Escape, String> {
        let c = self.bump().ok_or("trailing `\\`")?;
        let escape = match c {
            '1'..='7' if !matches!(self.peek(), Some('0'..='7')) => {
                return Err(format!("backreferences like `\\{c}` are not supported"));
            }
            '0'..='7' => {
                let mut code = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            code = code * 8 + d;
                            self.bump();
                        }
                        None => break,
                    }
                }
                Escape::Char(char::from_u32(code).unwrap_or('\0'))
            }
            'x' => Escape::Char(self.hex_escape()?),
            'a' => Escape::Char('\x07'),
            'f' => Escape::Char('\x0C'),
            'n' => Escape::Char('\n'),
            'r' => Escape::Char('\r'),
            't' => Escape::Char('\t'),
            'v' => Escape::Char('\x0B'),
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => Escape::Perl(c),
            'p' | 'P' => Escape::Unicode(self.unicode_class(c == 'P')?),
            'A' => Escape::Assertion(r"\A"),
            'z' => Escape::Assertion(r"\z"),
            'b' => Escape::Assertion(r"(?-u:\b)"),
            'B' => Escape::Assertion(r"(?-u:\B)"),
            'Q' => {
                let mut text = String::new();
                while let Some(c) = self.bump() {
                    if c == '\\' && self.peek() == Some('E') {
                        self.bump();
                        break;
                    }
                    text.push(c);
                }
                Escape::Quoted(text)
            }
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Escape::Char(c),
            c => return Err(format!("invalid escape sequence `\\{c}`")),
        };
        Ok(escape)
    }

    /// `\xHH` (exactly two digits) or `\x{H...}`.
    fn hex_escape(&mut self) -> Result<char, String> {
        let braced = self.peek() == Some('{');
        let mut digits = String::new();
        if braced {
            self.bump();
            loop {
                match self.bump() {
                    Some('}') => break,
                    Some(c) if c.is_ascii_hexdigit() && digits.len() < 8 => digits.push(c),
                    _ => return Err("invalid escape sequence `\\x{`".to_owned()),
                }
            }
        } else {
            while digits.len() < 2 {
                match self.bump() {
                    Some(c) if c.is_ascii_hexdigit() => digits.push(c),
                    _ => return Err(format!("invalid escape sequence `\\x{digits}`")),
                }
            }
        }
        u32::from_str_radix(&digits, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("invalid escape sequence `\\x{{{digits}}}`"))
    }

    /// `\pL`, `\p{Greek}`, `\p{^Greek}` and the `\P` negations.
    fn unicode_class(&mut self, mut negated: bool) -> Result<String, String> {
        let name = match self.bump() {
            Some('{') => {
                let mut name = String::new();
                loop {
                    match self.bump() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err("missing `}` after `\\p{`".to_owned()),
                    }
                }
                if let Some(rest) = name.strip_prefix('^') {
                    negated = !negated;
                    name = rest.to_owned();
                }
                name
            }
            Some(c) => c.to_string(),
            None => return Err("missing class name after `\\p`".to_owned()),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("invalid character class name `{name}`"));
        }
        Ok(format!(r"\{}{{{name}}}", if negated { 'P' } else { 'p' }))
    }

    /// A group; the `(` has been read. Flag groups are checked and rewritten. Returns
    /// whether a group was opened (`(?i)` only sets flags).
    fn group(&mut self) -> Result<bool, String> {
        if self.peek() != Some('?') {
            self.out.push('(');
            return Ok(true);
        }
        self.bump();
        let named = match (self.peek(), self.peek_at(1)) {
            (Some('P'), Some('<')) => true,
            (Some('<'), Some(c)) => c != '=' && c != '!',
            _ => false,
        };
        if named {
            // The name is copied as it is; the `regex` crate checks it.
            self.out.push_str("(?");
            return Ok(true);
        }
        if self.peek() == Some(':') {
            self.bump();
            self.out.push_str("(?:");
            return Ok(true);
        }
        let (mut on, mut off) = (String::new(), String::new());
        let (mut negated, mut saw_flag) = (false, false);
        let end = loop {
            let c = self.bump().ok_or("missing closing `)`")?;
            match c {
                'i' | 'm' | 's' | 'U' => {
                    saw_flag = true;
                    let (add, remove) = if negated {
                        (&mut off, &mut on)
                    } else {
                        (&mut on, &mut off)
                    };
                    remove.retain(|f| f != c);
                    if !add.contains(c) {
                        add.push(c);
                    }
                }
                '-' if !negated => {
                    negated = true;
                    saw_flag = false;
                }
                ':' | ')' => break c,
                _ => return Err(format!("invalid or unsupported Perl syntax `(?{c}`")),
            }
        };
        if negated && !saw_flag {
            return Err("missing flag after `-`".to_owned());
        }
        if on.is_empty() && off.is_empty() {
            if end == ':' {
                self.out.push_str("(?:");
            }
        } else {
            let off = if off.is_empty() {
                String::new()
            } else {
                format!("-{off}")
            };
            let _ = write!(self.out, "(?{on}{off}{end}");
        }
        Ok(end == ':')
    }

    /// `{n}`, `{n,}` or `{n,m}` (with an optional `?`), or `None` when the `{` is a literal.
    fn counted_repeat(&mut self) -> Result<Option<Repeat>, String> {
        let start = self.pos;
        let Some(lo) = self.integer() else { return Ok(None) };
        let hi = if self.peek() == Some(',') {
            self.bump();
            if self.peek() == Some('}') {
                None
            } else {
                let Some(hi) = self.integer() else {
                    self.pos = start;
                    return Ok(None);
                };
                Some(hi)
            }
        } else {
            Some(lo)
        };
        if self.bump() != Some('}') {
            self.pos = start;
            return Ok(None);
        }
        let text: String = self.chars[start - 1..self.pos].iter().collect();
        if lo > MAX_REPEAT || hi.is_some_and(|hi| hi > MAX_REPEAT || hi < lo) {
            return Err(format!("bad repetition operator `{text}`"));
        }
        let mut text = match hi {
            Some(hi) if hi == lo && !text.contains(',') => format!("{{{lo}}}"),
            Some(hi) => format!("{{{lo},{hi}}}"),
            None => format!("{{{lo},}}"),
        };
        if self.peek() == Some('?') {
            self.bump();
            text.push('?');
        }
        // RE2 multiplies by the upper count (the lower one when unbounded), skips zero, and
        // only checks repetitions that can repeat at least twice.
        let count = hi.unwrap_or(lo).max(1);
        let checked = lo >= 2 || hi.is_some_and(|hi| hi >= 2);
        Ok(Some(Repeat { text, count, checked }))
    }

    /// A decimal number as RE2 reads it in a repetition: no leading zeros, below 10^9.
    fn integer(&mut self) -> Option<u32> {
        let first = self.peek()?.to_digit(10)?;
        if first == 0 && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut n: u32 = 0;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            if n >= 100_000_000 {
                return None;
            }
            n = n * 10 + d;
            self.bump();
        }
        Some(n)
    }
}
