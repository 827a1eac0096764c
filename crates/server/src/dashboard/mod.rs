//! The dashboard, served by the server itself: HTML pages rendered from `gantry-web`'s view
//! models, live fragments and job logs over server-sent events (`live.rs`), signing in
//! (`session.rs`). Pages live under GitLab's paths (`/<project>/-/pipelines/<id>`,
//! `/<project>/-/jobs/<id>`, ...); every action a page offers is a call to the REST API,
//! which authorises it again. Anything else that is not a page goes to git over HTTP.

mod artifacts;
mod environments;
mod live;
mod pages;
mod session;

pub(crate) use session::{hash_password, verify_password};

use crate::access::{self, Level};
use crate::app::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gantry_store::db::{Job, Pipeline, Project, User};
use gantry_web::Template;
use gantry_web::views::{Chrome, ErrorPage, ProjectNav};
use session::Viewer;
use std::sync::Arc;

/// The dashboard's own routes (project pages are found by [`fallback`]).
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/users/sign_in", get(session::form).post(session::sign_in))
        .route("/users/sign_out", post(session::sign_out))
        .route("/-/assets/{name}", get(asset))
}

/// What a page handler produces.
pub(crate) enum Page {
    /// A rendered page or fragment stream.
    Html(Response),
    /// The viewer must sign in first.
    SignIn,
}

/// The frame of a page.
pub(crate) fn chrome(user: Option<&User>, csrf: String, title: &str, project: Option<ProjectNav>) -> Chrome {
    Chrome {
        title: title.to_owned(),
        user: user.map(|u| u.username.clone()),
        csrf,
        project,
        css: gantry_web::assets::url("app.css"),
        js: gantry_web::assets::url("app.js"),
    }
}

/// The tabs of a project.
pub(crate) fn nav(project: &Project, tab: &'static str, level: Level) -> ProjectNav {
    ProjectNav {
        path: project.path.clone(),
        url: format!("/{}", project.path),
        tab,
        settings: level >= Level::Maintainer,
    }
}

/// A template as text.
pub(crate) fn html(t: &impl Template) -> Result<String, ApiError> {
    t.render()
        .map_err(|e| ApiError::Internal(format!("rendering a page: {e}")))
}

/// A template as an HTML response, with the headers every page carries: no caching of
/// private pages, no framing, no scripts or styles from elsewhere.
pub(crate) fn render(t: &impl Template) -> Response {
    match html(t) {
        Ok(body) => {
            let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
            secure_headers(&mut r);
            r
        }
        Err(e) => e.into_response(),
    }
}

fn secure_headers(r: &mut Response) {
    let h = r.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
}

fn error_page(viewer: &Viewer, code: StatusCode, message: &str) -> Response {
    let mut r = render(&ErrorPage {
        chrome: chrome(viewer.user.as_ref(), viewer.csrf.clone(), message, None),
        code: code.as_u16(),
        message: message.to_owned(),
    });
    *r.status_mut() = code;
    r
}

/// A page's result as a response: errors become error pages, and a viewer who is not signed
/// in is sent to sign in where the page would be hidden from them.
fn finish(viewer: &Viewer, path: &str, result: Result<Page, ApiError>) -> Response {
    let to_sign_in = || {
        let target = serde_urlencoded::to_string([("redirect", path)]).unwrap_or_default();
        Redirect::to(&format!("/users/sign_in?{target}")).into_response()
    };
    match result {
        Ok(Page::Html(r)) => r,
        Ok(Page::SignIn) => to_sign_in(),
        Err(ApiError::NotFound(_) | ApiError::Unauthorized) if viewer.user.is_none() => to_sign_in(),
        Err(ApiError::NotFound(what)) => {
            error_page(viewer, StatusCode::NOT_FOUND, &format!("{what} not found"))
        }
        Err(ApiError::Forbidden) => error_page(
            viewer,
            StatusCode::FORBIDDEN,
            "You are not allowed to see this page.",
        ),
        Err(ApiError::BadRequest(m)) => error_page(viewer, StatusCode::BAD_REQUEST, &m),
        Err(e) => {
            let r = e.into_response();
            error_page(viewer, r.status(), "Something went wrong on the server.")
        }
    }
}

async fn home(State(state): State<Arc<AppState>>, viewer: Viewer) -> Response {
    let result = pages::projects(&state, &viewer).await;
    finish(&viewer, "/", result)
}

