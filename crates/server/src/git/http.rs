//! Git's smart HTTP protocol, served by `git http-backend` as a CGI program: the request
//! body streams into it, its answer streams back. Only the smart paths are served
//! (`info/refs?service=...`, `git-upload-pack`, `git-receive-pack`); protocol v2 passes
//! through `Git-Protocol`. A push holds its repository's push lock so the refs read before
//! and after it tell exactly which refs it moved ([`PushResult`]).

use super::{GitError, Repositories};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::oneshot;

/// One ref a push changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefUpdate {
    /// The full ref name (`refs/heads/main`).
    pub name: String,
    /// The commit it pointed at before; `None` when the push created it.
    pub before: Option<String>,
    /// The commit it points at now; `None` when the push deleted it.
    pub after: Option<String>,
}

/// What a finished push changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushResult {
    /// The changed refs, by name.
    pub updates: Vec<RefUpdate>,
}

/// What a push may change, enforced by the `pre-receive` hook ([`super::PRE_RECEIVE`]) inside
/// git's own transaction, so a refused ref is never written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushPolicy {
    /// Branch patterns (`*` wildcards) the pusher may not update at all.
    pub deny: Vec<String>,
    /// Every protected branch pattern: no deletion, no force push, whoever pushes.
    pub protected: Vec<String>,
}

