//! The dashboard's pages: each reads the store, checks the viewer's access level as the API
//! does, and fills a view model of `gantry-web`. Buttons are offered only to those the API
//! would let act, and the API checks again when they are used.

use super::session::Viewer;
use super::{Page, chrome, nav, render};
use crate::access::{self, Level};
pub(super) use crate::api::jobs::find_job;
pub(super) use crate::api::pipelines::find_pipeline;
use crate::app::AppState;
use crate::clock::now_ms;
use crate::error::ApiError;
use gantry_store::db::{Job, Page as DbPage, Pipeline, PipelineFilter, Project, User};
use gantry_web::format::{self, Status};
use gantry_web::views::{
    self, BranchRow, JobBox, PipelineRow, ProjectRow, RunnerRow, StageColumn, VariableRow,
};
use serde::Deserialize;
use std::collections::HashMap;

const FINISHED: [&str; 4] = ["success", "failed", "canceled", "skipped"];

/// Names of users, read once per page.
#[derive(Default)]
pub(super) struct Users(HashMap<i64, String>);

impl Users {
    async fn name(&mut self, state: &AppState, id: Option<i64>) -> Result<String, ApiError> {
        let Some(id) = id else { return Ok(String::new()) };
        if let Some(n) = self.0.get(&id) {
            return Ok(n.clone());
        }
        let name = state
            .core
            .db
            .user(id)
            .await?
            .map(|u| u.username)
            .unwrap_or_default();
        self.0.insert(id, name.clone());
        Ok(name)
    }
}

fn base(project: &Project) -> String {
    format!("/{}", project.path)
}

fn short(sha: &str) -> String {
    sha.chars().take(8).collect()
}

fn job_status(job: &Job) -> Status {
    Status::of(&job.status, job.allow_failure)
}

/// The composite status of some jobs, as GitLab computes a stage's.
fn composite<'a>(jobs: impl IntoIterator<Item = &'a Job>) -> Status {
    let s = gantry_engine::composite(
        jobs.into_iter()
            .map(|j| (crate::scheduler::status_of(&j.status), j.allow_failure)),
        false,
    );
    let word = s.map_or("created", |s| s.as_str());
    Status::of(word, false)
}

/// The stages of a pipeline's current jobs, in order, with their jobs.
fn stages(jobs: &[Job]) -> Vec<(String, Vec<&Job>)> {
    let mut out: Vec<(i64, String, Vec<&Job>)> = Vec::new();
    for j in jobs.iter().filter(|j| !j.retried) {
        match out.iter_mut().find(|(i, _, _)| *i == j.stage_idx) {
            Some((_, _, list)) => list.push(j),
            None => out.push((j.stage_idx, j.stage.clone(), vec![j])),
        }
    }
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, n, l)| (n, l)).collect()
}

pub(super) async fn pipeline_row(
    state: &AppState,
    project: &Project,
    p: &Pipeline,
    users: &mut Users,
    jobs: Option<&[Job]>,
) -> Result<PipelineRow, ApiError> {
    let owned;
    let jobs = match jobs {
        Some(j) => j,
        None => {
            owned = state.core.db.jobs_of_pipeline(p.id, false).await?;
            &owned
        }
    };
    let now = now_ms();
    let duration = match (p.duration, p.started_at) {
        (Some(d), _) => format::duration(d),
        (None, Some(start)) if !FINISHED.contains(&p.status.as_str()) => {
            format::duration((now - start) / 1000)
        }
        _ => String::new(),
    };
    Ok(PipelineRow {
        id: p.id,
        iid: p.iid,
        url: format!("{}/-/pipelines/{}", base(project), p.id),
        status: Status::of(&p.status, false),
        ref_name: p.ref_name.clone(),
        tag: p.tag,
        short_sha: short(&p.sha),
        title: p.commit_title.clone(),
        source: p.source.clone(),
        user: users.name(state, p.user_id).await?,
        duration,
        age: format::ago(now, p.created_at),
        created: format::timestamp(p.created_at),
        stages: stages(jobs)
            .into_iter()
            .map(|(n, js)| (n, composite(js.iter().copied())))
            .collect(),
    })
}

