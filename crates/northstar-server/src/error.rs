use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use northstar_protocol::{ErrorBody, ErrorCode};
use northstar_store::StoreError;

/// An API error: a code from the closed table and a message for people.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = %self.code, message = %self.message, "request failed");
        }
        (
            status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::OrgExists => ErrorCode::OrgExists,
            StoreError::OrgMissing => ErrorCode::OrgMissing,
            StoreError::UsernameTaken | StoreError::AccountExists => ErrorCode::UsernameTaken,
            StoreError::InviteNotFound => ErrorCode::InviteInvalid,
            StoreError::InviteUsed => ErrorCode::InviteUsed,
            StoreError::InviteExpired => ErrorCode::InviteExpired,
            StoreError::Duplicate => ErrorCode::Conflict,
            StoreError::Conflict { .. } => ErrorCode::Conflict,
            StoreError::NotFound => ErrorCode::NotFound,
            StoreError::Invalid(_) => ErrorCode::BadRequest,
            StoreError::Backend(_) => ErrorCode::Internal,
        };
        let message = match code {
            ErrorCode::Internal => {
                "the server could not complete the request; nothing was changed".to_owned()
            }
            _ => e.to_string(),
        };
        if code == ErrorCode::Internal {
            tracing::error!(error = %e, "store failure");
        }
        ApiError { code, message }
    }
}
