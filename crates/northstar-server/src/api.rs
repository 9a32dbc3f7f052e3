//! The HTTP handlers: thin checks over the store. Clients verify everything the
//! server hands them; the checks here are defence in depth and keep the
//! database consistent with the membership chain.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use northstar_core::Role;
use northstar_crypto::identity::MemberPublicKeys;
use northstar_crypto::localseal;
use northstar_crypto::membership::{LinkAction, MembershipState, valid_name};
use northstar_crypto::opaque::Suite;
use northstar_crypto::opaque::opaque_ke::{
    CredentialFinalization, CredentialRequest, RegistrationRequest, RegistrationUpload,
    ServerLogin, ServerLoginParameters, ServerRegistration,
};
use northstar_crypto::{AccountId, OrgId};
use northstar_protocol::{self as p, ErrorCode, paths};
use northstar_store::{
    AccountRow, AccountStatus, Id, InviteRow, MembershipEffect, OrgRow, SessionRow,
};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, ApiResult};
use crate::extract::{
    ApiJson, Authed, AuthedAnyStatus, b64, hex, id_from_hex, token_hash, unb64, unb64_array,
};
use crate::state::{AppState, now};

/// Sessions are short-lived: a stolen token is worth an hour at most.
pub const SESSION_SECONDS: i64 = 3600;
/// A half-finished sign-in is forgotten after a minute.
const LOGIN_STATE_SECONDS: i64 = 60;
/// No request body of this API is larger (sealed key material, links, invites).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// An invitation lives at most 30 days.
const MAX_INVITE_SECONDS: i64 = 30 * 24 * 3600;
const LOGIN_STATE_LABEL: &str = "northstar/v1/server/login-state";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(paths::HEALTHZ, get(healthz))
        .route(paths::OPENAPI, get(openapi))
        .route(paths::ORG_INIT_START, post(org_init_start))
        .route(paths::ORG_INIT_FINISH, post(org_init_finish))
        .route(paths::JOIN_START, post(join_start))
        .route(paths::JOIN_FINISH, post(join_finish))
        .route(paths::LOGIN_START, post(login_start))
        .route(paths::LOGIN_FINISH, post(login_finish))
        .route(paths::LOGOUT, post(logout))
        .route(paths::ME, get(me))
        .route(paths::ME_KEYS, get(me_keys))
        .route(paths::ORG, get(org_chain))
        .route(paths::ORG_LINKS, post(append_link))
        .route(paths::ORG_PENDING, get(pending_members))
        .route(paths::INVITES, post(create_invite).get(list_invites))
        .route(paths::CASES, post(crate::cases::create_case).get(crate::cases::list_cases))
        .route(
            paths::CASE_ENTRIES,
            post(crate::cases::append_entry)
                .get(crate::cases::entries)
                .layer(DefaultBodyLimit::max(2 * crate::cases::MAX_ENTRY_BYTES)),
        )
        .route(paths::CASES_SYNC, post(crate::cases::sync))
        .route(
            paths::CASE_GRANTS,
            post(crate::cases::change_grants).get(crate::cases::grants),
        )
        .route(paths::INTAKE_CONFIG, get(crate::intake::config))
        .route(paths::INTAKE_REQUESTS, post(crate::intake::submit))
        .route(paths::INTAKE_CONVERSATION, post(crate::intake::conversation))
        .route(paths::INTAKE_MESSAGES, post(crate::intake::follow_up))
        .route(paths::INTAKE_ITEMS, get(crate::intake::items))
        .route(
            paths::INTAKE_DESK,
            get(crate::intake::get_desk).put(crate::intake::put_desk),
        )
        .route(paths::INTAKE_ITEM_NOTES, post(crate::intake::add_note))
        .route(paths::INTAKE_REFERRALS, post(crate::intake::create_referral))
        .route(paths::INTAKE_INVITE_KEYS, get(crate::intake::invite_keys))
        .route(paths::HELP, get(crate::help::show_form).post(crate::help::submit_form))
        .route(paths::HELP_RETURN, get(crate::help::show_return).post(crate::help::submit_return))
        .route(paths::HELP_MESSAGE, post(crate::help::submit_message))
        .route("/help/assets/help.js", get(crate::help::script))
        .route("/help/assets/help.css", get(crate::help::stylesheet))
        .route("/", get(crate::webapp::index))
        .route("/assets/{*path}", get(crate::webapp::asset))
        .route("/app", get(crate::webapp::redirect_to_root))
        .route("/app/", get(crate::webapp::redirect_to_root))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_oversized))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(
                    |res: &axum::http::Response<_>, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(status = res.status().as_u16(), ms = latency.as_millis() as u64, "served");
                    },
                ),
        )
        .with_state(state)
}

