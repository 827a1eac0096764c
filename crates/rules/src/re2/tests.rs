//! Tests of the RE2 translation: a table of patterns with the text they must and must not
//! match (or the error they give), and properties of the ASCII-only classes.

use proptest::prelude::*;
use regex::Regex;

use super::translate;

/// Checks that `pattern` matches every text in `yes` and none in `no`, or that it fails with
/// an error containing `error`.
fn check(pattern: &str, yes: &[&str], no: &[&str]) {
    let translated = translate(pattern).unwrap_or_else(|e| panic!("`{pattern}` failed: {e}"));
    let regex = Regex::new(&translated).unwrap_or_else(|e| panic!("`{pattern}` -> `{translated}`: {e}"));
    for text in yes {
        assert!(
            regex.is_match(text),
            "`{pattern}` (`{translated}`) should match {text:?}"
        );
    }
    for text in no {
        assert!(
            !regex.is_match(text),
            "`{pattern}` (`{translated}`) should not match {text:?}"
        );
    }
}

fn check_error(pattern: &str, error: &str) {
    match translate(pattern) {
        Ok(translated) => panic!("`{pattern}` translated to `{translated}`, expected `{error}`"),
        Err(e) => assert!(e.contains(error), "`{pattern}`: `{e}` does not contain `{error}`"),
    }
}

#[test]
fn patterns_match_as_in_re2() {
    let table: &[(&str, &[&str], &[&str])] = &[
        // Perl classes are ASCII-only; `\s` excludes `\v`.
        (r"^\d+$", &["0123"], &["\u{661}", "1\u{661}"]),
        (r"^\D$", &["\u{661}", "a"], &["7"]),
        (r"^\w+$", &["a_Z9"], &["é", "ä1"]),
        (r"^\W$", &["é", "-"], &["_"]),
        (
            r"^\s$",
            &[" ", "\t", "\n", "\r", "\x0C"],
            &["\x0B", "\u{a0}", "\u{2003}"],
        ),
        (r"^\S$", &["\x0B", "\u{a0}"], &[" "]),
        (r"caf\b", &["caf", "café", "caf "], &["cafe"]),
        (r"a\B", &["ab"], &["a", "a-"]),
        (r"^[\d\s]+$", &["1 2"], &["1\u{a0}2"]),
        (r"^[^\W]+$", &["ab_1"], &["a-b", "é"]),
        (r"^[\D]$", &["x"], &["5"]),
        // Escapes.
        (r"\x40", &["a@b"], &["ab"]),
        (r"\x{263a}", &["☺"], &["a"]),
        (r"\101\0", &["A\0"], &["A"]),
        (r"a\.b\/c", &["a.b/c"], &["axb/c"]),
        (r"\Qa.b*\E+", &["a.b*", "a.b**"], &["axbb"]),
        (r"\t\n\a\f\v\r", &["\t\n\x07\x0C\x0B\r"], &["tnafvr"]),
        (r"\<a\>", &["<a>"], &["a"]),
        (r"\_", &["_"], &["a"]),
        // Repetitions and literal braces.
        (r"^a{2}$", &["aa"], &["a", "aaa"]),
        (r"^a{2,}$", &["aa", "aaaa"], &["a"]),
        (r"^a{1,2}?$", &["a", "aa"], &["aaa"]),
        (r"a{x}", &["a{x}"], &["a"]),
        (r"a{,2}", &["a{,2}"], &["aa"]),
        (r"a{01}", &["a{01}"], &["a"]),
        (r"^a{2}}$", &["aa}"], &["aa"]),
        (r"a]", &["a]"], &["a"]),
        (r"^a*?b+?c??$", &["bc", "aab"], &["a"]),
        (r"^((a{10}b){10}){10}$", &[], &["ab"]),
        (r"^(a{0}){1000}(a*){1000}(?i)x{1000}$", &[], &["a"]),
        (r"^(a{1,1}){1000}$", &[], &["a"]),
        // Classes: `[` and set operators are plain characters; `-` at the edges is literal.
        (r"^[a[]+$", &["a[", "[["], &["]"]),
        (r"^[a&&b]+$", &["a&b"], &["c"]),
        (r"^[+--]+$", &["+,-"], &["a"]),
        (r"^[a~~b]+$", &["~"], &["c"]),
        (r"^[-a]+$", &["-a"], &["b"]),
        (r"^[a-]+$", &["-a"], &["b"]),
        (r"^[]a]+$", &["]a"], &["b"]),
        (r"^[^]a]$", &["b"], &["]", "a"]),
        (r"^[a-c-e]+$", &["abc-e"], &["d"]),
        (r"^[\]\\]+$", &["]\\"], &["a"]),
        (r"^[[:alpha:][:digit:]]+$", &["a1"], &["-"]),
        (r"^[[:^alpha:]]$", &["1"], &["a"]),
        (r"^[[:a]$", &["[", ":", "a"], &["b"]),
        (r"^\pL+$", &["aé"], &["1"]),
        (r"^\p{Greek}$", &["α"], &["a"]),
        (r"^\p{^Greek}$", &["a"], &["α"]),
        (r"^\P{^Greek}$", &["α"], &["a"]),
        (r"^[\p{Greek}x]+$", &["αx"], &["y"]),
        // Groups and flags.
        (r"(?i)abc", &["ABC"], &["AB"]),
        (r"(?ii)a", &["A"], &["b"]),
        (r"(?i-i)a", &["a"], &["A"]),
        (r"(?i)a(?-i)b", &["Ab"], &["AB"]),
        (r"(?i:a)b", &["Ab"], &["AB"]),
        (r"(?)a", &["a"], &["b"]),
        (r"(?m)^b$", &["a\nb"], &["ab"]),
        (r"(?s)a.b", &["a\nb"], &["ab"]),
        (r"(?P<x>a)(?<y>b)(?:c)", &["abc"], &["ab"]),
        (r"\Aa|b\z", &["ab", "a"], &["ba"]),
    ];
    for (pattern, yes, no) in table {
        check(pattern, yes, no);
    }
}

