//! Server-sent event streams of the dashboard. A page's fragments (`fragment` events with
//! the element id and its new HTML) are rendered again whenever the store announces a change
//! that concerns them ([`crate::live`]), bursts coalesced, and every few seconds (ages and
//! running durations move); only fragments that changed are sent. A job's log streams as
//! `lines` events of parsed lines, each event's id the byte offset to resume from, then
//! `end` once the job has finished and everything was sent.

use super::{Ctx, Page, chrome, html, nav, pages, render};
use crate::app::AppState;
use crate::error::ApiError;
use crate::live::Change;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::future::BoxFuture;
use gantry_web::log::LogParser;
use gantry_web::views::Environments;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

/// How long a burst of changes may last before the page is rendered again.
const COALESCE: Duration = Duration::from_millis(60);
/// How often a live page is rendered again without a change.
const REFRESH: Duration = Duration::from_secs(10);
/// The most log lines in one event.
const LINES_PER_EVENT: usize = 2000;
/// How much of a log is parsed before what it gave is sent.
const PARSE_SLICE: usize = 256 << 10;

type Sender = mpsc::Sender<Result<Event, Infallible>>;
type Render = Arc<dyn Fn() -> BoxFuture<'static, Result<Vec<(String, String)>, ApiError>> + Send + Sync>;

fn sse(rx: mpsc::Receiver<Result<Event, Infallible>>) -> Page {
    let mut r = Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response();
    r.headers_mut()
        .insert("x-accel-buffering", axum::http::HeaderValue::from_static("no"));
    Page::Html(r)
}

/// What lets a live stream go on: the viewer's session, if the page was opened in one, must
/// still be valid (signed out or expired ends the stream, as reloading the page would).
#[derive(Clone)]
struct Guard {
    state: Arc<AppState>,
    session: Option<String>,
}

impl Guard {
    fn of(ctx: &Ctx) -> Guard {
        Guard {
            state: ctx.state.clone(),
            session: ctx.viewer.session.clone(),
        }
    }

    async fn holds(&self) -> bool {
        let Some(hash) = &self.session else {
            return true;
        };
        matches!(
            self.state.core.db.session(hash, crate::clock::now_ms()).await,
            Ok(Some(_))
        )
    }
}

/// Tells the page its stream ended for good.
async fn gone(tx: &Sender) {
    let _ = tx.send(Ok(Event::default().event("gone").data("{}"))).await;
}

/// Waits for a change `wants` accepts (true), the refresh interval (true) or the page going
/// away (false).
async fn next_change(
    changes: &mut broadcast::Receiver<Change>,
    wants: &(dyn Fn(&Change) -> bool + Send + Sync),
    tx: &Sender,
    wait: Duration,
) -> bool {
    let timeout = tokio::time::sleep(wait);
    tokio::pin!(timeout);
    loop {
        tokio::select! {
            r = changes.recv() => match r {
                Ok(c) if wants(&c) => return true,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return true,
                Err(broadcast::error::RecvError::Closed) => return false,
            },
            () = &mut timeout => return true,
            () = tx.closed() => return false,
        }
    }
}

/// A stream of `fragment` events from `render`, again on every change `wants` accepts.
fn fragments(ctx: &Ctx, wants: impl Fn(&Change) -> bool + Send + Sync + 'static, render: Render) -> Page {
    let (tx, rx) = mpsc::channel(16);
    let mut changes = ctx.state.core.live.subscribe();
    let guard = Guard::of(ctx);
    tokio::spawn(async move {
        let mut sent: HashMap<String, String> = HashMap::new();
        loop {
            if !guard.holds().await {
                gone(&tx).await;
                return;
            }
            match render().await {
                Ok(frags) => {
                    for (id, html) in frags {
                        if sent.get(&id) == Some(&html) {
                            continue;
                        }
                        let data = json!({"id": id, "html": html}).to_string();
                        if tx
                            .send(Ok(Event::default().event("fragment").data(data)))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        sent.insert(id, html);
                    }
                }
                Err(ApiError::NotFound(_)) => {
                    gone(&tx).await;
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "rendering a live fragment"),
            }
            if !next_change(&mut changes, &wants, &tx, REFRESH).await {
                return;
            }
            tokio::time::sleep(COALESCE).await;
            while changes.try_recv().is_ok() {}
        }
    });
    sse(rx)
}

pub(super) fn pipelines(ctx: &Ctx, q: pages::ListQuery) -> Page {
    let (state, project) = (ctx.state.clone(), ctx.project.clone());
    let project_id = project.id;
    let render: Render = Arc::new(move || {
        let (state, project, q) = (state.clone(), project.clone(), q.clone());
        Box::pin(async move {
            let table = pages::pipelines_table(&state, &project, &q).await?;
            Ok(vec![("pipelines".to_owned(), html(&table)?)])
        })
    });
    fragments(
        ctx,
        move |c| matches!(c, Change::Pipeline { project_id: p, .. } if *p == project_id),
        render,
    )
}

