//! The container registry, served under `/v2/` as the OCI distribution spec v1.1 says:
//! blobs (monolithic, chunked and resumable uploads, cross-repository mounts), manifests by
//! tag and digest (OCI and Docker schema 2, indexes and lists), tag lists, the catalog, the
//! referrers API and deletion. Repositories live in projects (`group/project[/image]`), and
//! the project's visibility and the caller's role decide who pulls and pushes
//! ([`auth`], with GitLab's token endpoint at `/jwt/auth`).
//!
//! Blob bytes are content-addressed in the blob store (`registry/blobs/<alg>/<hex>`); rows
//! say which repository sees which blob. A blob becomes visible only once its digest was
//! verified and its bytes stored; a manifest only once every blob it names is there; a tag
//! only with its manifest (one transaction). Uploads in progress are files in the data
//! directory; abandoned ones and unreferenced blobs are swept by the housekeeping loop.

pub(crate) mod auth;
mod blobs;

pub(crate) use blobs::{forget_upload, upload_file};
mod manifests;

use crate::app::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use gantry_oci::scope::{Action, Scope};
use gantry_oci::{Code, RegistryError};
use std::sync::Arc;

/// The registry's routes and its token endpoint.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v2", any(base))
        .route("/v2/", any(base))
        .route("/v2/{*rest}", any(dispatch))
        .route("/jwt/auth", get(auth::token))
}

/// Held for reading while bytes are stored and their rows written, for writing while garbage
/// collection deletes rows and then bytes: a push never links a blob whose bytes a
/// collection is about to delete.
pub(crate) static COLLECTION: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Why a registry request failed.
#[derive(Debug)]
pub(crate) enum Fail {
    /// A spec error.
    Oci(RegistryError),
    /// Credentials are needed (or a token with more scope): 401 with the challenge naming
    /// the scopes to ask for.
    Auth(Vec<Scope>),
    /// A chunk out of order: 416 with the upload's range so far.
    Range(u64),
    /// The body is too large.
    TooLarge(String),
    /// Something on the server failed.
    Internal(String),
}

impl Fail {
    pub(crate) fn oci(code: Code, message: impl Into<String>) -> Fail {
        Fail::Oci(RegistryError::new(code, message))
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> Fail {
        Fail::Internal(e.to_string())
    }
}

impl From<RegistryError> for Fail {
    fn from(e: RegistryError) -> Fail {
        Fail::Oci(e)
    }
}

impl From<gantry_store::db::StoreError> for Fail {
    fn from(e: gantry_store::db::StoreError) -> Fail {
        Fail::internal(crate::error::ApiError::internal(e))
    }
}

/// The headers every registry answer carries.
fn api_version(headers: &mut HeaderMap) {
    headers.insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
}

/// The JSON error response of a spec error.
fn error_response(status: u16, e: &RegistryError) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(e.body())).into_response()
}

impl Fail {
    fn into_response(self, state: &AppState) -> Response {
        let mut r = match self {
            Fail::Oci(e) => error_response(e.code.status(), &e),
            Fail::Auth(scopes) => {
                let e = RegistryError::new(Code::Unauthorized, "authentication required");
                let mut r = error_response(401, &e);
                let challenge = gantry_oci::scope::challenge(&auth::realm(state), auth::SERVICE, &scopes);
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                r
            }
            Fail::Range(size) => {
                let e = RegistryError::new(
                    Code::BlobUploadInvalid,
                    "the chunk does not start where the upload ends",
                );
                let mut r = error_response(416, &e);
                if let Ok(v) = HeaderValue::from_str(&gantry_oci::upload::range_header(size)) {
                    r.headers_mut().insert(header::RANGE, v);
                }
                r
            }
            Fail::TooLarge(message) => error_response(413, &RegistryError::new(Code::SizeInvalid, message)),
            Fail::Internal(message) => {
                tracing::error!(error = %message, "registry");
                let e = RegistryError::new(Code::Unsupported, "the registry failed; see the server log");
                let mut r = error_response(500, &e);
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r
            }
        };
        api_version(r.headers_mut());
        r
    }
}