/// Refuse a declared oversized body before any handler runs, whether or not the
/// endpoint reads a body (bodies without a length are cut off when read).
async fn refuse_oversized(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let path = req.uri().path();
    let limit = if path.starts_with("/api/cases/") && path.ends_with("/entries") {
        2 * crate::cases::MAX_ENTRY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this endpoint accepts",
        )
        .into_response();
    }
    next.run(req).await
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The panic payload may hold data from the request: it is not logged.
    tracing::error!("a handler panicked; the request was refused and nothing was changed");
    ApiError::new(
        ErrorCode::Internal,
        "the server failed; nothing was changed",
    )
    .into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such endpoint")
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The server is up")))]
pub async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/api/openapi.json", responses((status = 200, description = "This document")))]
pub async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        crate::openapi::openapi_json(),
    )
        .into_response()
}

fn opaque_error(what: &str) -> ApiError {
    ApiError::bad_request(format!("{what} is not a valid OPAQUE message"))
}

fn check_username(username: &str) -> ApiResult<()> {
    if valid_name(username) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "a user name is 1 to 64 bytes, without control characters or surrounding spaces",
        ))
    }
}

fn registration_response(
    state: &AppState,
    register: &p::RegisterStart,
) -> ApiResult<p::RegisterStartResponse> {
    check_username(&register.username)?;
    let account_id = id_from_hex("account_id", &register.account_id)?;
    let request = RegistrationRequest::<Suite>::deserialize(&unb64(
        "registration_request",
        &register.registration_request,
    )?)
    .map_err(|_| opaque_error("registration_request"))?;
    let started = ServerRegistration::<Suite>::start(&state.opaque, request, &account_id)
        .map_err(|_| opaque_error("registration_request"))?;
    Ok(p::RegisterStartResponse {
        registration_response: b64(&started.message.serialize()),
    })
}

fn rate_limited() -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "too many attempts; wait a minute and try again",
    )
}

#[utoipa::path(post, path = "/api/org/init/start", request_body = p::OrgInitStart,
    responses((status = 200, body = p::RegisterStartResponse), (status = 409, body = p::ErrorBody), (status = 400, body = p::ErrorBody)))]
pub async fn org_init_start(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<p::OrgInitStart>,
) -> ApiResult<axum::Json<p::RegisterStartResponse>> {
    if !state.limits.register_global.allow("register") {
        return Err(rate_limited());
    }
    if state.store.get_org().await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::OrgExists,
            "this server already has an organization",
        ));
    }
    registration_response(&state, &req.register).map(axum::Json)
}

struct CheckedMaterial {
    keys: MemberPublicKeys,
    slot: Vec<u8>,
    keybox: Vec<u8>,
    org_root_box: Option<Vec<u8>>,
}

