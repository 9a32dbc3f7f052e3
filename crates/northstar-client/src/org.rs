//! The organization as this member can verify it: the membership chain from
//! the pinned root, invitations, admitting those who joined, verifying
//! fingerprints and removing members.

use northstar_core::Role;
use northstar_crypto::identity::MemberPublicKeys;
use northstar_crypto::invite::{InviteSecret, JoinClaim, check_proof, format_code, new_invite};
use northstar_crypto::membership::{LinkAction, MembershipState, link_hash, sign_link};
use northstar_crypto::{AccountId, localseal, words};
use northstar_protocol::{self as p, ErrorCode};
use rand::rngs::OsRng;

use crate::account::{Unlocked, pin_org};
use crate::profile::Profile;
use crate::{Api, ClientError, Result, b64, unb64, unb64_array, unhex16};

const INVITE_LABEL: &str = "northstar/v1/client/invite-secret";
const INVITE_PURPOSE: &str = "invites";

/// Fetch the membership chain and verify it from the pinned root: every link,
/// and that it extends the highest chain this profile has seen (no rollback,
/// no fork). Remembers the new head.
pub async fn verified_chain(api: &Api, profile: &mut Profile) -> Result<MembershipState> {
    let served = api.org_chain().await?;
    pin_org(profile, &served.org)?;
    let root: [u8; 32] = unb64_array(
        "pinned root key",
        profile
            .data
            .org_root_public_key
            .as_deref()
            .unwrap_or_default(),
    )?;
    let links = served
        .links
        .iter()
        .map(|l| unb64("link", l))
        .collect::<Result<Vec<_>>>()?;
    let chain = MembershipState::verify(&root, &links)?;
    if chain.org.to_hex() != served.org.org_id {
        return Err(ClientError::ServerChanged(
            "the chain belongs to another organization".into(),
        ));
    }
    if let (Some(known_len), Some(known_head)) =
        (profile.data.membership_len, &profile.data.membership_head)
    {
        if chain.len() < known_len {
            return Err(ClientError::ServerChanged(format!(
                "the membership chain went back from {known_len} to {} links: the server rolled it back",
                chain.len()
            )));
        }
        let at_known = links
            .get(known_len.saturating_sub(1) as usize)
            .map(|l| northstar_crypto::ids::to_hex(&link_hash(l)));
        if at_known.as_deref() != Some(known_head.as_str()) {
            return Err(ClientError::ServerChanged(format!(
                "membership link {} differs from the one seen before: the server forked the chain",
                known_len - 1
            )));
        }
    }
    profile.data.membership_len = Some(chain.len());
    profile.data.membership_head = Some(northstar_crypto::ids::to_hex(&chain.head()));
    profile.save()?;
    Ok(chain)
}

/// Make an invitation for `role`, valid for `valid_for_seconds`. Returns the code to pass on.
pub async fn create_invite(
    unlocked: &Unlocked,
    profile: &mut Profile,
    role: Role,
    valid_for_seconds: i64,
) -> Result<String> {
    let (id, secret) = new_invite(&mut OsRng);
    let mut payload = secret.expose().to_vec();
    payload.push(role.code());
    let sealed = localseal::seal(
        &unlocked.root.derive_purpose_key(INVITE_PURPOSE),
        INVITE_LABEL,
        &payload,
        &mut OsRng,
    );
    let sealed_intake_keys =
        crate::intake::keys_for_invite(unlocked, profile, role, &id, &secret).await?;
    unlocked
        .api
        .create_invite(&p::CreateInvite {
            invite_id: northstar_crypto::ids::to_hex(&id),
            role: role.name().to_owned(),
            valid_for_seconds,
            sealed_secret: b64(&sealed),
            sealed_intake_keys,
        })
        .await?;
    Ok(format_code(&id, &secret))
}

/// What became of the accounts waiting to join.
#[derive(Debug, Default, Clone)]
pub struct Approvals {
    pub admitted: Vec<String>,
    /// Accounts whose proof of the invitation secret did not verify: never admitted.
    pub refused: Vec<String>,
}

