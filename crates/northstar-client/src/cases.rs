//! End-to-end encrypted cases: compartment keys, grants, sealed records on a
//! per-case hash chain, and everything a reader verifies before believing a
//! byte the server hands over.
//!
//! A record's plaintext is JSON: `{"kind":"fields","fields":{"name":"value",…}}`
//! or `{"kind":"note","text":"…"}`. Fields merge by chain order: the later
//! entry wins, and every earlier value stays in the history (docs/cases.md).

use std::collections::{BTreeMap, BTreeSet};

use northstar_core::{Actor, Compartment, Event, HouseEvent, ObjectView, SafeHouse, Workflow};

pub use northstar_core::object::{FieldHistory, HistoryItem, RecordBody, SAFE_HOUSE_KIND};
use northstar_crypto::envelope::{ChainPosition, RecordAddress, seal_record};
use northstar_crypto::grant::{
    CompartmentKey, CompartmentRef, Keyring, open_grant_as, seal_grant, seal_kept_grant,
    seal_rotation,
};
use northstar_crypto::membership::MembershipState;
use northstar_crypto::{AccountId, ObjectId, RecordId};
use northstar_protocol::{self as p, ErrorCode};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};

use crate::account::Unlocked;
use crate::org::verified_chain;
use crate::profile::Profile;
use crate::sync::{self, Listing, LocalCache, Scope};
use crate::{ClientError, Result, b64, unb64};
use northstar_crypto::identity::MemberPublicKeys;

/// A case as this member can read it, after every check: the fold of its
/// verified entries (northstar-core's `ObjectView`, reached through `Deref`)
/// and what the sync knows beside it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CaseView {
    pub case_id: String,
    pub readable: BTreeSet<Compartment>,
    /// The verified chain head: sequence number and hash (hex).
    pub head: Option<(u64, String)>,
    #[serde(flatten)]
    pub object: ObjectView,
}

impl std::ops::Deref for CaseView {
    type Target = ObjectView;

    fn deref(&self) -> &ObjectView {
        &self.object
    }
}

impl std::ops::DerefMut for CaseView {
    fn deref_mut(&mut self) -> &mut ObjectView {
        &mut self.object
    }
}

impl CaseView {
    /// The current value of every field of a compartment this member reads
    /// (`None` without access).
    pub fn current_fields(&self, compartment: Compartment) -> Option<BTreeMap<String, String>> {
        self.readable.contains(&compartment).then(|| {
            self.fields
                .get(&compartment)
                .map(|f| {
                    f.iter()
                        .map(|(k, v)| (k.clone(), v.value.clone()))
                        .collect()
                })
                .unwrap_or_default()
        })
    }
}

fn case_ref(unlocked: &Unlocked, case: ObjectId, compartment: Compartment) -> CompartmentRef {
    CompartmentRef {
        org: unlocked.org,
        object: case,
        compartment,
    }
}

pub fn parse_case_id(s: &str) -> Result<ObjectId> {
    ObjectId::from_hex(s)
        .ok_or_else(|| ClientError::Refused(format!("'{s}' is not a case id (32 hex digits)")))
}

/// Every compartment key this member can reach for one case: grants opened
/// once (public-key work), then rotation links walked symmetrically.
pub async fn case_keyrings(
    unlocked: &Unlocked,
    profile: &mut Profile,
    case: ObjectId,
) -> Result<BTreeMap<Compartment, Keyring>> {
    let chain = verified_chain(&unlocked.api, profile).await?;
    Ok(keyrings(unlocked, &chain, case).await?.0)
}

/// Seal `key` for a member: kept under my keep key when the member is me (so
/// that none of my devices needs public-key work to open it), sealed to their
/// agreement key otherwise.
fn grant_to(
    unlocked: &Unlocked,
    target: CompartmentRef,
    key: &CompartmentKey,
    recipient: AccountId,
    recipient_keys: &MemberPublicKeys,
) -> Result<Vec<u8>> {
    if recipient == unlocked.account {
        Ok(seal_kept_grant(
            target,
            key,
            &unlocked.keys,
            &unlocked.keep_key(),
            &mut OsRng,
        ))
    } else {
        Ok(seal_grant(
            target,
            key,
            recipient_keys,
            &unlocked.keys,
            &mut OsRng,
        )?)
    }
}

