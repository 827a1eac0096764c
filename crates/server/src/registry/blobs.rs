//! Blobs and their uploads. An upload's bytes go to a file of the data directory (appended
//! chunk by chunk, cut back to its last good size when a chunk breaks off); finishing it
//! checks the digest over every byte, stores the blob under its digest and only then makes
//! it visible in the repository. A monolithic upload (`POST ...?digest=`) is hashed as it
//! streams in.

use super::auth::{Caller, Repo, may_pull};
use super::{Fail, Target, blob_key, headers, query_param};
use crate::app::AppState;
use crate::clock::now_ms;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use gantry_oci::digest::{Algorithm, Hasher};
use gantry_oci::scope::{Action, Scope};
use gantry_oci::upload::{Wanted, continues, parse_content_range, range_header, requested_range};
use gantry_oci::{Code, Digest};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where uploads in progress keep their bytes.
fn uploads_dir(state: &AppState) -> PathBuf {
    state.core.config.data_dir.join(UPLOADS)
}

/// The directory of the data directory that holds uploads in progress.
const UPLOADS: &str = "registry-uploads";

/// The file of upload `id` under the data directory `data_dir`.
pub(crate) fn upload_file(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join(UPLOADS).join(id)
}

fn upload_path(state: &AppState, id: &str) -> PathBuf {
    upload_file(&state.core.config.data_dir, id)
}

/// The sha256 of each upload in progress in this process, fed as its chunks arrive, with the
/// size it has seen: finishing a big upload then needs no second read. An upload continued
/// on another replica (or after a restart, or a broken chunk) has none and is read again.
static HASHERS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, (u64, Hasher)>>> =
    std::sync::LazyLock::new(Default::default);

/// The lock of each upload in progress in this process.
static UPLOAD_LOCKS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
> = std::sync::LazyLock::new(Default::default);

fn upload_lock(id: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    let mut map = UPLOAD_LOCKS.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(id.to_owned()).or_default().clone()
}

/// Forgets what this process keeps of an upload (it finished, was canceled or abandoned).
pub(crate) fn forget_upload(id: &str) {
    if let Ok(mut map) = HASHERS.lock() {
        map.remove(id);
    }
    if let Ok(mut map) = UPLOAD_LOCKS.lock() {
        map.remove(id);
    }
}

/// Takes the hasher of upload `id` if it has seen exactly `size` bytes.
fn take_hasher(id: &str, size: u64) -> Option<Hasher> {
    let mut map = HASHERS.lock().ok()?;
    match map.remove(id) {
        Some((seen, h)) if seen == size => Some(h),
        _ => None,
    }
}

fn put_hasher(id: &str, size: u64, h: Hasher) {
    if let Ok(mut map) = HASHERS.lock() {
        map.insert(id.to_owned(), (size, h));
    }
}

/// A new upload id, shaped like a UUID.
fn new_upload_id() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn empty(status: StatusCode, pairs: &[(&'static str, String)]) -> Response {
    let mut h = headers(pairs);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    (status, h).into_response()
}

/// Appends a request body to `path`, feeding `hasher`; on a broken body the file is cut back
/// to `before` bytes. Returns how many bytes were appended.
async fn append(path: &Path, before: u64, body: Body, mut hasher: Option<&mut Hasher>) -> Result<u64, Fail> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(Fail::internal)?;
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await
        .map_err(Fail::internal)?;
    // Whatever a broken request left past the recorded size goes before new bytes come.
    file.set_len(before).await.map_err(Fail::internal)?;
    let mut stream = body.into_data_stream();
    let mut n = 0u64;
    let broke = loop {
        match stream.next().await {
            None => break None,
            Some(Err(e)) => break Some(format!("the upload broke off: {e}")),
            Some(Ok(chunk)) => {
                if let Some(h) = hasher.as_deref_mut() {
                    h.update(&chunk);
                }
                if let Err(e) = file.write_all(&chunk).await {
                    break Some(format!("writing the upload: {e}"));
                }
                n += chunk.len() as u64;
            }
        }
    };
    file.flush().await.map_err(Fail::internal)?;
    if let Some(why) = broke {
        let _ = file.set_len(before).await;
        return Err(Fail::oci(Code::BlobUploadInvalid, why));
    }
    Ok(n)
}

/// The digest (of `algorithm`) of a file's bytes.
async fn file_digest(path: &Path, like: &Digest) -> Result<Digest, Fail> {
    let mut file = tokio::fs::File::open(path).await.map_err(Fail::internal)?;
    let mut h = like.hasher();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await.map_err(Fail::internal)?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    }
}