fn check_material(m: &p::KeyMaterial) -> ApiResult<CheckedMaterial> {
    let keys = MemberPublicKeys {
        signing: unb64_array("keys.signing", &m.keys.signing)?,
        agreement: unb64_array("keys.agreement", &m.keys.agreement)?,
    };
    keys.check()
        .map_err(|e| ApiError::bad_request(format!("the public keys are refused: {e}")))?;
    let slot = unb64("slot", &m.slot)?;
    let keybox = unb64("keybox", &m.keybox)?;
    let org_root_box = m
        .org_root_box
        .as_deref()
        .map(|b| unb64("org_root_box", b))
        .transpose()?;
    if slot.len() != northstar_crypto::slot::SLOT_LEN
        || keybox.len() > 512
        || org_root_box.as_ref().is_some_and(|b| b.len() > 512)
    {
        return Err(ApiError::bad_request(
            "the sealed key material has the wrong size",
        ));
    }
    Ok(CheckedMaterial {
        keys,
        slot,
        keybox,
        org_root_box,
    })
}

fn chain_rejected(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::ChainRejected,
        format!("the membership chain is refused: {e}"),
    )
}

async fn new_session(state: &AppState, account_id: Id) -> ApiResult<p::Session> {
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    let token = b64(&raw);
    let created_at = now();
    let session = SessionRow {
        token_hash: token_hash(&token),
        account_id,
        created_at,
        expires_at: created_at + SESSION_SECONDS,
    };
    state.store.create_session(&session).await?;
    Ok(p::Session {
        token,
        expires_at: session.expires_at,
    })
}

#[utoipa::path(post, path = "/api/org/init/finish", request_body = p::OrgInitFinish,
    responses((status = 200, body = p::Session), (status = 409, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn org_init_finish(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<p::OrgInitFinish>,
) -> ApiResult<axum::Json<p::Session>> {
    check_username(&req.username)?;
    let account_id = id_from_hex("account_id", &req.account_id)?;
    let org_id = id_from_hex("org.org_id", &req.org.org_id)?;
    let root_public_key: [u8; 32] = unb64_array("org.root_public_key", &req.org.root_public_key)?;
    let material = check_material(&req.material)?;
    if material.org_root_box.is_none() {
        return Err(ApiError::bad_request(
            "the founder uploads the sealed organization root key",
        ));
    }
    let links = req
        .links
        .iter()
        .map(|l| unb64("links", l))
        .collect::<ApiResult<Vec<_>>>()?;
    if links.len() != 2 {
        return Err(ApiError::bad_request(
            "an organization starts with exactly two links",
        ));
    }
    let chain = MembershipState::verify(&root_public_key, &links).map_err(chain_rejected)?;
    let founder = chain
        .member(AccountId(account_id))
        .ok_or_else(|| chain_rejected("the links do not add the founder"))?;
    if chain.org != OrgId(org_id)
        || chain.org_name != req.org.name
        || founder.name != req.username
        || founder.role != Role::Admin
        || founder.keys != material.keys
    {
        return Err(chain_rejected(
            "the links do not match the organization and founder sent",
        ));
    }
    let upload = RegistrationUpload::<Suite>::deserialize(&unb64(
        "registration_upload",
        &req.registration_upload,
    )?)
    .map_err(|_| opaque_error("registration_upload"))?;
    let record = ServerRegistration::<Suite>::finish(upload)
        .serialize()
        .to_vec();
    let created_at = now();
    let founder_row = AccountRow {
        account_id,
        username: req.username.clone(),
        opaque_record: record,
        slot: material.slot,
        keybox: material.keybox,
        org_root_box: material.org_root_box,
        signing_key: material.keys.signing.to_vec(),
        agreement_key: material.keys.agreement.to_vec(),
        role: Some(Role::Admin.name().to_owned()),
        status: AccountStatus::Active,
        invite_id: None,
        join_proof: None,
        created_at,
    };
    let org = OrgRow {
        org_id,
        name: req.org.name.clone(),
        root_public_key: root_public_key.to_vec(),
        created_at,
    };
    state.store.create_org(&org, &founder_row, &links).await?;
    tracing::info!("organization created");
    new_session(&state, account_id).await.map(axum::Json)
}

fn org_info(org: &OrgRow) -> p::OrgInfo {
    p::OrgInfo {
        org_id: hex(&org.org_id),
        name: org.name.clone(),
        root_public_key: b64(&org.root_public_key),
    }
}

async fn existing_org(state: &AppState) -> ApiResult<OrgRow> {
    state.store.get_org().await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::OrgMissing,
            "no organization exists on this server yet",
        )
    })
}

