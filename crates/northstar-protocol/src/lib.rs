//! The HTTP API of a Northstar server: every request and response body, and the
//! one closed table of error codes. Only these types cross HTTP.
//!
//! Conventions: ids (accounts, organizations, invites, cases) are lower-case hex;
//! opaque byte strings (OPAQUE messages, sealed slots, key boxes, signed links,
//! envelopes) are base64url without padding, as `@serenity-kit/opaque` writes them.
//! Times are Unix seconds.
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod paths {
    pub const HEALTHZ: &str = "/healthz";
    pub const OPENAPI: &str = "/api/openapi.json";
    pub const ORG_INIT_START: &str = "/api/org/init/start";
    pub const ORG_INIT_FINISH: &str = "/api/org/init/finish";
    pub const JOIN_START: &str = "/api/join/start";
    pub const JOIN_FINISH: &str = "/api/join/finish";
    pub const LOGIN_START: &str = "/api/auth/login/start";
    pub const LOGIN_FINISH: &str = "/api/auth/login/finish";
    pub const LOGOUT: &str = "/api/auth/logout";
    pub const ME: &str = "/api/me";
    pub const ME_KEYS: &str = "/api/me/keys";
    pub const ORG: &str = "/api/org";
    pub const ORG_LINKS: &str = "/api/org/links";
    pub const ORG_PENDING: &str = "/api/org/pending";
    pub const INVITES: &str = "/api/invites";
    /// `GET` lists the caller's cases; `POST` creates one.
    pub const CASES: &str = "/api/cases";
    /// `GET ?from=&limit=` reads entries; `POST` appends one.
    pub const CASE_ENTRIES: &str = "/api/cases/{case_id}/entries";
    /// `GET` every grant and rotation link of the case; `POST` shares or unshares.
    pub const CASE_GRANTS: &str = "/api/cases/{case_id}/grants";
    /// `POST` many cases at once: heads, the caller's grants, rotation links
    /// and entries from where the caller has them.
    pub const CASES_SYNC: &str = "/api/cases/sync";

    /// Public: the intake key and a fresh proof-of-work challenge.
    pub const INTAKE_CONFIG: &str = "/api/intake/config";
    /// Public: a new request, sealed in the browser.
    pub const INTAKE_REQUESTS: &str = "/api/intake/requests";
    /// Public: the replies of the conversation an access secret proves.
    pub const INTAKE_CONVERSATION: &str = "/api/intake/conversation";
    /// Public: one more message in that conversation.
    pub const INTAKE_MESSAGES: &str = "/api/intake/messages";
    /// Staff: `GET` the queue; `PUT` (admin) the intake desk and its public key.
    pub const INTAKE_ITEMS: &str = "/api/intake/items";
    pub const INTAKE_DESK: &str = "/api/intake/desk";
    /// Staff: a note, and optionally a reply and a new status, on one conversation.
    pub const INTAKE_ITEM_NOTES: &str = "/api/intake/items/{conversation_id}/notes";
    /// Staff: register the hash of a referral code.
    pub const INTAKE_REFERRALS: &str = "/api/intake/referrals";
    /// A joiner: the intake keys their invitation carries, if any.
    pub const INTAKE_INVITE_KEYS: &str = "/api/intake/invite-keys";
    /// The public help page (HTML, works without JavaScript).
    pub const HELP: &str = "/help";
    pub const HELP_RETURN: &str = "/help/return";
    pub const HELP_MESSAGE: &str = "/help/message";

    pub fn intake_item_notes(conversation_id: &str) -> String {
        INTAKE_ITEM_NOTES.replace("{conversation_id}", conversation_id)
    }
    pub fn case_entries(case_id: &str) -> String {
        CASE_ENTRIES.replace("{case_id}", case_id)
    }
    pub fn case_grants(case_id: &str) -> String {
        CASE_GRANTS.replace("{case_id}", case_id)
    }
}

