//! Fuzzes the whole language: parse arbitrary UTF-8, then evaluate what parses.
//!
//! Invariants checked: nothing panics; printing a parsed expression gives text that parses
//! to the same expression and evaluates to the same result.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|src: &str| {
    let Ok(expr) = gantry_rules::parse(src) else { return };
    // A small fixed set: a plain value, an empty and a blank one, a pattern, an invalid
    // pattern and a boolean-looking string; `$UNDEFINED` and others stay undefined.
    let vars: HashMap<&str, &str> = HashMap::from([
        ("A", "abc"),
        ("B", "main"),
        ("EMPTY", ""),
        ("BLANK", "  "),
        ("PATTERN", "/^ma.n$/i"),
        ("BAD_PATTERN", "/[/"),
        ("TRUE", "true"),
    ]);
    let result = expr.evaluate(&vars);
    let printed = expr.to_string();
    let again = gantry_rules::parse(&printed).expect("printed expressions parse");
    assert_eq!(again, expr, "`{printed}` parses to a different expression than `{src}`");
    assert_eq!(again.evaluate(&vars), result);
});
