//! Hiding masked variable values in job logs, as GitLab shows them: `[MASKED]`.

/// `line` with every value of `masks` replaced by `[MASKED]`. Give the values longest first,
/// so that a value containing another is masked whole.
pub fn mask(line: &str, masks: &[String]) -> String {
    let mut out = line.to_owned();
    for m in masks {
        if out.contains(m.as_str()) {
            out = out.replace(m.as_str(), "[MASKED]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_are_replaced_longest_first() {
        let masks = vec!["secret-value-long".to_owned(), "secret-value".to_owned()];
        assert_eq!(
            mask("a secret-value-long and secret-value.", &masks),
            "a [MASKED] and [MASKED]."
        );
        assert_eq!(mask("nothing here", &masks), "nothing here");
    }
}