/// The user name and password of a `Authorization: Basic` header.
pub fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The refs that differ between two snapshots.
pub fn diff_refs(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> PushResult {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    let updates = names
        .into_iter()
        .filter(|n| before.get(*n) != after.get(*n))
        .map(|n| RefUpdate {
            name: n.clone(),
            before: before.get(n).cloned(),
            after: after.get(n).cloned(),
        })
        .collect();
    PushResult { updates }
}

/// Serves one smart-HTTP request for the repository of `project_path` (the part after
/// `.git/` is `service`), as `user`. The caller has authenticated and authorized it; a push
/// may change only what `policy` allows. A push also returns where its [`PushResult`]
/// arrives once git has finished.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    repos: &Repositories,
    project_path: &str,
    service: &str,
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
    user: &str,
    policy: &PushPolicy,
) -> Result<(Response, Option<oneshot::Receiver<PushResult>>), GitError> {
    let wanted = match (method, service) {
        (&Method::GET, "info/refs") => match query.and_then(|q| q.strip_prefix("service=")) {
            Some(s @ ("git-upload-pack" | "git-receive-pack")) => Some((s, false)),
            _ => None,
        },
        (&Method::POST, "git-upload-pack") => Some(("git-upload-pack", false)),
        (&Method::POST, "git-receive-pack") => Some(("git-receive-pack", true)),
        _ => None,
    };
    let Some((program, posting_push)) = wanted else {
        return Ok((plain(StatusCode::NOT_FOUND, "Not Found\n"), None));
    };
    let repo = repos.open(project_path)?;
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = repos.max_push_bytes();
    if posting_push && length.is_some_and(|l| l > limit) {
        return Ok((
            plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the push is larger than the limit of {limit} bytes\n"),
            ),
            None,
        ));
    }
    let hooks = if posting_push {
        Some(repos.hooks_dir().await?)
    } else {
        None
    };
    let push = if posting_push {
        let guard = repos.push_lock(project_path).lock_owned().await;
        let before = repo.refs().await?;
        Some((guard, before))
    } else {
        None
    };
    let header_text = |name: HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env("GIT_PROJECT_ROOT", repos.root())
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", format!("/{project_path}.git/{service}"))
        .env("REQUEST_METHOD", method.as_str())
        .env("QUERY_STRING", query.unwrap_or_default())
        .env("CONTENT_TYPE", header_text(header::CONTENT_TYPE))
        .env("HTTP_CONTENT_ENCODING", header_text(header::CONTENT_ENCODING))
        .env(
            "HTTP_GIT_PROTOCOL",
            header_text(HeaderName::from_static("git-protocol")),
        )
        .env("REMOTE_USER", user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("GIT_HTTP_MAX_REQUEST_BUFFER", "100M")
        .env_remove("CONTENT_LENGTH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(l) = length {
        cmd.env("CONTENT_LENGTH", l.to_string());
    }
    if let Some(hooks) = hooks {
        // git reads configuration from the environment too: our hooks, and the size limit,
        // which git enforces with its own clear error ("pack exceeds maximum allowed size").
        cmd.env("GIT_CONFIG_COUNT", "2")
            .env("GIT_CONFIG_KEY_0", "core.hooksPath")
            .env("GIT_CONFIG_VALUE_0", hooks)
            .env("GIT_CONFIG_KEY_1", "receive.maxInputSize")
            .env("GIT_CONFIG_VALUE_1", limit.to_string())
            .env("GANTRY_DENY_PUSH", policy.deny.join("\n"))
            .env("GANTRY_PROTECTED", policy.protected.join("\n"));
    }
    let mut child = cmd.spawn().map_err(|source| GitError::Spawn {
        what: program.to_owned(),
        source,
    })?;
    let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(GitError::Failed {
            what: program.to_owned(),
            stderr: "no pipes to git http-backend".into(),
        });
    };
    // The request body into git. git refuses a pack over the limit itself; a body that goes
    // on well past it (a client ignoring the refusal) is cut short.
    let cut_at = limit.saturating_add(limit / 8).saturating_add(1 << 20);
    let path_for_log = project_path.to_owned();
    tokio::spawn(async move {
        let mut sent = 0u64;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { break };
            sent += chunk.len() as u64;
            if posting_push && sent > cut_at {
                tracing::warn!(project = %path_for_log, limit, "push over the size limit cut short");
                break;
            }
            if stdin.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = stdin.shutdown().await;
    });
    // The CGI header block, then the body as it comes.
    let mut out = BufReader::new(stdout);
    let mut response = Response::builder();
    let mut status = StatusCode::OK;
    loop {
        let mut line = String::new();
        let n = out.read_line(&mut line).await.map_err(|source| GitError::Spawn {
            what: program.to_owned(),
            source,
        })?;
        let line = line.trim_end_matches(['\r', '\n']);
        if n == 0 || line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split(' ').next().and_then(|c| c.parse::<u16>().ok());
            status = code
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        } else if let (Ok(name), Ok(value)) =
            (HeaderName::try_from(name.trim()), HeaderValue::try_from(value))
        {
            response = response.header(name, value);
        }
    }
    let (tx, rx) = oneshot::channel();
    let what = program.to_owned();
    tokio::spawn(async move {
        let mut errors = Vec::new();
        let (_, exit) = tokio::join!(stderr.read_to_end(&mut errors), child.wait());
        let ok = exit.as_ref().is_ok_and(|s| s.success());
        if !ok {
            tracing::warn!(
                service = %what,
                stderr = %String::from_utf8_lossy(&errors).trim(),
                "git http-backend failed"
            );
        }
        if let Some((guard, before)) = push {
            match repo.refs().await {
                Ok(after) => {
                    let _ = tx.send(diff_refs(&before, &after));
                }
                Err(e) => tracing::error!(error = %e, "reading refs after a push"),
            }
            drop(guard);
        }
    });
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(out));
    let response = response.status(status).body(body).map_err(|e| GitError::Failed {
        what: program.to_owned(),
        stderr: e.to_string(),
    })?;
    Ok((response, posting_push.then_some(rx)))
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut response = Response::new(Body::from(text.to_owned()));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_takes_user_and_password_and_nothing_else() {
        let mut headers = HeaderMap::new();
        assert_eq!(basic_auth(&headers), None);
        let encoded = base64::engine::general_purpose::STANDARD.encode("root:glpat-x:y");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(basic_auth(&headers), Some(("root".into(), "glpat-x:y".into())));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(basic_auth(&headers), None);
    }

    #[test]
    fn a_push_result_lists_created_moved_and_deleted_refs_only() {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>()
        };
        let before = map(&[
            ("refs/heads/a", "1"),
            ("refs/heads/b", "2"),
            ("refs/heads/c", "3"),
        ]);
        let after = map(&[("refs/heads/a", "1"), ("refs/heads/b", "9"), ("refs/tags/t", "4")]);
        let names: Vec<_> = diff_refs(&before, &after)
            .updates
            .into_iter()
            .map(|u| (u.name, u.before, u.after))
            .collect();
        assert_eq!(
            names,
            vec![
                ("refs/heads/b".into(), Some("2".into()), Some("9".into())),
                ("refs/heads/c".into(), Some("3".into()), None),
                ("refs/tags/t".into(), None, Some("4".into())),
            ]
        );
    }
}