async fn keyrings(
    unlocked: &Unlocked,
    chain: &MembershipState,
    case: ObjectId,
) -> Result<(BTreeMap<Compartment, Keyring>, p::CaseGrants)> {
    let all = unlocked.api.case_grants(&case.to_hex()).await?;
    let me = unlocked.account.to_hex();
    let mut rings: BTreeMap<Compartment, Keyring> = BTreeMap::new();
    for g in all.grants.iter().filter(|g| g.recipient == me) {
        let compartment = Compartment::from_code(g.compartment)
            .map_err(|_| ClientError::Protocol("a grant names an unknown compartment".into()))?;
        let bytes = unb64("grant", &g.grant)?;
        let header = northstar_crypto::grant::parse_grant_header(&bytes)?;
        let (granter, _) = chain.author_by_key_id(header.granter).ok_or_else(|| {
            ClientError::ServerChanged(format!(
                "a grant of {compartment} is signed by key {} that was never a member",
                header.granter
            ))
        })?;
        let target = case_ref(unlocked, case, compartment);
        let key = open_grant_as(
            &bytes,
            target,
            unlocked.keys.agreement(),
            unlocked.keys.key_id(),
            Some(&unlocked.keep_key()),
            granter.author_key(),
        )?;
        rings
            .entry(compartment)
            .or_insert_with(|| Keyring::new(target))
            .insert(key);
    }
    for (compartment, ring) in rings.iter_mut() {
        let links: BTreeMap<u32, Vec<u8>> = all
            .rotations
            .iter()
            .filter(|r| r.compartment == compartment.code())
            .map(|r| Ok((r.new_generation, unb64("rotation", &r.link)?)))
            .collect::<Result<_>>()?;
        ring.unwind(&links)?;
    }
    Ok((rings, all))
}

/// Create a case: a random key per compartment, granted to the creator, and
/// the summary (alias, priority, country) as its first record.
pub async fn create_case(
    unlocked: &Unlocked,
    profile: &mut Profile,
    summary: BTreeMap<String, String>,
) -> Result<ObjectId> {
    create_object(
        unlocked,
        profile,
        &Compartment::OF_CASE,
        vec![(Compartment::Summary, RecordBody::Fields { fields: summary })],
    )
    .await
}

/// Create an object with compartments (a case or a safe house): a random
/// key per compartment, granted to the creator, then its first records.
pub async fn create_object(
    unlocked: &Unlocked,
    profile: &mut Profile,
    compartments: &[Compartment],
    first: Vec<(Compartment, RecordBody)>,
) -> Result<ObjectId> {
    let object = ObjectId::random(&mut OsRng);
    let mut grants = vec![];
    let keep = unlocked.keep_key();
    for &compartment in compartments {
        let key = CompartmentKey::generate(0, &mut OsRng);
        let grant = seal_kept_grant(
            case_ref(unlocked, object, compartment),
            &key,
            &unlocked.keys,
            &keep,
            &mut OsRng,
        );
        grants.push(p::GrantUpload {
            recipient: unlocked.account.to_hex(),
            grant: b64(&grant),
        });
    }
    unlocked
        .api
        .create_case(&p::CreateCase {
            case_id: object.to_hex(),
            grants,
        })
        .await?;
    for (compartment, body) in first {
        append(unlocked, profile, object, compartment, &body).await?;
    }
    Ok(object)
}

/// Record a move in or out of a safe house, after checking it against the
/// house as it stands (capacity, who is there). Returns the house after it.
pub async fn house_event(
    unlocked: &Unlocked,
    profile: &mut Profile,
    house: ObjectId,
    event: HouseEvent,
) -> Result<SafeHouse> {
    let view = read_case(unlocked, profile, house).await?;
    let state = view
        .house
        .as_ref()
        .ok_or_else(|| ClientError::Refused(format!("{} is not a safe house", house.to_hex())))?;
    let actor = my_actor(unlocked, profile).await?;
    state
        .check(&actor, &event)
        .map_err(|refusal| ClientError::Refused(format!("refused: {refusal}")))?;
    let seq = append(
        unlocked,
        profile,
        house,
        Compartment::Summary,
        &RecordBody::House { event },
    )
    .await?;
    let after = read_case(unlocked, profile, house).await?;
    let after = after.object.house.unwrap_or_default();
    if let Some((_, refusal)) = after.rejected.iter().find(|(s, _)| *s == seq) {
        return Err(ClientError::Refused(format!(
            "recorded, but void: another coordinator got there first ({refusal})"
        )));
    }
    Ok(after)
}

/// The profile's local cache, opened with this account's key.
pub async fn open_cache(unlocked: &Unlocked, profile: &Profile) -> Result<LocalCache> {
    LocalCache::open(profile.dir(), &unlocked.root, unlocked.account).await
}

