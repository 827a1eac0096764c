//! Property tests: parsing never panics, printing round-trips, and the operators keep the
//! algebraic laws GitLab's evaluation has (including its Ruby-flavoured `&&` and `||`).

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::sample::select;

use crate::eval;
use crate::{Expr, parse};

/// Variables `A`, `B` and `C` may be defined; `D` never is.
fn vars() -> impl Strategy<Value = HashMap<String, String>> {
    let value = prop_oneof![
        Just(String::new()),
        Just("  ".to_owned()),
        Just("abc".to_owned()),
        Just("true".to_owned()),
        Just("/a.c/".to_owned()),
        Just("/[/".to_owned()),
        "[a-c/ ]{0,4}",
    ];
    proptest::collection::hash_map(select(&["A", "B", "C"][..]).prop_map(String::from), value, 0..=3)
}

/// The source of an operand.
fn operand() -> impl Strategy<Value = String> {
    prop_oneof![
        select(&["A", "B", "C", "D"][..]).prop_map(|n| format!("${n}")),
        select(&["", "a", "abc", "/^a/", "it's", "say \"hi\"", " "][..]).prop_map(|s| {
            if s.contains('"') {
                format!("'{s}'")
            } else {
                format!("\"{s}\"")
            }
        }),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        select(&[r"/a.c/", r"/^ab/i", r"/b\/c/", r"/\d+|\s/", r"/(?i)A\b/"][..]).prop_map(String::from),
    ]
}

/// The source of a comparison, whose value is always a boolean.
fn comparison() -> impl Strategy<Value = String> {
    (operand(), select(&["==", "!=", "=~", "!~"][..]), operand())
        .prop_map(|(l, op, r)| format!("{l} {op} {r}"))
}

/// The source of an expression of at most about 30 tokens, with redundant parentheses and
/// spacing so that printing has something to normalise.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![operand(), comparison()];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                select(&["&&", "||", "==", "!=", "=~", "!~"][..]),
                inner.clone()
            )
                .prop_map(|(l, op, r)| format!("({l}) {op} ({r})")),
            (inner.clone(), select(&["&&", "||"][..]), inner.clone())
                .prop_map(|(l, op, r)| format!("{l}{op}{r}")),
            inner.prop_map(|e| format!("!({e})")),
        ]
    })
}

fn parsed(src: &str) -> Expr {
    parse(src).unwrap_or_else(|e| panic!("`{src}` does not parse: {e}"))
}

/// Ruby truthiness of an expression's value, which `&&` and `||` go by.
fn truthy(src: &str, vars: &HashMap<String, String>) -> bool {
    eval::is_truthy(&eval::value(&parsed(src).node, vars))
}

