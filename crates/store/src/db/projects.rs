//! Projects (a repository and its CI/CD settings), found by id or by their full path
//! `namespace/name`, and their protected branches.

use super::args::Args;
use super::connect::Db;
use super::error::{StoreError, query_error};
use super::page::Page;

/// GitLab's Maintainer access level: who may push to a branch protected with defaults.
pub const MAINTAINER_ACCESS: i64 = 40;

macro_rules! project_columns {
    () => {
        "id, path, namespace, name, default_branch, visibility, creator_id, created_at"
    };
}

macro_rules! protected_branch_columns {
    () => {
        "id, project_id, name, push_access_level, merge_access_level"
    };
}

/// A project to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProject {
    /// The namespace path (`group` or `group/subgroup`), without leading or trailing `/`.
    pub namespace: String,
    /// The project's own path segment (no `/`).
    pub name: String,
    /// The default branch (`main`).
    pub default_branch: String,
    /// `private`, `internal` or `public`.
    pub visibility: String,
    /// The user creating it.
    pub creator_id: i64,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    /// Its id.
    pub id: i64,
    /// Its full path, `namespace/name`, unique regardless of case.
    pub path: String,
    /// Its namespace path (may contain `/`).
    pub namespace: String,
    /// Its last path segment.
    pub name: String,
    /// Its default branch.
    pub default_branch: String,
    /// `private`, `internal` or `public`.
    pub visibility: String,
    /// Who created it (unset once that user is deleted).
    pub creator_id: Option<i64>,
    /// When it was created (epoch ms).
    pub created_at: i64,
}

/// A protected branch rule: a branch name or a wildcard pattern (`release/*`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProtectedBranch {
    /// Its id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The branch name or pattern; `*` matches any characters, `/` included.
    pub name: String,
    /// The lowest access level that may push (GitLab's numbers: 40 Maintainer, 0 no one).
    pub push_access_level: i64,
    /// The lowest access level that may merge.
    pub merge_access_level: i64,
}

impl ProtectedBranch {
    /// Whether the rule covers `branch`, as GitLab matches wildcard protected branches.
    pub fn matches(&self, branch: &str) -> bool {
        wildcard_match(&self.name, branch)
    }
}

/// `pattern` with `*` matching any run of characters, against the whole of `text`.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn check_segments(what: &'static str, value: &str, allow_slash: bool) -> Result<(), StoreError> {
    let invalid = |reason: &str| StoreError::Invalid {
        what,
        reason: format!("{value:?} {reason}"),
    };
    if value.is_empty() {
        return Err(invalid("is empty"));
    }
    if !allow_slash && value.contains('/') {
        return Err(invalid("contains '/'"));
    }
    if value.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(invalid("has an empty, '.' or '..' segment"));
    }
    Ok(())
}

