//! The intake queue, from the staff side. The organization's *intake desk* is
//! an object with one compartment (`messages`) whose keys derive the intake key
//! (docs/crypto.md §24): intake officers and admins hold it by ordinary grants, and a
//! new officer's invitation carries it sealed under the invitation's secret.
//! Every admin's client keeps the desk in order: it creates it, grants it to
//! every intake officer and admin, and publishes the newest public key.
//!
//! Every item is opened here; the server's copy of the intake key is checked
//! against the one the desk keys derive, and every staff note's signature
//! against the verified membership chain.

use std::collections::BTreeMap;

use northstar_core::{Compartment, Role};
use northstar_crypto::grant::{CompartmentKey, CompartmentRef, Keyring};
use northstar_crypto::intake::{self, IntakeKeyPair, SealedBy};
use northstar_crypto::invite::InviteSecret;
use northstar_crypto::localseal;
use northstar_crypto::{ObjectId, OrgId};
use northstar_protocol::{self as p, ErrorCode};
use rand::rngs::OsRng;
use serde::Serialize;

use crate::account::Unlocked;
use crate::profile::Profile;
use crate::{ClientError, Result, b64, unb64, unb64_array, unhex16};

const INVITE_PURPOSE: &str = "intake-invite";
const INVITE_LABEL: &str = "northstar/v1/profile/intake-invite";

fn works_the_intake(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Intake)
}

fn desk_ref(org: OrgId, desk: ObjectId) -> CompartmentRef {
    CompartmentRef {
        org,
        object: desk,
        compartment: Compartment::Messages,
    }
}

/// Keep the invitation this profile joined with, sealed under the root key,
/// so the intake keys it carries can be opened later.
pub(crate) fn remember_invite(
    profile: &mut Profile,
    root: &northstar_crypto::slot::RootKey,
    invite_id: &[u8; 16],
    secret: &InviteSecret,
) {
    let sealed = localseal::seal(
        &root.derive_purpose_key(INVITE_PURPOSE),
        INVITE_LABEL,
        &[invite_id.as_slice(), secret.expose()].concat(),
        &mut OsRng,
    );
    profile.data.intake_invite = Some(b64(&sealed));
}

