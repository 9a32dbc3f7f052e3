//! The storage boundary of the server. The server is untrusted storage and
//! coordination, so what passes through here is sealed, signed or public:
//! opaque blobs, ids, names, roles and times (docs/threat-model.md §What the
//! server can see). No SQL lives outside the backend crates.
//!
//! Every method is atomic. Methods that consume or extend something (an
//! invitation, the membership chain) check and change it in one transaction,
//! so two servers on one database can never both succeed.
//!
//! Times: something that expires at `expires_at` is expired at every
//! `now >= expires_at`. Strings (usernames, roles, names) are stored and
//! compared exactly, byte for byte: normalizing them is the caller's business.
//! Blobs come back byte-exact; an empty blob stays empty, and `None` stays `None`.
//!
//! Every backend passes the conformance suite in [`conformance`] (feature
//! `conformance`), which is the executable form of these comments.
#![forbid(unsafe_code)]

#[cfg(feature = "conformance")]
pub mod conformance;

use async_trait::async_trait;

/// A 16-byte random id (account, organization, invitation).
pub type Id = [u8; 16];

/// Unix seconds, always passed in by the caller so tests control the clock.
pub type Time = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the organization already exists")]
    OrgExists,
    #[error("no organization exists yet")]
    OrgMissing,
    #[error("the name is already taken")]
    UsernameTaken,
    #[error("the account id is already taken")]
    AccountExists,
    #[error("the invitation does not exist")]
    InviteNotFound,
    #[error("the invitation was already used")]
    InviteUsed,
    #[error("the invitation expired")]
    InviteExpired,
    #[error("the object already exists")]
    Duplicate,
    #[error("the chain moved on: expected position {expected}, the chain has {actual} links")]
    Conflict { expected: u64, actual: u64 },
    #[error("no such object")]
    NotFound,
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    #[error("database error: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    pub org_id: Id,
    pub name: String,
    pub root_public_key: Vec<u8>,
    pub created_at: Time,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    /// Registered through an invitation, waiting for an admin's membership link.
    Pending,
    /// In the membership chain.
    Active,
    /// Removed by a membership link.
    Removed,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Pending => "pending",
            AccountStatus::Active => "active",
            AccountStatus::Removed => "removed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(AccountStatus::Pending),
            "active" => Some(AccountStatus::Active),
            "removed" => Some(AccountStatus::Removed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub account_id: Id,
    pub username: String,
    /// The OPAQUE registration record (the server's password file).
    pub opaque_record: Vec<u8>,
    /// The password slot sealing the account root key.
    pub slot: Vec<u8>,
    /// The member's private keys sealed under the root key.
    pub keybox: Vec<u8>,
    /// The organization root key sealed under this admin's root key.
    pub org_root_box: Option<Vec<u8>>,
    pub signing_key: Vec<u8>,
    pub agreement_key: Vec<u8>,
    /// The role the membership chain gives (None while pending).
    pub role: Option<String>,
    pub status: AccountStatus,
    /// The invitation the account joined with (None for the founder).
    pub invite_id: Option<Id>,
    /// The joiner's proof of knowing the invitation secret.
    pub join_proof: Option<Vec<u8>>,
    pub created_at: Time,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRow {
    pub invite_id: Id,
    pub role: String,
    pub created_by: Id,
    pub created_at: Time,
    pub expires_at: Time,
    pub used_by: Option<Id>,
    pub used_at: Option<Time>,
    /// The secret half of the code and the role, sealed to the issuing admin.
    pub sealed_secret: Vec<u8>,
}

/// A case (or any object with compartments) as the server knows it: who
/// created it, and the head of its hash chain. Nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub case_id: Id,
    pub created_by: Id,
    pub created_at: Time,
    /// How many entries the chain has (the next entry's sequence number).
    pub len: u64,
    /// The hash of the last entry (all zero while the chain is empty).
    pub head_hash: [u8; 32],
    /// How many times the case's grants or rotation links changed (0 when
    /// created): a cached copy with another version fetches its keys again.
    pub keys_version: u64,
}

