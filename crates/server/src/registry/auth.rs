//! Who may pull and push, as GitLab's registry decides it: the Docker token flow (a `401`
//! with `WWW-Authenticate: Bearer realm=".../jwt/auth"`, the client asks that endpoint for a
//! token with the scopes it needs, sending a personal access token, a password or the job
//! token `gitlab-ci-token:$CI_JOB_TOKEN` as Basic credentials), then registry requests with
//! `Authorization: Bearer <JWT>` whose `access` claim lists what was granted. Basic
//! credentials are also taken on registry requests directly. A project's visibility and the
//! caller's level grant: pull from Guest (anonymous for public projects), push and delete
//! from Developer; a job pushes to its own project and pulls what its user may.

use super::Fail;
use crate::access::{self, Level};
use crate::app::AppState;
use crate::auth::{token_hash, user_for_token};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gantry_oci::Code;
use gantry_oci::scope::{Action, Scope};
use gantry_store::db::{Job, Project, Repository, User};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The service name tokens are issued for (GitLab's).
pub(crate) const SERVICE: &str = "container_registry";
/// How long a token is valid, in seconds.
const TOKEN_SECONDS: i64 = 15 * 60;

/// The token endpoint's URL.
pub(crate) fn realm(state: &AppState) -> String {
    format!("{}/jwt/auth", state.core.external_url)
}

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) enum Who {
    /// Nobody signed in.
    Anonymous,
    /// A user (by token or password).
    User(User),
    /// A running job (its job token), on behalf of its pipeline's user.
    Job {
        /// The job.
        job: Box<Job>,
        /// The user who runs the pipeline.
        user: Option<User>,
    },
}

/// A caller and, when it came with a registry token, what that token grants.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    who: Who,
    /// The name the caller is known by.
    subject: String,
    granted: Option<Vec<Scope>>,
}

impl Caller {
    /// Whether the caller gave valid credentials.
    pub(crate) fn signed_in(&self) -> bool {
        !matches!(self.who, Who::Anonymous) || !self.subject.is_empty()
    }

    /// Whether the caller came with a registry token that does not mention `name` at all
    /// (it was not asked for: asking again with it may grant it).
    pub(crate) fn token_lacks(&self, name: &str) -> bool {
        self.granted
            .as_ref()
            .is_some_and(|g| !g.iter().any(|s| s.name == name))
    }