/// `/v2/`: 200 for a caller with valid credentials, the challenge otherwise (so that
/// clients learn where to get a token).
async fn base(State(state): State<Arc<AppState>>, request: Request) -> Response {
    match auth::caller(&state, request.headers()).await {
        Ok(c) if c.signed_in() => {
            let mut r = (StatusCode::OK, axum::Json(serde_json::json!({}))).into_response();
            api_version(r.headers_mut());
            r
        }
        Ok(_) => Fail::Auth(Vec::new()).into_response(&state),
        Err(f) => f.into_response(&state),
    }
}

/// What a `/v2/<name>/...` request names.
pub(crate) struct Target {
    /// The repository name.
    pub(crate) name: String,
    /// The rest after the kind word.
    pub(crate) rest: String,
}

async fn dispatch(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let path = request.uri().path().trim_start_matches("/v2/").to_owned();
    let result = route(&state, &path, request).await;
    match result {
        Ok(mut r) => {
            api_version(r.headers_mut());
            r
        }
        Err(f) => f.into_response(&state),
    }
}

async fn route(state: &Arc<AppState>, path: &str, request: Request) -> Result<Response, Fail> {
    let caller = auth::caller(state, request.headers()).await?;
    if path == "_catalog" {
        return manifests::catalog(state, &caller, request.uri().query()).await;
    }
    let (name, kind, rest) = gantry_oci::name::split_route(path)
        .ok_or_else(|| Fail::oci(Code::NameUnknown, "no such registry route"))?;
    gantry_oci::name::check_name(name)?;
    let t = Target {
        name: name.to_owned(),
        rest: rest.to_owned(),
    };
    let method = request.method().clone();
    let writes = !matches!(method, Method::GET | Method::HEAD);
    let needed = match (&method, kind) {
        (&Method::DELETE, "manifests" | "blobs") if !rest.starts_with("uploads/") => Action::Delete,
        _ if writes => Action::Push,
        _ => Action::Pull,
    };
    let mut repo = auth::authorize(state, &caller, &t.name, needed).await?;
    match (kind, method) {
        ("blobs", m) if t.rest.starts_with("uploads") => {
            blobs::upload(state, &caller, &mut repo, &t, m, request).await
        }
        ("blobs", Method::GET | Method::HEAD) => {
            let range = request.headers().get(header::RANGE).and_then(|v| v.to_str().ok());
            blobs::get(state, &repo, &t, range, request.method() == Method::GET).await
        }
        ("blobs", Method::DELETE) => blobs::delete(state, &repo, &t).await,
        ("manifests", Method::GET) => manifests::get(state, &repo, &t, true).await,
        ("manifests", Method::HEAD) => manifests::get(state, &repo, &t, false).await,
        ("manifests", Method::PUT) => manifests::put(state, &mut repo, &t, request).await,
        ("manifests", Method::DELETE) => manifests::delete(state, &repo, &t).await,
        ("tags", Method::GET) if t.rest == "list" => {
            manifests::tags(state, &repo, &t, request.uri().query()).await
        }
        ("referrers", Method::GET) => manifests::referrers(state, &repo, &t, request.uri().query()).await,
        _ => Err(Fail::oci(
            Code::Unsupported,
            "this method is not supported on this route",
        )),
    }
}

/// Response headers from name and value pairs (a value that is no valid header is left out).
pub(crate) fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(*k, v);
        }
    }
    h
}

/// The blob store key of a digest's bytes.
pub(crate) fn blob_key(digest: &gantry_oci::Digest) -> String {
    let text = digest.to_string();
    let (alg, hex) = text.split_once(':').unwrap_or(("sha256", &text));
    format!("registry/blobs/{alg}/{hex}")
}

/// A query parameter's value (percent-decoded).
pub(crate) fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or(""))
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}
