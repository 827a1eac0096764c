//! A job's raw log and its artifacts: the archive, a directory listing read from the zip's
//! central directory, and one file of it. Files are always served as downloads (never
//! rendered as pages of this site), whatever their name says.

use super::{Ctx, Page, chrome, nav, pages, render};
use crate::error::ApiError;
use axum::http::header;
use axum::response::IntoResponse;
use gantry_web::format;
use gantry_web::views::{ArtifactsPage, Entry};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The largest artifact file shown from an archive, in bytes.
const MAX_FILE: u64 = 64 << 20;

/// What a path segment of a link escapes: all but unreserved characters, so that a name with
/// `#`, `?`, `%` or a space still links to itself.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An archive path (`a/b c`) as URL path segments (`a/b%20c`).
fn link(path: &str) -> String {
    path.split('/')
        .map(|seg| percent_encoding::utf8_percent_encode(seg, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// URL path segments back to the archive path they name; `None` when one is not UTF-8.
pub(super) fn unlink(segments: &[&str]) -> Option<String> {
    let decoded: Option<Vec<String>> = segments
        .iter()
        .map(|seg| {
            percent_encoding::percent_decode_str(seg)
                .decode_utf8()
                .ok()
                .map(|s| s.into_owned())
        })
        .collect();
    Some(decoded?.join("/"))
}

pub(super) async fn raw(ctx: &Ctx, id: i64, download: bool) -> Result<Page, ApiError> {
    let job = pages::find_job(&ctx.state, &ctx.project, id).await?;
    let bytes = ctx.state.core.db.trace(job.id, 0).await?;
    let mut r = ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], bytes).into_response();
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if download && let Ok(v) = format!("attachment; filename=\"job-{}.log\"", job.id).parse() {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(Page::Html(r))
}

pub(super) async fn download(ctx: &Ctx, id: i64) -> Result<Page, ApiError> {
    let job = pages::find_job(&ctx.state, &ctx.project, id).await?;
    Ok(Page::Html(
        crate::api::jobs::archive_download(&ctx.state, job.id).await?,
    ))
}

/// The job's archive copied to a temporary file, removed when dropped.
struct Local(PathBuf);

impl Drop for Local {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn local_archive(ctx: &Ctx, job_id: i64) -> Result<Local, ApiError> {
    let archive = crate::api::jobs::archive_of(&ctx.state, job_id).await?;
    let dir = ctx.state.core.config.data_dir.join("tmp");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    let path = dir.join(format!("browse-{job_id}-{:016x}.zip", rand::random::<u64>()));
    let local = Local(path);
    ctx.state
        .core
        .blobs
        .get_to_file(&archive.blob_key, &local.0)
        .await
        .map_err(|_| ApiError::NotFound("Artifact"))?;
    Ok(local)
}

/// The names and sizes of an archive's entries (directories end with `/`).
fn entries(path: &std::path::Path) -> Result<Vec<(String, u64)>, ApiError> {
    let file = std::fs::File::open(path).map_err(ApiError::internal)?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| ApiError::BadRequest(format!("the archive is unreadable: {e}")))?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let e = zip.by_index_raw(i).map_err(ApiError::internal)?;
        let name = e.name().map_err(ApiError::internal)?.into_owned();
        out.push((name, e.size()));
    }
    Ok(out)
}

/// The entries directly in `dir` (`""` or `a/b/`): subdirectories (also those only implied
/// by deeper files) and files.
fn listing(all: &[(String, u64)], dir: &str) -> Vec<(String, bool, u64)> {
    let mut out: BTreeMap<(bool, String), u64> = BTreeMap::new();
    for (name, size) in all {
        let Some(rest) = name.strip_prefix(dir) else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        match rest.split_once('/') {
            Some((sub, _)) => {
                out.insert((false, sub.to_owned()), 0);
            }
            None => {
                out.insert((true, rest.to_owned()), *size);
            }
        }
    }
    out.into_iter()
        .map(|((file, name), size)| (name, !file, size))
        .collect()
}

pub(super) async fn browse(ctx: &Ctx, id: i64, dir: &str) -> Result<Page, ApiError> {
    let job = pages::find_job(&ctx.state, &ctx.project, id).await?;
    let local = local_archive(ctx, job.id).await?;
    let path = local.0.clone();
    let all = tokio::task::spawn_blocking(move || entries(&path))
        .await
        .map_err(ApiError::internal)??;
    let dir = if dir.is_empty() {
        String::new()
    } else {
        format!("{}/", dir.trim_matches('/'))
    };
    let base = format!("/{}/-/jobs/{}/artifacts", ctx.project.path, job.id);
    let list = listing(&all, &dir);
    if list.is_empty() && !dir.is_empty() {
        return Err(ApiError::NotFound("Directory"));
    }
    let entries = list
        .into_iter()
        .map(|(name, is_dir, size)| Entry {
            url: if is_dir {
                format!("{base}/browse/{}", link(&format!("{dir}{name}")))
            } else {
                format!("{base}/file/{}", link(&format!("{dir}{name}")))
            },
            size: if is_dir {
                String::new()
            } else {
                format::size(size as i64)
            },
            dir: is_dir,
            name,
        })
        .collect();
    let parent = (!dir.is_empty()).then(|| {
        let up = dir.trim_end_matches('/').rsplit_once('/').map_or("", |(p, _)| p);
        format!("{base}/browse/{}", link(up))
    });
    Ok(Page::Html(render(&ArtifactsPage {
        chrome: chrome(
            ctx.viewer.user.as_ref(),
            ctx.viewer.csrf.clone(),
            "Artifacts",
            Some(nav(&ctx.project, "pipelines", ctx.level)),
        ),
        job_url: format!("/{}/-/jobs/{}", ctx.project.path, job.id),
        job_name: job.name,
        dir,
        parent,
        entries,
        download: format!("{base}/download"),
    })))
}

pub(super) async fn file(ctx: &Ctx, id: i64, name: &str) -> Result<Page, ApiError> {
    let job = pages::find_job(&ctx.state, &ctx.project, id).await?;
    let local = local_archive(ctx, job.id).await?;
    let path = local.0.clone();
    let wanted = name.to_owned();
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        use std::io::Read;
        let file = std::fs::File::open(&path).map_err(ApiError::internal)?;
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| ApiError::BadRequest(format!("the archive is unreadable: {e}")))?;
        let entry = zip.by_name(&wanted).map_err(|_| ApiError::NotFound("File"))?;
        if entry.size() > MAX_FILE {
            return Err(ApiError::TooLarge(
                "the file is too large to show; download the archive".into(),
            ));
        }
        let mut out = Vec::new();
        entry
            .take(MAX_FILE)
            .read_to_end(&mut out)
            .map_err(ApiError::internal)?;
        Ok(out)
    })
    .await
    .map_err(ApiError::internal)??;
    let filename = name
        .rsplit('/')
        .next()
        .unwrap_or("file")
        .replace(['"', '\r', '\n'], "_");
    let mut r = ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = format!("attachment; filename=\"{filename}\"").parse() {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(Page::Html(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_escape_what_a_url_would_misread_and_read_back() {
        let name = "out/a b#1?x=%41.txt";
        let url = link(name);
        assert_eq!(url, "out/a%20b%231%3Fx%3D%2541.txt");
        let segments: Vec<&str> = url.split('/').collect();
        assert_eq!(unlink(&segments).as_deref(), Some(name));
        assert_eq!(unlink(&["caf%C3%A9"]).as_deref(), Some("café"));
        assert_eq!(unlink(&["%FF"]), None, "not UTF-8");
    }

    #[test]
    fn a_listing_shows_one_level_with_implied_directories() {
        let all = [
            ("dist/".to_owned(), 0),
            ("dist/app.js".to_owned(), 10),
            ("dist/css/site.css".to_owned(), 5),
            ("report.xml".to_owned(), 7),
        ];
        assert_eq!(
            listing(&all, ""),
            [("dist".to_owned(), true, 0), ("report.xml".to_owned(), false, 7)]
        );
        assert_eq!(
            listing(&all, "dist/"),
            [("css".to_owned(), true, 0), ("app.js".to_owned(), false, 10)]
        );
        assert!(listing(&all, "nope/").is_empty());
    }
}
