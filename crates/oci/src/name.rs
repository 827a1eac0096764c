//! Repository names and references, in the spec's grammar: a name is path components of
//! lowercase letters and digits joined by `.`, `_`, `__` or runs of `-`, separated by `/`
//! (so never `..`, an empty component or a leading `/`); a reference is a tag
//! (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`) or a digest.

use crate::digest::Digest;
use crate::error::{Code, RegistryError};

/// The longest repository name accepted (what common registries and clients allow).
pub const MAX_NAME: usize = 255;

/// Whether one path component matches `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator: `.`, `_`, `__` or `-+`, always followed by an alphanumeric.
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if b.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || !b.get(i).copied().is_some_and(alnum) {
            return false;
        }
    }
    true
}

/// Checks a repository name; `NAME_INVALID` says why not.
pub fn check_name(name: &str) -> Result<(), RegistryError> {
    if name.len() > MAX_NAME {
        return Err(RegistryError::new(
            Code::NameInvalid,
            format!("the repository name is longer than {MAX_NAME} characters"),
        ));
    }
    if name.split('/').all(component) {
        Ok(())
    } else {
        Err(RegistryError::new(
            Code::NameInvalid,
            format!(
                "`{name}` is not a valid repository name: lowercase letters and digits, separated by `.`, `_`, `__`, `-` or `/`"
            ),
        ))
    }
}

/// Whether `tag` is a valid tag.
pub fn is_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    let first = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && first(b[0])
        && b[1..].iter().all(|&x| first(x) || x == b'.' || x == b'-')
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A tag.
    Tag(String),
    /// A digest.
    Digest(Digest),
}

impl Reference {
    /// Parses a reference (a digest when it has a `:`, else a tag); `MANIFEST_INVALID` for
    /// neither... the spec has no code of its own for a bad tag, so registries use that one.
    pub fn parse(text: &str) -> Result<Reference, RegistryError> {
        if text.contains(':') {
            return Digest::parse(text).map(Reference::Digest);
        }
        if is_tag(text) {
            Ok(Reference::Tag(text.to_owned()))
        } else {
            Err(RegistryError::new(
                Code::ManifestInvalid,
                format!("`{text}` is not a valid tag"),
            ))
        }
    }
}

/// Splits the path after `/v2/` into the repository name and what follows it: the last
/// occurrence of `/blobs/`, `/manifests/`, `/tags/` or `/referrers/` ends the name (names
/// may hold those words as components, as in `a/blobs/b`).
pub fn split_route(path: &str) -> Option<(&str, &'static str, &str)> {
    const KINDS: [&str; 4] = ["blobs", "manifests", "tags", "referrers"];
    let mut best: Option<(usize, &'static str)> = None;
    for kind in KINDS {
        let needle = format!("/{kind}/");
        if let Some(at) = path.rfind(&needle)
            && best.is_none_or(|(b, _)| at > b)
        {
            best = Some((at, kind));
        }
    }
    let (at, kind) = best?;
    let rest = &path[at + kind.len() + 2..];
    Some((&path[..at], kind, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_grammar() {
        for good in ["a", "group/app", "group/app/web-ui", "a.b/c__d/e---f", "x0/1y"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "/a", "a/", "a//b", "A", "a/../b", "a/./b", "-a", "a-", "a___b", "a_.b", "a b", "a/b\\c", "é",
        ] {
            let e = check_name(bad).expect_err(bad);
            assert_eq!(e.code, Code::NameInvalid, "{bad}");
        }
        assert!(check_name(&"a".repeat(MAX_NAME + 1)).is_err());
    }

    #[test]
    fn references_are_tags_or_digests() {
        assert_eq!(
            Reference::parse("v1.0_rc-2").expect("tag"),
            Reference::Tag("v1.0_rc-2".into())
        );
        assert!(matches!(
            Reference::parse(&format!("sha256:{}", "0".repeat(64))),
            Ok(Reference::Digest(_))
        ));
        assert_eq!(
            Reference::parse("sha256:zz").expect_err("bad digest").code,
            Code::DigestInvalid
        );
        for bad in [".hidden", "-x", "", "a/b", &"t".repeat(129)] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
        assert!(is_tag(&"t".repeat(128)));
    }

    #[test]
    fn routes_split_at_the_last_kind_word() {
        assert_eq!(
            split_route("g/app/blobs/sha256:ab"),
            Some(("g/app", "blobs", "sha256:ab"))
        );
        assert_eq!(
            split_route("g/blobs/app/manifests/v1"),
            Some(("g/blobs/app", "manifests", "v1"))
        );
        assert_eq!(
            split_route("g/app/blobs/uploads/"),
            Some(("g/app", "blobs", "uploads/"))
        );
        assert_eq!(split_route("g/app/tags/list"), Some(("g/app", "tags", "list")));
        assert_eq!(
            split_route("g/app/referrers/sha256:ab"),
            Some(("g/app", "referrers", "sha256:ab"))
        );
        assert_eq!(split_route("g/app"), None);
    }
}
