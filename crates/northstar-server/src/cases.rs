//! Cases on the server: sealed entries on per-case hash chains, grants and
//! rotation links. The server cannot open any of it. It checks what it can
//! without keys — signatures against the registered keys, chain positions,
//! that grants name real members — and serves a case only to members who hold
//! a grant for it (defence in depth: the cryptography is the real boundary).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use northstar_core::Compartment;
use northstar_crypto::envelope::{entry_hash, verify_entry};
use northstar_crypto::grant::{parse_rotation_header, verify_grant};
use northstar_crypto::identity::{AuthorKey, MemberPublicKeys};
use northstar_protocol::{self as p, ErrorCode};
use northstar_store::{
    AccountRow, AccountStatus, CaseEntryRow, CaseRow, GrantRow, Id, RotationRow,
};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Authed, b64, hex, id_from_hex, unb64};
use crate::state::{AppState, now};

/// One sealed entry is at most 1 MiB (bigger documents are split by the client).
pub const MAX_ENTRY_BYTES: usize = 1024 * 1024;
const MAX_PAGE: u32 = 1000;

fn author_key(account: &AccountRow) -> ApiResult<AuthorKey> {
    let keys = MemberPublicKeys {
        signing: account
            .signing_key
            .as_slice()
            .try_into()
            .map_err(|_| damaged())?,
        agreement: account
            .agreement_key
            .as_slice()
            .try_into()
            .map_err(|_| damaged())?,
    };
    AuthorKey::new(keys).map_err(|_| damaged())
}

fn damaged() -> ApiError {
    ApiError::new(ErrorCode::Internal, "a stored account is damaged")
}

fn refused(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::ChainRejected, format!("{what} is refused: {e}"))
}

fn head(case: &CaseRow) -> p::CaseHead {
    p::CaseHead {
        case_id: hex(&case.case_id),
        len: case.len,
        head_hash: hex(&case.head_hash),
        keys_version: case.keys_version,
    }
}

async fn org_id(state: &AppState) -> ApiResult<Id> {
    Ok(state
        .store
        .get_org()
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::OrgMissing, "no organization exists yet"))?
        .org_id)
}

/// Check uploaded grants: each names this case, is signed by the caller, and is
/// addressed to the keys of an active member.
async fn check_grants(
    state: &AppState,
    case_id: Id,
    granter: &AccountRow,
    uploads: &[p::GrantUpload],
) -> ApiResult<Vec<GrantRow>> {
    let org = org_id(state).await?;
    let granter_key = author_key(granter)?;
    let mut rows = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let bytes = unb64("grant", &upload.grant)?;
        let header = verify_grant(&bytes, &granter_key).map_err(|e| refused("a grant", e))?;
        if header.target.org.0 != org || header.target.object.0 != case_id {
            return Err(refused("a grant", "it names another organization or case"));
        }
        let recipient_id = id_from_hex("recipient", &upload.recipient)?;
        let recipient = state
            .store
            .account(&recipient_id)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or_else(|| refused("a grant", "its recipient is not an active member"))?;
        if author_key(&recipient)?.key_id() != header.recipient {
            return Err(refused(
                "a grant",
                "it is sealed to other keys than the recipient's",
            ));
        }
        rows.push(GrantRow {
            case_id,
            compartment: header.target.compartment.code(),
            generation: header.generation,
            recipient: recipient_id,
            granted_by: granter.account_id,
            grant: bytes,
            created_at: now(),
        });
    }
    Ok(rows)
}

