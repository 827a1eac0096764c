//! GitLab's offset pagination: `page` and `per_page` query parameters (20 by default, at
//! most 100) and the `x-total`, `x-total-pages`, `x-page`, `x-per-page`, `x-next-page`,
//! `x-prev-page` and `link` response headers.

use axum::http::{HeaderMap, HeaderValue};
use gantry_store::db::Page;
use serde::Deserialize;

/// The pagination query parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default, deserialize_with = "number")]
    page: Option<i64>,
    #[serde(default, deserialize_with = "number")]
    per_page: Option<i64>,
}

/// A number in a query string. Inside a `#[serde(flatten)]` struct every query value comes as
/// a string, so both forms are taken.
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Int(n)) => Ok(Some(n)),
        Some(Raw::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{t:?} is not a number"))),
    }
}

impl PageQuery {
    pub(crate) fn page(&self) -> Page {
        Page {
            page: self.page.unwrap_or(1).max(1),
            per_page: self.per_page.unwrap_or(20).clamp(1, 100),
        }
    }
}

/// The headers for a page of `total` items; `url` is the request's URL without query.
pub(crate) fn headers(page: &Page, total: i64, url: &str) -> HeaderMap {
    let pages = ((total + page.per_page - 1) / page.per_page).max(1);
    let mut h = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    set("x-total", total.to_string());
    set("x-total-pages", pages.to_string());
    set("x-page", page.page.to_string());
    set("x-per-page", page.per_page.to_string());
    let next = (page.page < pages).then_some(page.page + 1);
    let prev = (page.page > 1).then_some(page.page - 1);
    set("x-next-page", next.map(|n| n.to_string()).unwrap_or_default());
    set("x-prev-page", prev.map(|n| n.to_string()).unwrap_or_default());
    let link = |n: i64, rel: &str| format!("<{url}?page={n}&per_page={}>; rel=\"{rel}\"", page.per_page);
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(link(p, "prev"));
    }
    if let Some(n) = next {
        links.push(link(n, "next"));
    }
    links.push(link(1, "first"));
    links.push(link(pages, "last"));
    set("link", links.join(", "));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_count_pages_and_link_neighbours() {
        let page = Page {
            page: 2,
            per_page: 20,
        };
        let h = headers(&page, 45, "http://x/api/v4/projects");
        assert_eq!(h["x-total"], "45");
        assert_eq!(h["x-total-pages"], "3");
        assert_eq!(h["x-next-page"], "3");
        assert_eq!(h["x-prev-page"], "1");
        let link = h["link"].to_str().expect("ascii");
        assert!(link.contains("page=1&per_page=20>; rel=\"prev\""), "{link}");
        assert!(link.contains("page=3&per_page=20>; rel=\"last\""), "{link}");
        let empty = headers(
            &Page {
                page: 1,
                per_page: 20,
            },
            0,
            "u",
        );
        assert_eq!(empty["x-total-pages"], "1");
        assert_eq!(empty["x-next-page"], "");
    }

    #[derive(Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        status: Option<String>,
        #[serde(flatten)]
        page: PageQuery,
    }

    #[test]
    fn page_numbers_are_read_inside_a_flattened_query() {
        let q: Outer = serde_urlencoded::from_str("status=success&per_page=3&page=2").expect("query");
        assert_eq!((q.page.page().page, q.page.page().per_page), (2, 3));
        let q: PageQuery = serde_urlencoded::from_str("per_page=500").expect("query");
        assert_eq!(q.page().per_page, 100, "clamped");
        assert!(serde_urlencoded::from_str::<Outer>("per_page=many").is_err());
    }
}
