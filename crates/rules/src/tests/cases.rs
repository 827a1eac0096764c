//! Walks `test_data/cases.txt` (its header documents the format) and checks every case.
//!
//! The file is compiled in with `include_str!`, which keeps the crate free of IO even in tests.

use std::collections::HashMap;

use crate::parse;

const CASES: &str = include_str!("../../test_data/cases.txt");

/// What a case expects.
#[derive(Debug, PartialEq)]
enum Expected {
    Value(bool),
    /// A parse error whose message contains the text, at the offset when one is given.
    Error {
        offset: Option<usize>,
        message: String,
    },
}

/// Checks one expression against the variables; returns a description of any mismatch.
fn check(expr: &str, vars: &HashMap<String, String>, expected: &Expected) -> Result<(), String> {
    match (parse(expr), expected) {
        (Ok(e), Expected::Value(want)) => {
            let got = e.evaluate(vars);
            if got != *want {
                return Err(format!("evaluated to {got}, expected {want}"));
            }
            let again = parse(&e.to_string()).map_err(|err| format!("`{e}` does not parse: {err}"))?;
            if again != e {
                return Err(format!("`{e}` parses to a different expression"));
            }
            Ok(())
        }
        (Err(err), Expected::Error { offset, message }) => {
            if !err.message.contains(message.as_str()) {
                return Err(format!("error `{}` does not contain `{message}`", err.message));
            }
            match offset {
                Some(offset) if *offset != err.offset => Err(format!(
                    "error `{}` is at byte {}, expected {offset}",
                    err.message, err.offset
                )),
                _ => Ok(()),
            }
        }
        (Ok(e), Expected::Error { .. }) => Err(format!("parsed as `{e}`, expected an error")),
        (Err(err), Expected::Value(_)) => Err(format!("failed to parse: {err}")),
    }
}

/// Reads a double-quoted value with `\"`, `\\`, `\n`, `\t` and `\u{HEX}` escapes; returns the
/// value and the rest of the text.
fn quoted(text: &str) -> (String, &str) {
    let mut chars = text
        .strip_prefix('"')
        .expect("a value starts with `\"`")
        .char_indices();
    let mut value = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (value, &text[i + 2..]),
            '\\' => value.push(unescape(&mut chars.by_ref().map(|(_, c)| c))),
            c => value.push(c),
        }
    }
    panic!("unterminated value in `{text}`");
}

fn unescape(chars: &mut dyn Iterator<Item = char>) -> char {
    match chars.next() {
        Some('n') => '\n',
        Some('t') => '\t',
        Some('r') => '\r',
        Some('u') => {
            let hex: String = chars.skip(1).take_while(|&c| c != '}').collect();
            char::from_u32(u32::from_str_radix(&hex, 16).expect("hex")).expect("a character")
        }
        Some(c) => c,
        None => panic!("a trailing backslash"),
    }
}

fn parse_vars(mut text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    loop {
        text = text.trim_start();
        let Some((name, rest)) = text.split_once('=') else {
            return vars;
        };
        let (value, rest) = quoted(rest);
        vars.insert(name.to_owned(), value);
        text = rest;
    }
}

fn parse_expected(text: &str) -> Expected {
    match text {
        "true" => Expected::Value(true),
        "false" => Expected::Value(false),
        _ => {
            let rest = text.strip_prefix("error").expect("`true`, `false` or `error...`");
            let (offset, message) = rest.split_once(": ").expect("`error: message`");
            let offset = offset
                .strip_prefix('@')
                .map(|o| o.parse().expect("a byte offset"));
            Expected::Error {
                offset,
                message: message.to_owned(),
            }
        }
    }
}

#[test]
fn every_case_in_test_data_holds() {
    let mut vars = HashMap::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for (number, line) in CASES.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("vars:") {
            vars = parse_vars(rest);
            continue;
        }
        let (expr, expected) = match line.strip_prefix("=> ") {
            Some(expected) => ("", expected),
            None => line
                .rsplit_once(" => ")
                .expect("a case is `expression => expected`"),
        };
        let expr = match expr.strip_prefix("escaped: ") {
            Some(escaped) => {
                let mut chars = escaped.chars();
                let mut out = String::new();
                while let Some(c) = chars.next() {
                    out.push(if c == '\\' { unescape(&mut chars) } else { c });
                }
                out
            }
            None => expr.to_owned(),
        };
        count += 1;
        if let Err(why) = check(&expr, &vars, &parse_expected(expected)) {
            failures.push(format!("line {}: `{expr}`: {why}", number + 1));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count >= 80, "only {count} cases were found");
}

/// `n` nested parentheses around `$A`.
fn nested(n: usize) -> String {
    format!("{}$A{}", "(".repeat(n), ")".repeat(n))
}

#[test]
fn nesting_is_limited_to_what_the_token_limit_allows() {
    let vars = HashMap::from([("A".to_owned(), "a".to_owned())]);
    let ok = Expected::Value(true);
    assert_eq!(check(&nested(49), &vars, &ok), Ok(()));
    for depth in [50, 64, 10_000] {
        let too_deep = Expected::Error {
            offset: Some(49),
            message: "nested too deeply".to_owned(),
        };
        assert_eq!(check(&nested(depth), &vars, &too_deep), Ok(()), "depth {depth}");
    }
}

#[test]
fn at_most_99_tokens_are_accepted() {
    let vars = HashMap::from([("A".to_owned(), "a".to_owned())]);
    // `$A` followed by 49 `|| $A` pairs is 99 tokens; one more pair is 101.
    let expr = |pairs: usize| format!("$A{}", " || $A".repeat(pairs));
    assert_eq!(check(&expr(49), &vars, &Expected::Value(true)), Ok(()));
    let offset = expr(49).len() + 1;
    let too_many = Expected::Error {
        offset: Some(offset),
        message: "too many tokens".to_owned(),
    };
    assert_eq!(check(&expr(50), &vars, &too_many), Ok(()));
    let long_chain = Expected::Error {
        offset: None,
        message: "too many tokens".to_owned(),
    };
    assert_eq!(check(&"!".repeat(100_000), &vars, &long_chain), Ok(()));
}
