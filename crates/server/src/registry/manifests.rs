//! Manifests, tags, the referrers API and the catalog. A pushed manifest is checked before
//! anything is written: its kind and `Content-Type`, its digest against the reference, and
//! every blob or manifest it names present in the repository. Its bytes are stored as the
//! blob of its digest and served back byte for byte.

use super::auth::{Caller, Repo, may_pull};
use super::{Fail, Target, blob_key, headers, query_param};
use crate::app::AppState;
use crate::clock::now_ms;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use gantry_oci::manifest::{self, MAX_MANIFEST, OCI_INDEX};
use gantry_oci::{Code, Digest, Reference};
use gantry_store::db::{ManifestRow, NewManifest};
use serde_json::{Value, json};

/// The most tags or repositories listed at once when the client gives no `n`.
const DEFAULT_PAGE: i64 = 1000;
/// The most a client may ask for.
const MAX_PAGE: i64 = 10_000;

fn manifest_unknown(t: &Target) -> Fail {
    Fail::oci(Code::ManifestUnknown, format!("manifest `{}` is unknown", t.rest))
}

/// The manifest a reference names in the repository.
async fn find(state: &AppState, repo: &Repo, t: &Target) -> Result<(Reference, ManifestRow), Fail> {
    let reference = Reference::parse(&t.rest)?;
    let row = repo.row.as_ref().ok_or_else(|| manifest_unknown(t))?;
    let digest = match &reference {
        Reference::Digest(d) => d.to_string(),
        Reference::Tag(tag) => state
            .core
            .db
            .registry_tag(row.id, tag)
            .await?
            .ok_or_else(|| manifest_unknown(t))?,
    };
    let m = state
        .core
        .db
        .registry_manifest(row.id, &digest)
        .await?
        .ok_or_else(|| manifest_unknown(t))?;
    Ok((reference, m))
}

/// `GET`/`HEAD /v2/<name>/manifests/<reference>`.
pub(super) async fn get(
    state: &AppState,
    repo: &Repo,
    t: &Target,
    with_body: bool,
) -> Result<Response, Fail> {
    let (_, m) = find(state, repo, t).await?;
    let h = headers(&[
        ("content-type", m.media_type.clone()),
        ("docker-content-digest", m.digest.clone()),
        ("content-length", m.size.to_string()),
    ]);
    if !with_body {
        return Ok((StatusCode::OK, h).into_response());
    }
    let digest = Digest::parse(&m.digest)?;
    let body = state
        .core
        .blobs
        .get(&blob_key(&digest))
        .await
        .map_err(Fail::internal)?;
    Ok((StatusCode::OK, h, body).into_response())
}

/// Reads at most [`MAX_MANIFEST`] bytes of a body.
async fn limited(body: Body) -> Result<Bytes, Fail> {
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| Fail::oci(Code::ManifestInvalid, format!("the manifest broke off: {e}")))?;
        out.extend_from_slice(&chunk);
        if out.len() > MAX_MANIFEST {
            return Err(Fail::TooLarge(format!(
                "a manifest may have at most {MAX_MANIFEST} bytes"
            )));
        }
    }
    Ok(Bytes::from(out))
}

/// `PUT /v2/<name>/manifests/<reference>`.
pub(super) async fn put(
    state: &AppState,
    repo: &mut Repo,
    t: &Target,
    request: Request,
) -> Result<Response, Fail> {
    let reference = Reference::parse(&t.rest)?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = limited(request.into_body()).await?;
    let parsed = manifest::parse(content_type.as_deref(), &body)?;
    let digest = match &reference {
        Reference::Digest(given) => {
            let mut h = given.hasher();
            h.update(&body);
            let actual = h.finish();
            if &actual != given {
                return Err(Fail::oci(
                    Code::DigestInvalid,
                    format!("the manifest's digest is {actual}, not {given}"),
                ));
            }
            actual
        }
        Reference::Tag(_) => Digest::sha256(&body),
    };
    let row = repo.ensure(state).await?;
    let refs: Vec<String> = parsed
        .blobs
        .iter()
        .chain(&parsed.manifests)
        .map(|d| d.digest.to_string())
        .collect();
    let required: Vec<String> = parsed
        .blobs
        .iter()
        .chain(&parsed.manifests)
        .filter(|d| d.required())
        .map(|d| d.digest.to_string())
        .collect();
    let missing = state.core.db.registry_missing(row.id, &required).await?;
    if let Some(first) = missing.first() {
        return Err(Fail::oci(
            Code::ManifestBlobUnknown,
            format!("the manifest refers to {first}, which is not in `{}`", repo.name),
        ));
    }
    let key = blob_key(&digest);
    // Held until the manifest's row is written (see `COLLECTION`).
    let _collection = super::COLLECTION.read().await;
    state
        .core
        .blobs
        .put(&key, body.clone())
        .await
        .map_err(Fail::internal)?;
    let tag = match &reference {
        Reference::Tag(tag) => Some(tag.as_str()),
        Reference::Digest(_) => None,
    };
    let new = NewManifest {
        digest: digest.to_string(),
        media_type: parsed.media_type.clone(),
        size: i64::try_from(body.len()).map_err(Fail::internal)?,
        artifact_type: parsed.artifact_type.clone(),
        subject_digest: parsed.subject.as_ref().map(|s| s.digest.to_string()),
        annotations: parsed
            .annotations
            .as_ref()
            .map(|a| Value::Object(a.clone()).to_string()),
        refs,
    };
    state
        .core
        .db
        .put_registry_manifest(row.id, &new, tag, now_ms())
        .await?;
    let mut pairs = vec![
        ("location", format!("/v2/{}/manifests/{digest}", repo.name)),
        ("docker-content-digest", digest.to_string()),
        ("content-length", "0".to_owned()),
    ];
    if let Some(s) = &parsed.subject {
        pairs.push(("oci-subject", s.digest.to_string()));
    }
    let h = headers(&pairs);
    Ok((StatusCode::CREATED, h).into_response())
}

