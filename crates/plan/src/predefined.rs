//! Predefined `CI_*` variables known when the pipeline is created.
//!
//! Job-level ones (`CI_JOB_NAME`, `CI_NODE_INDEX`, `CI_ENVIRONMENT_*`, ...) are added per job
//! by the compiler; runtime ones (`CI_JOB_ID`, `CI_JOB_TOKEN`) by whoever runs the job.

use crate::context::Context;
use crate::slug::slugify;

/// The pipeline-level predefined variables, in a stable order.
pub fn pipeline_variables(ctx: &Context) -> Vec<(String, String)> {
    let title = ctx.commit_message.lines().next().unwrap_or_default().to_owned();
    let description = ctx
        .commit_message
        .split_once('\n')
        .map(|(_, d)| d.trim_start_matches('\n').to_owned());
    let (namespace, name) = ctx
        .project_path
        .rsplit_once('/')
        .unwrap_or(("", ctx.project_path.as_str()));
    let host = ctx
        .server_url
        .split("://")
        .nth(1)
        .unwrap_or(&ctx.server_url)
        .trim_end_matches('/')
        .to_owned();
    let fqdn = host.split(':').next().unwrap_or_default().to_owned();
    let protocol = ctx.server_url.split("://").next().unwrap_or("http").to_owned();
    let short: String = ctx.sha.chars().take(8).collect();
    let mut v: Vec<(&str, String)> = vec![
        ("CI", "true".into()),
        ("GITLAB_CI", "true".into()),
        ("CI_SERVER", "yes".into()),
        ("CI_SERVER_NAME", "GitLab".into()),
        ("CI_SERVER_URL", ctx.server_url.clone()),
        ("CI_SERVER_HOST", fqdn.clone()),
        ("CI_SERVER_FQDN", host.clone()),
        ("CI_SERVER_PROTOCOL", protocol),
        ("CI_PIPELINE_SOURCE", ctx.source.clone()),
        ("CI_PIPELINE_ID", ctx.pipeline_id.to_string()),
        ("CI_PIPELINE_IID", ctx.pipeline_iid.to_string()),
        (
            "CI_PIPELINE_URL",
            format!(
                "{}/{}/-/pipelines/{}",
                ctx.server_url, ctx.project_path, ctx.pipeline_id
            ),
        ),
        ("CI_PROJECT_PATH", ctx.project_path.clone()),
        ("CI_PROJECT_PATH_SLUG", slugify(&ctx.project_path)),
        ("CI_PROJECT_NAME", name.to_owned()),
        ("CI_PROJECT_TITLE", name.to_owned()),
        ("CI_PROJECT_NAMESPACE", namespace.to_owned()),
        (
            "CI_PROJECT_ROOT_NAMESPACE",
            namespace.split('/').next().unwrap_or_default().to_owned(),
        ),
        (
            "CI_PROJECT_URL",
            format!("{}/{}", ctx.server_url, ctx.project_path),
        ),
        ("CI_PROJECT_DIR", ctx.project_dir.clone()),
        (
            "CI_BUILDS_DIR",
            ctx.project_dir
                .rsplitn(3, '/')
                .last()
                .unwrap_or("/builds")
                .to_owned(),
        ),
        ("CI_PROJECT_VISIBILITY", "private".into()),
        ("CI_DEFAULT_BRANCH", ctx.default_branch.clone()),
        ("CI_COMMIT_SHA", ctx.sha.clone()),
        ("CI_COMMIT_SHORT_SHA", short),
        ("CI_COMMIT_BEFORE_SHA", ctx.before_sha.clone()),
        ("CI_COMMIT_REF_NAME", ctx.ref_name.clone()),
        ("CI_COMMIT_REF_SLUG", slugify(&ctx.ref_name)),
        ("CI_COMMIT_REF_PROTECTED", ctx.protected.to_string()),
        ("CI_COMMIT_MESSAGE", ctx.commit_message.clone()),
        ("CI_COMMIT_TITLE", title),
        ("CI_COMMIT_DESCRIPTION", description.unwrap_or_default()),
        ("CI_COMMIT_AUTHOR", ctx.commit_author.clone()),
        ("CI_COMMIT_TIMESTAMP", ctx.commit_timestamp.clone()),
        ("CI_CONFIG_PATH", ".gitlab-ci.yml".into()),
        // The registry is served by the same server: its host and port.
        ("CI_REGISTRY", host.clone()),
        (
            "CI_REGISTRY_IMAGE",
            format!("{host}/{}", ctx.project_path.to_lowercase()),
        ),
        ("CI_OPEN_MERGE_REQUESTS", String::new()),
    ];
    if ctx.is_tag {
        v.push(("CI_COMMIT_TAG", ctx.ref_name.clone()));
        v.push(("CI_COMMIT_TAG_MESSAGE", String::new()));
    } else if ctx.is_branch() {
        v.push(("CI_COMMIT_BRANCH", ctx.ref_name.clone()));
    }
    v.retain(|(k, val)| {
        !(val.is_empty() && matches!(*k, "CI_OPEN_MERGE_REQUESTS" | "CI_COMMIT_TAG_MESSAGE"))
    });
    v.into_iter().map(|(k, val)| (k.to_owned(), val)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(vars: &'a [(String, String)], key: &str) -> &'a str {
        vars.iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    #[test]
    fn the_registry_is_the_servers_host_and_port_and_images_are_lowercase() {
        let ctx = Context {
            server_url: "http://ci.example:8080".into(),
            project_path: "Team/My-App".into(),
            ..Context::default()
        };
        let vars = pipeline_variables(&ctx);
        assert_eq!(value(&vars, "CI_SERVER_HOST"), "ci.example");
        assert_eq!(value(&vars, "CI_REGISTRY"), "ci.example:8080");
        assert_eq!(value(&vars, "CI_REGISTRY_IMAGE"), "ci.example:8080/team/my-app");
    }
}