#[test]
fn re2_errors_are_reported() {
    let table: &[(&str, &str)] = &[
        (r"a\", "trailing"),
        (r"\1", "backreferences"),
        (r"(a)\1", "backreferences"),
        (r"\8", "invalid escape"),
        (r"\e", "invalid escape"),
        (r"\h", "invalid escape"),
        (r"\é", "invalid escape"),
        (r"\C", "invalid escape"),
        (r"\xZ1", "invalid escape"),
        (r"\x{110000}", "invalid escape"),
        (r"\x{", "invalid escape"),
        (r"\p{", "missing `}`"),
        (r"\p{Gr-eek}", "invalid character class name"),
        (r"[a", "missing closing `]`"),
        (r"[]", "missing closing `]`"),
        (r"[z-a]", "invalid character class range"),
        (r"[a-\d]", "invalid character class range"),
        (r"[\A]", "in a character class"),
        (r"[[:foo:]]", "invalid character class range"),
        (r"a**", "bad repetition operator `**`"),
        (r"a*+", "bad repetition operator"),
        (r"a{2}{3}", "bad repetition operator"),
        (r"a??*", "bad repetition operator"),
        (r"a{1001}", "bad repetition operator"),
        (r"a{2,1}", "bad repetition operator"),
        (r"a{0,1001}", "bad repetition operator"),
        // RE2 multiplies nested counted repetitions and rejects products above 1000.
        (r"(a{2}){501}", "nested counts exceed 1000"),
        (r"((a{10}){10}){11}", "nested counts exceed 1000"),
        (r"(a{2}|b{600}){2}", "nested counts exceed 1000"),
        (r"(a{2,}){501}", "nested counts exceed 1000"),
        (r"(?x)a", "unsupported Perl syntax `(?x`"),
        (r"(?u)a", "unsupported Perl syntax"),
        (r"(?=a)", "unsupported Perl syntax `(?=`"),
        (r"(?!a)", "unsupported Perl syntax"),
        (r"(?<=a)", "unsupported Perl syntax `(?<`"),
        (r"[a--]", "invalid character class range"),
        (r"(?-)a", "missing flag"),
        (r"(?i-)a", "missing flag"),
        (r"(?i--s)a", "unsupported Perl syntax `(?-`"),
        (r"(?i", "missing closing `)`"),
    ];
    for (pattern, error) in table {
        check_error(pattern, error);
    }
}

proptest! {
    #[test]
    fn ascii_classes_match_exactly_their_ascii_members(c in any::<char>()) {
        let text = c.to_string();
        let matches = |pattern: &str| Regex::new(&translate(pattern).unwrap()).unwrap().is_match(&text);
        prop_assert_eq!(matches(r"^\d$"), c.is_ascii_digit());
        prop_assert_eq!(matches(r"^\w$"), c.is_ascii_alphanumeric() || c == '_');
        prop_assert_eq!(matches(r"^\s$"), matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' '));
        prop_assert_eq!(matches(r"^\D$"), !c.is_ascii_digit());
        prop_assert_eq!(matches(r"^[\W]$"), !(c.is_ascii_alphanumeric() || c == '_'));
    }

    #[test]
    fn escaped_characters_match_themselves(c in any::<char>()) {
        prop_assume!(c.is_ascii() && !c.is_ascii_alphanumeric());
        let pattern = format!(r"^\{c}$");
        let regex = Regex::new(&translate(&pattern).unwrap()).unwrap();
        prop_assert!(regex.is_match(&c.to_string()));
    }

    #[test]
    fn translating_arbitrary_text_never_panics(pattern in any::<String>()) {
        if let Ok(translated) = translate(&pattern) {
            let _ = Regex::new(&translated);
        }
    }
}