/// `DELETE /v2/<name>/manifests/<reference>`: a digest deletes the manifest (and its
/// tags), a tag only the tag.
pub(super) async fn delete(state: &AppState, repo: &Repo, t: &Target) -> Result<Response, Fail> {
    let reference = Reference::parse(&t.rest)?;
    let row = repo.row.as_ref().ok_or_else(|| manifest_unknown(t))?;
    let deleted = match &reference {
        Reference::Digest(d) => {
            state
                .core
                .db
                .delete_registry_manifest(row.id, &d.to_string())
                .await?
        }
        Reference::Tag(tag) => state.core.db.delete_registry_tag(row.id, tag).await?,
    };
    if deleted {
        Ok(StatusCode::ACCEPTED.into_response())
    } else {
        Err(manifest_unknown(t))
    }
}

/// The `n` and `last` of a paginated list.
fn page(query: Option<&str>) -> Result<(i64, String), Fail> {
    let n = match query_param(query, "n") {
        Some(n) => n
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| Fail::oci(Code::Unsupported, format!("n={n} is not a count")))?
            .min(MAX_PAGE),
        None => DEFAULT_PAGE,
    };
    Ok((n, query_param(query, "last").unwrap_or_default()))
}

/// A `Link` header to the next page, when there is one.
fn with_next(body: Value, next: Option<String>) -> Response {
    let mut r = axum::Json(body).into_response();
    if let Some(link) = next
        && let Ok(v) = HeaderValue::from_str(&link)
    {
        r.headers_mut().insert(header::LINK, v);
    }
    r
}

/// `GET /v2/<name>/tags/list?n=&last=`.
pub(super) async fn tags(
    state: &AppState,
    repo: &Repo,
    t: &Target,
    query: Option<&str>,
) -> Result<Response, Fail> {
    let row = repo.existing()?;
    let (n, last) = page(query)?;
    let mut tags = state.core.db.registry_tags(row.id, &last, n + 1).await?;
    let more = i64::try_from(tags.len()).unwrap_or(i64::MAX) > n;
    tags.truncate(usize::try_from(n).unwrap_or(0));
    let next = (more && n > 0).then(|| {
        let last = tags.last().cloned().unwrap_or_default();
        format!("</v2/{}/tags/list?n={n}&last={last}>; rel=\"next\"", t.name)
    });
    Ok(with_next(json!({"name": t.name, "tags": tags}), next))
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=]`: an image index of the manifests
/// whose subject is that digest (empty, never 404, when there are none).
pub(super) async fn referrers(
    state: &AppState,
    repo: &Repo,
    t: &Target,
    query: Option<&str>,
) -> Result<Response, Fail> {
    let digest = Digest::parse(&t.rest)?;
    let filter = query_param(query, "artifactType");
    let rows = match &repo.row {
        Some(row) => {
            state
                .core
                .db
                .registry_referrers(row.id, &digest.to_string())
                .await?
        }
        None => Vec::new(),
    };
    let manifests: Vec<Value> = rows
        .into_iter()
        .filter(|m| filter.is_none() || m.artifact_type == filter)
        .map(|m| {
            let mut d = json!({"mediaType": m.media_type, "digest": m.digest, "size": m.size});
            if let Some(a) = m.artifact_type {
                d["artifactType"] = json!(a);
            }
            if let Some(a) = m.annotations.and_then(|a| serde_json::from_str::<Value>(&a).ok()) {
                d["annotations"] = a;
            }
            d
        })
        .collect();
    let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
    let mut r = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX))],
        body.to_string(),
    )
        .into_response();
    if filter.is_some() {
        r.headers_mut()
            .insert("oci-filters-applied", HeaderValue::from_static("artifactType"));
    }
    Ok(r)
}

/// `GET /v2/_catalog?n=&last=`: the repositories the caller may pull.
pub(super) async fn catalog(
    state: &AppState,
    caller: &Caller,
    query: Option<&str>,
) -> Result<Response, Fail> {
    let (n, mut last) = page(query)?;
    let wanted = usize::try_from(n).unwrap_or(0);
    let mut names = Vec::new();
    let mut more = false;
    'outer: loop {
        let batch = state.core.db.registry_repositories(&last, 200).await?;
        if batch.is_empty() {
            break;
        }
        for r in batch {
            last = r.name.clone();
            if may_pull(state, caller, &r.name).await? {
                if names.len() == wanted {
                    more = true;
                    break 'outer;
                }
                names.push(r.name);
            }
        }
    }
    let next = (more && n > 0).then(|| {
        let last = names.last().cloned().unwrap_or_default();
        format!("</v2/_catalog?n={n}&last={last}>; rel=\"next\"")
    });
    Ok(with_next(json!({"repositories": names}), next))
}