#[utoipa::path(post, path = "/api/cases", request_body = p::CreateCase,
    responses((status = 204), (status = 409, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn create_case(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(req): ApiJson<p::CreateCase>,
) -> ApiResult<StatusCode> {
    let case_id = id_from_hex("case_id", &req.case_id)?;
    let grants = check_grants(&state, case_id, &authed.account, &req.grants).await?;
    if grants
        .iter()
        .any(|g| g.recipient != authed.account.account_id || g.generation != 0)
    {
        return Err(refused(
            "the case",
            "its first grants are the creator's own, generation 0",
        ));
    }
    let case = CaseRow {
        case_id,
        created_by: authed.account.account_id,
        created_at: now(),
        len: 0,
        head_hash: [0; 32],
        keys_version: 0,
    };
    state.store.create_case(&case, &grants).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/cases", params(("after" = Option<String>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = p::CaseList)))]
pub async fn list_cases(
    State(state): State<AppState>,
    authed: Authed,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<p::CaseList>> {
    let after = q
        .after
        .as_deref()
        .map(|a| id_from_hex("after", a))
        .transpose()?;
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let cases = state
        .store
        .cases_for_account(&authed.account.account_id, after.as_ref(), limit)
        .await?;
    let next = (cases.len() as u32 == limit)
        .then(|| cases.last().map(|c| hex(&c.case_id)))
        .flatten();
    // The intake desk holds keys, not a case: it is reached through /api/intake.
    let desk = state.store.intake_desk().await?.map(|d| d.desk_case_id);
    Ok(axum::Json(p::CaseList {
        cases: cases
            .iter()
            .filter(|c| Some(c.case_id) != desk)
            .map(head)
            .collect(),
        next,
    }))
}

/// The compartments the caller holds a grant for, or `NotFound` if none: a
/// member without a grant learns nothing about the case, not even that it exists.
async fn granted_compartments(state: &AppState, case_id: &Id, account: &Id) -> ApiResult<Vec<u8>> {
    let mut compartments: Vec<u8> = state
        .store
        .case_grants(case_id)
        .await?
        .into_iter()
        .filter(|g| &g.recipient == account)
        .map(|g| g.compartment)
        .collect();
    compartments.sort_unstable();
    compartments.dedup();
    if compartments.is_empty() {
        return Err(ApiError::new(ErrorCode::NotFound, "no such case"));
    }
    Ok(compartments)
}

#[utoipa::path(post, path = "/api/cases/{case_id}/entries", request_body = p::AppendEntry,
    params(("case_id" = String, Path)),
    responses((status = 204), (status = 404, body = p::ErrorBody), (status = 409, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn append_entry(
    State(state): State<AppState>,
    authed: Authed,
    Path(case_id): Path<String>,
    ApiJson(req): ApiJson<p::AppendEntry>,
) -> ApiResult<StatusCode> {
    let case_id = id_from_hex("case_id", &case_id)?;
    let granted = granted_compartments(&state, &case_id, &authed.account.account_id).await?;
    let entry = unb64("entry", &req.entry)?;
    let wrap = unb64("wrap", &req.wrap)?;
    if entry.len() > MAX_ENTRY_BYTES || wrap.len() > 1024 {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            "an entry is at most 1 MiB",
        ));
    }
    let header =
        verify_entry(&entry, &author_key(&authed.account)?).map_err(|e| refused("the entry", e))?;
    if header.address.org.0 != org_id(&state).await? || header.address.case.0 != case_id {
        return Err(refused(
            "the entry",
            "it names another organization or case",
        ));
    }
    if !granted.contains(&header.address.compartment.code()) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "you hold no grant for that compartment",
        ));
    }
    let case = state
        .store
        .case(&case_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such case"))?;
    if header.seq != case.len || header.prev_hash != case.head_hash {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "the case has {} entries and moved on: fetch them and seal again",
                case.len
            ),
        ));
    }
    let row = CaseEntryRow {
        case_id,
        seq: header.seq,
        compartment: header.address.compartment.code(),
        record_id: header.address.record.0,
        generation: header.generation,
        entry,
        wrap: Some(wrap),
        created_at: now(),
    };
    state
        .store
        .append_case_entry(&row, &entry_hash(&row.entry))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct EntriesQuery {
    from: Option<u64>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/cases/{case_id}/entries",
    params(("case_id" = String, Path), ("from" = Option<u64>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = p::EntryPage), (status = 404, body = p::ErrorBody)))]
pub async fn entries(
    State(state): State<AppState>,
    authed: Authed,
    Path(case_id): Path<String>,
    Query(q): Query<EntriesQuery>,
) -> ApiResult<axum::Json<p::EntryPage>> {
    let case_id = id_from_hex("case_id", &case_id)?;
    let granted = granted_compartments(&state, &case_id, &authed.account.account_id).await?;
    let case = state
        .store
        .case(&case_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such case"))?;
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let rows = state
        .store
        .case_entries(&case_id, q.from.unwrap_or(0), limit)
        .await?;
    let entries = rows
        .into_iter()
        .map(|r| p::Entry {
            seq: r.seq,
            entry: b64(&r.entry),
            // Every member checks the whole chain, so every entry is served; the
            // data-key wrap only to members granted its compartment.
            wrap: r
                .wrap
                .filter(|_| granted.contains(&r.compartment))
                .map(|w| b64(&w)),
        })
        .collect();
    Ok(axum::Json(p::EntryPage {
        entries,
        head: head(&case),
    }))
}

/// The most entries, and about the most entry bytes, one sync response carries.
const SYNC_ENTRY_LIMIT: u32 = 2000;
const SYNC_BYTE_BUDGET: usize = 8 << 20;

fn grant_info(g: GrantRow) -> p::GrantInfo {
    p::GrantInfo {
        compartment: g.compartment,
        generation: g.generation,
        recipient: hex(&g.recipient),
        granted_by: hex(&g.granted_by),
        grant: b64(&g.grant),
    }
}

fn rotation_info(r: RotationRow) -> p::RotationInfo {
    p::RotationInfo {
        compartment: r.compartment,
        new_generation: r.new_generation,
        link: b64(&r.link),
    }
}

/// Sync many cases in one round trip: for each asked case the caller holds a
/// grant for, its head, the caller's grants, the rotation links and the
/// entries from `from` (wraps only for granted compartments).
#[utoipa::path(post, path = "/api/cases/sync", request_body = p::SyncRequest,
    responses((status = 200, body = p::SyncResponse), (status = 400, body = p::ErrorBody)))]
