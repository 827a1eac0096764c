//! The project CI/CD variables a pipeline's jobs get, and the values to mask in their logs.

use crate::app::Core;
use gantry_executor::job::JobVariable;
use gantry_plan::PlannedJob;
use gantry_store::db::{Project, StoreError};

/// The project's CI/CD variables each job gets (protected ones only on protected refs,
/// environment-scoped ones only for matching environments), and the values to mask.
pub(super) async fn project_variables(
    core: &Core,
    project: &Project,
    jobs: &[PlannedJob],
    protected: bool,
) -> Result<(Vec<Vec<JobVariable>>, Vec<String>), StoreError> {
    let stored = core.db.variables(project.id).await?;
    let mut masks = Vec::new();
    let mut opened = Vec::new();
    for v in stored {
        if v.protected && !protected {
            continue;
        }
        let Ok(value) = core.secrets.open(&v.value) else {
            tracing::error!(key = %v.key, "a variable does not open with the server key");
            continue;
        };
        let value = String::from_utf8_lossy(&value).into_owned();
        if v.masked && !value.is_empty() {
            masks.push(value.clone());
        }
        opened.push((v, value));
    }
    let per_job = jobs
        .iter()
        .map(|job| {
            let env = job.environment.as_ref().map(|e| e.name.as_str());
            opened
                .iter()
                .filter(|(v, _)| scope_matches(&v.environment_scope, env))
                .map(|(v, value)| JobVariable {
                    name: v.key.clone(),
                    value: value.clone(),
                    file: v.variable_type == "file",
                })
                .collect()
        })
        .collect();
    // Longest first, so that a value containing another is masked whole.
    masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
    Ok((per_job, masks))
}

/// GitLab's environment scope: `*` matches every job; otherwise the job's environment name,
/// where `*` in the scope matches any run of characters.
fn scope_matches(scope: &str, env: Option<&str>) -> bool {
    if scope == "*" {
        return true;
    }
    let Some(env) = env else { return false };
    let parts: Vec<&str> = scope.split('*').collect();
    if parts.len() == 1 {
        return scope == env;
    }
    let mut rest = env;
    for (n, part) in parts.iter().enumerate() {
        if n == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if n == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_scopes_match_as_gitlab_documents() {
        assert!(scope_matches("*", None));
        assert!(scope_matches("production", Some("production")));
        assert!(!scope_matches("production", Some("staging")));
        assert!(!scope_matches("production", None));
        assert!(scope_matches("review/*", Some("review/feature-1")));
        assert!(!scope_matches("review/*", Some("production")));
        assert!(scope_matches("*-east", Some("prod-east")));
        assert!(scope_matches("a*c*e", Some("abcde")));
        assert!(!scope_matches("a*c*e", Some("abde")));
    }
}