fn invite_id(value: &str) -> ApiResult<Id> {
    id_from_hex("invite_id", value)
}

#[utoipa::path(post, path = "/api/join/start", request_body = p::JoinStart,
    responses((status = 200, body = p::JoinStartResponse), (status = 404, body = p::ErrorBody), (status = 410, body = p::ErrorBody)))]
pub async fn join_start(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<p::JoinStart>,
) -> ApiResult<axum::Json<p::JoinStartResponse>> {
    if !state.limits.register_global.allow("register") {
        return Err(rate_limited());
    }
    let org = existing_org(&state).await?;
    state
        .store
        .check_invite(&invite_id(&req.invite_id)?, now())
        .await?;
    check_username(&req.register.username)?;
    if state
        .store
        .account_by_username(&req.register.username)
        .await?
        .is_some()
    {
        return Err(ApiError::new(
            ErrorCode::UsernameTaken,
            "that name is already taken",
        ));
    }
    let response = registration_response(&state, &req.register)?;
    Ok(axum::Json(p::JoinStartResponse {
        registration_response: response.registration_response,
        org: org_info(&org),
    }))
}

#[utoipa::path(post, path = "/api/join/finish", request_body = p::JoinFinish,
    responses((status = 200, body = p::Session), (status = 404, body = p::ErrorBody), (status = 409, body = p::ErrorBody), (status = 410, body = p::ErrorBody)))]
pub async fn join_finish(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<p::JoinFinish>,
) -> ApiResult<axum::Json<p::Session>> {
    existing_org(&state).await?;
    check_username(&req.username)?;
    let account_id = id_from_hex("account_id", &req.account_id)?;
    let invite = invite_id(&req.invite_id)?;
    let material = check_material(&req.material)?;
    if material.org_root_box.is_some() {
        return Err(ApiError::bad_request(
            "only the founder uploads an organization root key",
        ));
    }
    let proof = unb64("proof", &req.proof)?;
    if proof.len() != 32 {
        return Err(ApiError::bad_request("proof must be 32 bytes"));
    }
    let upload = RegistrationUpload::<Suite>::deserialize(&unb64(
        "registration_upload",
        &req.registration_upload,
    )?)
    .map_err(|_| opaque_error("registration_upload"))?;
    let account = AccountRow {
        account_id,
        username: req.username.clone(),
        opaque_record: ServerRegistration::<Suite>::finish(upload)
            .serialize()
            .to_vec(),
        slot: material.slot,
        keybox: material.keybox,
        org_root_box: None,
        signing_key: material.keys.signing.to_vec(),
        agreement_key: material.keys.agreement.to_vec(),
        role: None,
        status: AccountStatus::Pending,
        invite_id: Some(invite),
        join_proof: Some(proof),
        created_at: now(),
    };
    state.store.join(&invite, &account, now()).await?;
    tracing::info!("an account joined and waits for approval");
    new_session(&state, account_id).await.map(axum::Json)
}

/// The id a sign-in for an unknown name runs under: stable per name, so that
/// repeated attempts look like a real account's.
fn dummy_account_id(state: &AppState, username: &str) -> Id {
    let mut h = Sha256::new();
    h.update(&state.purpose_key("dummy-account")[..]);
    h.update(username.as_bytes());
    h.finalize()[..16].try_into().expect("16 bytes")
}

#[utoipa::path(post, path = "/api/auth/login/start", request_body = p::LoginStart,
    responses((status = 200, body = p::LoginStartResponse), (status = 429, body = p::ErrorBody)))]