pub(super) async fn projects(state: &AppState, viewer: &Viewer) -> Result<Page, ApiError> {
    let Some(user) = &viewer.user else {
        return Ok(Page::SignIn);
    };
    let viewer_id = (!user.is_admin).then_some(user.id);
    let (list, _) = state
        .core
        .db
        .list_projects(
            viewer_id,
            DbPage {
                page: 1,
                per_page: 100,
            },
        )
        .await?;
    let mut users = Users::default();
    let mut rows = Vec::new();
    for p in list {
        let filter = PipelineFilter {
            ref_name: Some(p.default_branch.clone()),
            without_children: true,
            ..PipelineFilter::default()
        };
        let (last, _) = state
            .core
            .db
            .list_pipelines(p.id, &filter, DbPage { page: 1, per_page: 1 })
            .await?;
        let last = match last.first() {
            Some(l) => Some(pipeline_row(state, &p, l, &mut users, Some(&[])).await?),
            None => None,
        };
        rows.push(ProjectRow {
            url: format!("{}/-/pipelines", base(&p)),
            path: p.path.clone(),
            default_branch: p.default_branch.clone(),
            visibility: p.visibility.clone(),
            last,
        });
    }
    Ok(Page::Html(render(&views::Projects {
        chrome: chrome(Some(user), viewer.csrf.clone(), "Projects", None),
        projects: rows,
        git_base: state.core.external_url.clone(),
    })))
}

/// The pipelines list's filters and page.
#[derive(Deserialize, Default, Clone)]
pub(super) struct ListQuery {
    #[serde(default, rename = "ref")]
    pub(super) ref_name: String,
    #[serde(default)]
    pub(super) status: String,
    #[serde(default)]
    pub(super) page: Option<i64>,
}

impl ListQuery {
    fn query_string(&self, page: i64) -> String {
        serde_urlencoded::to_string([
            ("ref", self.ref_name.as_str()),
            ("status", self.status.as_str()),
            ("page", &page.to_string()),
        ])
        .unwrap_or_default()
    }
}

pub(super) async fn pipelines_table(
    state: &AppState,
    project: &Project,
    q: &ListQuery,
) -> Result<views::PipelinesTable, ApiError> {
    let page = DbPage {
        page: q.page.unwrap_or(1).max(1),
        per_page: 20,
    };
    let filter = PipelineFilter {
        ref_name: Some(q.ref_name.clone()).filter(|s| !s.is_empty()),
        status: Some(q.status.clone()).filter(|s| !s.is_empty()),
        without_children: true,
        ..PipelineFilter::default()
    };
    let (list, total) = state.core.db.list_pipelines(project.id, &filter, page).await?;
    let mut users = Users::default();
    let mut rows = Vec::with_capacity(list.len());
    for p in &list {
        rows.push(pipeline_row(state, project, p, &mut users, None).await?);
    }
    let url = |n: i64| format!("{}/-/pipelines?{}", base(project), q.query_string(n));
    Ok(views::PipelinesTable {
        rows,
        prev: (page.page > 1).then(|| url(page.page - 1)),
        next: (page.page * 20 < total).then(|| url(page.page + 1)),
    })
}

pub(super) async fn pipelines(
    state: &AppState,
    viewer: &Viewer,
    project: &Project,
    level: Level,
    q: &ListQuery,
) -> Result<Page, ApiError> {
    let table = pipelines_table(state, project, q).await?;
    let live = format!(
        "{}/-/pipelines/live?{}",
        base(project),
        q.query_string(q.page.unwrap_or(1))
    );
    Ok(Page::Html(render(&views::Pipelines {
        chrome: chrome(
            viewer.user.as_ref(),
            viewer.csrf.clone(),
            "Pipelines",
            Some(nav(project, "pipelines", level)),
        ),
        table: super::html(&table)?,
        live,
        ref_filter: q.ref_name.clone(),
        status_filter: q.status.clone(),
        statuses: vec![
            "created",
            "pending",
            "running",
            "success",
            "failed",
            "canceled",
            "skipped",
            "manual",
            "scheduled",
        ],
        project_id: project.id,
        default_branch: project.default_branch.clone(),
        can_run: level >= Level::Developer,
    })))
}

