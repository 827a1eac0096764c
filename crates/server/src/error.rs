//! The one error type of the HTTP API: a status and a GitLab-shaped body
//! (`{"message": "404 Project Not Found"}`). Internal causes are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_store::db::StoreError;

/// What an API call answers when it fails.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid token.
    #[error("401 Unauthorized")]
    Unauthorized,
    /// A valid token without the right.
    #[error("403 Forbidden")]
    Forbidden,
    /// The named thing does not exist (or is not visible).
    #[error("404 {0} Not Found")]
    NotFound(&'static str),
    /// The request is malformed or invalid.
    #[error("{0}")]
    BadRequest(String),
    /// It conflicts with existing state (a taken path).
    #[error("{0}")]
    Conflict(String),
    /// The request is valid but cannot be processed in this state.
    #[error("{0}")]
    Unprocessable(String),
    /// The request body is over a limit.
    #[error("{0}")]
    TooLarge(String),
    /// Something broke on the server; the cause is logged.
    #[error("500 Internal Server Error")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An internal error from anything that displays, with its causes.
    pub fn internal(e: impl std::error::Error) -> Self {
        let mut text = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        ApiError::Internal(text)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let body = serde_json::json!({ "message": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}
