//! [`Args`]: the bound values of a statement whose shape depends on the call (optional
//! filters, `SET` lists, `IN` lists), with `$N` placeholders numbered by hand. sqlx's
//! `QueryBuilder<Any>` would write `?`, which PostgreSQL refuses (sqlx issue #3000).

use super::error::StoreError;
use sqlx::Arguments;
use sqlx::any::{Any, AnyArguments};
use sqlx::encode::Encode;
use sqlx::error::BoxDynError;
use sqlx::types::Type;

/// Values bound in order; [`Args::add`] answers the placeholder to write in the SQL text.
#[derive(Default)]
pub(crate) struct Args {
    arguments: AnyArguments,
    count: usize,
    error: Option<BoxDynError>,
}

impl Args {
    /// Binds `value` and returns its placeholder (`$1`, `$2`, ...).
    pub(crate) fn add<'t, T: Encode<'t, Any> + Type<Any>>(&mut self, value: T) -> String {
        self.count += 1;
        if let Err(e) = self.arguments.add(value) {
            self.error.get_or_insert(e);
        }
        format!("${}", self.count)
    }

    /// The placeholders of `values`, comma-separated, for an `IN (...)` list.
    pub(crate) fn add_list(&mut self, values: &[String]) -> String {
        let placeholders: Vec<String> = values.iter().map(|v| self.add(v.clone())).collect();
        placeholders.join(", ")
    }

    /// The arguments for `sqlx::query_*_with`, or the first value that failed to encode.
    pub(crate) fn finish(self, op: &'static str) -> Result<AnyArguments, StoreError> {
        match self.error {
            Some(e) => Err(StoreError::Query {
                op,
                source: sqlx::Error::Encode(e),
            }),
            None => Ok(self.arguments),
        }
    }
}