fn first_refusal(report: sync::SyncReport) -> Result<()> {
    match report.refused.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

fn no_such_case(case: ObjectId) -> ClientError {
    ClientError::Refused(format!(
        "no such case {}, or you hold no key for it",
        case.to_hex()
    ))
}

/// Seal a record into a compartment and append it, resealing on top of a
/// writer who got there first.
pub async fn append(
    unlocked: &Unlocked,
    profile: &mut Profile,
    case: ObjectId,
    compartment: Compartment,
    body: &RecordBody,
) -> Result<u64> {
    let plaintext = serde_json::to_vec(body).expect("records serialize");
    let cache = open_cache(unlocked, profile).await?;
    let chain = verified_chain(&unlocked.api, profile).await?;
    for attempt in 0..5 {
        first_refusal(sync::sync(unlocked, &cache, &chain, Scope::One(case)).await?)?;
        let writable = cache
            .writable(unlocked, &chain, case, compartment)
            .await?
            .ok_or_else(|| no_such_case(case))?;
        let Some((generation, ring)) = writable.key else {
            return Err(ClientError::Refused(format!(
                "no access to the {compartment} compartment of this case"
            )));
        };
        let position = match writable.head {
            Some(h) => ChainPosition {
                seq: h.seq + 1,
                prev_hash: h.hash,
            },
            None => ChainPosition {
                seq: 0,
                prev_hash: [0; 32],
            },
        };
        let address = RecordAddress {
            org: unlocked.org,
            case,
            compartment,
            record: RecordId::random(&mut OsRng),
        };
        let sealed = seal_record(
            address,
            1,
            position,
            ring.get(generation)?,
            &unlocked.keys,
            &plaintext,
            &mut OsRng,
        )?;
        match unlocked
            .api
            .append_entry(
                &case.to_hex(),
                &p::AppendEntry {
                    entry: b64(&sealed.entry),
                    wrap: b64(&sealed.wrap),
                },
            )
            .await
        {
            Ok(()) => return Ok(position.seq),
            Err(e) if e.api_code() == Some(ErrorCode::Conflict) && attempt < 4 => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the last attempt returns")
}

/// Append a record that sets `fields` in one compartment.
pub async fn append_fields(
    unlocked: &Unlocked,
    profile: &mut Profile,
    case: ObjectId,
    compartment: Compartment,
    fields: BTreeMap<String, String>,
) -> Result<u64> {
    append(
        unlocked,
        profile,
        case,
        compartment,
        &RecordBody::Fields { fields },
    )
    .await
}

/// Read a case: fetch it whole, verify the chain, every signature and every
/// key commitment, check it against the highest head seen before, open what
/// this member holds keys for, and fold the fields (later entries win).
pub async fn read_case(
    unlocked: &Unlocked,
    profile: &mut Profile,
    case: ObjectId,
) -> Result<CaseView> {
    let cache = open_cache(unlocked, profile).await?;
    let chain = verified_chain(&unlocked.api, profile).await?;
    first_refusal(sync::sync(unlocked, &cache, &chain, Scope::Full(case)).await?)?;
    cache.view(case).await?.ok_or_else(|| no_such_case(case))
}

/// Record a workflow event in a case's `summary`, after checking it against
/// the case as it stands (so an honest client never writes an event that
/// everyone would skip). Returns the workflow after it.
pub async fn workflow_event(
    unlocked: &Unlocked,
    profile: &mut Profile,
    case: ObjectId,
    event: Event,
) -> Result<Workflow> {
    let view = read_case(unlocked, profile, case).await?;
    if !view.readable.contains(&Compartment::Summary) {
        return Err(ClientError::Refused(
            "no access to the summary compartment of this case, where its workflow lives".into(),
        ));
    }
    let actor = my_actor(unlocked, profile).await?;
    view.workflow
        .check(&actor, &event)
        .map_err(|refusal| ClientError::Refused(format!("refused: {refusal}")))?;
    let seq = append(
        unlocked,
        profile,
        case,
        Compartment::Summary,
        &RecordBody::Event { event },
    )
    .await?;
    let after = read_case(unlocked, profile, case).await?;
    if let Some((_, refusal)) = after.workflow.rejected.iter().find(|(s, _)| *s == seq) {
        return Err(ClientError::Refused(format!(
            "recorded, but void: another member changed the case first ({refusal})"
        )));
    }
    Ok(after.object.workflow)
}

/// This member as the verified membership chain knows them.
async fn my_actor(unlocked: &Unlocked, profile: &mut Profile) -> Result<Actor> {
    let chain = verified_chain(&unlocked.api, profile).await?;
    let me = chain
        .member(unlocked.account)
        .ok_or_else(|| ClientError::Refused("you are not a member of the organization".into()))?;
    Ok(Actor {
        account: unlocked.account.to_hex(),
        role: me.role,
    })
}

/// Sync every case into the cache, then list them from it.
pub async fn list_cases(
    unlocked: &Unlocked,
    profile: &mut Profile,
) -> Result<(Vec<Listing>, sync::SyncReport)> {
    let cache = open_cache(unlocked, profile).await?;
    let chain = verified_chain(&unlocked.api, profile).await?;
    let report = sync::sync(unlocked, &cache, &chain, Scope::All).await?;
    let listings = cache.listings().await?;
    Ok((listings, report))
}

/// The cases this member holds a grant for.
pub async fn case_ids(unlocked: &Unlocked) -> Result<Vec<ObjectId>> {
    let mut out = vec![];
    let mut after: Option<String> = None;
    loop {
        let page = unlocked.api.cases(after.as_deref()).await?;
        for c in &page.cases {
            out.push(parse_case_id(&c.case_id)?);
        }
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Grant compartments of a case to another member.
pub async fn share(
    unlocked: &Unlocked,
    profile: &mut Profile,
    case: ObjectId,
    with: &str,
    compartments: &[Compartment],
) -> Result<()> {
    let chain = verified_chain(&unlocked.api, profile).await?;
    let member = chain
        .member_by_name(with)
        .ok_or_else(|| ClientError::Refused(format!("no member named '{with}'")))?
        .clone();
    let (rings, all) = keyrings(unlocked, &chain, case).await?;
    let mut grants = vec![];
    for &compartment in compartments {
        let key = rings
            .get(&compartment)
            .and_then(Keyring::newest)
            .ok_or_else(|| {
                ClientError::Refused(format!(
                    "you hold no key for {compartment}, so you cannot share it"
                ))
            })?;
        let already = all.grants.iter().any(|g| {
            g.recipient == member.account.to_hex()
                && g.compartment == compartment.code()
                && g.generation == key.generation()
        });
        if already {
            continue;
        }
        let grant = grant_to(
            unlocked,
            case_ref(unlocked, case, compartment),
            key,
            member.account,
            &member.keys,
        )?;
        grants.push(p::GrantUpload {
            recipient: member.account.to_hex(),
            grant: b64(&grant),
        });
    }
    if grants.is_empty() {
        return Ok(());
    }
    unlocked
        .api
        .change_grants(
            &case.to_hex(),
            &p::ChangeGrants {
                grants,
                rotations: vec![],
                revoke: vec![],
            },
        )
        .await
}

/// Take compartments away from a member: every generation they held is
/// rotated; those who stay get the new key, which seals the old one, so they
/// keep reading the history. Returns the compartments rotated.
pub async fn unshare(
    unlocked: &Unlocked,
    profile: &mut Profile,
    case: ObjectId,
    with: &str,
    only: Option<&[Compartment]>,
) -> Result<Vec<Compartment>> {
    let chain = verified_chain(&unlocked.api, profile).await?;
    let leaving = chain
        .member_by_name(with)
        .map(|m| m.account)
        .ok_or_else(|| ClientError::Refused(format!("no member named '{with}'")))?;
    rotate_away(unlocked, &chain, case, leaving, only).await
}

/// Rotate every compartment of `case` that `leaving` holds (or the `only` ones).
pub(crate) async fn rotate_away(
    unlocked: &Unlocked,
    chain: &MembershipState,
    case: ObjectId,
    leaving: AccountId,
    only: Option<&[Compartment]>,
) -> Result<Vec<Compartment>> {
    if leaving == unlocked.account {
        return Err(ClientError::Refused(
            "you cannot unshare a case from yourself".into(),
        ));
    }
    let (rings, all) = keyrings(unlocked, chain, case).await?;
    let leaving_hex = leaving.to_hex();
    let held: BTreeSet<Compartment> = all
        .grants
        .iter()
        .filter(|g| g.recipient == leaving_hex)
        .filter_map(|g| Compartment::from_code(g.compartment).ok())
        .filter(|c| only.is_none_or(|o| o.contains(c)))
        .collect();
    let mut grants = vec![];
    let mut rotations = vec![];
    let mut revoke = vec![];
    for &compartment in &held {
        let newest_generation = all
            .grants
            .iter()
            .filter(|g| g.compartment == compartment.code())
            .map(|g| g.generation)
            .max()
            .unwrap_or(0);
        let current = rings
            .get(&compartment)
            .and_then(|r| r.get(newest_generation).ok())
            .ok_or_else(|| {
                ClientError::Refused(format!(
                    "you do not hold the newest key of {compartment}, so you cannot rotate it"
                ))
            })?;
        let target = case_ref(unlocked, case, compartment);
        let next = CompartmentKey::generate(newest_generation + 1, &mut OsRng);
        rotations.push(b64(&seal_rotation(target, current, &next, &mut OsRng)));
        let staying: BTreeSet<String> = all
            .grants
            .iter()
            .filter(|g| g.compartment == compartment.code() && g.recipient != leaving_hex)
            .map(|g| g.recipient.clone())
            .collect();
        for recipient in staying {
            let Some(id) = AccountId::from_hex(&recipient) else {
                continue;
            };
            // Only current members get the new key.
            let Some(member) = chain.member(id) else {
                continue;
            };
            let grant = grant_to(unlocked, target, &next, id, &member.keys)?;
            grants.push(p::GrantUpload {
                recipient,
                grant: b64(&grant),
            });
        }
        revoke.push(p::Revoke {
            recipient: leaving_hex.clone(),
            compartment: compartment.code(),
        });
    }
    if held.is_empty() {
        return Ok(vec![]);
    }
    unlocked
        .api
        .change_grants(
            &case.to_hex(),
            &p::ChangeGrants {
                grants,
                rotations,
                revoke,
            },
        )
        .await?;
    Ok(held.into_iter().collect())
}

impl CaseView {
    /// Everything this member can read, as JSON: compartment → fields and notes.
    pub fn readable_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for c in &self.readable {
            let fields: serde_json::Map<String, serde_json::Value> = self
                .fields
                .get(c)
                .map(|f| {
                    f.iter()
                        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.value.clone())))
                        .collect()
                })
                .unwrap_or_default();
            let notes: Vec<serde_json::Value> = self
                .notes
                .iter()
                .filter(|n| n.0 == *c)
                .map(|n| serde_json::json!({"author": n.1, "text": n.2, "seq": n.3}))
                .collect();
            out.insert(
                c.name().to_owned(),
                serde_json::json!({"fields": fields, "notes": notes}),
            );
        }
        serde_json::json!({"case_id": self.case_id, "compartments": out})
    }
}

/// Export what this member can read of a case as an age file to `recipients`.
pub async fn export_case(
    unlocked: &Unlocked,
    profile: &mut Profile,
    case: ObjectId,
    recipients: &[&str],
) -> Result<Vec<u8>> {
    let view = read_case(unlocked, profile, case).await?;
    let json = serde_json::to_vec_pretty(&view.readable_json()).expect("JSON serializes");
    Ok(northstar_crypto::export::export_to_recipients(
        &json, recipients,
    )?)
}

/// What rotating a removed member out of every case achieved.
#[derive(Debug, Default)]
pub struct RemovalRotation {
    /// Cases and the compartments whose keys were rotated.
    pub rotated: Vec<(ObjectId, Vec<Compartment>)>,
    /// Cases this member could not rotate (they do not hold the newest key), with why.
    pub skipped: Vec<(ObjectId, String)>,
    /// The intake desk was rotated and its new public key published.
    pub desk_rotated: bool,
}

/// After a member is removed from the organization, rotate every compartment
/// they held in every case this member can reach, so nothing written from now
/// on opens with their keys.
pub async fn rotate_after_removal(
    unlocked: &Unlocked,
    profile: &mut Profile,
    removed: AccountId,
) -> Result<RemovalRotation> {
    let chain = verified_chain(&unlocked.api, profile).await?;
    let mut outcome = RemovalRotation::default();
    for case in case_ids(unlocked).await? {
        match rotate_away(unlocked, &chain, case, removed, None).await {
            Ok(rotated) if rotated.is_empty() => {}
            Ok(rotated) => outcome.rotated.push((case, rotated)),
            Err(ClientError::Refused(why)) => outcome.skipped.push((case, why)),
            Err(e) => return Err(e),
        }
    }
    // The intake desk is no case, but its keys open every request: rotate it too.
    match crate::intake::rotate_desk_after_removal(unlocked, profile, &chain, removed).await {
        Ok(false) => {}
        Ok(true) => outcome.desk_rotated = true,
        Err(ClientError::Refused(why)) => outcome.skipped.push((ObjectId([0; 16]), why)),
        Err(e) => return Err(e),
    }
    Ok(outcome)
}
