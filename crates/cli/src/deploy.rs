//! `gantry deploy`: reads the manifests, gathers the job's registry credentials for
//! `--image-pull-secret`, and hands over to gantry-deploy; progress goes to stdout, the
//! failure to stderr with exit code 1.

use crate::cli::DeployArgs;
use anyhow::Context as _;
use gantry_deploy::{DeployError, Options, PullSecret};
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

pub(crate) fn run(args: &DeployArgs) -> anyhow::Result<ExitCode> {
    let timeout = gantry_config::duration::parse_duration(&args.timeout).with_context(|| {
        format!(
            "--timeout {:?} is not a duration (such as 300, 90s, 5m)",
            args.timeout
        )
    })?;
    let pull_secret = match &args.image_pull_secret {
        Some(name) => Some(pull_secret(name, |k| {
            std::env::var(k).ok().filter(|v| !v.is_empty())
        })?),
        None => None,
    };
    let manifests = match gantry_deploy::load_paths(&args.files) {
        Ok(m) => m,
        Err(e) => return Ok(fail(&e)),
    };
    let inventory = args
        .inventory
        .clone()
        .or_else(|| {
            std::env::var("CI_ENVIRONMENT_SLUG")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .unwrap_or_else(|| "default".to_owned());
    let options = Options {
        manifests,
        namespace: args.namespace.clone(),
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        timeout: Duration::from_secs(timeout),
        wait: args.wait,
        prune: args.prune,
        inventory,
        pull_secret,
    };
    let runtime = crate::server::runtime()?;
    let say = |line: &str| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    match runtime.block_on(gantry_deploy::deploy(options, &say)) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => Ok(fail(&e)),
    }
}

fn fail(e: &DeployError) -> ExitCode {
    eprintln!("gantry deploy: {e}");
    ExitCode::from(1)
}

/// The registry secret `name` from the job's variables (`var` reads one).
fn pull_secret(name: &str, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<PullSecret> {
    let registry =
        var("CI_REGISTRY").context("--image-pull-secret needs CI_REGISTRY (the job's registry)")?;
    let (username, password) = match (var("CI_DEPLOY_USER"), var("CI_DEPLOY_PASSWORD")) {
        (Some(u), Some(p)) => (u, p),
        _ => (
            var("CI_REGISTRY_USER").context("--image-pull-secret needs CI_REGISTRY_USER and CI_REGISTRY_PASSWORD, or a deploy token's CI_DEPLOY_USER and CI_DEPLOY_PASSWORD")?,
            var("CI_REGISTRY_PASSWORD").context("--image-pull-secret needs CI_REGISTRY_PASSWORD")?,
        ),
    };
    Ok(PullSecret {
        name: name.to_owned(),
        registry,
        username,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_token_wins_over_the_job_token() {
        fn vars<'a>(pairs: &'a [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> + use<'a> {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        }
        let job = [
            ("CI_REGISTRY", "reg:5000"),
            ("CI_REGISTRY_USER", "gitlab-ci-token"),
            ("CI_REGISTRY_PASSWORD", "job"),
        ];
        let s = pull_secret("s", vars(&job)).unwrap();
        assert_eq!(
            (s.username.as_str(), s.password.as_str()),
            ("gitlab-ci-token", "job")
        );
        let both = [
            ("CI_REGISTRY", "reg:5000"),
            ("CI_REGISTRY_USER", "gitlab-ci-token"),
            ("CI_REGISTRY_PASSWORD", "job"),
            ("CI_DEPLOY_USER", "gitlab+deploy-token-1"),
            ("CI_DEPLOY_PASSWORD", "deploy"),
        ];
        let s = pull_secret("s", vars(&both)).unwrap();
        assert_eq!(
            (s.username.as_str(), s.password.as_str()),
            ("gitlab+deploy-token-1", "deploy")
        );
        let err = pull_secret("s", vars(&[("CI_REGISTRY", "reg")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("CI_REGISTRY_USER"), "{err}");
    }
}
