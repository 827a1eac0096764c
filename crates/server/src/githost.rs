//! Git over HTTP at `/<namespace>/<name>.git/...`: authenticates the caller (a personal
//! access token as the Basic-auth password, as GitLab takes it, or a running job's token as
//! `gitlab-ci-token`, which fetches only its own project), checks the caller's access
//! (reading takes a guest, pushing a developer, and protected branches their own level;
//! [`crate::access`]), hands the request to
//! [`crate::git::http`], and after a push creates a pipeline for every branch or tag that
//! moved to a new commit (a deleted ref creates none; a deleted branch stops the environments
//! it last deployed to).

use crate::access::{self, Level};
use crate::app::AppState;
use crate::auth::user_for_token;
use crate::error::ApiError;
use crate::git::http::{PushPolicy, PushResult, basic_auth};
use crate::scheduler::PipelineRequest;
use crate::scheduler::source::NULL_SHA;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gantry_store::db::Project;
use std::sync::Arc;

/// The fallback route: git's smart HTTP paths, 404 for anything else.
pub(crate) async fn serve(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/').to_owned();
    let Some((project_path, service)) = path.split_once(".git/") else {
        return ApiError::NotFound("Page").into_response();
    };
    let project = match state.core.db.project_by_path(project_path).await {
        Ok(Some(p)) => p,
        Ok(None) => return ask_credentials(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let pushing = service == "git-receive-pack" || request.uri().query() == Some("service=git-receive-pack");
    // A job's token (user `gitlab-ci-token`) fetches its own project while the job runs.
    if let Some((login, password)) = basic_auth(request.headers())
        && login == "gitlab-ci-token"
    {
        let job = match state
            .core
            .db
            .job_by_token(&crate::auth::token_hash(password.trim()))
            .await
        {
            Ok(job) => job,
            Err(e) => return ApiError::from(e).into_response(),
        };
        return match job {
            Some(job) if job.project_id == project.id && !pushing => {
                forward(
                    &state,
                    &project,
                    service,
                    request,
                    "gitlab-ci-token",
                    &PushPolicy::default(),
                    None,
                )
                .await
            }
            Some(_) if pushing => plain(
                StatusCode::FORBIDDEN,
                "You are not allowed to push code to this project.\n",
            ),
            _ => ask_credentials(),
        };
    }
    let user = match basic_auth(request.headers()) {
        Some((_, password)) => match user_for_token(&state, &password).await {
            Ok(Some(user)) => Some(user),
            Ok(None) => return ask_credentials(),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let level = access::level(user.as_ref(), &project);
    let name = user.as_ref().map_or("anonymous", |u| u.username.as_str());
    match (level, &user) {
        // Anonymous callers are asked to sign in, whatever the project, as GitLab does.
        (_, None) if pushing => return ask_credentials(),
        (Level::None, None) => return ask_credentials(),
        (Level::None, Some(_)) => {
            return plain(
                StatusCode::NOT_FOUND,
                "The project you were looking for could not be found.\n",
            );
        }
        (l, Some(_)) if pushing && l < Level::Developer => {
            return plain(
                StatusCode::FORBIDDEN,
                "You are not allowed to push code to this project.\n",
            );
        }
        _ => {}
    }
    let policy = if pushing {
        match state.core.db.protected_branches(project.id).await {
            Ok(rules) => PushPolicy {
                deny: rules
                    .iter()
                    .filter(|r| !access::rule_allows(level, r))
                    .map(|r| r.name.clone())
                    .collect(),
                protected: rules.into_iter().map(|r| r.name).collect(),
            },
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else {
        PushPolicy::default()
    };
    let pusher = user.as_ref().map(|u| u.id);
    forward(&state, &project, service, request, name, &policy, pusher).await
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}

async fn forward(
    state: &Arc<AppState>,
    project: &Project,
    service: &str,
    request: Request,
    user: &str,
    policy: &PushPolicy,
    pusher_id: Option<i64>,
) -> Response {
    let (parts, body) = request.into_parts();
    let served = crate::git::http::serve(
        &state.core.repos,
        &project.path,
        service,
        &parts.method,
        parts.uri.query(),
        &parts.headers,
        body,
        user,
        policy,
    )
    .await;
    match served {
        Ok((response, push)) => {
            if let Some(push) = push {
                let state = state.clone();
                let project = project.clone();
                let pusher = pusher_id;
                tokio::spawn(async move {
                    if let Ok(result) = push.await {
                        pipelines_for_push(&state, &project, result, pusher).await;
                    }
                });
            }
            response
        }
        Err(e) => {
            tracing::warn!(error = %ApiError::internal(e), "git over HTTP");
            (StatusCode::BAD_REQUEST, "git request failed\n").into_response()
        }
    }
}

fn ask_credentials() -> Response {
    Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(header::WWW_AUTHENTICATE, "Basic realm=\"gantry\"")
        .body(Body::from("HTTP Basic: Access denied\n"))
        .unwrap_or_default()
}

/// One pipeline per branch or tag the push moved to a commit.
async fn pipelines_for_push(state: &AppState, project: &Project, push: PushResult, pusher: Option<i64>) {
    for update in push.updates {
        let Some(after) = update.after else {
            // As GitLab does: a deleted branch stops the environments it last deployed to.
            if let Some(branch) = update.name.strip_prefix("refs/heads/") {
                crate::environments::stop_for_deleted_branch(state, project, branch).await;
            }
            continue;
        };
        let (ref_name, tag) = if let Some(b) = update.name.strip_prefix("refs/heads/") {
            (b.to_owned(), false)
        } else if let Some(t) = update.name.strip_prefix("refs/tags/") {
            (t.to_owned(), true)
        } else {
            continue;
        };
        let request = PipelineRequest {
            ref_name,
            tag,
            sha: after,
            before_sha: Some(update.before.unwrap_or_else(|| NULL_SHA.to_owned())),
            source: "push".to_owned(),
            variables: Vec::new(),
            user_id: pusher,
            parent_job_id: None,
            root_config: None,
        };
        if let Err(e) = state.scheduler.create(project, request).await {
            tracing::error!(error = %ApiError::internal(e), project = %project.path, "creating a pipeline for a push");
        }
    }
}
