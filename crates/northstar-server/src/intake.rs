//! The intake API: public endpoints a requester's browser uses (sealed in the
//! page), and the staff queue. The server sees sealed blobs, the hash of each
//! codename's access secret, a reply key, the path a request came by and
//! whether a referral code came with it (docs/threat-model.md).
//!
//! Public endpoints have their own limits (a global bucket per kind of request,
//! one per codename), and store work for them waits on its own semaphore, so a
//! flood of requests holds at most a few database connections and staff
//! requests keep theirs.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Path, State};
use northstar_core::Role;
use northstar_crypto::intake::{self, PowError, SealedBy};
use northstar_protocol::{self as p, ErrorCode};
use northstar_store::{
    AccountStatus, ConversationRow, IntakeDeskRow, IntakeThread, MAX_INTAKE_THREADS,
};
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Authed, AuthedAnyStatus, b64, hex, id_from_hex, unb64, unb64_array};
use crate::limits::{Limiter, Rate};
use crate::state::{AppState, now};

/// The largest sealed message from a requester (a long story, in any script).
pub const MAX_SEALED_BYTES: usize = 32 * 1024;
/// A proof-of-work challenge is valid this long.
const POW_VALID_SECONDS: i64 = 600;
const POW_PURPOSE: &str = "intake-pow";

/// How the intake is tuned for one server process.
#[derive(Debug, Clone, Copy)]
pub struct IntakeSettings {
    /// Leading zero bits the browser path's proof of work needs.
    pub pow_bits: u8,
    /// New requests per second accepted overall (both paths), after a burst of ten times as many.
    pub requests_per_second: f64,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        IntakeSettings {
            pow_bits: intake::DEFAULT_POW_BITS,
            requests_per_second: 20.0,
        }
    }
}

/// The intake's limits and single-use memory, per server process.
pub struct IntakeGuard {
    pub settings: IntakeSettings,
    /// New requests, both paths.
    new_requests: Limiter,
    /// Server-side sealing (an Argon2id each): the no-JavaScript path.
    server_sealing: Limiter,
    /// Reading a conversation or adding to it, overall and per codename.
    returning: Limiter,
    per_codename: Limiter,
    /// Proof-of-work challenges already spent, with their expiry.
    spent: Mutex<HashMap<Vec<u8>, i64>>,
    /// Store work of public endpoints waits here, so a flood never holds every connection.
    pub(crate) store_slots: Semaphore,
    /// Argon2id of codenames on the server (19 MiB each) runs one at a time.
    pub(crate) argon_slots: Semaphore,
    /// The desk as last read, for a moment: every public request needs its key.
    desk: Mutex<Option<(std::time::Instant, IntakeDeskRow)>>,
}

/// How long a server trusts its copy of the desk row: another server on the
/// same PostgreSQL that publishes a new key is followed within this time, and
/// a page that sealed to the old key is still accepted (one generation back).
const DESK_CACHE: std::time::Duration = std::time::Duration::from_secs(2);

impl std::fmt::Debug for IntakeGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeGuard")
            .field("settings", &self.settings)
            .finish()
    }
}

impl IntakeGuard {
    pub fn new(settings: IntakeSettings) -> Self {
        let rate = |per_second: f64| Rate {
            burst: (per_second * 10.0).max(10.0),
            per_second,
        };
        IntakeGuard {
            settings,
            new_requests: Limiter::new(rate(settings.requests_per_second)),
            server_sealing: Limiter::new(rate(settings.requests_per_second.min(5.0))),
            returning: Limiter::new(rate(settings.requests_per_second * 2.0)),
            per_codename: Limiter::new(Rate {
                burst: 20.0,
                per_second: 1.0 / 30.0,
            }),
            spent: Mutex::new(HashMap::new()),
            store_slots: Semaphore::new(2),
            argon_slots: Semaphore::new(1),
            desk: Mutex::new(None),
        }
    }

    fn busy() -> ApiError {
        ApiError::new(
            ErrorCode::RateLimited,
            "the help desk is receiving very many requests: wait a minute and try again",
        )
    }

