//! doublestar patterns (gitlab-runner's glob library) compiled to `globset` matchers.
//!
//! globset with `literal_separator(true)` already matches like doublestar: `*`, `?` and classes
//! stay inside one path component, a `**` component matches zero or more directories, and
//! `{a,b}` alternates. Three doublestar rules need help, and are applied here:
//! a `**` that is not a whole component behaves like `*` (globset rejects it),
//! `dir/**` also matches `dir` itself (doublestar's `Match("a/**", "a")` is true),
//! and an alternative may be empty (`some{thing,}`).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Whether a path component holds a glob metacharacter (doublestar's `SplitPattern` test).
pub(super) fn has_meta(component: &str) -> bool {
    component.contains(['*', '?', '[', '{', '\\'])
}

/// Compiles one normalized, project-relative doublestar pattern.
pub(super) fn compile(pattern: &str) -> Result<GlobSet, globset::Error> {
    let pattern = collapse_partial_doublestars(pattern);
    let mut set = GlobSetBuilder::new();
    set.add(build(&pattern)?);
    if let Some(dir) = pattern.strip_suffix("/**") {
        set.add(build(dir)?);
    }
    set.build()
}

fn build(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .empty_alternates(true)
        .build()
}

/// Rewrites every run of unescaped `*` inside a component that is not exactly `**` into one `*`.
fn collapse_partial_doublestars(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|component| {
            if component == "**" {
                return component.to_owned();
            }
            let mut out = String::with_capacity(component.len());
            let mut chars = component.chars();
            let mut last_star = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        out.push(c);
                        if let Some(escaped) = chars.next() {
                            out.push(escaped);
                        }
                        last_star = false;
                    }
                    '*' if last_star => {}
                    _ => {
                        out.push(c);
                        last_star = c == '*';
                    }
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, path: &str, expected: bool) {
        let set = compile(pattern).unwrap();
        assert_eq!(set.is_match(path), expected, "{pattern} vs {path}");
    }

    #[test]
    fn star_stays_in_one_directory() {
        check("build/*", "build/a", true);
        check("build/*", "build/a/b", false);
        check("*.txt", ".hidden.txt", true);
    }

    #[test]
    fn doublestar_matches_zero_or_more_directories() {
        check("**/*.xml", "a.xml", true);
        check("**/*.xml", "out/x/y/a.xml", true);
        check("a/**/b", "a/b", true);
        check("a/**/b", "a/x/y/b", true);
        check("a/**", "a", true);
        check("a/**", "a/b/c", true);
    }

    #[test]
    fn partial_doublestar_behaves_like_a_star() {
        check("path/**.txt", "path/a.txt", true);
        check("path/**.txt", "path/x/a.txt", false);
        assert_eq!(collapse_partial_doublestars(r"a\**b/**/c***"), r"a\**b/**/c*");
    }

    #[test]
    fn alternatives_classes_and_escapes_follow_doublestar() {
        check("{bin,lib}/*.so", "lib/x.so", true);
        check("some{thing,}", "some", true);
        check("[!a]*", "b1", true);
        check("[^a]*", "a1", false);
        check(r"a\*b", "a*b", true);
        check(r"a\*b", "axb", false);
    }
}
