//! Variable references in text: `$NAME`, `${NAME}` (and `$$` as a literal dollar).
//!
//! One expander serves include locations, `expand_vars`, environment names and the
//! planner's variable resolution, so every place agrees on what a reference is.

/// How [`expand`] treats special cases.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExpandOptions {
    /// Leave references to unknown variables as written (instead of the empty string).
    pub keep_unknown: bool,
    /// Turn `$$` into `$` (the runner does; GitLab's server-side expansion does not).
    pub dollar_escape: bool,
}

/// Replaces variable references in `text` with what `lookup` returns.
pub fn expand<'v>(text: &str, lookup: &dyn Fn(&str) -> Option<&'v str>, opts: ExpandOptions) -> String {
    if !text.contains('$') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            let next = text[i..].find('$').map_or(bytes.len(), |n| i + n);
            out.push_str(&text[i..next]);
            i = next;
            continue;
        }
        if opts.dollar_escape && bytes.get(i + 1) == Some(&b'$') {
            out.push('$');
            i += 2;
            continue;
        }
        match reference_at(text, i) {
            Some((name, end)) => {
                match lookup(name) {
                    Some(v) => out.push_str(v),
                    None if opts.keep_unknown => out.push_str(&text[i..end]),
                    None => {}
                }
                i = end;
            }
            None => {
                out.push('$');
                i += 1;
            }
        }
    }
    out
}

/// The variable named by a reference starting at byte `at` (a `$`), and where the reference ends.
pub fn reference_at(text: &str, at: usize) -> Option<(&str, usize)> {
    let rest = &text[at + 1..];
    if let Some(inner) = rest.strip_prefix('{') {
        let close = inner.find('}')?;
        let name = &inner[..close];
        return is_name(name).then_some((name, at + 2 + close + 1));
    }
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let name = &rest[..len];
    is_name(name).then_some((name, at + 1 + len))
}

/// Names of the variables `text` refers to.
pub fn references(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(n) = text[i..].find('$') {
        let at = i + n;
        match reference_at(text, at) {
            Some((name, end)) => {
                out.push(name);
                i = end;
            }
            None => i = at + 1,
        }
    }
    out
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<&'static str> {
        match name {
            "A" => Some("one"),
            "B_2" => Some("two"),
            _ => None,
        }
    }

    #[test]
    fn references_are_replaced_and_unknown_ones_follow_the_options() {
        let plain = ExpandOptions::default();
        assert_eq!(expand("x-$A-${B_2}-$C-$", &lookup, plain), "x-one-two--$");
        let keep = ExpandOptions {
            keep_unknown: true,
            ..plain
        };
        assert_eq!(expand("$C/${C}/$A", &lookup, keep), "$C/${C}/one");
        let escape = ExpandOptions {
            dollar_escape: true,
            ..plain
        };
        assert_eq!(expand("$$A costs $$5", &lookup, escape), "$A costs $5");
        assert_eq!(expand("$$A", &lookup, plain), "$one");
    }

    #[test]
    fn references_lists_names_in_order() {
        assert_eq!(references("$A ${B} $1 $_c"), ["A", "B", "_c"]);
    }
}
