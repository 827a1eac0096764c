//! Who may do what in a project, in GitLab's access levels. Gantry has no project members yet:
//! an administrator and the project's creator are its owners; anyone signed in may read an
//! `internal` or `public` project, and anyone at all a `public` one, as a guest. A project a
//! caller cannot see answers 404 (GitLab does not reveal that it exists); one they can see but
//! not change answers 403.

use gantry_store::db::{Project, ProtectedBranch, User};

/// GitLab's access levels (the numbers its API uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Cannot see the project.
    None = 0,
    /// Reads code, pipelines and jobs.
    Guest = 10,
    /// Reads, and downloads artifacts.
    Reporter = 20,
    /// Pushes to unprotected branches, runs pipelines, retries and cancels jobs.
    Developer = 30,
    /// Pushes to protected branches, manages variables and protected branches.
    Maintainer = 40,
    /// Everything.
    Owner = 50,
}

impl Level {
    /// The level of GitLab's number `n`, rounded down to a known one.
    pub fn from_number(n: i64) -> Level {
        match n {
            n if n >= 50 => Level::Owner,
            n if n >= 40 => Level::Maintainer,
            n if n >= 30 => Level::Developer,
            n if n >= 20 => Level::Reporter,
            n if n >= 10 => Level::Guest,
            _ => Level::None,
        }
    }

    /// GitLab's name for it, as `access_level_description` shows.
    pub fn description(number: i64) -> &'static str {
        match number {
            0 => "No one",
            30 => "Developers + Maintainers",
            40 => "Maintainers",
            60 => "Admins",
            _ => "Maintainers",
        }
    }
}

/// The access `user` (none when anonymous) has to `project`.
pub fn level(user: Option<&User>, project: &Project) -> Level {
    match user {
        Some(u) if u.is_admin || project.creator_id == Some(u.id) => Level::Owner,
        Some(_) if project.visibility != "private" => Level::Guest,
        None if project.visibility == "public" => Level::Guest,
        _ => Level::None,
    }
}

/// Whether a caller at `level` may push to `branch` under these protection rules: an
/// unprotected branch takes a developer; a protected one takes the rule's push level, and a
/// rule with level 0 ("No one") lets nobody push.
pub fn may_push(level: Level, rules: &[ProtectedBranch], branch: &str) -> bool {
    if level < Level::Developer {
        return false;
    }
    rules
        .iter()
        .filter(|r| r.matches(branch))
        .all(|r| rule_allows(level, r))
}

/// Whether a caller at `level` may push to the branches `rule` protects.
pub fn rule_allows(level: Level, rule: &ProtectedBranch) -> bool {
    rule.push_access_level > 0 && level >= Level::from_number(rule.push_access_level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(visibility: &str) -> Project {
        Project {
            id: 1,
            path: "g/p".into(),
            namespace: "g".into(),
            name: "p".into(),
            default_branch: "main".into(),
            visibility: visibility.into(),
            creator_id: Some(7),
            created_at: 0,
        }
    }

    fn user(id: i64, is_admin: bool) -> User {
        User {
            id,
            username: format!("u{id}"),
            is_admin,
            created_at: 0,
        }
    }

    fn rule(name: &str, push: i64) -> ProtectedBranch {
        ProtectedBranch {
            id: 1,
            project_id: 1,
            name: name.into(),
            push_access_level: push,
            merge_access_level: 40,
        }
    }

    #[test]
    fn creators_and_admins_own_others_see_only_what_visibility_allows() {
        let private = project("private");
        assert_eq!(level(Some(&user(7, false)), &private), Level::Owner);
        assert_eq!(level(Some(&user(8, true)), &private), Level::Owner);
        assert_eq!(level(Some(&user(8, false)), &private), Level::None);
        assert_eq!(level(None, &private), Level::None);
        assert_eq!(level(Some(&user(8, false)), &project("internal")), Level::Guest);
        assert_eq!(level(None, &project("internal")), Level::None);
        assert_eq!(level(None, &project("public")), Level::Guest);
    }

    #[test]
    fn protected_branches_take_their_push_level_and_no_one_means_no_one() {
        let rules = [rule("main", 40), rule("release/*", 0), rule("dev*", 30)];
        assert!(may_push(Level::Developer, &rules, "feature"));
        assert!(!may_push(Level::Guest, &rules, "feature"));
        assert!(!may_push(Level::Developer, &rules, "main"));
        assert!(may_push(Level::Maintainer, &rules, "main"));
        assert!(!may_push(Level::Owner, &rules, "release/1.0"));
        assert!(may_push(Level::Developer, &rules, "devel"));
    }
}