async fn asset(Path(name): Path<String>) -> Response {
    match gantry_web::assets::asset(&name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Every request no route took: a project's page (`<project>/-/...`), a project's own URL
/// (sent to its pipelines), or git over HTTP.
pub(crate) async fn fallback(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path.contains(".git/") || path.ends_with(".git") || request.method() != axum::http::Method::GET {
        return crate::githost::serve(State(state), request).await;
    }
    let viewer = match Viewer::of(&state, request.headers()).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let trimmed = path.trim_start_matches('/');
    let (project_path, rest) = match trimmed.split_once("/-/") {
        Some((p, r)) => (p, Some(r.trim_end_matches('/'))),
        None => (trimmed.trim_end_matches('/'), None),
    };
    let project = match state.core.db.project_by_path(project_path).await {
        Ok(p) => p,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let level = project
        .as_ref()
        .map_or(Level::None, |p| access::level(viewer.user.as_ref(), p));
    let Some(project) = project.filter(|_| level > Level::None) else {
        return finish(&viewer, &path, Err(ApiError::NotFound("Page")));
    };
    let Some(rest) = rest else {
        return Redirect::to(&format!("/{}/-/pipelines", project.path)).into_response();
    };
    let query = request.uri().query().unwrap_or_default().to_owned();
    let last_event = request
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let ctx = Ctx {
        state,
        viewer,
        project,
        level,
    };
    let result = route(&ctx, rest, &query, last_event).await;
    finish(&ctx.viewer, &path, result)
}

/// What a project page's handler gets.
pub(crate) struct Ctx {
    pub(crate) state: Arc<AppState>,
    pub(crate) viewer: Viewer,
    pub(crate) project: Project,
    pub(crate) level: Level,
}

async fn route(ctx: &Ctx, rest: &str, query: &str, last_event: Option<u64>) -> Result<Page, ApiError> {
    let parts: Vec<&str> = rest.split('/').collect();
    let id = |s: &str| s.parse::<i64>().map_err(|_| ApiError::NotFound("Page"));
    let q = || serde_urlencoded::from_str::<pages::ListQuery>(query).unwrap_or_default();
    let (s, v, p, l) = (&*ctx.state, &ctx.viewer, &ctx.project, ctx.level);
    match parts.as_slice() {
        ["pipelines"] => pages::pipelines(s, v, p, l, &q()).await,
        ["pipelines", "live"] => Ok(live::pipelines(ctx, q())),
        ["pipelines", n] => pages::pipeline(s, v, p, l, id(n)?).await,
        ["pipelines", n, "live"] => live::pipeline(ctx, id(n)?).await,
        ["jobs", n] => pages::job(s, v, p, l, id(n)?).await,
        ["jobs", n, "live"] => live::job(ctx, id(n)?).await,
        ["jobs", n, "trace.sse"] => live::trace(ctx, id(n)?, last_event.unwrap_or(0)).await,
        ["jobs", n, "raw"] => artifacts::raw(ctx, id(n)?, query.contains("download=1")).await,
        ["jobs", n, "artifacts", "download"] => artifacts::download(ctx, id(n)?).await,
        ["jobs", n, "artifacts", "browse", dir @ ..] => {
            let dir = artifacts::unlink(dir).ok_or(ApiError::NotFound("Directory"))?;
            artifacts::browse(ctx, id(n)?, &dir).await
        }
        ["jobs", n, "artifacts", "file", file @ ..] => {
            let file = artifacts::unlink(file).ok_or(ApiError::NotFound("File"))?;
            artifacts::file(ctx, id(n)?, &file).await
        }
        ["environments"] => live::environments_page(ctx).await,
        ["environments", "live"] => live::environments(ctx).await,
        ["settings", "ci_cd"] => pages::settings(s, v, p, l).await,
        _ => Err(ApiError::NotFound("Page")),
    }
}

/// The names of the variables a job gets (its configuration's, the pipeline's and the
/// project's it may see), never their values.
pub(crate) async fn job_variable_names(
    state: &AppState,
    project: &Project,
    pipeline: &Pipeline,
    job: &Job,
) -> Vec<String> {
    let mut names: Vec<String> = serde_json::from_str(&job.variable_names).unwrap_or_default();
    let given: Vec<(String, String)> = serde_json::from_str(&pipeline.variables_json).unwrap_or_default();
    names.extend(given.into_iter().map(|(k, _)| k));
    if let Ok(Some(sealed)) = state.core.db.play_variables(job.id).await
        && let Ok(plain) = state.core.secrets.open(&sealed)
    {
        let played: Vec<(String, String)> = serde_json::from_slice(&plain).unwrap_or_default();
        names.extend(played.into_iter().map(|(k, _)| k));
    }
    let protected = state
        .core
        .is_protected(project, &pipeline.ref_name, pipeline.tag)
        .await;
    if let Ok(vars) = state.core.db.variables(project.id).await {
        names.extend(
            vars.into_iter()
                .filter(|v| protected || !v.protected)
                .map(|v| v.key),
        );
    }
    names.sort();
    names.dedup();
    names
}