/// Stores a verified file as the blob `digest` (once: the same digest is the same bytes; the
/// file is moved into a filesystem store, not copied) and makes it visible in the repository.
async fn commit(state: &AppState, repo: &mut Repo, digest: &Digest, file: &Path) -> Result<Response, Fail> {
    let key = blob_key(digest);
    // Verified bytes always go in (a rename, on a filesystem store): whatever is under the
    // key is then this digest's content, and a collection running now waits (or went first).
    let _collection = super::COLLECTION.read().await;
    let size = state
        .core
        .blobs
        .put_file_moving(&key, file)
        .await
        .map_err(Fail::internal)?;
    let row = repo.ensure(state).await?;
    let size = i64::try_from(size).map_err(Fail::internal)?;
    state
        .core
        .db
        .link_registry_blob(row.id, &digest.to_string(), size, now_ms())
        .await?;
    Ok(created(repo, digest))
}

fn created(repo: &Repo, digest: &Digest) -> Response {
    empty(
        StatusCode::CREATED,
        &[
            ("location", format!("/v2/{}/blobs/{digest}", repo.name)),
            ("docker-content-digest", digest.to_string()),
        ],
    )
}

fn blob_unknown(digest: &Digest, repo: &Repo) -> Fail {
    Fail::oci(
        Code::BlobUnknown,
        format!("blob {digest} is not in `{}`", repo.name),
    )
}

fn digest_param(query: Option<&str>) -> Result<Option<Digest>, Fail> {
    query_param(query, "digest")
        .map(|d| Digest::parse(&d))
        .transpose()
        .map_err(Fail::from)
}

/// `GET`/`HEAD /v2/<name>/blobs/<digest>`, whole or the part a `Range` header asks for.
pub(super) async fn get(
    state: &AppState,
    repo: &Repo,
    t: &Target,
    range: Option<&str>,
    with_body: bool,
) -> Result<Response, Fail> {
    let digest = Digest::parse(&t.rest)?;
    let unknown = || blob_unknown(&digest, repo);
    let row = repo.row.as_ref().ok_or_else(unknown)?;
    let size = state
        .core
        .db
        .registry_blob(row.id, &digest.to_string())
        .await?
        .ok_or_else(unknown)?;
    let total = u64::try_from(size).unwrap_or(0);
    let wanted = range.map(|r| requested_range(r, total)).unwrap_or(Wanted::Whole);
    let mut h = headers(&[
        ("content-type", "application/octet-stream".into()),
        ("docker-content-digest", digest.to_string()),
        ("accept-ranges", "bytes".into()),
    ]);
    let (status, part) = match wanted {
        Wanted::Whole => (StatusCode::OK, None),
        Wanted::Part(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
        Wanted::Outside => {
            h.extend(headers(&[("content-range", format!("bytes */{total}"))]));
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, h).into_response());
        }
    };
    let length = part.as_ref().map_or(total, |r| r.end - r.start);
    h.extend(headers(&[("content-length", length.to_string())]));
    if let Some(r) = &part {
        h.extend(headers(&[(
            "content-range",
            format!("bytes {}-{}/{total}", r.start, r.end - 1),
        )]));
    }
    if !with_body {
        return Ok((status, h).into_response());
    }
    let blobs = &state.core.blobs;
    let key = blob_key(&digest);
    let stream = match part {
        Some(r) => blobs.get_range_stream(&key, r).await,
        None => blobs.get_stream(&key).await.map(|(_, s)| s),
    }
    .map_err(Fail::internal)?;
    Ok((status, h, Body::from_stream(stream)).into_response())
}