/// A job's box, with the actions the viewer may take.
fn job_box(project: &Project, j: &Job, level: Level, x: u32, y: u32) -> JobBox {
    let api = format!("/api/v4/projects/{}/jobs/{}", project.id, j.id);
    let dev = level >= Level::Developer && !j.retried;
    let now = now_ms();
    let duration = match (j.started_at, j.finished_at) {
        (Some(s), Some(f)) => format::duration((f - s) / 1000),
        (Some(s), None) if j.status == "running" => format::duration((now - s) / 1000),
        _ => String::new(),
    };
    JobBox {
        id: j.id,
        name: j.name.clone(),
        url: format!("{}/-/jobs/{}", base(project), j.id),
        status: job_status(j),
        duration,
        failure: (j.status == "failed").then(|| {
            j.failure_reason
                .clone()
                .unwrap_or_else(|| "unknown_failure".into())
        }),
        retry: (dev && matches!(j.status.as_str(), "success" | "failed" | "canceled"))
            .then(|| format!("{api}/retry")),
        cancel: (dev
            && matches!(
                j.status.as_str(),
                "pending" | "running" | "created" | "waiting_for_resource"
            ))
        .then(|| format!("{api}/cancel")),
        play: (dev && j.status == "manual").then(|| format!("{api}/play")),
        downstream: None,
        x,
        y,
    }
}

pub(super) async fn pipeline_graph(
    state: &AppState,
    viewer: Option<&User>,
    project: &Project,
    level: Level,
    p: &Pipeline,
) -> Result<views::PipelineGraph, ApiError> {
    let jobs = state.core.db.jobs_of_pipeline(p.id, false).await?;
    let stages = stages(&jobs);
    let mut nodes = Vec::new();
    let mut order: Vec<&Job> = Vec::new();
    for (column, (_, js)) in stages.iter().enumerate() {
        for j in js {
            nodes.push(gantry_web::graph::Node {
                name: j.name.clone(),
                column,
                needs: serde_json::from_str(&j.needs_json).unwrap_or_default(),
            });
            order.push(j);
        }
    }
    let layout = gantry_web::graph::layout(&nodes, stages.len());
    let mut boxes: Vec<JobBox> = order
        .iter()
        .zip(&layout.places)
        .map(|(j, place)| job_box(project, j, level, place.x, place.y))
        .collect();
    let mut downstream = Vec::new();
    for (b, j) in boxes.iter_mut().zip(&order) {
        if let Some(id) = j.downstream_pipeline_id
            && let Some(d) = linked(state, viewer, project, id, &j.name).await?
        {
            b.downstream = Some(d.clone());
            downstream.push(d);
        }
    }
    let upstream = match p.parent_job_id {
        Some(job_id) => match state.core.db.job(job_id).await? {
            Some(trigger) => linked(state, viewer, project, trigger.pipeline_id, &trigger.name).await?,
            None => None,
        },
        None => None,
    };
    let dev = level >= Level::Developer;
    let api = format!("/api/v4/projects/{}/pipelines/{}", project.id, p.id);
    let errors: Vec<String> = p
        .config_errors
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default();
    let mut users = Users::default();
    Ok(views::PipelineGraph {
        pipeline: pipeline_row(state, project, p, &mut users, Some(&jobs)).await?,
        stages: stages
            .iter()
            .enumerate()
            .map(|(i, (name, js))| StageColumn {
                name: name.clone(),
                status: composite(js.iter().copied()),
                x: i as u32 * gantry_web::graph::COL_W,
            })
            .collect(),
        failed: boxes
            .iter()
            .filter(|b| b.status.word == "failed")
            .cloned()
            .collect(),
        edges: layout
            .edges
            .into_iter()
            .map(|(from, to, d)| views::Edge {
                d,
                from: nodes[from].name.clone(),
                to: nodes[to].name.clone(),
            })
            .collect(),
        jobs: boxes,
        width: layout.width,
        height: layout.height,
        retry: (dev
            && jobs
                .iter()
                .any(|j| !j.retried && matches!(j.status.as_str(), "failed" | "canceled")))
        .then(|| format!("{api}/retry")),
        cancel: (dev && !FINISHED.contains(&p.status.as_str()) && p.status != "manual")
            .then(|| format!("{api}/cancel")),
        errors,
        upstream,
        downstream,
    })
}