    /// Whether the caller is an administrator.
    pub(crate) fn is_admin(&self) -> bool {
        match &self.who {
            Who::User(u) => u.is_admin,
            _ => self.granted.as_ref().is_some_and(|g| {
                g.iter()
                    .any(|s| s.kind == "registry" && s.name == "catalog" && !s.actions.is_empty())
            }),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
    access: Vec<Access>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Access {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    actions: Vec<String>,
}

fn signing_key(state: &AppState) -> Vec<u8> {
    state.core.secrets.derive_key("registry tokens")
}

/// The Basic credentials of a request.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_owned())
}

/// Who Basic credentials name; `None` when they are wrong.
async fn who_of(state: &AppState, login: &str, password: &str) -> Result<Option<Who>, Fail> {
    let db = &state.core.db;
    if login == "gitlab-ci-token" {
        let Some(job) = db.job_by_token(&token_hash(password.trim())).await? else {
            return Ok(None);
        };
        let user = match db.pipeline(job.pipeline_id).await?.and_then(|p| p.user_id) {
            Some(id) => db.user(id).await?,
            None => None,
        };
        return Ok(Some(Who::Job {
            job: Box::new(job),
            user,
        }));
    }
    if let Some(user) = user_for_token(state, password.trim())
        .await
        .map_err(Fail::internal)?
    {
        return Ok(Some(Who::User(user)));
    }
    if let Some((user, Some(phc))) = db.password_hash(login.trim()).await? {
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || crate::dashboard::verify_password(&phc, &password))
            .await
            .unwrap_or(false);
        if ok {
            return Ok(Some(Who::User(user)));
        }
    }
    Ok(None)
}

/// The caller of a registry request: a valid Bearer token, valid Basic credentials, or
/// nobody. Wrong credentials are a 401 (a client should hear its login failed).
pub(crate) async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, Fail> {
    if let Some(token) = bearer(headers) {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_audience(&[SERVICE]);
        let key = jsonwebtoken::DecodingKey::from_secret(&signing_key(state));
        let claims = jsonwebtoken::decode::<Claims>(&token, &key, &validation)
            .map_err(|_| Fail::Auth(Vec::new()))?
            .claims;
        let granted = claims
            .access
            .iter()
            .filter_map(|a| Scope::parse(&format!("{}:{}:{}", a.kind, a.name, a.actions.join(","))))
            .collect();
        return Ok(Caller {
            who: Who::Anonymous,
            subject: claims.sub,
            granted: Some(granted),
        });
    }
    if let Some((login, password)) = basic(headers) {
        return match who_of(state, &login, &password).await? {
            Some(who) => Ok(Caller {
                who,
                subject: login,
                granted: None,
            }),
            None => Err(Fail::Auth(Vec::new())),
        };
    }
    Ok(Caller {
        who: Who::Anonymous,
        subject: String::new(),
        granted: None,
    })
}

/// The project a repository name belongs to: the one it was created in, else (for a new
/// repository) the longest project path it starts with.
pub(crate) async fn project_of(state: &AppState, name: &str) -> Result<Option<Project>, Fail> {
    // A repository that exists stays its project's, whatever projects are created later
    // under its path.
    if let Some(row) = state.core.db.registry_repository(name).await? {
        return Ok(state.core.db.project(row.project_id).await?);
    }
    let parts: Vec<&str> = name.split('/').collect();
    for n in (2..=parts.len()).rev() {
        if let Some(p) = state.core.db.project_by_path(&parts[..n].join("/")).await? {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// What `who` may do to the repositories of `project`.
fn actions_of(who: &Who, project: &Project) -> Vec<Action> {
    let level = match who {
        Who::Anonymous => access::level(None, project),
        Who::User(u) => access::level(Some(u), project),
        Who::Job { job, .. } if job.project_id == project.id => return vec![Action::Pull, Action::Push],
        Who::Job { user, .. } => return pull_only(access::level(user.as_ref(), project)),
    };
    let mut out = pull_only(level);
    if level >= Level::Developer {
        out.extend([Action::Push, Action::Delete]);
    }
    out
}

fn pull_only(level: Level) -> Vec<Action> {
    if level >= Level::Guest {
        vec![Action::Pull]
    } else {
        Vec::new()
    }
}

/// A repository the caller may act on.
pub(crate) struct Repo {
    /// Its name.
    pub(crate) name: String,
    /// Its project.
    pub(crate) project: Project,
    /// Its row, if anything was ever pushed to it.
    pub(crate) row: Option<Repository>,
}

impl Repo {
    /// Its row, created if new (pushing creates repositories).
    pub(crate) async fn ensure(&mut self, state: &AppState) -> Result<Repository, Fail> {
        if let Some(r) = &self.row {
            return Ok(r.clone());
        }
        let r = state
            .core
            .db
            .ensure_registry_repository(self.project.id, &self.name, crate::clock::now_ms())
            .await?;
        self.row = Some(r.clone());
        Ok(r)
    }

    /// Its row, or `NAME_UNKNOWN` when nothing was pushed to it.
    pub(crate) fn existing(&self) -> Result<&Repository, Fail> {
        self.row.as_ref().ok_or_else(|| {
            Fail::oci(
                Code::NameUnknown,
                format!("repository `{}` is not known", self.name),
            )
        })
    }
}

/// Checks that the caller may do `action` to repository `name`: a 401 with the scope to ask
/// for when a token lacks it or nobody is signed in, `DENIED` for a signed-in caller who may
/// not (a project the caller cannot see is treated as one that does not exist).
pub(crate) async fn authorize(
    state: &AppState,
    caller: &Caller,
    name: &str,
    action: Action,
) -> Result<Repo, Fail> {
    let mut wanted = vec![Action::Pull];
    if action != Action::Pull {
        wanted.push(action);
    }
    let scope = Scope::repository(name, &wanted);
    let project = project_of(state, name).await?;
    let allowed = match (&caller.granted, &project) {
        (Some(granted), Some(_)) => granted
            .iter()
            .any(|s| s.kind == "repository" && s.name == name && s.actions.contains(&action)),
        (None, Some(p)) => actions_of(&caller.who, p).contains(&action),
        (_, None) => false,
    };
    if !allowed {
        return Err(if caller.granted.is_some() || !caller.signed_in() {
            Fail::Auth(vec![scope])
        } else {
            Fail::oci(Code::Denied, format!("access to `{name}` is denied"))
        });
    }
    let project = project.ok_or_else(|| Fail::oci(Code::NameUnknown, "no such repository"))?;
    let row = state.core.db.registry_repository(name).await?;
    Ok(Repo {
        name: name.to_owned(),
        project,
        row,
    })
}

/// What the caller may pull from `name` (the catalog lists only those).
pub(crate) async fn may_pull(state: &AppState, caller: &Caller, name: &str) -> Result<bool, Fail> {
    if caller.is_admin() {
        return Ok(true);
    }
    if let Some(granted) = &caller.granted {
        return Ok(granted
            .iter()
            .any(|s| s.name == name && s.actions.contains(&Action::Pull)));
    }
    Ok(match project_of(state, name).await? {
        Some(p) => actions_of(&caller.who, &p).contains(&Action::Pull),
        None => false,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct TokenQuery {
    #[serde(default)]
    service: String,
}

/// `GET /jwt/auth?service=container_registry&scope=...`: a token granting what was asked
/// of what the credentials allow (possibly nothing: the registry then refuses).
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    Query(q): Query<TokenQuery>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    match issue(&state, &q, uri.query(), &headers).await {
        Ok(r) => r,
        Err(Fail::Auth(_)) => {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]})),
            )
                .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"gantry registry\""),
            );
            r
        }
        Err(f) => f.into_response(&state),
    }
}