/// One sealed, signed entry of a case's chain, with the fields of its header
/// the server indexes by (copied from the header; clients check the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEntryRow {
    pub case_id: Id,
    pub seq: u64,
    pub compartment: u8,
    pub record_id: Id,
    pub generation: u32,
    /// The sealed entry (NSRE): header, ciphertext, signature.
    pub entry: Vec<u8>,
    /// The wrap of the entry's data key (NSKW); `None` once shredded.
    pub wrap: Option<Vec<u8>>,
    pub created_at: Time,
}

/// A compartment key sealed to one member (NSGR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub case_id: Id,
    pub compartment: u8,
    pub generation: u32,
    /// The account the grant is for (for access control and sync).
    pub recipient: Id,
    pub granted_by: Id,
    pub grant: Vec<u8>,
    pub created_at: Time,
}

/// A rotation link (NSRT): the previous generation sealed under the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationRow {
    pub case_id: Id,
    pub compartment: u8,
    pub new_generation: u32,
    pub link: Vec<u8>,
    pub created_at: Time,
}

/// What a member syncs of one case: its head, the member's own grants, the
/// case's rotation links, and entries from a position on. Read in one
/// snapshot, so the entries and the head agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseBundle {
    pub case: CaseRow,
    /// The grants addressed to the syncing account only.
    pub grants: Vec<GrantRow>,
    pub rotations: Vec<RotationRow>,
    /// Entries with `seq >= from`, in order; fewer than the head when the
    /// call's entry limit ran out (the caller asks again from where it stopped).
    pub entries: Vec<CaseEntryRow>,
}

/// The most cases one `case_bundles` call takes.
pub const MAX_BUNDLE_CASES: usize = 256;

/// Group the rows a backend read for `case_bundles` into bundles, one per
/// case row, in the order of `cases` (each backend sorts by case id).
pub fn assemble_bundles(
    cases: Vec<CaseRow>,
    grants: Vec<GrantRow>,
    rotations: Vec<RotationRow>,
    entries: Vec<CaseEntryRow>,
) -> Vec<CaseBundle> {
    let mut bundles: Vec<CaseBundle> = cases
        .into_iter()
        .map(|case| CaseBundle {
            case,
            grants: vec![],
            rotations: vec![],
            entries: vec![],
        })
        .collect();
    let index: std::collections::HashMap<Id, usize> = bundles
        .iter()
        .enumerate()
        .map(|(i, b)| (b.case.case_id, i))
        .collect();
    for g in grants {
        if let Some(&i) = index.get(&g.case_id) {
            bundles[i].grants.push(g);
        }
    }
    for r in rotations {
        if let Some(&i) = index.get(&r.case_id) {
            bundles[i].rotations.push(r);
        }
    }
    for e in entries {
        if let Some(&i) = index.get(&e.case_id) {
            bundles[i].entries.push(e);
        }
    }
    bundles
}

/// Refuse a `case_bundles` request that is too large or names a case twice.
pub fn check_bundle_request(wanted: &[(Id, u64)]) -> Result<(), StoreError> {
    let distinct: std::collections::HashSet<&Id> = wanted.iter().map(|(id, _)| id).collect();
    if wanted.len() > MAX_BUNDLE_CASES || distinct.len() != wanted.len() {
        return Err(StoreError::Invalid(
            "a sync request names at most 256 cases, each once",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: [u8; 32],
    pub account_id: Id,
    pub created_at: Time,
    pub expires_at: Time,
}

/// What appending a membership link does to the accounts table, applied in the
/// same transaction as the append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipEffect {
    /// Genesis or another link that changes no account.
    None,
    /// A pending account becomes an active member with this role.
    Activate {
        account_id: Id,
        role: String,
    },
    ChangeRole {
        account_id: Id,
        role: String,
    },
    /// The account is removed and all its sessions end at once.
    Remove {
        account_id: Id,
    },
}

/// The intake desk: the case whose `messages` keys derive the intake key, and
/// that key's public half for the newest generation (what the public page seals to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeDeskRow {
    pub desk_case_id: Id,
    pub generation: u32,
    pub public_key: Vec<u8>,
    pub updated_at: Time,
}

/// One requester's conversation. Everything in it is sealed; in the clear are
/// only the hash of the codename's access secret, the reply key, how it came
/// in (`browser` or `server`), whether a referral code came with it, its
/// status (`open`, `dismissed`, `opened`) and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRow {
    pub conversation_id: Id,
    pub access_hash: [u8; 32],
    pub reply_public: Vec<u8>,
    pub path: String,
    pub referred: bool,
    pub status: String,
    pub created_at: Time,
    pub updated_at: Time,
}