/// Every error the API returns. The table is closed: a client can match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request body or a parameter is not what the endpoint accepts.
    BadRequest,
    /// The body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// No session, or the session expired or was revoked.
    Unauthorized,
    /// The session is valid but the member may not do this.
    Forbidden,
    /// The sign-in failed: unknown user or wrong passphrase (indistinguishable on purpose).
    LoginFailed,
    /// The member was removed from the organization.
    MemberRemoved,
    /// The account waits for an admin to add it to the membership chain.
    PendingApproval,
    /// No such object.
    NotFound,
    /// The organization already exists on this server.
    OrgExists,
    /// No organization has been created on this server yet.
    OrgMissing,
    /// The name is already used by another account.
    UsernameTaken,
    /// The invitation code is unknown.
    InviteInvalid,
    /// The invitation was already used.
    InviteUsed,
    /// The invitation expired.
    InviteExpired,
    /// The state moved on (another writer got there first); fetch and retry.
    Conflict,
    /// A signed object does not verify against what the server holds.
    ChainRejected,
    /// Too many requests; wait and retry.
    RateLimited,
    /// The server failed; nothing was changed.
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::BadRequest,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::LoginFailed,
        ErrorCode::MemberRemoved,
        ErrorCode::PendingApproval,
        ErrorCode::NotFound,
        ErrorCode::OrgExists,
        ErrorCode::OrgMissing,
        ErrorCode::UsernameTaken,
        ErrorCode::InviteInvalid,
        ErrorCode::InviteUsed,
        ErrorCode::InviteExpired,
        ErrorCode::Conflict,
        ErrorCode::ChainRejected,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
    ];

    /// The HTTP status that carries this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::Unauthorized | ErrorCode::LoginFailed => 401,
            ErrorCode::Forbidden | ErrorCode::MemberRemoved | ErrorCode::PendingApproval => 403,
            ErrorCode::NotFound | ErrorCode::OrgMissing | ErrorCode::InviteInvalid => 404,
            ErrorCode::OrgExists | ErrorCode::UsernameTaken | ErrorCode::Conflict => 409,
            ErrorCode::InviteUsed | ErrorCode::InviteExpired => 410,
            ErrorCode::ChainRejected => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
        }
    }

    /// The snake_case name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::LoginFailed => "login_failed",
            ErrorCode::MemberRemoved => "member_removed",
            ErrorCode::PendingApproval => "pending_approval",
            ErrorCode::NotFound => "not_found",
            ErrorCode::OrgExists => "org_exists",
            ErrorCode::OrgMissing => "org_missing",
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::InviteInvalid => "invite_invalid",
            ErrorCode::InviteUsed => "invite_used",
            ErrorCode::InviteExpired => "invite_expired",
            ErrorCode::Conflict => "conflict",
            ErrorCode::ChainRejected => "chain_rejected",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// For people; never contains a secret, a token or a case field.
    pub message: String,
}

/// An issued session. The token goes in `Authorization: Bearer …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Session {
    pub token: String,
    pub expires_at: i64,
}

/// A member's public keys, as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicKeys {
    /// Ed25519, base64url.
    pub signing: String,
    /// X25519, base64url.
    pub agreement: String,
}

/// What a client needs to verify an organization from its pinned root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrgInfo {
    pub org_id: String,
    pub name: String,
    /// The organization root public key, base64url. Clients pin it on first use
    /// and compare its fingerprint words in person.
    pub root_public_key: String,
}