/// `DELETE /v2/<name>/blobs/<digest>`: the repository stops seeing it.
pub(super) async fn delete(state: &AppState, repo: &Repo, t: &Target) -> Result<Response, Fail> {
    let digest = Digest::parse(&t.rest)?;
    let unknown = || blob_unknown(&digest, repo);
    let row = repo.row.as_ref().ok_or_else(unknown)?;
    if state
        .core
        .db
        .unlink_registry_blob(row.id, &digest.to_string())
        .await?
    {
        Ok(empty(StatusCode::ACCEPTED, &[]))
    } else {
        Err(unknown())
    }
}

fn upload_state(repo: &Repo, id: &str, size: u64, status: StatusCode) -> Response {
    empty(
        status,
        &[
            ("location", format!("/v2/{}/blobs/uploads/{id}", repo.name)),
            ("range", range_header(size)),
            ("docker-upload-uuid", id.to_owned()),
        ],
    )
}

/// The `/blobs/uploads/...` routes.
pub(super) async fn upload(
    state: &AppState,
    caller: &Caller,
    repo: &mut Repo,
    t: &Target,
    method: Method,
    request: Request,
) -> Result<Response, Fail> {
    let query = request.uri().query().map(str::to_owned);
    let id = t.rest.trim_start_matches("uploads").trim_matches('/').to_owned();
    if id.is_empty() {
        return match method {
            Method::POST => start(state, caller, repo, query.as_deref(), request).await,
            _ => Err(Fail::oci(Code::Unsupported, "uploads start with POST")),
        };
    }
    let unknown = || {
        Fail::oci(
            Code::BlobUploadUnknown,
            "the upload is unknown (finished, canceled or never started)",
        )
    };
    let row = repo.row.clone().ok_or_else(unknown)?;
    let find = || async {
        Ok::<_, Fail>(
            state
                .core
                .db
                .registry_upload(&id)
                .await?
                .filter(|u| u.repository_id == row.id),
        )
    };
    find().await?.ok_or_else(unknown)?;
    // An upload's requests take turns: its size, file and hasher change together. Read again
    // once it is this request's turn.
    let lock = upload_lock(&id);
    let _turn = lock.lock().await;
    let upload = find().await?.ok_or_else(unknown)?;
    let path = upload_path(state, &id);
    let size = u64::try_from(upload.size).unwrap_or(0);
    match method {
        Method::GET => Ok(upload_state(repo, &id, size, StatusCode::NO_CONTENT)),
        Method::DELETE => {
            forget_upload(&id);
            state.core.db.delete_registry_upload(&id).await?;
            let _ = tokio::fs::remove_file(&path).await;
            Ok(empty(StatusCode::NO_CONTENT, &[]))
        }
        Method::PATCH => {
            let size = chunk(state, &id, &path, size, request).await?;
            Ok(upload_state(repo, &id, size, StatusCode::ACCEPTED))
        }
        Method::PUT => {
            let digest = digest_param(query.as_deref())?
                .ok_or_else(|| Fail::oci(Code::DigestInvalid, "finishing an upload needs ?digest="))?;
            let total = chunk(state, &id, &path, size, request).await?;
            let on_disk = tokio::fs::metadata(&path).await.map_err(Fail::internal)?.len();
            if on_disk != total {
                return Err(Fail::oci(
                    Code::BlobUploadInvalid,
                    format!("the upload holds {on_disk} bytes, not the {total} received"),
                ));
            }
            // The digest fed as the chunks arrived, else read again from the file.
            let actual = match take_hasher(&id, total) {
                Some(h) if digest.algorithm() == Algorithm::Sha256 => h.finish(),
                _ => file_digest(&path, &digest).await?,
            };
            if actual != digest {
                return Err(Fail::oci(
                    Code::DigestInvalid,
                    format!("the upload's content has digest {actual}, not {digest}"),
                ));
            }
            let response = commit(state, repo, &digest, &path).await?;
            state.core.db.delete_registry_upload(&id).await?;
            let _ = tokio::fs::remove_file(&path).await;
            forget_upload(&id);
            Ok(response)
        }
        _ => Err(Fail::oci(
            Code::Unsupported,
            "this method is not supported on an upload",
        )),
    }
}

