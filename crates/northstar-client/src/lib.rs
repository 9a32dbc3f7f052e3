//! The native Northstar client: it signs in with OPAQUE, unlocks the account's
//! keys in memory, and verifies everything the untrusted server hands it — the
//! membership chain from the pinned organization root, every signature, and
//! that nothing was rolled back.
#![forbid(unsafe_code)]

mod account;
pub mod cases;
mod http;
pub mod intake;
mod listing_pages;
mod org;
mod profile;
pub mod sync;

pub use account::{OfflineKeys, Unlocked, join, login, logout, org_init, unlock_offline, whoami};
pub use http::Api;
pub use org::{
    Approvals, MemberView, approve_pending, create_invite, list_members, remove_member,
    verified_chain, verify_member,
};
pub use profile::Profile;

use northstar_protocol::ErrorCode;

/// Everything that can go wrong on the client side, with messages for people.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{message} [{code}]")]
    Api { code: ErrorCode, message: String },
    #[error("cannot reach the server at {url}: {reason}")]
    Network { url: String, reason: String },
    #[error("the server answered something this client does not understand: {0}")]
    Protocol(String),
    #[error("{0}")]
    Crypto(#[from] northstar_crypto::CryptoError),
    #[error("the case the server sent does not verify: {0}")]
    Chain(#[from] northstar_crypto::ChainError),
    #[error("the case the server sent does not verify: chain entry {seq}: {source}")]
    Entry {
        seq: u64,
        source: northstar_crypto::CryptoError,
    },
    #[error("the membership chain the server sent does not verify: {0}")]
    Membership(#[from] northstar_crypto::MembershipError),
    #[error("the server is not the one this profile trusts: {0}")]
    ServerChanged(String),
    #[error("sign-in failed: unknown name or wrong passphrase")]
    WrongPassphrase,
    #[error("not signed in: run `northstar login --user NAME` (or `org init` / `join`)")]
    NotSignedIn,
    #[error("the profile at {path}: {reason}")]
    Profile { path: String, reason: String },
    #[error("{0}")]
    Refused(String),
    #[error("the local cache: {0}")]
    Cache(String),
}

impl ClientError {
    /// The API error code, when the server refused.
    pub fn api_code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn unb64(field: &str, value: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| ClientError::Protocol(format!("{field} is not base64url")))
}

pub(crate) fn unb64_array<const N: usize>(field: &str, value: &str) -> Result<[u8; N]> {
    unb64(field, value)?
        .try_into()
        .map_err(|_| ClientError::Protocol(format!("{field} must be {N} bytes")))
}

pub(crate) fn unhex16(field: &str, value: &str) -> Result<[u8; 16]> {
    northstar_crypto::ids::from_hex::<16>(value)
        .ok_or_else(|| ClientError::Protocol(format!("{field} must be 32 hex digits")))
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