/// The desk as the server names it (staff only), if it exists.
pub async fn desk(unlocked: &Unlocked) -> Result<Option<p::IntakeDesk>> {
    match unlocked.api.intake_desk().await {
        Ok(desk) => Ok(Some(desk)),
        Err(e) if e.api_code() == Some(ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What an admin's client did to keep the desk in order.
#[derive(Debug, Default)]
pub struct DeskUpkeep {
    pub created: bool,
    pub granted: Vec<String>,
    pub published_generation: Option<u32>,
}

/// Create the desk if there is none, grant it to every intake officer and
/// admin who lacks it, and publish the newest intake key. Admins only.
pub async fn keep_desk(unlocked: &Unlocked, profile: &mut Profile) -> Result<DeskUpkeep> {
    let mut upkeep = DeskUpkeep::default();
    let served = desk(unlocked).await?;
    let desk_id = match &served {
        Some(d) => ObjectId(unhex16("desk_case_id", &d.desk_case_id)?),
        None => {
            upkeep.created = true;
            crate::cases::create_object(unlocked, profile, &[Compartment::Messages], vec![]).await?
        }
    };
    let chain = crate::org::verified_chain(&unlocked.api, profile).await?;
    let grants = unlocked.api.case_grants(&desk_id.to_hex()).await?;
    for member in chain.members() {
        let holds = grants.grants.iter().any(|g| {
            g.recipient == member.account.to_hex() && g.compartment == Compartment::Messages.code()
        });
        if works_the_intake(member.role) && !holds {
            crate::cases::share(
                unlocked,
                profile,
                desk_id,
                &member.name,
                &[Compartment::Messages],
            )
            .await?;
            upkeep.granted.push(member.name.clone());
        }
    }
    let newest_granted = grants
        .grants
        .iter()
        .filter(|g| g.compartment == Compartment::Messages.code())
        .map(|g| g.generation)
        .max();
    if served.as_ref().map(|d| d.generation) == newest_granted && newest_granted.is_some() {
        // Published already; every staff client checks the key against its own.
        return Ok(upkeep);
    }
    let ring = desk_keyring(unlocked, profile, desk_id).await?;
    let newest = ring
        .newest()
        .ok_or_else(|| ClientError::Refused("this admin holds no key of the intake desk".into()))?;
    let public = IntakeKeyPair::derive(&unlocked.org, newest).public_key();
    let current = served
        .as_ref()
        .map(|d| (d.generation, d.public_key.clone()));
    if current != Some((newest.generation(), b64(&public))) {
        unlocked
            .api
            .put_intake_desk(&p::IntakeDesk {
                desk_case_id: desk_id.to_hex(),
                generation: newest.generation(),
                public_key: b64(&public),
            })
            .await?;
        upkeep.published_generation = Some(newest.generation());
    }
    Ok(upkeep)
}

async fn desk_keyring(
    unlocked: &Unlocked,
    profile: &mut Profile,
    desk: ObjectId,
) -> Result<Keyring> {
    Ok(crate::cases::case_keyrings(unlocked, profile, desk)
        .await?
        .remove(&Compartment::Messages)
        .unwrap_or_else(|| Keyring::new(desk_ref(unlocked.org, desk))))
}

/// Every desk key this member reaches: by grant, or through the invitation
/// it joined with (before an admin's client admits it).
async fn reachable_keys(
    unlocked: &Unlocked,
    profile: &mut Profile,
    desk: ObjectId,
) -> Result<Keyring> {
    let mut ring = match desk_keyring(unlocked, profile, desk).await {
        Ok(ring) => ring,
        // A member waiting for admission cannot read the membership chain yet.
        Err(e) if e.api_code() == Some(ErrorCode::PendingApproval) => {
            Keyring::new(desk_ref(unlocked.org, desk))
        }
        Err(e) => return Err(e),
    };
    if let Some(sealed) = profile.data.intake_invite.clone() {
        let opened = localseal::open(
            &unlocked.root.derive_purpose_key(INVITE_PURPOSE),
            INVITE_LABEL,
            &unb64("intake_invite", &sealed)?,
        )?;
        let invite_id: [u8; 16] = opened[..16].try_into().map_err(|_| ClientError::Profile {
            path: profile.dir().display().to_string(),
            reason: "the remembered invitation is damaged".into(),
        })?;
        let secret = InviteSecret::from_bytes(opened[16..32].try_into().expect("32 bytes sealed"));
        match unlocked.api.intake_invite_keys().await {
            Ok(carried) => {
                for key in intake::open_for_invite(
                    &secret,
                    &invite_id,
                    &unb64("sealed", &carried.sealed)?,
                )? {
                    if ring.get(key.generation()).is_err() {
                        ring.insert(key);
                    }
                }
            }
            Err(e) if e.api_code() == Some(ErrorCode::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ring)
}

/// For an invitation to an intake officer or an admin: the desk keys sealed
/// under the invitation's secret. None for other roles or without a desk.
pub async fn keys_for_invite(
    unlocked: &Unlocked,
    profile: &mut Profile,
    role: Role,
    invite_id: &[u8; 16],
    secret: &InviteSecret,
) -> Result<Option<String>> {
    if !works_the_intake(role) {
        return Ok(None);
    }
    let served = match desk(unlocked).await {
        Ok(Some(served)) => served,
        Ok(None) => return Ok(None),
        // Not on the intake team, so not an admin either: the server refuses the
        // invitation itself with its own message.
        Err(e) if e.api_code() == Some(ErrorCode::Forbidden) => return Ok(None),
        Err(e) => return Err(e),
    };
    let ring = desk_keyring(
        unlocked,
        profile,
        ObjectId(unhex16("desk_case_id", &served.desk_case_id)?),
    )
    .await?;
    let keys: Vec<&CompartmentKey> = ring
        .generations()
        .collect::<Vec<_>>()
        .into_iter()
        .filter_map(|g| ring.get(g).ok())
        .collect();
    if keys.is_empty() {
        return Ok(None);
    }
    Ok(Some(b64(&intake::seal_for_invite(
        secret, invite_id, &keys, &mut OsRng,
    ))))
}

/// Who wrote an opened message.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Author {
    Requester,
    Staff { name: String },
}

/// One message of a conversation, opened. Text stays text: shown, never interpreted.
#[derive(Debug, Clone, Serialize)]
pub struct OpenedMessage {
    pub seq: u32,
    pub at: i64,
    #[serde(flatten)]
    pub author: Author,
    /// What the requester filled in (contact, when, where, what, urgency, lang),
    /// or a staff note (kind: reply, dismissed, opened; text; case).
    pub fields: BTreeMap<String, String>,
}

/// A conversation of the queue, with every message this member could open
/// and, for every one it could not, why.
#[derive(Debug, Clone, Serialize)]
pub struct IntakeItem {
    pub id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub path: String,
    pub referred: bool,
    pub status: String,
    pub messages: Vec<OpenedMessage>,
    pub unreadable: Vec<String>,
    #[serde(skip)]
    reply_public: String,
}

impl IntakeItem {
    /// The first thing the requester said about what is happening (for lists).
    pub fn first(&self, field: &str) -> Option<&str> {
        self.messages
            .iter()
            .find(|m| matches!(m.author, Author::Requester))
            .and_then(|m| m.fields.get(field))
            .map(String::as_str)
    }
}

/// The queue, opened.
#[derive(Debug)]
pub struct Queue {
    pub items: Vec<IntakeItem>,
    /// Set when the desk keys this member holds open nothing (not yet granted).
    pub no_keys: bool,
    desk: Option<(ObjectId, u32, [u8; 32])>,
}

fn fields_of(plaintext: &[u8]) -> BTreeMap<String, String> {
    match serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(plaintext) {
        Ok(map) => map
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect(),
        // Not JSON: keep it as the text it is.
        Err(_) => BTreeMap::from([(
            "what".to_owned(),
            String::from_utf8_lossy(plaintext).into_owned(),
        )]),
    }
}

/// Fetch and open the queue.
pub async fn queue(unlocked: &Unlocked, profile: &mut Profile) -> Result<Queue> {
    let served = unlocked.api.intake_items().await?;
    let Some(desk) = served.desk else {
        return Ok(Queue {
            items: vec![],
            no_keys: false,
            desk: None,
        });
    };
    let desk_id = ObjectId(unhex16("desk_case_id", &desk.desk_case_id)?);
    let ring = reachable_keys(unlocked, profile, desk_id).await?;
    let pairs: BTreeMap<u32, IntakeKeyPair> = ring
        .generations()
        .collect::<Vec<_>>()
        .into_iter()
        .filter_map(|g| {
            ring.get(g)
                .ok()
                .map(|k| (g, IntakeKeyPair::derive(&unlocked.org, k)))
        })
        .collect();
    // A server that hands the public page another key would read every new request.
    if let Some(pair) = pairs.get(&desk.generation)
        && b64(&pair.public_key()) != desk.public_key
    {
        return Err(ClientError::ServerChanged(format!(
            "the server publishes an intake key for generation {} that the desk keys do not derive: \
             new requests may be readable by someone else; tell an admin",
            desk.generation
        )));
    }
    let chain = crate::org::verified_chain(&unlocked.api, profile)
        .await
        .ok();
    let mut items = vec![];
    for item in served.items {
        let conversation = unhex16("conversation_id", &item.conversation_id)?;
        let mut messages = vec![];
        let mut unreadable = vec![];
        for entry in &item.entries {
            let sealed = unb64("sealed", &entry.sealed)?;
            let opened = (|| -> std::result::Result<OpenedMessage, String> {
                let header = intake::parse_sealed_header(&sealed).map_err(|e| e.to_string())?;
                let pair = pairs
                    .get(&header.generation)
                    .ok_or_else(|| format!("no desk key of generation {}", header.generation))?;
                let (author_key, author) = match header.by {
                    SealedBy::Requester => (None, Author::Requester),
                    SealedBy::Staff => {
                        let key_id =
                            intake::staff_note_author(&sealed).map_err(|e| e.to_string())?;
                        let (member, _) = chain
                            .as_ref()
                            .and_then(|c| c.author_by_key_id(key_id))
                            .ok_or_else(|| {
                            format!("a staff note signed by key {key_id}, not a member's")
                        })?;
                        (
                            Some(member.author_key()),
                            Author::Staff {
                                name: member.name.clone(),
                            },
                        )
                    }
                };
                let opened =
                    intake::open_sealed(&unlocked.org, &conversation, pair, &sealed, author_key)
                        .map_err(|e| e.to_string())?;
                Ok(OpenedMessage {
                    seq: entry.seq,
                    at: entry.at,
                    author,
                    fields: fields_of(&opened.plaintext),
                })
            })();
            match opened {
                Ok(m) => messages.push(m),
                Err(why) => unreadable.push(format!("message {}: {why}", entry.seq)),
            }
        }
        items.push(IntakeItem {
            id: item.conversation_id,
            created_at: item.created_at,
            updated_at: item.updated_at,
            path: item.path,
            referred: item.referred,
            status: item.status,
            messages,
            unreadable,
            reply_public: item.reply_public,
        });
    }
    let current = ring.get(desk.generation).ok().map(|k| {
        (
            desk.generation,
            IntakeKeyPair::derive(&unlocked.org, k).public_key(),
        )
    });
    Ok(Queue {
        no_keys: pairs.is_empty(),
        items,
        desk: current.map(|(g, public)| (desk_id, g, public)),
    })
}

impl Queue {
    pub fn find(&self, id: &str) -> Result<&IntakeItem> {
        let wanted = id.trim().to_ascii_lowercase();
        let matches: Vec<&IntakeItem> = self
            .items
            .iter()
            .filter(|i| i.id.starts_with(&wanted) && wanted.len() >= 4)
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(ClientError::Refused(format!("no intake item '{id}'"))),
            _ => Err(ClientError::Refused(format!(
                "'{id}' names several intake items: give more of the id"
            ))),
        }
    }
}

/// Add a signed note (and, for a reply, the reply sealed to the requester).
pub async fn add_note(
    unlocked: &Unlocked,
    queue: &Queue,
    item: &IntakeItem,
    fields: BTreeMap<&str, String>,
    reply_text: Option<&str>,
    status: Option<&str>,
) -> Result<()> {
    let (_, generation, public) = queue.desk.ok_or_else(|| {
        ClientError::Refused("you hold no key of the intake desk's newest generation yet".into())
    })?;
    let conversation = unhex16("conversation_id", &item.id)?;
    let plaintext = serde_json::to_vec(&fields).expect("strings serialize");
    let note = intake::seal_staff_note(
        &unlocked.org,
        generation,
        &public,
        &conversation,
        &plaintext,
        &unlocked.keys,
        &mut OsRng,
    )?;
    let reply = match reply_text {
        Some(text) => Some(b64(&intake::seal_reply(
            &unlocked.org,
            &conversation,
            &unb64_array::<32>("reply_public", &item.reply_public)?,
            text.as_bytes(),
            &mut OsRng,
        )?)),
        None => None,
    };
    unlocked
        .api
        .intake_note(
            &item.id,
            &p::IntakeStaffNote {
                note: b64(&note),
                reply,
                status: status.map(str::to_owned),
            },
        )
        .await
}

/// A referral code for a partner to hand out, good for `uses` requests.
pub async fn new_referral(unlocked: &Unlocked, uses: u32) -> Result<String> {
    let code = intake::new_referral_code(&mut OsRng);
    unlocked
        .api
        .create_referral(&p::CreateReferral {
            code_hash: b64(&intake::referral_hash(&code)),
            uses,
        })
        .await?;
    Ok(code)
}

/// Rotate the desk away from a removed member and publish the new intake key.
pub(crate) async fn rotate_desk_after_removal(
    unlocked: &Unlocked,
    profile: &mut Profile,
    chain: &northstar_crypto::membership::MembershipState,
    removed: northstar_crypto::AccountId,
) -> Result<bool> {
    let Some(served) = desk(unlocked).await? else {
        return Ok(false);
    };
    let desk_id = ObjectId(unhex16("desk_case_id", &served.desk_case_id)?);
    let rotated = crate::cases::rotate_away(unlocked, chain, desk_id, removed, None).await?;
    if rotated.is_empty() {
        return Ok(false);
    }
    keep_desk(unlocked, profile).await?;
    Ok(true)
}