/// Appends a chunk (its `Content-Range`, if given, must continue the upload); the new size.
async fn chunk(state: &AppState, id: &str, path: &Path, size: u64, request: Request) -> Result<u64, Fail> {
    let range = request
        .headers()
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .map(parse_content_range)
        .transpose()?;
    if let Some(r) = range
        && r.start != size
    {
        return Err(Fail::Range(size));
    }
    let mut hasher = take_hasher(id, size);
    let added = append(path, size, request.into_body(), hasher.as_mut()).await?;
    if let Some(r) = range
        && added > 0
        && continues(r, size, added).is_err()
    {
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .await
            .map_err(Fail::internal)?;
        let _ = file.set_len(size).await;
        return Err(Fail::oci(
            Code::BlobUploadInvalid,
            format!(
                "the chunk has {added} bytes, not the {} its Content-Range says",
                r.end - r.start + 1
            ),
        ));
    }
    let new_size = size + added;
    if let Some(h) = hasher {
        put_hasher(id, new_size, h);
    }
    if added > 0 {
        let stored = i64::try_from(new_size).map_err(Fail::internal)?;
        state
            .core
            .db
            .set_registry_upload_size(id, stored, now_ms())
            .await?;
    }
    Ok(new_size)
}

/// `POST /v2/<name>/blobs/uploads/`: a mount from another repository, a monolithic upload
/// (`?digest=` with the body), or a new upload session.
async fn start(
    state: &AppState,
    caller: &Caller,
    repo: &mut Repo,
    query: Option<&str>,
    request: Request,
) -> Result<Response, Fail> {
    // A mount from a repository the token was not issued for: the client asks again for a
    // token naming both (once: a token that names it and still lacks it falls back below).
    if let (Some(_), Some(from)) = (query_param(query, "mount"), query_param(query, "from"))
        && gantry_oci::name::check_name(&from).is_ok()
        && caller.token_lacks(&from)
    {
        return Err(Fail::Auth(vec![
            Scope::repository(&repo.name, &[Action::Pull, Action::Push]),
            Scope::repository(&from, &[Action::Pull]),
        ]));
    }
    if let (Some(mount), Some(from)) = (query_param(query, "mount"), query_param(query, "from"))
        && let Ok(digest) = Digest::parse(&mount)
        && gantry_oci::name::check_name(&from).is_ok()
        && may_pull(state, caller, &from).await?
        && let Some(source) = state.core.db.registry_repository(&from).await?
        && let Some(size) = state
            .core
            .db
            .registry_blob(source.id, &digest.to_string())
            .await?
    {
        let row = repo.ensure(state).await?;
        state
            .core
            .db
            .link_registry_blob(row.id, &digest.to_string(), size, now_ms())
            .await?;
        return Ok(created(repo, &digest));
    }
    if let Some(digest) = digest_param(query)? {
        let path = uploads_dir(state).join(format!("monolithic-{}", new_upload_id()));
        let mut hasher = digest.hasher();
        let result = append(&path, 0, request.into_body(), Some(&mut hasher)).await;
        let outcome = match result {
            Ok(_) if hasher.finish() == digest => commit(state, repo, &digest, &path).await,
            Ok(_) => Err(Fail::oci(
                Code::DigestInvalid,
                format!("the content is not {digest}"),
            )),
            Err(e) => Err(e),
        };
        let _ = tokio::fs::remove_file(&path).await;
        return outcome;
    }
    let row = repo.ensure(state).await?;
    let id = new_upload_id();
    tokio::fs::create_dir_all(uploads_dir(state))
        .await
        .map_err(Fail::internal)?;
    tokio::fs::File::create(upload_path(state, &id))
        .await
        .map_err(Fail::internal)?;
    state
        .core
        .db
        .create_registry_upload(&id, row.id, now_ms())
        .await?;
    put_hasher(&id, 0, Hasher::new(Algorithm::Sha256));
    Ok(upload_state(repo, &id, 0, StatusCode::ACCEPTED))
}
