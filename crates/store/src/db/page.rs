//! [`Page`]: which slice of a list a caller wants, in GitLab's `page`/`per_page` terms.

/// A page of a list: `page` counts from 1, `per_page` is capped at [`Page::MAX_PER_PAGE`]
/// (GitLab's limit). Out-of-range values are clamped, never refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The page number, from 1.
    pub page: i64,
    /// How many items a page holds.
    pub per_page: i64,
}

impl Page {
    /// The largest page GitLab serves.
    pub const MAX_PER_PAGE: i64 = 100;

    /// How many rows the page holds (`per_page` clamped to 1..=100).
    pub fn limit(&self) -> i64 {
        self.per_page.clamp(1, Self::MAX_PER_PAGE)
    }

    /// How many rows come before the page.
    pub fn offset(&self) -> i64 {
        (self.page.max(1) - 1).saturating_mul(self.limit())
    }
}

impl Default for Page {
    /// The first page of 20, GitLab's default.
    fn default() -> Self {
        Page {
            page: 1,
            per_page: 20,
        }
    }
}
