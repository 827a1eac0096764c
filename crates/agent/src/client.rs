//! The HTTP side of the runner protocol, as a runner speaks it: asking for jobs, confirming
//! and ending them, sending the log, uploading and downloading artifacts.

use crate::protocol::JobPayload;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Talking to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request did not get an answer.
    #[error("{what}: {source}")]
    Http {
        /// What was asked.
        what: &'static str,
        /// Why it failed.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a status the call does not take.
    #[error("{what}: the server answered {status}: {body}")]
    Status {
        /// What was asked.
        what: &'static str,
        /// The status.
        status: u16,
        /// The body, cut short.
        body: String,
    },
    /// A file to upload or a download target.
    #[error("{what}: {source}")]
    Io {
        /// What was done.
        what: &'static str,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

fn http(what: &'static str) -> impl FnOnce(reqwest::Error) -> ClientError {
    move |source| ClientError::Http { what, source }
}

/// What a poll got.
pub enum Poll {
    /// A job.
    Job(Box<JobPayload>),
    /// None; the server's tick, for the next poll.
    Nothing(String),
}

/// What a job update or trace call was told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Told {
    /// The HTTP status.
    pub status: u16,
    /// `Job-Status`.
    pub job_status: String,
    /// `Range` (`0-<length>`) of a trace call.
    pub range: Option<u64>,
    /// `X-GitLab-Trace-Update-Interval`.
    pub interval: Option<Duration>,
}

/// A server's runner API.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    /// A client of the server at `url` (a trailing `/` or `/ci` is dropped, as the official
    /// runner does) with a runner token.
    pub fn new(url: &str, token: &str) -> Client {
        let base = url.trim_end_matches('/');
        let base = base.strip_suffix("/ci").unwrap_or(base);
        Client {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            base: format!("{base}/api/v4"),
            token: token.to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// Sends `request`; the answer's status and JSON body (null when it has none).
    async fn json_answer(
        what: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Value), ClientError> {
        let r = request
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(http(what))?;
        let status = r.status();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// `POST /runners/verify`: the runner's id when the token is valid.
    pub async fn verify(&self) -> Result<i64, ClientError> {
        const WHAT: &str = "verifying the runner token";
        let request = self
            .http
            .post(self.url("runners/verify"))
            .json(&json!({"token": self.token}));
        let (status, body) = Self::json_answer(WHAT, request).await?;
        match (status, body["id"].as_i64()) {
            (StatusCode::OK, Some(id)) if id != 0 => Ok(id),
            _ => Err(ClientError::Status {
                what: WHAT,
                status: status.as_u16(),
                body: body.to_string(),
            }),
        }
    }

    /// `POST /runners` with a registration token (this client's token): the new runner's
    /// id and `glrt-` token. `settings` holds the runner's description, tags and so on.
    pub async fn register(&self, settings: &Value) -> Result<(i64, String), ClientError> {
        const WHAT: &str = "registering with the registration token";
        let mut body = settings.clone();
        body["token"] = json!(self.token);
        Self::created(WHAT, self.http.post(self.url("runners")).json(&body)).await
    }

    /// `POST /user/runners` with a personal access token (this client's token): the new
    /// runner's id and `glrt-` token.
    pub async fn create(&self, settings: &Value) -> Result<(i64, String), ClientError> {
        const WHAT: &str = "creating the runner";
        let request = self
            .http
            .post(self.url("user/runners"))
            .header("PRIVATE-TOKEN", &self.token)
            .json(settings);
        Self::created(WHAT, request).await
    }

    /// `GET /projects/:path` with a personal access token: the project's id.
    pub async fn project_id(&self, path: &str) -> Result<i64, ClientError> {
        const WHAT: &str = "finding the project";
        let encoded = path.trim_matches('/').replace('/', "%2F");
        let request = self
            .http
            .get(self.url(&format!("projects/{encoded}")))
            .header("PRIVATE-TOKEN", &self.token);
        let (status, body) = Self::json_answer(WHAT, request).await?;
        match (status, body["id"].as_i64()) {
            (StatusCode::OK, Some(id)) => Ok(id),
            _ => Err(ClientError::Status {
                what: WHAT,
                status: status.as_u16(),
                body: body.to_string(),
            }),
        }
    }

    /// A 201 answer's `id` and `token`.
    async fn created(
        what: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<(i64, String), ClientError> {
        let (status, body) = Self::json_answer(what, request).await?;
        match (status, body["id"].as_i64(), body["token"].as_str()) {
            (StatusCode::CREATED, Some(id), Some(token)) => Ok((id, token.to_owned())),
            _ => Err(ClientError::Status {
                what,
                status: status.as_u16(),
                body: body.to_string(),
            }),
        }
    }

    /// `POST /jobs/request`, held by the server for at most about `hold`.
    pub async fn request(&self, last_update: Option<&str>, hold: Duration) -> Result<Poll, ClientError> {
        const WHAT: &str = "asking for a job";
        let mut body = json!({
            "token": self.token,
            "info": {
                "name": "gantry-runner",
                "version": env!("CARGO_PKG_VERSION"),
                "executor": "shell",
                "shell": "bash",
                "features": {
                    "variables": true, "artifacts": true, "cache": true, "masking": true,
                    "upload_multiple_artifacts": true, "refspecs": true, "cancelable": true,
                    "cancel_gracefully": true, "return_exit_code": true, "two_phase_job_commit": true,
                    "trace_size": true, "multi_build_steps": true,
                },
            },
        });
        if let Some(tick) = last_update {
            body["last_update"] = json!(tick);
        }
        let r = self
            .http
            .post(self.url("jobs/request"))
            .json(&body)
            .timeout(hold + Duration::from_secs(30))
            .send()
            .await
            .map_err(http(WHAT))?;
        match r.status() {
            StatusCode::CREATED => Ok(Poll::Job(Box::new(r.json().await.map_err(http(WHAT))?))),
            StatusCode::NO_CONTENT => {
                let tick = r
                    .headers()
                    .get("x-gitlab-last-update")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                Ok(Poll::Nothing(tick))
            }
            status => Err(ClientError::Status {
                what: WHAT,
                status: status.as_u16(),
                body: r.text().await.unwrap_or_default().chars().take(200).collect(),
            }),
        }
    }

    /// `PUT /jobs/:id` with `state` (and the failure's reason and exit code).
    pub async fn update(
        &self,
        job: &JobPayload,
        state: &str,
        failure: Option<(&str, Option<i32>)>,
    ) -> Result<Told, ClientError> {
        let mut body = json!({"token": job.token, "state": state});
        if let Some((reason, code)) = failure {
            body["failure_reason"] = json!(reason);
            if let Some(code) = code {
                body["exit_code"] = json!(code);
            }
        }
        let r = self
            .http
            .put(self.url(&format!("jobs/{}", job.id)))
            .header("JOB-TOKEN", &job.token)
            .json(&body)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(http("updating a job"))?;
        Ok(told(&r))
    }

    /// `PATCH /jobs/:id/trace`: `bytes` at `offset`.
    pub async fn trace(&self, job: &JobPayload, offset: u64, bytes: Vec<u8>) -> Result<Told, ClientError> {
        let end = (offset + bytes.len() as u64).saturating_sub(1);
        let r = self
            .http
            .patch(self.url(&format!("jobs/{}/trace", job.id)))
            .header("JOB-TOKEN", &job.token)
            .header("Content-Type", "text/plain")
            .header("Content-Range", format!("{offset}-{end}"))
            .body(bytes)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(http("sending the log"))?;
        Ok(told(&r))
    }

    /// `POST /jobs/:id/artifacts`: the file at `path`, streamed.
    pub async fn upload(
        &self,
        job: &JobPayload,
        path: &Path,
        filename: &str,
        query: &[(&str, &str)],
    ) -> Result<(), ClientError> {
        const WHAT: &str = "uploading artifacts";
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|source| ClientError::Io { what: WHAT, source })?;
        let len = file
            .metadata()
            .await
            .map_err(|source| ClientError::Io { what: WHAT, source })?
            .len();
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        let part = reqwest::multipart::Part::stream_with_length(body, len).file_name(filename.to_owned());
        let form = reqwest::multipart::Form::new().part("file", part);
        let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        let r = self
            .http
            .post(format!(
                "{}?{}",
                self.url(&format!("jobs/{}/artifacts", job.id)),
                query.join("&")
            ))
            .header("JOB-TOKEN", &job.token)
            .multipart(form)
            .send()
            .await
            .map_err(http(WHAT))?;
        if r.status() == StatusCode::CREATED {
            return Ok(());
        }
        Err(ClientError::Status {
            what: WHAT,
            status: r.status().as_u16(),
            body: r.text().await.unwrap_or_default().chars().take(200).collect(),
        })
    }

    /// `GET /jobs/:id/artifacts` with `token`, into the file at `path`.
    pub async fn download(&self, job_id: i64, token: &str, path: &Path) -> Result<(), ClientError> {
        const WHAT: &str = "downloading artifacts";
        let mut r = self
            .http
            .get(self.url(&format!("jobs/{job_id}/artifacts")))
            .header("JOB-TOKEN", token)
            .send()
            .await
            .map_err(http(WHAT))?;
        if r.status() != StatusCode::OK {
            return Err(ClientError::Status {
                what: WHAT,
                status: r.status().as_u16(),
                body: r.text().await.unwrap_or_default().chars().take(200).collect(),
            });
        }
        use tokio::io::AsyncWriteExt;
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|source| ClientError::Io { what: WHAT, source })?;
        while let Some(chunk) = r.chunk().await.map_err(http(WHAT))? {
            file.write_all(&chunk)
                .await
                .map_err(|source| ClientError::Io { what: WHAT, source })?;
        }
        file.flush()
            .await
            .map_err(|source| ClientError::Io { what: WHAT, source })
    }
}

/// A query value, percent-encoded.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn told(r: &reqwest::Response) -> Told {
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Told {
        status: r.status().as_u16(),
        job_status: header("job-status").unwrap_or_default(),
        range: header("range").and_then(|v| v.split('-').nth(1).and_then(|n| n.trim().parse().ok())),
        interval: header("x-gitlab-trace-update-interval")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map(|s| Duration::from_secs(s.min(900))),
    }
}
