//! [`Page`]: which slice of a list a caller wants, in GitLab's `page`/`per_page` terms, and
//! [`Db::paged`], the newest-first page of a filtered table with its total.

use super::args::Args;
use super::connect::Db;
use super::error::{StoreError, query_error};
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;

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

impl Db {
    /// A page of `SELECT {columns} FROM {table} WHERE {conditions}`, newest (highest id) first,
    /// and how many rows match. `conditions` writes the `WHERE` clause, binding its values in
    /// the `Args` it is given; it is called once per statement.
    pub(crate) async fn paged<T>(
        &self,
        columns: &str,
        table: &str,
        conditions: impl Fn(&mut Args) -> String,
        page: Page,
        op: &'static str,
    ) -> Result<(Vec<T>, i64), StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
    {
        let mut args = Args::default();
        let filter = conditions(&mut args);
        let sql = format!(
            "SELECT {columns} FROM {table} WHERE {filter} ORDER BY id DESC LIMIT {} OFFSET {}",
            args.add(page.limit()),
            args.add(page.offset())
        );
        let rows = sqlx::query_as_with(AssertSqlSafe(sql), args.finish(op)?)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error(op))?;
        let mut args = Args::default();
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {}", conditions(&mut args));
        let total = sqlx::query_scalar_with(AssertSqlSafe(sql), args.finish(op)?)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error(op))?;
        Ok((rows, total))
    }
}