pub async fn sync(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(req): ApiJson<p::SyncRequest>,
) -> ApiResult<axum::Json<p::SyncResponse>> {
    let wanted = req
        .cases
        .iter()
        .map(|w| Ok((id_from_hex("case_id", &w.case_id)?, w.from)))
        .collect::<ApiResult<Vec<_>>>()?;
    let bundles = state
        .store
        .case_bundles(&authed.account.account_id, &wanted, SYNC_ENTRY_LIMIT)
        .await?;
    let mut budget = SYNC_BYTE_BUDGET;
    let mut cases = Vec::with_capacity(bundles.len());
    for b in bundles {
        let granted: Vec<u8> = b.grants.iter().map(|g| g.compartment).collect();
        let mut entries = Vec::with_capacity(b.entries.len());
        for r in b.entries {
            // Entries are a prefix from `from` in every case: once the budget
            // is spent, the rest of this case and every later case wait.
            if budget < r.entry.len() {
                budget = 0;
                break;
            }
            budget -= r.entry.len();
            entries.push(p::Entry {
                seq: r.seq,
                entry: b64(&r.entry),
                wrap: r
                    .wrap
                    .filter(|_| granted.contains(&r.compartment))
                    .map(|w| b64(&w)),
            });
        }
        cases.push(p::CaseBundle {
            head: head(&b.case),
            grants: b.grants.into_iter().map(grant_info).collect(),
            rotations: b.rotations.into_iter().map(rotation_info).collect(),
            entries,
        });
    }
    Ok(axum::Json(p::SyncResponse { cases }))
}

#[utoipa::path(get, path = "/api/cases/{case_id}/grants", params(("case_id" = String, Path)),
    responses((status = 200, body = p::CaseGrants), (status = 404, body = p::ErrorBody)))]
pub async fn grants(
    State(state): State<AppState>,
    authed: Authed,
    Path(case_id): Path<String>,
) -> ApiResult<axum::Json<p::CaseGrants>> {
    let case_id = id_from_hex("case_id", &case_id)?;
    granted_compartments(&state, &case_id, &authed.account.account_id).await?;
    let grants = state.store.case_grants(&case_id).await?;
    let rotations = state.store.case_rotations(&case_id).await?;
    Ok(axum::Json(p::CaseGrants {
        grants: grants.into_iter().map(grant_info).collect(),
        rotations: rotations.into_iter().map(rotation_info).collect(),
    }))
}

#[utoipa::path(post, path = "/api/cases/{case_id}/grants", request_body = p::ChangeGrants,
    params(("case_id" = String, Path)),
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn change_grants(
    State(state): State<AppState>,
    authed: Authed,
    Path(case_id): Path<String>,
    ApiJson(req): ApiJson<p::ChangeGrants>,
) -> ApiResult<StatusCode> {
    let case_id = id_from_hex("case_id", &case_id)?;
    let granted = granted_compartments(&state, &case_id, &authed.account.account_id).await?;
    let grants = check_grants(&state, case_id, &authed.account, &req.grants).await?;
    if grants.iter().any(|g| !granted.contains(&g.compartment)) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "you can only share compartments you hold",
        ));
    }
    let org = org_id(&state).await?;
    let mut rotations = vec![];
    for link in &req.rotations {
        let bytes = unb64("rotations", link)?;
        let (target, new_generation) =
            parse_rotation_header(&bytes).map_err(|e| refused("a rotation link", e))?;
        if target.org.0 != org
            || target.object.0 != case_id
            || !granted.contains(&target.compartment.code())
        {
            return Err(refused(
                "a rotation link",
                "it names another case or a compartment you do not hold",
            ));
        }
        rotations.push(RotationRow {
            case_id,
            compartment: target.compartment.code(),
            new_generation,
            link: bytes,
            created_at: now(),
        });
    }
    let mut revoke = vec![];
    for r in &req.revoke {
        if Compartment::from_code(r.compartment).is_err() || !granted.contains(&r.compartment) {
            return Err(ApiError::bad_request(
                "you can only revoke compartments you hold",
            ));
        }
        revoke.push((id_from_hex("recipient", &r.recipient)?, r.compartment));
    }
    state
        .store
        .put_grants(&case_id, &grants, &rotations, &revoke)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