    pub(crate) fn allow_new_request(&self) -> ApiResult<()> {
        self.new_requests
            .allow("all")
            .then_some(())
            .ok_or_else(Self::busy)
    }

    pub(crate) fn allow_server_sealing(&self) -> ApiResult<()> {
        self.server_sealing
            .allow("all")
            .then_some(())
            .ok_or_else(Self::busy)
    }

    pub(crate) fn allow_return(&self, access_hash: &[u8; 32]) -> ApiResult<()> {
        if !self.returning.allow("all") || !self.per_codename.allow(&hex(access_hash)) {
            return Err(Self::busy());
        }
        Ok(())
    }

    /// Check a proof of work and spend its challenge.
    fn spend_proof(&self, state: &AppState, pow: &p::ProofOfWork) -> ApiResult<()> {
        let challenge = unb64("pow.challenge", &pow.challenge)?;
        let key = state.purpose_key(POW_PURPOSE);
        let now = now();
        intake::pow_check(
            &key,
            &challenge,
            pow.nonce,
            self.settings.pow_bits,
            now as u64,
        )
        .map_err(|e| match e {
            PowError::Expired => ApiError::bad_request(format!("proof of work: {e}")),
            _ => ApiError::bad_request(format!("proof of work refused: {e}")),
        })?;
        let mut spent = self.spent.lock().unwrap_or_else(|e| e.into_inner());
        if spent.len() > 100_000 {
            spent.retain(|_, expires| *expires >= now);
        }
        let expires = now + POW_VALID_SECONDS;
        if spent.insert(challenge, expires).is_some() {
            return Err(ApiError::bad_request(
                "proof of work refused: this challenge was already used; ask for a new one",
            ));
        }
        Ok(())
    }
}

pub(crate) async fn desk(state: &AppState) -> ApiResult<IntakeDeskRow> {
    let cached = state
        .intake
        .desk
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some((read_at, desk)) = cached
        && read_at.elapsed() < DESK_CACHE
    {
        return Ok(desk);
    }
    let desk = state.store.intake_desk().await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "this organization has not opened its help desk yet",
        )
    })?;
    *state.intake.desk.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((std::time::Instant::now(), desk.clone()));
    Ok(desk)
}

/// Check a requester's sealed message: its size, its kind and its generation
/// (the newest, or the one before it for a page loaded just before a rotation).
pub(crate) fn check_requester_blob(desk: &IntakeDeskRow, sealed: &[u8]) -> ApiResult<()> {
    if sealed.len() > MAX_SEALED_BYTES {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("a message is at most {MAX_SEALED_BYTES} bytes once sealed"),
        ));
    }
    let header = intake::parse_sealed_header(sealed)
        .map_err(|e| ApiError::bad_request(format!("sealed: {e}")))?;
    if header.by != SealedBy::Requester {
        return Err(ApiError::bad_request("sealed: not a requester's message"));
    }
    if header.generation + 1 < desk.generation || header.generation > desk.generation {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the help desk's key changed: reload the page and send again",
        ));
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/intake/config", responses((status = 200, body = p::IntakeConfig), (status = 404, body = p::ErrorBody)))]
pub async fn config(State(state): State<AppState>) -> ApiResult<axum::Json<p::IntakeConfig>> {
    let desk = desk(&state).await?;
    let org = state.store.get_org().await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::OrgMissing,
            "no organization exists on this server",
        )
    })?;
    let challenge = intake::pow_challenge(
        &state.purpose_key(POW_PURPOSE),
        (now() + POW_VALID_SECONDS) as u64,
        &mut OsRng,
    );
    Ok(axum::Json(p::IntakeConfig {
        org_id: hex(&org.org_id),
        generation: desk.generation,
        public_key: b64(&desk.public_key),
        pow_challenge: b64(&challenge),
        pow_bits: state.intake.settings.pow_bits,
        max_sealed_bytes: MAX_SEALED_BYTES as u32,
    }))
}