pub async fn login_start(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<p::LoginStart>,
) -> ApiResult<axum::Json<p::LoginStartResponse>> {
    if req.username.len() > 256 {
        return Err(ApiError::bad_request("the user name is too long"));
    }
    if !state.limits.login_global.allow("login")
        || !state.limits.login_per_account.allow(&req.username)
    {
        return Err(rate_limited());
    }
    let request = CredentialRequest::<Suite>::deserialize(&unb64(
        "credential_request",
        &req.credential_request,
    )?)
    .map_err(|_| opaque_error("credential_request"))?;
    let account = state.store.account_by_username(&req.username).await?;
    let (credential_id, password_file) = match &account {
        Some(a) => (
            a.account_id,
            Some(
                ServerRegistration::<Suite>::deserialize(&a.opaque_record).map_err(|_| {
                    ApiError::new(ErrorCode::Internal, "a stored account is damaged")
                })?,
            ),
        ),
        // The library answers with a dummy response of the same shape.
        None => (dummy_account_id(&state, &req.username), None),
    };
    let started = ServerLogin::start(
        &mut OsRng,
        &state.opaque,
        password_file,
        request,
        &credential_id,
        ServerLoginParameters::default(),
    )
    .map_err(|_| opaque_error("credential_request"))?;
    let mut login_id = [0u8; 16];
    OsRng.fill_bytes(&mut login_id);
    let sealed = localseal::seal(
        &state.purpose_key("login-state"),
        LOGIN_STATE_LABEL,
        &started.state.serialize(),
        &mut OsRng,
    );
    state
        .store
        .put_login_state(
            &login_id,
            &credential_id,
            &sealed,
            now() + LOGIN_STATE_SECONDS,
        )
        .await?;
    Ok(axum::Json(p::LoginStartResponse {
        login_id: hex(&login_id),
        credential_response: b64(&started.message.serialize()),
    }))
}

fn login_failed() -> ApiError {
    ApiError::new(
        ErrorCode::LoginFailed,
        "sign-in failed: unknown name or wrong passphrase",
    )
}

#[utoipa::path(post, path = "/api/auth/login/finish", request_body = p::LoginFinish,
    responses((status = 200, body = p::LoginFinishResponse), (status = 401, body = p::ErrorBody), (status = 403, body = p::ErrorBody)))]
pub async fn login_finish(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<p::LoginFinish>,
) -> ApiResult<axum::Json<p::LoginFinishResponse>> {
    let login_id = id_from_hex("login_id", &req.login_id)?;
    let finalization = CredentialFinalization::<Suite>::deserialize(&unb64(
        "credential_finalization",
        &req.credential_finalization,
    )?)
    .map_err(|_| opaque_error("credential_finalization"))?;
    let (account_id, sealed) = state
        .store
        .take_login_state(&login_id, now())
        .await?
        .ok_or_else(login_failed)?;
    let opened = localseal::open(
        &state.purpose_key("login-state"),
        LOGIN_STATE_LABEL,
        &sealed,
    )
    .map_err(|_| login_failed())?;
    let login = ServerLogin::<Suite>::deserialize(&opened).map_err(|_| login_failed())?;
    login
        .finish(finalization, ServerLoginParameters::default())
        .map_err(|_| login_failed())?;
    let account = state
        .store
        .account(&account_id)
        .await?
        .ok_or_else(login_failed)?;
    if account.status == AccountStatus::Removed {
        return Err(ApiError::new(
            ErrorCode::MemberRemoved,
            "this account was removed from the organization",
        ));
    }
    state.limits.login_per_account.refund(&account.username);
    let session = new_session(&state, account_id).await?;
    Ok(axum::Json(p::LoginFinishResponse {
        account_id: hex(&account_id),
        session,
    }))
}