/// The pipeline `id` as a link from a pipeline of `project` (its project named when another),
/// `None` when it is gone or in a project `viewer` may not see.
async fn linked(
    state: &AppState,
    viewer: Option<&User>,
    project: &Project,
    id: i64,
    job: &str,
) -> Result<Option<views::Downstream>, ApiError> {
    let Some(p) = state.core.db.pipeline(id).await? else {
        return Ok(None);
    };
    let path = if p.project_id == project.id {
        project.path.clone()
    } else {
        match state.core.db.project(p.project_id).await? {
            Some(other) if access::level(viewer, &other) > Level::None => other.path,
            _ => return Ok(None),
        }
    };
    Ok(Some(views::Downstream {
        url: format!("/{path}/-/pipelines/{}", p.id),
        project: (p.project_id != project.id).then_some(path),
        iid: p.iid,
        status: Status::of(&p.status, false),
        job: job.to_owned(),
    }))
}

pub(super) async fn pipeline(
    state: &AppState,
    viewer: &Viewer,
    project: &Project,
    level: Level,
    id: i64,
) -> Result<Page, ApiError> {
    let p = find_pipeline(state, project, id).await?;
    let graph = pipeline_graph(state, viewer.user.as_ref(), project, level, &p).await?;
    Ok(Page::Html(render(&views::PipelinePage {
        chrome: chrome(
            viewer.user.as_ref(),
            viewer.csrf.clone(),
            &format!("Pipeline #{}", p.iid),
            Some(nav(project, "pipelines", level)),
        ),
        graph: super::html(&graph)?,
        live: format!("{}/-/pipelines/{}/live", base(project), p.id),
    })))
}

pub(super) async fn job_head(
    state: &AppState,
    project: &Project,
    level: Level,
    job: &Job,
) -> Result<views::JobHead, ApiError> {
    let p = find_pipeline(state, project, job.pipeline_id).await?;
    let newer = if job.retried {
        state
            .core
            .db
            .jobs_of_pipeline(p.id, false)
            .await?
            .into_iter()
            .find(|j| j.plan_index == job.plan_index)
            .map(|j| format!("{}/-/jobs/{}", base(project), j.id))
    } else {
        None
    };
    let runner = match job.runner_id {
        Some(id) => match state.core.db.runner(id).await? {
            Some(r) => format!("#{} {}", r.id, r.description),
            None => format!("#{id}"),
        },
        None if job.started_at.is_some() => "gantry server (built-in)".to_owned(),
        None => "not yet".to_owned(),
    };
    let time = |t: Option<i64>| t.map(|t| format!("{} UTC", format::timestamp(t)));
    let mut facts = Vec::new();
    for (label, value) in [
        ("Created", time(Some(job.created_at))),
        ("Queued", time(job.queued_at)),
        ("Started", time(job.started_at)),
        ("Finished", time(job.finished_at)),
    ] {
        if let Some(v) = value {
            facts.push((label, v));
        }
    }
    if let (Some(q), Some(s)) = (job.queued_at, job.started_at) {
        facts.push(("Waited", format::duration((s - q) / 1000)));
    }
    let bx = job_box(project, job, level, 0, 0);
    if !bx.duration.is_empty() {
        facts.push(("Duration", bx.duration.clone()));
    }
    if let Some(code) = job.exit_code {
        facts.push(("Exit code", code.to_string()));
    }
    let artifacts = state
        .core
        .db
        .artifacts_of_job(job.id)
        .await?
        .into_iter()
        .find(|a| a.file_type == "archive")
        .map(|a| views::Artifacts {
            size: format::size(a.size),
            expires: a.expire_at.map(|t| format!("{} UTC", format::timestamp(t))),
            browse: format!("{}/-/jobs/{}/artifacts/browse", base(project), job.id),
            download: format!("{}/-/jobs/{}/artifacts/download", base(project), job.id),
        });
    Ok(views::JobHead {
        stage: job.stage.clone(),
        attempt: job.attempt,
        newer,
        pipeline_url: format!("{}/-/pipelines/{}", base(project), p.id),
        pipeline_iid: p.iid,
        ref_name: p.ref_name.clone(),
        short_sha: short(&p.sha),
        runner,
        facts,
        variables: super::job_variable_names(state, project, &p, job).await,
        artifacts,
        project_id: project.id,
        job: bx,
    })
}