impl Db {
    /// Creates a project at `namespace/name`; [`StoreError::Conflict`] when the path is taken
    /// (in any case), [`StoreError::Invalid`] for an empty segment or a `/` in the name.
    pub async fn create_project(&self, new: &NewProject, now_ms: i64) -> Result<Project, StoreError> {
        check_segments("project namespace", &new.namespace, true)?;
        check_segments("project name", &new.name, false)?;
        let path = format!("{}/{}", new.namespace, new.name);
        let _lock = self.write_lock().await;
        sqlx::query_as(concat!(
            "INSERT INTO projects (path, namespace, name, default_branch, visibility, creator_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
            project_columns!()
        ))
        .bind(&path)
        .bind(&new.namespace)
        .bind(&new.name)
        .bind(&new.default_branch)
        .bind(&new.visibility)
        .bind(new.creator_id)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match query_error("creating a project")(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("project path {path} is taken")),
            other => other,
        })
    }

    /// The project with this id.
    pub async fn project(&self, id: i64) -> Result<Option<Project>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a project"))
    }

    /// The project at this full path, compared regardless of case.
    pub async fn project_by_path(&self, path: &str) -> Result<Option<Project>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects WHERE lower(path) = lower($1)"
        ))
        .bind(path)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a project by path"))
    }

    /// A page of the projects `viewer` may see, newest first, and how many there are: all of
    /// them for `None` (an administrator), else the ones the user created and every project
    /// that is not private.
    pub async fn list_projects(
        &self,
        viewer: Option<i64>,
        page: Page,
    ) -> Result<(Vec<Project>, i64), StoreError> {
        let visible = |args: &mut Args| {
            let v = args.add(viewer);
            format!("(CAST({v} AS BIGINT) IS NULL OR creator_id = {v} OR visibility <> 'private')")
        };
        self.paged(project_columns!(), "projects", visible, page, "listing projects")
            .await
    }

    /// Sets a project's default branch.
    pub async fn set_default_branch(&self, project_id: i64, branch: &str) -> Result<(), StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("UPDATE projects SET default_branch = $1 WHERE id = $2")
            .bind(branch)
            .bind(project_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("setting the default branch"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "project",
                id: project_id,
            });
        }
        Ok(())
    }

    /// The protected branch rules of a project, by name.
    pub async fn protected_branches(&self, project_id: i64) -> Result<Vec<ProtectedBranch>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            protected_branch_columns!(),
            " FROM protected_branches WHERE project_id = $1 ORDER BY name"
        ))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing protected branches"))
    }

    /// Protects `name` (a branch or a pattern) with the given push access level and
    /// [`MAINTAINER_ACCESS`] to merge, replacing the rule for the same name.
    pub async fn protect_branch(
        &self,
        project_id: i64,
        name: &str,
        push_access_level: i64,
    ) -> Result<ProtectedBranch, StoreError> {
        let _lock = self.write_lock().await;
        sqlx::query_as(concat!(
            "INSERT INTO protected_branches (project_id, name, push_access_level, merge_access_level) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, name) DO UPDATE \
             SET push_access_level = excluded.push_access_level RETURNING ",
            protected_branch_columns!()
        ))
        .bind(project_id)
        .bind(name)
        .bind(push_access_level)
        .bind(MAINTAINER_ACCESS)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("protecting a branch"))
    }

    /// Removes the rule for `name`; `false` when there was none.
    pub async fn unprotect_branch(&self, project_id: i64, name: &str) -> Result<bool, StoreError> {
        let _lock = self.write_lock().await;
        let done = sqlx::query("DELETE FROM protected_branches WHERE project_id = $1 AND name = $2")
            .bind(project_id)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(query_error("unprotecting a branch"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Replaces all the protected branch rules of a project with `patterns`, each with
    /// [`MAINTAINER_ACCESS`] to push and merge, in one transaction.
    pub async fn set_project_protected_branches(
        &self,
        project_id: i64,
        patterns: &[String],
    ) -> Result<Vec<ProtectedBranch>, StoreError> {
        const OP: &str = "setting the protected branches";
        let mut w = self.begin_write(OP).await?;
        sqlx::query("DELETE FROM protected_branches WHERE project_id = $1")
            .bind(project_id)
            .execute(&mut *w.tx)
            .await
            .map_err(query_error(OP))?;
        let mut rules = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            let rule: ProtectedBranch = sqlx::query_as(concat!(
                "INSERT INTO protected_branches (project_id, name, push_access_level, merge_access_level) \
                 VALUES ($1, $2, $3, $3) RETURNING ",
                protected_branch_columns!()
            ))
            .bind(project_id)
            .bind(pattern)
            .bind(MAINTAINER_ACCESS)
            .fetch_one(&mut *w.tx)
            .await
            .map_err(query_error(OP))?;
            rules.push(rule);
        }
        w.commit(OP).await?;
        rules.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards_match_any_characters_including_slashes() {
        assert!(wildcard_match("main", "main"));
        assert!(!wildcard_match("main", "main2"));
        assert!(wildcard_match("release/*", "release/1.0"));
        assert!(wildcard_match("release/*", "release/a/b"));
        assert!(!wildcard_match("release/*", "releases/1"));
        assert!(wildcard_match("*-stable", "13-stable"));
        assert!(wildcard_match("a*b*c", "abc"));
        assert!(wildcard_match("a*b*c", "aXbYbc"));
        assert!(!wildcard_match("a*a", "a"));
        assert!(wildcard_match("*", ""));
    }
}