#[utoipa::path(post, path = "/api/auth/logout", responses((status = 204), (status = 401, body = p::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    AuthedAnyStatus(authed): AuthedAnyStatus,
) -> ApiResult<StatusCode> {
    state.store.delete_session(&authed.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn public_keys(a: &AccountRow) -> p::PublicKeys {
    p::PublicKeys {
        signing: b64(&a.signing_key),
        agreement: b64(&a.agreement_key),
    }
}

#[utoipa::path(get, path = "/api/me", responses((status = 200, body = p::Me), (status = 401, body = p::ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    AuthedAnyStatus(authed): AuthedAnyStatus,
) -> ApiResult<axum::Json<p::Me>> {
    let org = existing_org(&state).await?;
    let a = authed.account;
    Ok(axum::Json(p::Me {
        account_id: hex(&a.account_id),
        username: a.username,
        role: a.role,
        status: match a.status {
            AccountStatus::Pending => p::AccountStatus::Pending,
            AccountStatus::Active => p::AccountStatus::Active,
            AccountStatus::Removed => p::AccountStatus::Removed,
        },
        org: org_info(&org),
    }))
}

#[utoipa::path(get, path = "/api/me/keys", responses((status = 200, body = p::KeyMaterial), (status = 401, body = p::ErrorBody)))]
pub async fn me_keys(AuthedAnyStatus(authed): AuthedAnyStatus) -> axum::Json<p::KeyMaterial> {
    let a = authed.account;
    axum::Json(p::KeyMaterial {
        keys: public_keys(&a),
        slot: b64(&a.slot),
        keybox: b64(&a.keybox),
        org_root_box: a.org_root_box.as_deref().map(b64),
    })
}

#[utoipa::path(get, path = "/api/org", responses((status = 200, body = p::OrgChain), (status = 401, body = p::ErrorBody), (status = 403, body = p::ErrorBody)))]
pub async fn org_chain(
    State(state): State<AppState>,
    _authed: Authed,
) -> ApiResult<axum::Json<p::OrgChain>> {
    let org = existing_org(&state).await?;
    let links = state.store.membership_links().await?;
    Ok(axum::Json(p::OrgChain {
        org: org_info(&org),
        links: links.iter().map(|l| b64(l)).collect(),
    }))
}

#[utoipa::path(post, path = "/api/org/links", request_body = p::AppendLink,
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 409, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn append_link(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(req): ApiJson<p::AppendLink>,
) -> ApiResult<StatusCode> {
    authed.require_admin()?;
    let link = unb64("link", &req.link)?;
    if link.len() > 1024 {
        return Err(ApiError::bad_request("a membership link is at most 1 KiB"));
    }
    let org = existing_org(&state).await?;
    let root: [u8; 32] = org
        .root_public_key
        .as_slice()
        .try_into()
        .map_err(|_| ApiError::new(ErrorCode::Internal, "the stored root key is damaged"))?;
    let links = state.store.membership_links().await?;
    if req.seq != links.len() as u64 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "the chain has {} links, not {}: fetch it and sign again",
                links.len(),
                req.seq
            ),
        ));
    }
    let mut chain = MembershipState::verify(&root, &links).map_err(chain_rejected)?;
    let parsed =
        northstar_crypto::membership::parse_link(&link, req.seq).map_err(chain_rejected)?;
    chain.apply(&link).map_err(chain_rejected)?;
    let effect = match parsed.body.action {
        LinkAction::Add {
            account,
            name,
            role,
            keys,
        } => {
            let pending = state
                .store
                .account(account.as_bytes())
                .await?
                .filter(|a| a.status == AccountStatus::Pending)
                .ok_or_else(|| {
                    chain_rejected("the link adds an account that is not waiting to join")
                })?;
            if pending.username != name
                || pending.signing_key != keys.signing
                || pending.agreement_key != keys.agreement
            {
                return Err(chain_rejected(
                    "the link does not match the account that joined",
                ));
            }
            MembershipEffect::Activate {
                account_id: account.0,
                role: role.name().to_owned(),
            }
        }
        LinkAction::ChangeRole { account, role } => MembershipEffect::ChangeRole {
            account_id: account.0,
            role: role.name().to_owned(),
        },
        LinkAction::Remove { account } => MembershipEffect::Remove {
            account_id: account.0,
        },
        LinkAction::Create { .. } => return Err(chain_rejected("a second create link")),
    };
    state
        .store
        .append_membership_link(req.seq, &link, &effect)
        .await?;
    tracing::info!(seq = req.seq, "membership link appended");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/org/pending", responses((status = 200, body = Vec<p::PendingMember>), (status = 403, body = p::ErrorBody)))]