async fn issue(
    state: &AppState,
    q: &TokenQuery,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, Fail> {
    if !q.service.is_empty() && q.service != SERVICE {
        return Err(Fail::oci(
            Code::Denied,
            format!("this server issues tokens for `{SERVICE}` only"),
        ));
    }
    let caller = caller(state, headers).await?;
    let requested: Vec<Scope> = serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').filter_map(Scope::parse).collect::<Vec<_>>())
        .collect();
    let mut access = Vec::new();
    for s in requested {
        let actions: Vec<Action> = match s.kind.as_str() {
            "repository" => match project_of(state, &s.name).await? {
                Some(p) => {
                    let may = actions_of(&caller.who, &p);
                    s.actions.iter().copied().filter(|a| may.contains(a)).collect()
                }
                None => Vec::new(),
            },
            "registry" if s.name == "catalog" && caller.is_admin() => vec![Action::Pull],
            _ => Vec::new(),
        };
        let words: Vec<String> = if s.kind == "registry" && !actions.is_empty() {
            vec!["*".into()]
        } else {
            actions.iter().map(|a| a.as_str().to_owned()).collect()
        };
        access.push(Access {
            kind: s.kind,
            name: s.name,
            actions: words,
        });
    }
    let now = crate::clock::now_ms() / 1000;
    let claims = Claims {
        iss: state.core.external_url.clone(),
        aud: SERVICE.into(),
        sub: caller.subject.clone(),
        iat: now,
        nbf: now - 5,
        exp: now + TOKEN_SECONDS,
        jti: crate::auth::new_token(""),
        access,
    };
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&signing_key(state)),
    )
    .map_err(Fail::internal)?;
    let issued_at = crate::clock::iso(now * 1000);
    Ok(axum::Json(serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": TOKEN_SECONDS,
        "issued_at": issued_at,
    }))
    .into_response())
}
