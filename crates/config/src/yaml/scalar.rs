//! Typing of plain scalars as Psych does it (YAML 1.1 core types).
//!
//! Quoted and block scalars are always strings; only plain scalars are typed here.

use super::Value;

/// Types a plain scalar: null, boolean, integer, float, or string.
pub(super) fn plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if text.eq_ignore_ascii_case("true")
        || text.eq_ignore_ascii_case("yes")
        || text.eq_ignore_ascii_case("on")
    {
        return Value::Bool(true);
    }
    if text.eq_ignore_ascii_case("false")
        || text.eq_ignore_ascii_case("no")
        || text.eq_ignore_ascii_case("off")
    {
        return Value::Bool(false);
    }
    if let Some(i) = int(text) {
        return Value::Int(i);
    }
    if let Some(f) = float(text) {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

fn int(text: &str) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let digits: String = body.chars().filter(|c| *c != '_').collect();
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        if !digits.bytes().all(|b| b.is_ascii_digit()) || body.starts_with('_') {
            return None;
        }
        digits.parse().ok()?
    };
    Some(if neg { -value } else { value })
}

fn float(text: &str) -> Option<f64> {
    match text.to_ascii_lowercase().as_str() {
        ".inf" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" => return Some(f64::NEG_INFINITY),
        ".nan" => return Some(f64::NAN),
        _ => {}
    }
    let body = text.trim_start_matches(['-', '+']);
    let has_digit = body.bytes().any(|b| b.is_ascii_digit());
    let shaped = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+' | b'_'));
    if !has_digit || !shaped || !body.contains('.') || body.starts_with(['e', 'E']) {
        return None;
    }
    text.replace('_', "").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_words_are_booleans_and_numbers_are_typed() {
        assert_eq!(plain("yes"), Value::Bool(true));
        assert_eq!(plain("Off"), Value::Bool(false));
        assert_eq!(plain("~"), Value::Null);
        assert_eq!(plain("42"), Value::Int(42));
        assert_eq!(plain("0755"), Value::Int(0o755));
        assert_eq!(plain("0x1F"), Value::Int(31));
        assert_eq!(plain("1_000"), Value::Int(1000));
        assert_eq!(plain("1.5"), Value::Float(1.5));
        assert_eq!(plain("1.2.3"), Value::Str("1.2.3".into()));
        assert_eq!(plain("08"), Value::Str("08".into()));
        assert_eq!(plain("e5"), Value::Str("e5".into()));
        assert_eq!(plain("main"), Value::Str("main".into()));
    }
}