/// Admit every account that joined with an invitation this admin issued and
/// proved it knows the invitation's secret half, by signing a membership link.
pub async fn approve_pending(unlocked: &Unlocked, profile: &mut Profile) -> Result<Approvals> {
    let mut outcome = Approvals::default();
    let pending = unlocked.api.pending().await?;
    if pending.is_empty() {
        return Ok(outcome);
    }
    let invites = unlocked.api.invites().await?;
    let key = unlocked.root.derive_purpose_key(INVITE_PURPOSE);
    for waiting in pending {
        let Some(invite) = invites.iter().find(|i| i.invite_id == waiting.invite_id) else {
            continue;
        };
        // Invitations another admin issued do not open with this admin's key: theirs to admit.
        let Ok(opened) = localseal::open(
            &key,
            INVITE_LABEL,
            &unb64("sealed_secret", &invite.sealed_secret)?,
        ) else {
            continue;
        };
        if opened.len() != 17 {
            continue;
        }
        let secret = InviteSecret::from_bytes(opened[..16].try_into().expect("16 bytes"));
        let role = Role::from_code(opened[16]).map_err(|e| ClientError::Refused(e.to_string()))?;
        let account = AccountId(unhex16("account_id", &waiting.account_id)?);
        let keys = MemberPublicKeys {
            signing: unb64_array("keys.signing", &waiting.keys.signing)?,
            agreement: unb64_array("keys.agreement", &waiting.keys.agreement)?,
        };
        let claim = JoinClaim {
            org: unlocked.org,
            invite: unhex16("invite_id", &waiting.invite_id)?,
            account,
            keys,
            name: &waiting.username,
        };
        if !check_proof(&secret, &claim, &unb64("proof", &waiting.proof)?) {
            outcome.refused.push(waiting.username.clone());
            continue;
        }
        append(
            unlocked,
            profile,
            LinkAction::Add {
                account,
                name: waiting.username.clone(),
                role,
                keys,
            },
        )
        .await?;
        outcome.admitted.push(waiting.username);
    }
    Ok(outcome)
}

/// Sign and append one membership link, re-signing once if another admin got there first.
async fn append(
    unlocked: &Unlocked,
    profile: &mut Profile,
    action: LinkAction,
) -> Result<MembershipState> {
    for attempt in 0..3 {
        let mut chain = verified_chain(&unlocked.api, profile).await?;
        let body = chain.next_link(crate::now() as u64, action.clone());
        let link = sign_link(&body, unlocked.keys.signing());
        chain
            .apply(&link)
            .map_err(|e| ClientError::Refused(format!("refused before sending: {e}")))?;
        match unlocked
            .api
            .append_link(&p::AppendLink {
                seq: body.seq,
                link: b64(&link),
            })
            .await
        {
            Ok(()) => {
                profile.data.membership_len = Some(chain.len());
                profile.data.membership_head = Some(northstar_crypto::ids::to_hex(&chain.head()));
                profile.save()?;
                return Ok(chain);
            }
            Err(e) if e.api_code() == Some(ErrorCode::Conflict) && attempt < 2 => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// A member as the verified chain shows them.
#[derive(Debug, Clone)]
pub struct MemberView {
    pub name: String,
    pub role: Role,
    pub account_id: String,
    pub fingerprint: Vec<&'static str>,
    /// This member compared the fingerprint words in person.
    pub verified: bool,
}

pub fn list_members(chain: &MembershipState, profile: &Profile) -> Vec<MemberView> {
    let mut members: Vec<MemberView> = chain
        .members()
        .map(|m| {
            let fingerprint = m.keys.fingerprint();
            let verified = profile
                .data
                .verified
                .get(&m.account.to_hex())
                .is_some_and(|w| w.iter().map(String::as_str).eq(fingerprint.iter().copied()));
            MemberView {
                name: m.name.clone(),
                role: m.role,
                account_id: m.account.to_hex(),
                fingerprint,
                verified,
            }
        })
        .collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    members
}

/// Compare the words a person read out with the member's fingerprint, and
/// remember the match.
pub fn verify_member(
    chain: &MembershipState,
    profile: &mut Profile,
    name: &str,
    typed: &str,
) -> Result<MemberView> {
    let member = chain
        .member_by_name(name)
        .ok_or_else(|| ClientError::Refused(format!("no member named '{name}'")))?;
    let fingerprint = member.keys.fingerprint();
    if !words::words_match(&fingerprint, typed) {
        return Err(ClientError::Refused(format!(
            "the words do not match {name}'s keys: do not trust them, and tell an admin"
        )));
    }
    profile.data.verified.insert(
        member.account.to_hex(),
        fingerprint.iter().map(|w| (*w).to_owned()).collect(),
    );
    profile.save()?;
    Ok(list_members(chain, profile)
        .into_iter()
        .find(|m| m.name == name)
        .expect("the member is in the chain"))
}

/// Remove a member: sign the removal link. The server ends their sessions at once.
pub async fn remove_member(
    unlocked: &Unlocked,
    profile: &mut Profile,
    name: &str,
) -> Result<AccountId> {
    let chain = verified_chain(&unlocked.api, profile).await?;
    let me = chain
        .member(unlocked.account)
        .ok_or_else(|| ClientError::Refused("you are not a member of the organization".into()))?;
    if !me.role.may_manage_members() {
        return Err(ClientError::Refused(
            "only an admin can remove members".into(),
        ));
    }
    let member = chain
        .member_by_name(name)
        .ok_or_else(|| ClientError::Refused(format!("no member named '{name}'")))?;
    let account = member.account;
    append(unlocked, profile, LinkAction::Remove { account }).await?;
    Ok(account)
}