#[utoipa::path(post, path = "/api/intake/requests", request_body = p::IntakeSubmit,
    responses((status = 200, body = p::IntakeAccepted), (status = 400, body = p::ErrorBody), (status = 429, body = p::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<p::IntakeSubmit>,
) -> ApiResult<axum::Json<p::IntakeAccepted>> {
    let guard = &state.intake;
    guard.allow_new_request()?;
    let conversation_id = id_from_hex("conversation_id", &req.conversation_id)?;
    let sealed = unb64("sealed", &req.sealed)?;
    let access_hash: [u8; 32] = unb64_array("access_hash", &req.access_hash)?;
    let reply_public: [u8; 32] = unb64_array("reply_public", &req.reply_public)?;
    let desk = desk(&state).await?;
    check_requester_blob(&desk, &sealed)?;
    let _slot = guard
        .store_slots
        .acquire()
        .await
        .map_err(|_| IntakeGuard::busy())?;
    let referred = match (&req.referral, &req.pow) {
        (Some(code), _) if !code.trim().is_empty() => {
            if !state
                .store
                .use_referral(&intake::referral_hash(code))
                .await?
            {
                return Err(ApiError::bad_request(
                    "referral: this code is unknown or used up (send without it to solve the proof of work instead)",
                ));
            }
            true
        }
        (_, Some(pow)) => {
            guard.spend_proof(&state, pow)?;
            false
        }
        _ => {
            return Err(ApiError::bad_request(
                "a request needs a proof of work or a referral code",
            ));
        }
    };
    start_conversation(
        &state,
        conversation_id,
        access_hash,
        reply_public,
        "browser",
        referred,
        &sealed,
    )
    .await?;
    Ok(axum::Json(p::IntakeAccepted {
        conversation_id: req.conversation_id.to_lowercase(),
        referred,
    }))
}

fn nothing_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "nothing was found for this codename: check the words and try again",
    )
}

/// The conversation an access secret proves, or the same "nothing found" for
/// every wrong, mistyped or unknown codename.
pub(crate) async fn thread_for(state: &AppState, access: &[u8; 32]) -> ApiResult<IntakeThread> {
    let access_hash = intake::access_hash(access);
    state.intake.allow_return(&access_hash)?;
    let _slot = state
        .intake
        .store_slots
        .acquire()
        .await
        .map_err(|_| IntakeGuard::busy())?;
    state
        .store
        .intake_thread_by_access(&access_hash)
        .await?
        .ok_or_else(nothing_found)
}

/// Store a new conversation with its first sealed message.
pub(crate) async fn start_conversation(
    state: &AppState,
    conversation_id: [u8; 16],
    access_hash: [u8; 32],
    reply_public: [u8; 32],
    path: &str,
    referred: bool,
    sealed: &[u8],
) -> ApiResult<()> {
    let at = now();
    state
        .store
        .create_conversation(
            &ConversationRow {
                conversation_id,
                access_hash,
                reply_public: reply_public.to_vec(),
                path: path.to_owned(),
                referred,
                status: "open".into(),
                created_at: at,
                updated_at: at,
            },
            sealed,
        )
        .await
        .map_err(|e| match e {
            northstar_store::StoreError::Duplicate => ApiError::new(
                ErrorCode::Conflict,
                "this conversation or codename exists already: start again for a new codename",
            ),
            other => other.into(),
        })
}

pub(crate) fn requester_messages(thread: &IntakeThread) -> u32 {
    thread
        .entries
        .iter()
        .filter(|e| {
            intake::parse_sealed_header(&e.sealed).is_ok_and(|h| h.by == SealedBy::Requester)
        })
        .count() as u32
}

#[utoipa::path(post, path = "/api/intake/conversation", request_body = p::IntakeAccess,
    responses((status = 200, body = p::IntakeConversation), (status = 404, body = p::ErrorBody)))]