pub async fn pending_members(
    State(state): State<AppState>,
    authed: Authed,
) -> ApiResult<axum::Json<Vec<p::PendingMember>>> {
    authed.require_admin()?;
    let pending = state
        .store
        .accounts()
        .await?
        .into_iter()
        .filter(|a| a.status == AccountStatus::Pending)
        .map(|a| p::PendingMember {
            account_id: hex(&a.account_id),
            keys: public_keys(&a),
            invite_id: a.invite_id.map(|i| hex(&i)).unwrap_or_default(),
            proof: a.join_proof.as_deref().map(b64).unwrap_or_default(),
            joined_at: a.created_at,
            username: a.username,
        })
        .collect();
    Ok(axum::Json(pending))
}

fn invite_body(i: InviteRow) -> p::Invite {
    p::Invite {
        invite_id: hex(&i.invite_id),
        role: i.role,
        created_by: hex(&i.created_by),
        created_at: i.created_at,
        expires_at: i.expires_at,
        used_by: i.used_by.map(|u| hex(&u)),
        sealed_secret: b64(&i.sealed_secret),
    }
}

#[utoipa::path(post, path = "/api/invites", request_body = p::CreateInvite,
    responses((status = 200, body = p::Invite), (status = 403, body = p::ErrorBody), (status = 400, body = p::ErrorBody)))]
pub async fn create_invite(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(req): ApiJson<p::CreateInvite>,
) -> ApiResult<axum::Json<p::Invite>> {
    authed.require_admin()?;
    let role: Role = req
        .role
        .parse()
        .map_err(|e: northstar_core::UnknownName| ApiError::bad_request(e.to_string()))?;
    if !(1..=MAX_INVITE_SECONDS).contains(&req.valid_for_seconds) {
        return Err(ApiError::bad_request(
            "an invitation is valid for 1 second to 30 days",
        ));
    }
    let sealed_secret = unb64("sealed_secret", &req.sealed_secret)?;
    if sealed_secret.len() > 256 {
        return Err(ApiError::bad_request("sealed_secret is at most 256 bytes"));
    }
    let created_at = now();
    let invite = InviteRow {
        invite_id: invite_id(&req.invite_id)?,
        role: role.name().to_owned(),
        created_by: authed.account.account_id,
        created_at,
        expires_at: created_at + req.valid_for_seconds,
        used_by: None,
        used_at: None,
        sealed_secret,
    };
    let sealed_intake_keys = req
        .sealed_intake_keys
        .as_deref()
        .map(|k| unb64("sealed_intake_keys", k))
        .transpose()?;
    if sealed_intake_keys
        .as_ref()
        .is_some_and(|k| k.len() > 16 * 1024)
    {
        return Err(ApiError::bad_request(
            "sealed_intake_keys is at most 16 KiB",
        ));
    }
    state.store.create_invite(&invite).await?;
    if let Some(keys) = sealed_intake_keys {
        state
            .store
            .put_invite_intake_keys(&invite.invite_id, &keys)
            .await?;
    }
    Ok(axum::Json(invite_body(invite)))
}

#[utoipa::path(get, path = "/api/invites", responses((status = 200, body = Vec<p::Invite>), (status = 403, body = p::ErrorBody)))]
pub async fn list_invites(
    State(state): State<AppState>,
    authed: Authed,
) -> ApiResult<axum::Json<Vec<p::Invite>>> {
    authed.require_admin()?;
    Ok(axum::Json(
        state
            .store
            .invites()
            .await?
            .into_iter()
            .map(invite_body)
            .collect(),
    ))
}