pub(super) async fn pipeline(ctx: &Ctx, id: i64) -> Result<Page, ApiError> {
    let p = pages::find_pipeline(&ctx.state, &ctx.project, id).await?;
    let (state, project, level) = (ctx.state.clone(), ctx.project.clone(), ctx.level);
    let user = ctx.viewer.user.clone();
    let render: Render = Arc::new(move || {
        let (state, project, user) = (state.clone(), project.clone(), user.clone());
        Box::pin(async move {
            let p = pages::find_pipeline(&state, &project, id).await?;
            let graph = pages::pipeline_graph(&state, user.as_ref(), &project, level, &p).await?;
            Ok(vec![("pipeline".to_owned(), html(&graph)?)])
        })
    });
    // Any pipeline of the project: its downstream pipelines' statuses are shown too.
    let project_id = p.project_id;
    Ok(fragments(
        ctx,
        move |c| matches!(c, Change::Pipeline { project_id: changed, .. } if *changed == project_id),
        render,
    ))
}

pub(super) async fn job(ctx: &Ctx, id: i64) -> Result<Page, ApiError> {
    let job = pages::find_job(&ctx.state, &ctx.project, id).await?;
    let (state, project, level) = (ctx.state.clone(), ctx.project.clone(), ctx.level);
    let render: Render = Arc::new(move || {
        let (state, project) = (state.clone(), project.clone());
        Box::pin(async move {
            let job = pages::find_job(&state, &project, id).await?;
            let head = pages::job_head(&state, &project, level, &job).await?;
            Ok(vec![("job".to_owned(), html(&head)?)])
        })
    });
    let pipeline = job.pipeline_id;
    Ok(fragments(
        ctx,
        move |c| matches!(c, Change::Pipeline { pipeline_id, .. } if *pipeline_id == pipeline),
        render,
    ))
}

/// Sends parsed lines in events of at most [`LINES_PER_EVENT`]; false when the page is gone.
async fn send_lines(tx: &Sender, lines: &[gantry_web::log::Line]) -> bool {
    for chunk in lines.chunks(LINES_PER_EVENT) {
        let data = Value::Array(chunk.iter().map(|l| l.to_json()).collect()).to_string();
        let id = chunk.last().map_or(0, |l| l.end);
        let event = Event::default().event("lines").id(id.to_string()).data(data);
        if tx.send(Ok(event)).await.is_err() {
            return false;
        }
    }
    true
}

pub(super) async fn trace(ctx: &Ctx, id: i64, resume: u64) -> Result<Page, ApiError> {
    let job = pages::find_job(&ctx.state, &ctx.project, id).await?;
    let state = ctx.state.clone();
    let (tx, rx) = mpsc::channel(8);
    let mut changes = state.core.live.subscribe();
    let guard = Guard::of(ctx);
    tokio::spawn(async move {
        let db = &state.core.db;
        let mut parser = LogParser::new();
        let mut read: u64 = 0;
        if resume > 0 {
            // Parsing resumes in the state the first `resume` bytes leave it in.
            let Ok(bytes) = db.trace(job.id, 0).await else {
                return;
            };
            let upto = usize::try_from(resume).unwrap_or(usize::MAX).min(bytes.len());
            parser.feed(&bytes[..upto]);
            read = upto as u64;
        }
        loop {
            if !guard.holds().await {
                gone(&tx).await;
                return;
            }
            // The status first: a finished job's trace read after it is complete.
            let finished = match db.job(job.id).await {
                Ok(Some(j)) => crate::scheduler::status_of(&j.status).is_completed(),
                _ => true,
            };
            let Ok(bytes) = db.trace(job.id, i64::try_from(read).unwrap_or(i64::MAX)).await else {
                return;
            };
            read += bytes.len() as u64;
            for slice in bytes.chunks(PARSE_SLICE) {
                if !send_lines(&tx, &parser.feed(slice)).await {
                    return;
                }
            }
            if finished {
                let last: Vec<_> = parser.finish().into_iter().collect();
                if send_lines(&tx, &last).await {
                    let _ = tx.send(Ok(Event::default().event("end").data("{}"))).await;
                }
                return;
            }
            let pipeline = job.pipeline_id;
            let wants = move |c: &Change| match c {
                Change::Trace { job_id } => *job_id == job.id,
                Change::Pipeline { pipeline_id, .. } => *pipeline_id == pipeline,
            };
            if !next_change(&mut changes, &wants, &tx, Duration::from_secs(2)).await {
                return;
            }
        }
    });
    Ok(sse(rx))
}

pub(super) async fn environments_page(ctx: &Ctx) -> Result<Page, ApiError> {
    Ok(Page::Html(render(&Environments {
        chrome: chrome(
            ctx.viewer.user.as_ref(),
            ctx.viewer.csrf.clone(),
            "Environments",
            Some(nav(&ctx.project, "environments", ctx.level)),
        ),
        list: html(&super::environments::list(&ctx.state, &ctx.project, ctx.level).await?)?,
        live: format!("/{}/-/environments/live", ctx.project.path),
    })))
}

pub(super) async fn environments(ctx: &Ctx) -> Result<Page, ApiError> {
    let (state, project, level) = (ctx.state.clone(), ctx.project.clone(), ctx.level);
    let project_id = project.id;
    let render: Render = Arc::new(move || {
        let (state, project) = (state.clone(), project.clone());
        Box::pin(async move {
            let list = super::environments::list(&state, &project, level).await?;
            Ok(vec![("environments".to_owned(), html(&list)?)])
        })
    });
    Ok(fragments(
        ctx,
        move |c| matches!(c, Change::Pipeline { project_id: p, .. } if *p == project_id),
        render,
    ))
}