/// A sealed message in a conversation, numbered from 1 in the order received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeBlobRow {
    pub seq: u32,
    pub sealed: Vec<u8>,
    pub created_at: Time,
}

/// A conversation with what was sealed to the intake team (`entries`) and the
/// replies sealed to the requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeThread {
    pub conversation: ConversationRow,
    pub entries: Vec<IntakeBlobRow>,
    pub replies: Vec<IntakeBlobRow>,
}

impl IntakeThread {
    /// Group rows a backend read into threads, in the order of `conversations`;
    /// rows of conversations not listed are dropped (one that became active
    /// between two reads of a listing).
    pub fn assemble(
        conversations: Vec<ConversationRow>,
        entries: Vec<(Id, IntakeBlobRow)>,
        replies: Vec<(Id, IntakeBlobRow)>,
    ) -> Vec<IntakeThread> {
        let mut threads: Vec<IntakeThread> = conversations
            .into_iter()
            .map(|conversation| IntakeThread {
                conversation,
                entries: vec![],
                replies: vec![],
            })
            .collect();
        let index: std::collections::HashMap<Id, usize> = threads
            .iter()
            .enumerate()
            .map(|(i, t)| (t.conversation.conversation_id, i))
            .collect();
        for (id, blob) in entries {
            if let Some(&i) = index.get(&id) {
                threads[i].entries.push(blob);
            }
        }
        for (id, blob) in replies {
            if let Some(&i) = index.get(&id) {
                threads[i].replies.push(blob);
            }
        }
        threads
    }
}