pub async fn conversation(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<p::IntakeAccess>,
) -> ApiResult<axum::Json<p::IntakeConversation>> {
    let access: [u8; 32] = unb64_array("access", &req.access)?;
    let thread = thread_for(&state, &access).await?;
    let org = state.store.get_org().await?.ok_or_else(nothing_found)?;
    Ok(axum::Json(p::IntakeConversation {
        conversation_id: hex(&thread.conversation.conversation_id),
        org_id: hex(&org.org_id),
        messages_sent: requester_messages(&thread),
        replies: thread
            .replies
            .iter()
            .map(|r| p::IntakeReply {
                sealed: b64(&r.sealed),
                at: r.created_at,
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/intake/messages", request_body = p::IntakeFollowUp,
    responses((status = 204), (status = 404, body = p::ErrorBody)))]
pub async fn follow_up(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<p::IntakeFollowUp>,
) -> ApiResult<axum::http::StatusCode> {
    let access: [u8; 32] = unb64_array("access", &req.access)?;
    let sealed = unb64("sealed", &req.sealed)?;
    state.intake.spend_proof(&state, &req.pow)?;
    let thread = thread_for(&state, &access).await?;
    let desk = desk(&state).await?;
    check_requester_blob(&desk, &sealed)?;
    state
        .store
        .append_intake_entry(&thread.conversation.conversation_id, &sealed, now())
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

// ---- Staff ----

fn works_the_intake(role: Option<&str>) -> bool {
    matches!(
        role.and_then(|r| r.parse::<Role>().ok()),
        Some(Role::Admin | Role::Intake)
    )
}

/// Intake officers and admins; also someone who joined with an intake or admin
/// invitation and waits for admission: their invitation carries the desk keys,
/// so the queue is theirs to read from the moment they join.
async fn require_intake(state: &AppState, authed: &Authed) -> ApiResult<()> {
    let account = &authed.account;
    let allowed = match account.status {
        AccountStatus::Active => works_the_intake(account.role.as_deref()),
        AccountStatus::Pending => match account.invite_id {
            Some(invite_id) => state
                .store
                .invites()
                .await?
                .iter()
                .any(|i| i.invite_id == invite_id && works_the_intake(Some(&i.role))),
            None => false,
        },
        AccountStatus::Removed => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "only intake officers and admins work the intake queue",
        ))
    }
}

#[utoipa::path(get, path = "/api/intake/items", responses((status = 200, body = p::IntakeItems), (status = 403, body = p::ErrorBody)))]
pub async fn items(
    State(state): State<AppState>,
    AuthedAnyStatus(authed): AuthedAnyStatus,
) -> ApiResult<axum::Json<p::IntakeItems>> {
    require_intake(&state, &authed).await?;
    let desk = state.store.intake_desk().await?;
    let threads = state.store.intake_threads(MAX_INTAKE_THREADS).await?;
    Ok(axum::Json(p::IntakeItems {
        desk: desk.map(|d| p::IntakeDesk {
            desk_case_id: hex(&d.desk_case_id),
            generation: d.generation,
            public_key: b64(&d.public_key),
        }),
        items: threads
            .into_iter()
            .map(|t| p::IntakeItem {
                conversation_id: hex(&t.conversation.conversation_id),
                created_at: t.conversation.created_at,
                updated_at: t.conversation.updated_at,
                path: t.conversation.path,
                referred: t.conversation.referred,
                status: t.conversation.status,
                reply_public: b64(&t.conversation.reply_public),
                entries: t
                    .entries
                    .into_iter()
                    .map(|e| p::IntakeEntry {
                        seq: e.seq,
                        sealed: b64(&e.sealed),
                        at: e.created_at,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/intake/desk", responses((status = 200, body = p::IntakeDesk), (status = 404, body = p::ErrorBody)))]
pub async fn get_desk(
    State(state): State<AppState>,
    AuthedAnyStatus(authed): AuthedAnyStatus,
) -> ApiResult<axum::Json<p::IntakeDesk>> {
    require_intake(&state, &authed).await?;
    let d = desk(&state).await?;
    Ok(axum::Json(p::IntakeDesk {
        desk_case_id: hex(&d.desk_case_id),
        generation: d.generation,
        public_key: b64(&d.public_key),
    }))
}

#[utoipa::path(put, path = "/api/intake/desk", request_body = p::IntakeDesk,
    responses((status = 204), (status = 403, body = p::ErrorBody)))]
pub async fn put_desk(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(req): ApiJson<p::IntakeDesk>,
) -> ApiResult<axum::http::StatusCode> {
    authed.require_admin()?;
    let desk_case_id = id_from_hex("desk_case_id", &req.desk_case_id)?;
    let public_key: [u8; 32] = unb64_array("public_key", &req.public_key)?;
    if state.store.case(&desk_case_id).await?.is_none() {
        return Err(ApiError::new(ErrorCode::NotFound, "no such desk case"));
    }
    state
        .store
        .put_intake_desk(&IntakeDeskRow {
            desk_case_id,
            generation: req.generation,
            public_key: public_key.to_vec(),
            updated_at: now(),
        })
        .await?;
    *state.intake.desk.lock().unwrap_or_else(|e| e.into_inner()) = None;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/intake/items/{conversation_id}/notes", request_body = p::IntakeStaffNote,
    responses((status = 204), (status = 404, body = p::ErrorBody)))]
pub async fn add_note(
    State(state): State<AppState>,
    AuthedAnyStatus(authed): AuthedAnyStatus,
    Path(conversation_id): Path<String>,
    ApiJson(req): ApiJson<p::IntakeStaffNote>,
) -> ApiResult<axum::http::StatusCode> {
    require_intake(&state, &authed).await?;
    let conversation_id = id_from_hex("conversation_id", &conversation_id)?;
    let note = unb64("note", &req.note)?;
    let header = intake::parse_sealed_header(&note)
        .map_err(|e| ApiError::bad_request(format!("note: {e}")))?;
    if header.by != SealedBy::Staff || note.len() > MAX_SEALED_BYTES {
        return Err(ApiError::bad_request(
            "note: not a staff note, or too large",
        ));
    }
    let reply = req
        .reply
        .as_deref()
        .map(|r| unb64("reply", r))
        .transpose()?;
    if reply.as_ref().is_some_and(|r| r.len() > MAX_SEALED_BYTES) {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            "reply: too large",
        ));
    }
    if let Some(status) = req.status.as_deref()
        && !matches!(status, "dismissed" | "opened" | "open")
    {
        return Err(ApiError::bad_request(
            "status: expected open, dismissed or opened",
        ));
    }
    state
        .store
        .add_intake_note(
            &conversation_id,
            &note,
            reply.as_deref(),
            req.status.as_deref(),
            now(),
        )
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/intake/referrals", request_body = p::CreateReferral,
    responses((status = 204), (status = 403, body = p::ErrorBody)))]
pub async fn create_referral(
    State(state): State<AppState>,
    AuthedAnyStatus(authed): AuthedAnyStatus,
    ApiJson(req): ApiJson<p::CreateReferral>,
) -> ApiResult<axum::http::StatusCode> {
    require_intake(&state, &authed).await?;
    if !(1..=10_000).contains(&req.uses) {
        return Err(ApiError::bad_request("uses: 1 to 10000"));
    }
    let hash: [u8; 32] = unb64_array("code_hash", &req.code_hash)?;
    state.store.put_referral(&hash, req.uses, now()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/intake/invite-keys", responses((status = 200, body = p::InviteIntakeKeys), (status = 404, body = p::ErrorBody)))]
pub async fn invite_keys(
    State(state): State<AppState>,
    AuthedAnyStatus(authed): AuthedAnyStatus,
) -> ApiResult<axum::Json<p::InviteIntakeKeys>> {
    let none = || {
        ApiError::new(
            ErrorCode::NotFound,
            "this account's invitation carries no intake keys",
        )
    };
    let invite_id = authed.account.invite_id.ok_or_else(none)?;
    let sealed = state
        .store
        .invite_intake_keys(&invite_id)
        .await?
        .ok_or_else(none)?;
    Ok(axum::Json(p::InviteIntakeKeys {
        invite_id: hex(&invite_id),
        sealed: b64(&sealed),
    }))
}