/// Pieces of expressions, valid and not, to reach deeper into the parser than random text.
fn token_soup() -> impl Strategy<Value = String> {
    let piece = select(
        &[
            "(",
            ")",
            "$A",
            "$",
            "${A}",
            "\"a",
            "\"a\"",
            "'b'",
            "/a/",
            "/ab/i",
            "/[x/",
            "/a\\/",
            "null",
            "nullx",
            "true",
            "==",
            "!=",
            "=~",
            "!~",
            "&&",
            "||",
            "!",
            "=",
            "&",
            " ",
            "\n",
            "/a{1001}/",
            "/(?x)a/",
            "/\\Q(\\E/",
            "/[[:foo:]]/",
            "/\\p{^Greek}/",
            "/\\x{110000}/",
            "é",
        ][..],
    );
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsing_arbitrary_text_never_panics(src in any::<String>()) {
        let _ = parse(&src);
    }

    #[test]
    fn parsing_and_evaluating_token_soup_never_panics(src in token_soup(), vars in vars()) {
        if let Ok(e) = parse(&src) {
            let _ = e.evaluate(&vars);
        }
    }

    #[test]
    fn printing_round_trips(src in expression()) {
        let e = parsed(&src);
        let printed = e.to_string();
        let again = parsed(&printed);
        prop_assert_eq!(&again, &e);
        prop_assert_eq!(again.to_string(), printed);
    }

    #[test]
    fn printing_keeps_the_value(src in expression(), vars in vars()) {
        let e = parsed(&src);
        prop_assert_eq!(parsed(&e.to_string()).evaluate(&vars), e.evaluate(&vars));
    }

    #[test]
    fn and_of_comparisons_is_boolean_and(a in comparison(), b in comparison(), vars in vars()) {
        let both = parsed(&format!("{a} && {b}")).evaluate(&vars);
        prop_assert_eq!(both, parsed(&a).evaluate(&vars) && parsed(&b).evaluate(&vars));
    }

    #[test]
    fn or_of_comparisons_is_boolean_or(a in comparison(), b in comparison(), vars in vars()) {
        let either = parsed(&format!("{a} || {b}")).evaluate(&vars);
        prop_assert_eq!(either, parsed(&a).evaluate(&vars) || parsed(&b).evaluate(&vars));
    }

    /// In general `&&` is Ruby's: the right side decides when the left is truthy.
    #[test]
    fn and_returns_the_right_side_when_the_left_is_truthy(a in expression(), b in expression(), vars in vars()) {
        let src = format!("({a}) && ({b})");
        prop_assume!(parse(&src).is_ok());
        let expected = truthy(&a, &vars) && parsed(&b).evaluate(&vars);
        prop_assert_eq!(parsed(&src).evaluate(&vars), expected);
    }

    /// In general `||` is Ruby's: the left side decides when it is truthy, even if blank.
    #[test]
    fn or_returns_the_left_side_when_it_is_truthy(a in expression(), b in expression(), vars in vars()) {
        let src = format!("({a}) || ({b})");
        prop_assume!(parse(&src).is_ok());
        let expected = if truthy(&a, &vars) { parsed(&a).evaluate(&vars) } else { parsed(&b).evaluate(&vars) };
        prop_assert_eq!(parsed(&src).evaluate(&vars), expected);
    }

    #[test]
    fn not_negates(a in expression(), vars in vars()) {
        prop_assert_eq!(parsed(&format!("!({a})")).evaluate(&vars), !parsed(&a).evaluate(&vars));
    }

    #[test]
    fn not_match_negates_match(l in operand(), r in operand(), vars in vars()) {
        let matched = parsed(&format!("{l} =~ {r}")).evaluate(&vars);
        prop_assert_eq!(parsed(&format!("{l} !~ {r}")).evaluate(&vars), !matched);
    }

    #[test]
    fn not_equal_negates_equal_and_equality_is_symmetric(l in operand(), r in operand(), vars in vars()) {
        let equal = parsed(&format!("{l} == {r}")).evaluate(&vars);
        prop_assert_eq!(parsed(&format!("{r} == {l}")).evaluate(&vars), equal);
        prop_assert_eq!(parsed(&format!("{l} != {r}")).evaluate(&vars), !equal);
    }

    #[test]
    fn a_lone_variable_is_true_when_defined_and_not_blank(name in select(&["A", "B", "D"][..]), vars in vars()) {
        let expected = vars.get(name).is_some_and(|v| !v.trim().is_empty());
        prop_assert_eq!(parsed(&format!("${name}")).evaluate(&vars), expected);
        let undefined = !vars.contains_key(name);
        prop_assert_eq!(parsed(&format!("${name} == null")).evaluate(&vars), undefined);
    }

    #[test]
    fn variable_names_lists_each_variable_once(src in expression()) {
        let e = parsed(&src);
        let names = e.variable_names();
        for name in ["A", "B", "C", "D"] {
            let count = names.iter().filter(|n| **n == name).count();
            prop_assert_eq!(count, usize::from(src.contains(&format!("${name}"))));
        }
    }
}
