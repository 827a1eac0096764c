//! `dotenv::parse`: GitLab's `artifacts:reports:dotenv` rules, with line numbers in errors.

use gantry_executor::dotenv::{self, DotenvError, DotenvLimits, LineProblem};

fn check(text: &str, expected: &[(&str, &str)]) {
    let got = dotenv::parse(text).unwrap();
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(got, expected, "{text:?}");
}

fn check_line_error(text: &str, line: usize, problem: LineProblem) {
    assert_eq!(
        dotenv::parse(text),
        Err(DotenvError::InvalidLine { line, problem }),
        "{text:?}"
    );
}

#[test]
fn key_value_lines_are_trimmed_and_quotes_are_kept() {
    check(
        "A=1\nB = two words \nC=\"quoted\"\nD='single'\nE=\n",
        &[
            ("A", "1"),
            ("B", "two words"),
            ("C", "\"quoted\""),
            ("D", "'single'"),
            ("E", ""),
        ],
    );
}

#[test]
fn the_value_runs_from_the_first_equals_sign() {
    check(
        "URL=https://example.com/?a=b&c=d",
        &[("URL", "https://example.com/?a=b&c=d")],
    );
}

#[test]
fn no_variable_substitution_or_escapes() {
    check(r#"A=$HOME/x\n${B}"#, &[("A", r#"$HOME/x\n${B}"#)]);
}

#[test]
fn a_repeated_key_keeps_its_first_place_and_last_value() {
    check("A=1\nB=2\nA=3", &[("A", "3"), ("B", "2")]);
}

#[test]
fn crlf_line_endings_and_a_byte_order_mark_are_accepted() {
    check("\u{feff}A=1\r\nB=2\r\n", &[("A", "1"), ("B", "2")]);
}

#[test]
fn keys_may_start_with_a_digit_like_gitlab_allows() {
    check("1A=x\n_b=y", &[("1A", "x"), ("_b", "y")]);
}

#[test]
fn an_empty_file_has_no_variables() {
    check("", &[]);
}

#[test]
fn an_empty_line_is_an_error_with_its_number() {
    check_line_error("A=1\n\nB=2", 2, LineProblem::Empty);
    check_line_error("A=1\n\n", 2, LineProblem::Empty);
    check_line_error("A=1\n   \nB=2", 2, LineProblem::Empty);
    let err = dotenv::parse("A=1\n\nB=2").unwrap_err();
    assert_eq!(err.to_string(), "line 2: empty lines are not allowed");
}

#[test]
fn a_comment_is_an_error() {
    check_line_error("# settings\nA=1", 1, LineProblem::NoEquals);
    check_line_error("A=1\n#B=2", 2, LineProblem::InvalidKey("#B".into()));
}

#[test]
fn a_line_without_equals_is_an_error() {
    check_line_error("A=1\nB=2\nJUST_A_WORD", 3, LineProblem::NoEquals);
}

#[test]
fn keys_hold_only_ascii_letters_digits_and_underscores() {
    check_line_error("A-B=1", 1, LineProblem::InvalidKey("A-B".into()));
    check_line_error("export A=1", 1, LineProblem::InvalidKey("export A".into()));
    check_line_error("=value", 1, LineProblem::InvalidKey(String::new()));
    check_line_error("CAFÉ=1", 1, LineProblem::InvalidKey("CAFÉ".into()));
    let err = dotenv::parse("A.B=1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1: key `A.B` can contain only letters, digits and '_'"
    );
}

#[test]
fn a_key_longer_than_255_characters_is_an_error() {
    let long = "K".repeat(256);
    check_line_error(&format!("{long}=1"), 1, LineProblem::KeyTooLong(long.clone()));
    assert!(dotenv::parse(&format!("{}=1", &long[..255])).is_ok());
}

#[test]
fn a_file_over_5_kb_is_refused() {
    let at_limit = format!("A={}", "x".repeat(5 * 1024 - 2));
    assert!(dotenv::parse(&at_limit).is_ok());
    let over = format!("{at_limit}x");
    assert_eq!(
        dotenv::parse(&over),
        Err(DotenvError::TooLarge {
            size: 5121,
            limit: 5120
        })
    );
}

#[test]
fn more_than_20_variables_are_refused_by_default() {
    let text = |n: usize| (0..n).map(|i| format!("V{i}=x\n")).collect::<String>();
    assert_eq!(dotenv::parse(&text(20)).unwrap().len(), 20);
    assert_eq!(
        dotenv::parse(&text(21)),
        Err(DotenvError::TooManyVariables { count: 21, limit: 20 })
    );
    let repeated = format!("{}{}", text(20), text(5));
    assert_eq!(
        dotenv::parse(&repeated).unwrap().len(),
        20,
        "repeated keys count once"
    );
    let limits = DotenvLimits {
        max_variables: 150,
        ..DotenvLimits::default()
    };
    assert_eq!(dotenv::parse_with_limits(&text(21), &limits).unwrap().len(), 21);
}