/// The organization and its whole membership chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrgChain {
    pub org: OrgInfo,
    /// Signed membership links in order, base64url.
    pub links: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegisterStart {
    /// The new account's immutable random id (the OPAQUE credential identifier).
    pub account_id: String,
    pub username: String,
    /// OPAQUE RegistrationRequest, base64url.
    pub registration_request: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegisterStartResponse {
    /// OPAQUE RegistrationResponse, base64url.
    pub registration_response: String,
}

/// The sealed key material the client uploads at registration. The server
/// stores it and hands it back after sign-in; it cannot open any of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyMaterial {
    pub keys: PublicKeys,
    /// The password slot holding the account root key (NSSL), base64url.
    pub slot: String,
    /// The member's private keys under the root key (NSKB), base64url.
    pub keybox: String,
    /// The organization root key under this admin's root key (NSKB), base64url.
    pub org_root_box: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrgInitStart {
    pub register: RegisterStart,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrgInitFinish {
    pub account_id: String,
    pub username: String,
    /// OPAQUE RegistrationUpload, base64url.
    pub registration_upload: String,
    pub org: OrgInfo,
    /// The genesis link and the link adding the founder, base64url.
    pub links: Vec<String>,
    pub material: KeyMaterial,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JoinStart {
    pub invite_id: String,
    pub register: RegisterStart,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JoinStartResponse {
    pub registration_response: String,
    pub org: OrgInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JoinFinish {
    pub invite_id: String,
    pub account_id: String,
    pub username: String,
    pub registration_upload: String,
    pub material: KeyMaterial,
    /// HMAC over the joiner's identity under a key only the invite's secret
    /// half derives (docs/crypto.md §Invitations), base64url. The admin who
    /// admits the member checks it; the server cannot forge it.
    pub proof: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginStart {
    pub username: String,
    /// OPAQUE CredentialRequest, base64url.
    pub credential_request: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginStartResponse {
    pub login_id: String,
    /// OPAQUE CredentialResponse, base64url.
    pub credential_response: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginFinish {
    pub login_id: String,
    /// OPAQUE CredentialFinalization, base64url.
    pub credential_finalization: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginFinishResponse {
    pub account_id: String,
    pub session: Session,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Pending,
    Active,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub account_id: String,
    pub username: String,
    /// The role the server believes, from the membership chain (clients verify it themselves).
    pub role: Option<String>,
    pub status: AccountStatus,
    pub org: OrgInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppendLink {
    /// The position the link takes; the server refuses with `conflict` if the chain moved.
    pub seq: u64,
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PendingMember {
    pub account_id: String,
    pub username: String,
    pub keys: PublicKeys,
    pub invite_id: String,
    pub proof: String,
    pub joined_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateInvite {
    /// Random id chosen by the admin's client: the half of the code the server sees.
    pub invite_id: String,
    pub role: String,
    pub valid_for_seconds: i64,
    /// The invite's secret half and role, sealed to the issuing admin (base64url).
    pub sealed_secret: String,
    /// For an intake officer or an admin: the intake desk's keys sealed under the
    /// invitation's secret, so the queue opens from the moment they join.
    #[serde(default)]
    pub sealed_intake_keys: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Invite {
    pub invite_id: String,
    pub role: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_by: Option<String>,
    pub sealed_secret: String,
}

/// A grant and the account it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GrantUpload {
    pub recipient: String,
    /// The sealed, signed grant (NSGR), base64url.
    pub grant: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateCase {
    pub case_id: String,
    /// The creator's grants of every compartment, generation 0.
    pub grants: Vec<GrantUpload>,
}

/// A case as the server knows it: its id and chain head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseHead {
    pub case_id: String,
    pub len: u64,
    /// Hash of the last entry, hex (zeros while empty).
    pub head_hash: String,
    /// Moves whenever the case's grants or rotation links change: a cached
    /// copy with another version fetches its keys again.
    #[serde(default)]
    pub keys_version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseHead>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppendEntry {
    /// The sealed, signed entry (NSRE), base64url.
    pub entry: String,
    /// The wrap of its data key (NSKW), base64url.
    pub wrap: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Entry {
    pub seq: u64,
    pub entry: String,
    /// Absent when the caller holds no grant for the entry's compartment, or
    /// the record was shredded.
    pub wrap: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryPage {
    pub entries: Vec<Entry>,
    pub head: CaseHead,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GrantInfo {
    pub compartment: u8,
    pub generation: u32,
    pub recipient: String,
    pub granted_by: String,
    pub grant: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RotationInfo {
    pub compartment: u8,
    pub new_generation: u32,
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseGrants {
    pub grants: Vec<GrantInfo>,
    pub rotations: Vec<RotationInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Revoke {
    pub recipient: String,
    pub compartment: u8,
}

/// A share (grants only) or an unshare (the new generation's grants, its
/// rotation links, and the revoked grants), applied all or nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeGrants {
    pub grants: Vec<GrantUpload>,
    /// Rotation links (NSRT), base64url.
    #[serde(default)]
    pub rotations: Vec<String>,
    #[serde(default)]
    pub revoke: Vec<Revoke>,
}

/// One case to sync, from the first entry the caller does not have yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SyncWant {
    pub case_id: String,
    #[serde(default)]
    pub from: u64,
}

/// Up to 256 cases, each once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SyncRequest {
    pub cases: Vec<SyncWant>,
}

/// What the caller may sync of one case. `grants` are the caller's own.
/// `entries` may stop short of `head.len` (the server's page ran out): ask
/// again from the next position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseBundle {
    pub head: CaseHead,
    pub grants: Vec<GrantInfo>,
    pub rotations: Vec<RotationInfo>,
    pub entries: Vec<Entry>,
}

/// The asked cases the caller holds a grant for, in case id order; the
/// others are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SyncResponse {
    pub cases: Vec<CaseBundle>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialize_as_their_names_and_map_to_statuses() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
            assert!((400..600).contains(&code.http_status()));
        }
        assert_eq!(ErrorCode::PayloadTooLarge.http_status(), 413);
    }
}

// ---- Intake (docs/intake.md) ----

/// What the public page needs to seal a request: the intake key and a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntakeConfig {
    pub org_id: String,
    pub generation: u32,
    /// The intake key (X25519, base64url).
    pub public_key: String,
    /// A proof-of-work challenge this server recognizes (base64url), valid ten minutes.
    pub pow_challenge: String,
    /// Leading zero bits SHA-256("northstar/v1/intake/pow" ‖ challenge ‖ nonce u64 BE) must have.
    pub pow_bits: u8,
    /// The largest sealed message accepted, in bytes.
    pub max_sealed_bytes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProofOfWork {
    pub challenge: String,
    pub nonce: u64,
}

/// A request sealed in the browser. Either a proof of work or a referral code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeSubmit {
    /// 16 random bytes (hex) chosen by the page; the request is bound to it.
    pub conversation_id: String,
    /// The request sealed to the intake key (base64url, `NSIN`).
    pub sealed: String,
    /// SHA-256("northstar/v1/intake/access" ‖ access secret) (base64url).
    pub access_hash: String,
    /// The reply key the codename derives (X25519, base64url).
    pub reply_public: String,
    #[serde(default)]
    pub pow: Option<ProofOfWork>,
    #[serde(default)]
    pub referral: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntakeAccepted {
    pub conversation_id: String,
    pub referred: bool,
}

/// The access secret a codename derives (base64url). Sent, never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeAccess {
    pub access: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntakeReply {
    /// Sealed to the codename's reply key (base64url, `NSIR`).
    pub sealed: String,
    pub at: i64,
}

/// The requester's view: replies only; their own messages are sealed to the intake team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntakeConversation {
    pub conversation_id: String,
    pub org_id: String,
    pub messages_sent: u32,
    pub replies: Vec<IntakeReply>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeFollowUp {
    pub access: String,
    pub sealed: String,
    pub pow: ProofOfWork,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntakeEntry {
    pub seq: u32,
    /// Sealed to the intake key (`NSIN`): the requester's messages and staff notes.
    pub sealed: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntakeItem {
    pub conversation_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// `browser` (sealed in the page) or `server` (sealed by the server on receipt).
    pub path: String,
    pub referred: bool,
    /// `open`, `dismissed` or `opened` (a case was opened from it).
    pub status: String,
    pub reply_public: String,
    pub entries: Vec<IntakeEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntakeDesk {
    /// The intake desk: a case of kind `intake-desk` whose `messages` keys derive the intake key.
    pub desk_case_id: String,
    pub generation: u32,
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntakeItems {
    pub desk: Option<IntakeDesk>,
    pub items: Vec<IntakeItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeStaffNote {
    /// Sealed to the intake key and signed by the author (`NSIN`, kind 2).
    pub note: String,
    /// Sealed to the requester's reply key (`NSIR`), when the note is a reply.
    #[serde(default)]
    pub reply: Option<String>,
    /// `dismissed` or `opened`, when the note closes the conversation.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    /// SHA-256("northstar/v1/intake/referral" ‖ code) (base64url): the server never sees the code until it is used.
    pub code_hash: String,
    pub uses: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InviteIntakeKeys {
    pub invite_id: String,
    /// The desk keys sealed under the invitation's secret (docs/crypto.md §24).
    pub sealed: String,
}
