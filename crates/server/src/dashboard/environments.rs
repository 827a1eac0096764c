//! The environments page: environments grouped by folder (`review/x` in `review`), each with
//! its URL, state and recent deployments; stop and re-deploy are offered to developers (stop
//! while it is available, re-deploy for an earlier successful deployment, which runs its job
//! again).

use crate::access::Level;
use crate::app::AppState;
use crate::clock::now_ms;
use crate::error::ApiError;
use gantry_store::db::Project;
use gantry_web::format::{self, Status};
use gantry_web::views::{DeploymentRow, EnvironmentRow, EnvironmentsList};

/// How many deployments each environment shows.
const SHOWN: i64 = 10;

pub(super) async fn list(
    state: &AppState,
    project: &Project,
    level: Level,
) -> Result<EnvironmentsList, ApiError> {
    let dev = level >= Level::Developer;
    let api = format!("/api/v4/projects/{}", project.id);
    let now = now_ms();
    let mut groups: Vec<(Option<String>, Vec<EnvironmentRow>)> = Vec::new();
    for env in state.core.db.environments(project.id).await? {
        let deployments = state.core.db.deployments_of(env.id, SHOWN).await?;
        let latest_success = deployments.iter().find(|d| d.status == "success").map(|d| d.id);
        let mut rows = Vec::with_capacity(deployments.len());
        for d in &deployments {
            let job = state.core.db.job(d.job_id).await?;
            // Re-deploying runs the deployment's job again: its newest attempt, once finished.
            let newest = match &job {
                Some(j) if j.retried => state
                    .core
                    .db
                    .jobs_of_pipeline(j.pipeline_id, false)
                    .await?
                    .into_iter()
                    .find(|n| n.plan_index == j.plan_index),
                other => other.clone(),
            };
            let redeploy = newest
                .filter(|_| dev && d.status == "success" && Some(d.id) != latest_success)
                .filter(|n| matches!(n.status.as_str(), "success" | "failed" | "canceled"))
                .map(|n| format!("{api}/jobs/{}/retry", n.id));
            rows.push(DeploymentRow {
                iid: d.iid,
                status: Status::of(&d.status, false),
                job: job
                    .as_ref()
                    .map_or_else(|| format!("job {}", d.job_id), |j| j.name.clone()),
                job_url: format!("/{}/-/jobs/{}", project.path, d.job_id),
                ref_name: d.ref_name.clone(),
                short_sha: d.sha.chars().take(8).collect(),
                age: format::ago(now, d.created_at),
                redeploy,
            });
        }
        let folder = env.name.split_once('/').map(|(f, _)| f.to_owned());
        let row = EnvironmentRow {
            stop: (dev && env.state == "available").then(|| format!("{api}/environments/{}/stop", env.id)),
            name: env.name,
            folder: folder.clone(),
            state: env.state,
            url: env.external_url,
            deployments: rows,
        };
        match groups.iter_mut().find(|(f, _)| *f == folder) {
            Some((_, list)) => list.push(row),
            None => groups.push((folder, vec![row])),
        }
    }
    // Environments outside folders first, then the folders by name.
    groups.sort_by(|a, b| a.0.is_some().cmp(&b.0.is_some()).then(a.0.cmp(&b.0)));
    Ok(EnvironmentsList { groups })
}
