//! Extractors that turn every malformed input into an error from the closed table.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use northstar_protocol::ErrorCode;
use northstar_store::{AccountRow, AccountStatus, Id};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::{AppState, now};

/// JSON body whose rejections are API errors (400, or 413 when too large).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this endpoint accepts",
        );
    }
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as JSON with Content-Type: application/json".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON".to_owned(),
        JsonRejection::JsonDataError(e) => {
            format!("the JSON does not fit this endpoint: {}", e.body_text())
        }
        _ => "the body could not be read".to_owned(),
    };
    ApiError::bad_request(message)
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(field: &str, value: &str) -> Result<Vec<u8>, ApiError> {
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| ApiError::bad_request(format!("{field} is not base64url without padding")))
}

pub fn unb64_array<const N: usize>(field: &str, value: &str) -> Result<[u8; N], ApiError> {
    unb64(field, value)?
        .try_into()
        .map_err(|_| ApiError::bad_request(format!("{field} must be {N} bytes")))
}

pub fn id_from_hex(field: &str, value: &str) -> Result<Id, ApiError> {
    northstar_crypto::ids::from_hex::<16>(value)
        .ok_or_else(|| ApiError::bad_request(format!("{field} must be 32 hex digits")))
}

pub fn hex(id: &[u8]) -> String {
    northstar_crypto::ids::to_hex(id)
}

pub fn token_hash(token: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"northstar/v1/session-token");
    h.update(token.as_bytes());
    h.finalize().into()
}

/// A request with a valid session, of an account that may use the API.
pub struct Authed {
    pub account: AccountRow,
    pub token_hash: [u8; 32],
}

/// A request with a valid session, of an account that may still be pending.
pub struct AuthedAnyStatus(pub Authed);

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authed, ApiError> {
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized, "sign in first: no valid session");
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let token = header.strip_prefix("Bearer ").ok_or_else(unauthorized)?;
    let token_hash = token_hash(token.trim());
    let session = state
        .store
        .session(&token_hash, now())
        .await?
        .ok_or_else(unauthorized)?;
    let account = state
        .store
        .account(&session.account_id)
        .await?
        .ok_or_else(unauthorized)?;
    if account.status == AccountStatus::Removed {
        return Err(ApiError::new(
            ErrorCode::MemberRemoved,
            "this account was removed from the organization",
        ));
    }
    Ok(Authed {
        account,
        token_hash,
    })
}

impl FromRequestParts<AppState> for AuthedAnyStatus {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state).await.map(AuthedAnyStatus)
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let authed = authenticate(parts, state).await?;
        if authed.account.status == AccountStatus::Pending {
            return Err(ApiError::new(
                ErrorCode::PendingApproval,
                "this account waits for an admin to add it to the organization",
            ));
        }
        Ok(authed)
    }
}

impl Authed {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.account.role.as_deref() == Some("admin") {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                "only an admin may do this",
            ))
        }
    }
}