pub(super) async fn job(
    state: &AppState,
    viewer: &Viewer,
    project: &Project,
    level: Level,
    id: i64,
) -> Result<Page, ApiError> {
    let job = find_job(state, project, id).await?;
    let head = job_head(state, project, level, &job).await?;
    let url = format!("{}/-/jobs/{}", base(project), job.id);
    Ok(Page::Html(render(&views::JobPage {
        chrome: chrome(
            viewer.user.as_ref(),
            viewer.csrf.clone(),
            &job.name,
            Some(nav(project, "pipelines", level)),
        ),
        head: super::html(&head)?,
        live: format!("{url}/live"),
        log_stream: format!("{url}/trace.sse"),
        raw: format!("{url}/raw"),
        download: format!("{url}/raw?download=1"),
    })))
}

/// `text` encoded as a URL's query value (or path segment: it encodes `/` too).
fn query_value(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .to_owned()
}

pub(super) async fn settings(
    state: &AppState,
    viewer: &Viewer,
    project: &Project,
    level: Level,
) -> Result<Page, ApiError> {
    if level < Level::Maintainer {
        return Err(ApiError::Forbidden);
    }
    let api = format!("/api/v4/projects/{}", project.id);
    let variables = state
        .core
        .db
        .variables(project.id)
        .await?
        .into_iter()
        .map(|v| VariableRow {
            delete: format!(
                "{api}/variables/{}?filter%5Benvironment_scope%5D={}",
                v.key,
                query_value(v.environment_scope.as_str())
            ),
            value: (!v.masked).then(|| {
                state
                    .core
                    .secrets
                    .open(&v.value)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            }),
            key: v.key,
            scope: v.environment_scope,
            protected: v.protected,
            masked: v.masked,
        })
        .collect();
    let branches = state
        .core
        .db
        .protected_branches(project.id)
        .await?
        .into_iter()
        .map(|b| BranchRow {
            delete: format!("{api}/protected_branches/{}", query_value(b.name.as_str())),
            push: crate::access::Level::description(b.push_access_level),
            name: b.name,
        })
        .collect();
    let now = now_ms();
    let runners = state
        .core
        .db
        .runners()
        .await?
        .into_iter()
        .filter(|r| r.runner_type == "instance_type" || r.project_id == Some(project.id))
        .map(|r| RunnerRow {
            id: r.id,
            status: match r.contacted_at {
                _ if r.paused => "paused",
                None => "never_contacted",
                Some(t) if now - t < 2 * 3600 * 1000 => "online",
                Some(_) => "offline",
            }
            .to_owned(),
            contacted: r
                .contacted_at
                .map_or_else(|| "never".to_owned(), |t| format::ago(now, t)),
            tags: r.tag_list().join(", "),
            kind: r.runner_type,
            description: r.description,
        })
        .collect();
    Ok(Page::Html(render(&views::Settings {
        chrome: chrome(
            viewer.user.as_ref(),
            viewer.csrf.clone(),
            "CI/CD settings",
            Some(nav(project, "settings", level)),
        ),
        project_id: project.id,
        variables,
        branches,
        runners,
    })))
}
