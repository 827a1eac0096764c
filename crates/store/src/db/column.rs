//! Column types both backends hand over alike through sqlx's `Any` driver.
//!
//! `Any` has no boolean on SQLite: a SQLite `BOOLEAN` column is refused, and an `INTEGER`
//! 0/1 column arrives as an integer, which `bool` does not decode. [`DbBool`] decodes
//! either, so row structs keep `bool` fields (`#[sqlx(try_from = "DbBool")]`) while
//! PostgreSQL keeps real `BOOLEAN` columns.

use sqlx::ValueRef;
use sqlx::any::{Any, AnyTypeInfo, AnyTypeInfoKind, AnyValueRef};
use sqlx::decode::Decode;
use sqlx::error::BoxDynError;
use sqlx::types::Type;

/// A boolean column: PostgreSQL `BOOLEAN` or SQLite `INTEGER` (zero is false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbBool(pub bool);

impl From<DbBool> for bool {
    fn from(value: DbBool) -> bool {
        value.0
    }
}

impl Type<Any> for DbBool {
    fn type_info() -> AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        ty.kind() == AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl<'r> Decode<'r, Any> for DbBool {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.type_info().kind() == AnyTypeInfoKind::Bool {
            <bool as Decode<Any>>::decode(value).map(DbBool)
        } else {
            <i64 as Decode<Any>>::decode(value).map(|i| DbBool(i != 0))
        }
    }
}
