//! Bracketed character classes of RE2, such as `[a-z\d[:punct:]]`.
//!
//! RE2 reads `[` inside a class as a plain character (unless it starts `[:name:]`) and has
//! no set operators, while the `regex` crate nests classes and reads `&&`, `--` and `~~` as
//! intersection, difference and symmetric difference. So every member is written out as a
//! `\x{...}` escape, and Perl classes become their ASCII ranges.

use super::{Escape, Translator, literal, perl_class};

impl Translator {
    /// A bracketed class; the opening `[` has been read.
    pub(super) fn class(&mut self) -> Result<(), String> {
        let mut out = String::from("[");
        if self.peek() == Some('^') {
            self.bump();
            out.push('^');
        }
        let mut first = true;
        loop {
            let c = self.peek().ok_or("missing closing `]`")?;
            if c == ']' && !first {
                self.bump();
                break;
            }
            first = false;
            if c == '['
                && self.peek_at(1) == Some(':')
                && let Some(posix) = self.posix_class()?
            {
                out.push_str(&posix);
                continue;
            }
            let lo = match self.class_atom()? {
                Ok(lo) => lo,
                Err(set) => {
                    out.push_str(&set);
                    continue;
                }
            };
            if self.peek() == Some('-') && !matches!(self.peek_at(1), None | Some(']')) {
                self.bump();
                let hi = self
                    .class_atom()?
                    .map_err(|_| "invalid character class range".to_owned())?;
                if hi < lo {
                    return Err(format!("invalid character class range `{lo}-{hi}`"));
                }
                literal(&mut out, lo);
                out.push('-');
                literal(&mut out, hi);
            } else {
                literal(&mut out, lo);
            }
        }
        out.push(']');
        self.out.push_str(&out);
        Ok(())
    }

    /// One class member: `Ok(char)` or `Err(set)` with a set already translated.
    fn class_atom(&mut self) -> Result<Result<char, String>, String> {
        match self.bump().ok_or("missing closing `]`")? {
            '\\' => match self.escape()? {
                Escape::Char(c) => Ok(Ok(c)),
                Escape::Perl(p) if p.is_ascii_uppercase() => Ok(Err(format!("[^{}]", perl_class(p)))),
                Escape::Perl(p) => Ok(Err(perl_class(p).to_owned())),
                Escape::Unicode(class) => Ok(Err(class)),
                Escape::Assertion(_) | Escape::Quoted(_) => {
                    Err("invalid escape sequence in a character class".to_owned())
                }
            },
            c => Ok(Ok(c)),
        }
    }

    /// `[:alpha:]` or `[:^alpha:]` inside a class, if the text has that shape.
    fn posix_class(&mut self) -> Result<Option<String>, String> {
        let rest: String = self.chars[self.pos + 2..].iter().collect();
        let Some(end) = rest.find(":]") else {
            return Ok(None);
        };
        let name = &rest[..end];
        const NAMES: [&str; 14] = [
            "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
            "space", "upper", "word", "xdigit",
        ];
        if !NAMES.contains(&name.strip_prefix('^').unwrap_or(name)) {
            return Err(format!("invalid character class range `[:{name}:]`"));
        }
        self.pos += 2 + name.chars().count() + 2;
        Ok(Some(format!("[:{name}:]")))
    }
}