/// The most conversations [`Store::intake_threads`] returns in one call.
pub const MAX_INTAKE_THREADS: u32 = 500;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Store `value` under `name` unless a value is there already; return the
    /// value that is stored after the call (so racing servers agree on one).
    async fn put_secret_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError>;
    async fn get_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Create the organization with its founder (an active admin) and its
    /// first membership links, all or nothing. `OrgExists` if any organization exists.
    async fn create_org(
        &self,
        org: &OrgRow,
        founder: &AccountRow,
        links: &[Vec<u8>],
    ) -> Result<(), StoreError>;
    async fn get_org(&self) -> Result<Option<OrgRow>, StoreError>;

    /// Check an invitation without consuming it: `InviteNotFound`, `InviteUsed`, `InviteExpired`
    /// (a used invitation is `InviteUsed` even after it expired).
    async fn check_invite(&self, invite_id: &Id, now: Time) -> Result<InviteRow, StoreError>;
    /// Consume the invitation and insert the pending account, all or nothing.
    /// Of two racing joins with one invitation exactly one succeeds.
    /// Errors as `check_invite`, then `AccountExists` (the account id is taken)
    /// or `UsernameTaken`; on any error the invitation stays unused.
    /// The account row is stored as given (the caller sets `invite_id`).
    async fn join(&self, invite_id: &Id, account: &AccountRow, now: Time)
    -> Result<(), StoreError>;

    async fn account(&self, account_id: &Id) -> Result<Option<AccountRow>, StoreError>;
    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRow>, StoreError>;
    /// Every account, oldest first (by `created_at`, ties in insertion order).
    async fn accounts(&self) -> Result<Vec<AccountRow>, StoreError>;

    /// The membership chain, in order.
    async fn membership_links(&self) -> Result<Vec<Vec<u8>>, StoreError>;
    /// Append `link` at position `seq` if the chain has exactly `seq` links
    /// (else `Conflict`), and apply `effect`, all or nothing. `OrgMissing`
    /// before `create_org`; `NotFound` if the effect names no account.
    /// The store does not judge the effect (whether a removed account may be
    /// activated again is for the chain's verifier, not the database).
    async fn append_membership_link(
        &self,
        seq: u64,
        link: &[u8],
        effect: &MembershipEffect,
    ) -> Result<(), StoreError>;

    /// `Duplicate` if the invitation id exists, `NotFound` if `created_by` is no account.
    async fn create_invite(&self, invite: &InviteRow) -> Result<(), StoreError>;
    /// Every invitation, newest first (by `created_at`, ties newest insertion
    /// first), expired ones included.
    async fn invites(&self) -> Result<Vec<InviteRow>, StoreError>;

    /// `Duplicate` if the token hash exists; `NotFound` if the account does not
    /// exist or is removed (checked in the same transaction, so a session can
    /// never outlive a racing `Remove`).
    async fn create_session(&self, session: &SessionRow) -> Result<(), StoreError>;
    /// The session if it exists and has not expired at `now`.
    async fn session(
        &self,
        token_hash: &[u8; 32],
        now: Time,
    ) -> Result<Option<SessionRow>, StoreError>;
    /// Deleting a session that does not exist is not an error (logging out twice).
    async fn delete_session(&self, token_hash: &[u8; 32]) -> Result<(), StoreError>;
    /// End every session of an account (expired ones too); returns how many ended.
    async fn delete_sessions_of(&self, account_id: &Id) -> Result<u64, StoreError>;

    /// Keep the server's half-finished OPAQUE login (sealed by the caller) until `expires_at`.
    /// `Duplicate` if the login id exists (the first state stays). `account_id`
    /// need not name an account: a sign-in for an unknown name runs under a
    /// dummy id, so that the answer looks the same whether or not the name exists.
    async fn put_login_state(
        &self,
        login_id: &Id,
        account_id: &Id,
        sealed_state: &[u8],
        expires_at: Time,
    ) -> Result<(), StoreError>;
    /// Take a login state once: it is deleted by the call; expired states are not returned.
    /// Of racing takes exactly one gets the state.
    async fn take_login_state(
        &self,
        login_id: &Id,
        now: Time,
    ) -> Result<Option<(Id, Vec<u8>)>, StoreError>;

    /// Delete expired sessions and login states (not invitations); returns how many rows went.
    async fn purge_expired(&self, now: Time) -> Result<u64, StoreError>;

    // ---- Cases: sealed entries, grants and rotations ----

    /// Create an empty case with its first grants (to its creator), all or
    /// nothing. `Duplicate` if the case id exists. `case.len` must be 0.
    async fn create_case(&self, case: &CaseRow, grants: &[GrantRow]) -> Result<(), StoreError>;
    async fn case(&self, case_id: &Id) -> Result<Option<CaseRow>, StoreError>;
    /// Append `entry` if the case's chain has exactly `entry.seq` entries (else
    /// `Conflict { expected: entry.seq, actual: len }`), and move the head to
    /// `new_head_hash`, all or nothing. `NotFound` if the case does not exist.
    /// Of two writers racing for one position exactly one succeeds.
    async fn append_case_entry(
        &self,
        entry: &CaseEntryRow,
        new_head_hash: &[u8; 32],
    ) -> Result<(), StoreError>;
    /// Entries with `seq >= from`, in order, at most `limit`.
    async fn case_entries(
        &self,
        case_id: &Id,
        from: u64,
        limit: u32,
    ) -> Result<Vec<CaseEntryRow>, StoreError>;
    /// Store grants and rotation links and delete revoked grants, all or
    /// nothing: a share, or an unshare (the new generation's grants to those
    /// who stay, its rotation link, and every grant of the leaving member for
    /// those compartments, named as (recipient, compartment) pairs in `revoke`).
    /// `Duplicate` if a grant for the same (case, compartment, generation,
    /// recipient) or a rotation for the same (case, compartment, new generation)
    /// exists; `NotFound` if the case does not.
    async fn put_grants(
        &self,
        case_id: &Id,
        grants: &[GrantRow],
        rotations: &[RotationRow],
        revoke: &[(Id, u8)],
    ) -> Result<(), StoreError>;
    /// Every grant of a case (all members, all generations), oldest first.
    async fn case_grants(&self, case_id: &Id) -> Result<Vec<GrantRow>, StoreError>;
    /// Every rotation link of a case, oldest first.
    async fn case_rotations(&self, case_id: &Id) -> Result<Vec<RotationRow>, StoreError>;
    /// The cases an account holds at least one grant for, with their heads,
    /// in order of case id, starting after `after` (for paging), at most `limit`.
    async fn cases_for_account(
        &self,
        account_id: &Id,
        after: Option<&Id>,
        limit: u32,
    ) -> Result<Vec<CaseRow>, StoreError>;
    /// Every grant an account holds, oldest first.
    async fn grants_for_account(&self, account_id: &Id) -> Result<Vec<GrantRow>, StoreError>;
    /// For each `(case, from)` in `wanted` (at most [`MAX_BUNDLE_CASES`], no
    /// case twice) that `account_id` holds a grant for, its bundle, in order
    /// of case id; cases it holds no grant for are left out. At most
    /// `entry_limit` entries in all, taken in order of (case id, seq).
    async fn case_bundles(
        &self,
        account_id: &Id,
        wanted: &[(Id, u64)],
        entry_limit: u32,
    ) -> Result<Vec<CaseBundle>, StoreError>;

    // ---- Intake ----

    /// Set the intake desk. `Invalid` if `generation` is lower than the one stored.
    async fn put_intake_desk(&self, desk: &IntakeDeskRow) -> Result<(), StoreError>;
    async fn intake_desk(&self) -> Result<Option<IntakeDeskRow>, StoreError>;
    /// Start a conversation with its first sealed message (seq 1), all or
    /// nothing. `Duplicate` if the id or the access hash is taken.
    async fn create_conversation(
        &self,
        conversation: &ConversationRow,
        first: &[u8],
    ) -> Result<(), StoreError>;
    async fn intake_thread_by_access(
        &self,
        access_hash: &[u8; 32],
    ) -> Result<Option<IntakeThread>, StoreError>;
    /// Add a sealed message from the requester; returns its seq. `NotFound`.
    async fn append_intake_entry(
        &self,
        conversation_id: &Id,
        sealed: &[u8],
        now: Time,
    ) -> Result<u32, StoreError>;
    /// A staff note, with an optional reply to the requester and an optional
    /// new status, all or nothing. `NotFound`.
    async fn add_intake_note(
        &self,
        conversation_id: &Id,
        note: &[u8],
        reply: Option<&[u8]>,
        status: Option<&str>,
        now: Time,
    ) -> Result<(), StoreError>;
    /// Conversations, most recently active first, at most `limit` (≤ [`MAX_INTAKE_THREADS`]).
    async fn intake_threads(&self, limit: u32) -> Result<Vec<IntakeThread>, StoreError>;
    /// Register a referral code's hash for `uses` requests. `Duplicate` if known.
    async fn put_referral(
        &self,
        code_hash: &[u8; 32],
        uses: u32,
        now: Time,
    ) -> Result<(), StoreError>;
    /// Spend one use of a referral code: false if unknown or used up.
    async fn use_referral(&self, code_hash: &[u8; 32]) -> Result<bool, StoreError>;
    /// Attach the intake keys sealed under an invitation's secret. `InviteNotFound`.
    async fn put_invite_intake_keys(&self, invite_id: &Id, sealed: &[u8])
    -> Result<(), StoreError>;
    async fn invite_intake_keys(&self, invite_id: &Id) -> Result<Option<Vec<u8>>, StoreError>;
}
