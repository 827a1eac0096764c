//! GitLab's slugs: `CI_COMMIT_REF_SLUG`, `CI_JOB_NAME_SLUG`, `CI_PROJECT_PATH_SLUG`
//! and `CI_ENVIRONMENT_SLUG`.

use sha2::{Digest, Sha256};

/// The ref/job/project slug: lowercased, every character outside `a-z0-9` replaced by `-`
/// (runs are not squeezed), cut to 63 bytes, then leading and trailing `-` removed.
pub fn slugify(text: &str) -> String {
    let cut: String = dashed(text).chars().take(63).collect();
    cut.trim_matches('-').to_owned()
}

/// The environment slug: at most 24 characters, starting with a letter, no repeated `-`;
/// when the name had to change, it is cut to 17 characters and given a 6-character
/// suffix derived from the SHA-256 of the name, so different names stay different.
pub fn environment_slug(name: &str) -> String {
    let mut slug = dashed(name);
    if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        slug = format!("env-{slug}");
    }
    let mut squeezed = String::with_capacity(slug.len());
    for c in slug.chars() {
        if !(c == '-' && squeezed.ends_with('-')) {
            squeezed.push(c);
        }
    }
    if squeezed.len() > 24 || squeezed != name {
        let mut short: String = squeezed.chars().take(17).collect();
        if !short.ends_with('-') {
            short.push('-');
        }
        short.push_str(&suffix(name));
        short
    } else {
        squeezed.trim_end_matches('-').to_owned()
    }
}

/// Lowercased, with every character outside `a-z0-9` replaced by `-`.
fn dashed(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The last six base-36 digits of the SHA-256 of `name`, read as one big number.
fn suffix(name: &str) -> String {
    const MODULUS: u64 = 36u64.pow(6);
    let digest = Sha256::digest(name.as_bytes());
    let rest = digest
        .iter()
        .fold(0u64, |acc, b| (acc * 256 + u64::from(*b)) % MODULUS);
    let mut digits = [b'0'; 6];
    let mut n = rest;
    for d in digits.iter_mut().rev() {
        *d = b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_slug_replaces_each_character_without_squeezing() {
        assert_eq!(slugify("feature/Foo__bar"), "feature-foo--bar");
        assert_eq!(slugify("-v1.0-"), "v1-0");
        let long = "a".repeat(62) + "/b";
        assert_eq!(slugify(&long), "a".repeat(62));
    }

    #[test]
    fn environment_slug_keeps_simple_names_and_suffixes_changed_ones() {
        assert_eq!(environment_slug("production"), "production");
        let review = environment_slug("review/feature-branch");
        assert!(review.starts_with("review-feature-br-"), "{review}");
        assert_eq!(review.len(), 24);
        assert_eq!(environment_slug("review/feature-branch"), review);
        assert!(environment_slug("1env").starts_with("env-1env-"));
    }
}
