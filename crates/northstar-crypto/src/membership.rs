//! The organization's membership chain: an append-only list of links, each
//! signed by the organization root key or by an admin who is a member at that
//! point, each naming the hash of the link before it.
//!
//! Link layout (docs/crypto.md §Membership):
//! `"NSML" | 0x01 | org_id 16 | seq u64 | prev_hash 32 | issued_at u64 | action u8 |
//!  subject 16 | role u8 | signing pk 32 | agreement pk 32 | name_len u8 | name |
//!  signer pk 32 | signature 64`.
//! Fields an action does not use must be zero (or empty), so each link has one encoding.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use northstar_core::Role;

use crate::identity::{AuthorKey, MemberPublicKeys};
use crate::kdf::labelled_hash;
use crate::sig::{self, SigningSecret};
use crate::wire::{Reader, Writer};
use crate::{AccountId, CryptoError, KeyId, MembershipError, OrgId};

const MAGIC: &[u8; 4] = b"NSML";
const VERSION: u8 = 1;
const FORMAT: &str = "membership link";
const SIG_LABEL: &[u8] = b"northstar/v1/membership/sig";
const HASH_LABEL: &[u8] = b"northstar/v1/membership/link";
pub const MAX_NAME_LEN: usize = 64;

/// What a link does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkAction {
    /// The first link: the organization exists, under this name.
    Create {
        org_name: String,
    },
    /// A new member with their keys, name and role.
    Add {
        account: AccountId,
        name: String,
        role: Role,
        keys: MemberPublicKeys,
    },
    ChangeRole {
        account: AccountId,
        role: Role,
    },
    Remove {
        account: AccountId,
    },
}

impl LinkAction {
    fn code(&self) -> u8 {
        match self {
            LinkAction::Create { .. } => 1,
            LinkAction::Add { .. } => 2,
            LinkAction::ChangeRole { .. } => 3,
            LinkAction::Remove { .. } => 4,
        }
    }
}

/// The signed content of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBody {
    pub org: OrgId,
    pub seq: u64,
    pub prev_hash: [u8; 32],
    /// Unix seconds, as claimed by the signer.
    pub issued_at: u64,
    pub action: LinkAction,
}

/// A parsed link with the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub body: LinkBody,
    pub signer: [u8; 32],
    pub signature: [u8; 64],
}

/// Whether a display name may appear in the chain: 1 to 64 bytes, no control
/// characters, no leading or trailing whitespace.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.chars().any(char::is_control)
        && name.trim() == name
}

fn encode_unsigned(body: &LinkBody, signer: &[u8; 32]) -> Vec<u8> {
    let zero16 = [0u8; 16];
    let zero32 = [0u8; 32];
    let (subject, role, signing, agreement, name): (&[u8; 16], u8, &[u8; 32], &[u8; 32], &str) =
        match &body.action {
            LinkAction::Create { org_name } => (&zero16, 0, &zero32, &zero32, org_name),
            LinkAction::Add {
                account,
                name,
                role,
                keys,
            } => (
                account.as_bytes(),
                role.code(),
                &keys.signing,
                &keys.agreement,
                name,
            ),
            LinkAction::ChangeRole { account, role } => {
                (account.as_bytes(), role.code(), &zero32, &zero32, "")
            }
            LinkAction::Remove { account } => (account.as_bytes(), 0, &zero32, &zero32, ""),
        };
    assert!(
        name.len() <= MAX_NAME_LEN,
        "names are checked before signing"
    );
    let mut w = Writer::with_capacity(300);
    w.bytes(MAGIC)
        .u8(VERSION)
        .bytes(body.org.as_bytes())
        .u64(body.seq)
        .bytes(&body.prev_hash)
        .u64(body.issued_at)
        .u8(body.action.code())
        .bytes(subject)
        .u8(role)
        .bytes(signing)
        .bytes(agreement)
        .u8(name.len() as u8)
        .bytes(name.as_bytes())
        .bytes(signer);
    w.finish()
}

/// Sign a link. Panics if a name is invalid: callers check names with [`valid_name`] first.
pub fn sign_link(body: &LinkBody, signer: &SigningSecret) -> Vec<u8> {
    let name_ok = match &body.action {
        LinkAction::Create { org_name } => valid_name(org_name),
        LinkAction::Add { name, .. } => valid_name(name),
        _ => true,
    };
    assert!(name_ok, "link names are validated before signing");
    let mut bytes = encode_unsigned(body, &signer.public_key());
    let signature = signer.sign(&[SIG_LABEL, &bytes].concat());
    bytes.extend_from_slice(&signature);
    bytes
}

/// The hash the next link names as `prev_hash`.
pub fn link_hash(link_bytes: &[u8]) -> [u8; 32] {
    labelled_hash(HASH_LABEL, &[link_bytes])
}

fn malformed(seq: u64, reason: &'static str) -> MembershipError {
    MembershipError::Malformed { seq, reason }
}

/// Parse a link without judging it. `position` is where it sits in the chain, for errors.
pub fn parse_link(bytes: &[u8], position: u64) -> Result<Link, MembershipError> {
    let m = |e: CryptoError| match e {
        CryptoError::Unsupported { .. } => malformed(position, "unsupported version"),
        _ => malformed(position, "truncated or wrong magic"),
    };
    let mut r = Reader::new(bytes, FORMAT);
    r.expect_magic(MAGIC, VERSION).map_err(m)?;
    let org = OrgId(r.array().map_err(m)?);
    let seq = r.u64().map_err(m)?;
    let prev_hash: [u8; 32] = r.array().map_err(m)?;
    let issued_at = r.u64().map_err(m)?;
    let action = r.u8().map_err(m)?;
    let subject = AccountId(r.array().map_err(m)?);
    let role_code = r.u8().map_err(m)?;
    let signing: [u8; 32] = r.array().map_err(m)?;
    let agreement: [u8; 32] = r.array().map_err(m)?;
    let name_len = r.u8().map_err(m)? as usize;
    let name_bytes = r.take(name_len).map_err(m)?;
    let signer: [u8; 32] = r.array().map_err(m)?;
    let signature: [u8; 64] = r.array().map_err(m)?;
    r.finish().map_err(m)?;

    let name =
        std::str::from_utf8(name_bytes).map_err(|_| malformed(position, "name is not UTF-8"))?;
    let role = || Role::from_code(role_code).map_err(|_| malformed(position, "unknown role"));
    let zero_subject = subject.0 == [0; 16];
    let zero_keys = signing == [0; 32] && agreement == [0; 32];
    let action = match action {
        1 => {
            if !zero_subject || role_code != 0 || !zero_keys {
                return Err(malformed(position, "create link carries member fields"));
            }
            if !valid_name(name) {
                return Err(malformed(position, "invalid organization name"));
            }
            LinkAction::Create {
                org_name: name.to_owned(),
            }
        }
        2 => {
            if !valid_name(name) {
                return Err(malformed(position, "invalid member name"));
            }
            LinkAction::Add {
                account: subject,
                name: name.to_owned(),
                role: role()?,
                keys: MemberPublicKeys { signing, agreement },
            }
        }
        3 => {
            if !zero_keys || !name.is_empty() {
                return Err(malformed(position, "role change carries keys or a name"));
            }
            LinkAction::ChangeRole {
                account: subject,
                role: role()?,
            }
        }
        4 => {
            if !zero_keys || !name.is_empty() || role_code != 0 {
                return Err(malformed(
                    position,
                    "removal carries keys, a name or a role",
                ));
            }
            LinkAction::Remove { account: subject }
        }
        _ => return Err(malformed(position, "unknown action")),
    };
    Ok(Link {
        body: LinkBody {
            org,
            seq,
            prev_hash,
            issued_at,
            action,
        },
        signer,
        signature,
    })
}

/// A member as the chain establishes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account: AccountId,
    pub name: String,
    pub role: Role,
    pub keys: MemberPublicKeys,
    /// The link that added the member.
    pub added_at: u64,
    author: AuthorKey,
}

impl Member {
    /// The member's checked keys, for verifying what they signed.
    pub fn author_key(&self) -> &AuthorKey {
        &self.author
    }
}

/// The organization as a verified chain describes it.
#[derive(Debug, Clone)]
pub struct MembershipState {
    pub org: OrgId,
    pub org_name: String,
    pub root_public_key: [u8; 32],
    members: BTreeMap<AccountId, Member>,
    /// Removed members with the link that removed them: their keys still verify
    /// what they wrote while they were members.
    former: BTreeMap<AccountId, (Member, u64)>,
    ever_added: BTreeSet<AccountId>,
    /// Every signing and agreement key ever registered, and the root key: a key
    /// is registered once, so a removed member's key can never sign again.
    used_keys: HashSet<[u8; 32]>,
    head: [u8; 32],
    len: u64,
}

impl MembershipState {
    /// Verify a whole chain, link by link, from the pinned root public key.
    pub fn verify(root_public_key: &[u8; 32], links: &[Vec<u8>]) -> Result<Self, MembershipError> {
        let first = links.first().ok_or(MembershipError::Empty)?;
        let genesis = parse_link(first, 0)?;
        let LinkAction::Create { org_name } = &genesis.body.action else {
            return Err(MembershipError::BadGenesis);
        };
        if genesis.body.seq != 0
            || genesis.body.prev_hash != [0; 32]
            || genesis.signer != *root_public_key
        {
            return Err(MembershipError::BadGenesis);
        }
        verify_link_signature(first, &genesis, 0)?;
        let mut state = MembershipState {
            org: genesis.body.org,
            org_name: org_name.clone(),
            root_public_key: *root_public_key,
            members: BTreeMap::new(),
            former: BTreeMap::new(),
            ever_added: BTreeSet::new(),
            used_keys: HashSet::from([*root_public_key]),
            head: link_hash(first),
            len: 1,
        };
        for link in &links[1..] {
            state.apply(link)?;
        }
        Ok(state)
    }

    /// Verify and apply one more link; on error the state is unchanged.
    pub fn apply(&mut self, bytes: &[u8]) -> Result<(), MembershipError> {
        let seq = self.len;
        let link = parse_link(bytes, seq)?;
        if link.body.org != self.org {
            return Err(MembershipError::ForeignOrg { seq });
        }
        if link.body.seq != seq {
            return Err(MembershipError::OutOfSequence {
                seq,
                found: link.body.seq,
            });
        }
        if link.body.prev_hash != self.head {
            return Err(MembershipError::BrokenLink { seq });
        }
        verify_link_signature(bytes, &link, seq)?;
        self.check_signer_authority(&link.signer, seq)?;

        match link.body.action {
            LinkAction::Create { .. } => return Err(malformed(seq, "second create link")),
            LinkAction::Add {
                account,
                name,
                role,
                keys,
            } => {
                if self.ever_added.contains(&account) {
                    return Err(MembershipError::AlreadyMember { seq });
                }
                if self.members.values().any(|m| m.name == name) {
                    return Err(MembershipError::NameTaken { seq, name });
                }
                let author = AuthorKey::new(keys)
                    .map_err(|source| MembershipError::WeakKey { seq, source })?;
                if keys.signing == keys.agreement
                    || self.used_keys.contains(&keys.signing)
                    || self.used_keys.contains(&keys.agreement)
                {
                    return Err(MembershipError::KeyReused { seq });
                }
                self.used_keys.extend([keys.signing, keys.agreement]);
                self.ever_added.insert(account);
                self.members.insert(
                    account,
                    Member {
                        account,
                        name,
                        role,
                        keys,
                        added_at: seq,
                        author,
                    },
                );
            }
            LinkAction::ChangeRole { account, role } => {
                let current = self
                    .members
                    .get(&account)
                    .ok_or(MembershipError::NotMember { seq })?
                    .role;
                if current == Role::Admin && role != Role::Admin && self.admin_count() == 1 {
                    return Err(MembershipError::LastAdmin { seq });
                }
                self.members.get_mut(&account).expect("checked above").role = role;
            }
            LinkAction::Remove { account } => {
                let member = self
                    .members
                    .get(&account)
                    .ok_or(MembershipError::NotMember { seq })?;
                if member.role == Role::Admin && self.admin_count() == 1 {
                    return Err(MembershipError::LastAdmin { seq });
                }
                let member = self.members.remove(&account).expect("checked above");
                self.former.insert(account, (member, seq));
            }
        }
        self.head = link_hash(bytes);
        self.len += 1;
        Ok(())
    }

    fn admin_count(&self) -> usize {
        self.members
            .values()
            .filter(|m| m.role == Role::Admin)
            .count()
    }

    fn check_signer_authority(&self, signer: &[u8; 32], seq: u64) -> Result<(), MembershipError> {
        if signer == &self.root_public_key {
            return Ok(());
        }
        match self.members.values().find(|m| &m.keys.signing == signer) {
            Some(m) if m.role.may_manage_members() => Ok(()),
            Some(_) => Err(MembershipError::SignerNotAdmin { seq }),
            None if self.former.values().any(|(m, _)| &m.keys.signing == signer) => {
                Err(MembershipError::SignerRemoved { seq })
            }
            None => Err(MembershipError::SignerUnknown { seq }),
        }
    }

    /// The body of the next link, ready to sign.
    pub fn next_link(&self, issued_at: u64, action: LinkAction) -> LinkBody {
        LinkBody {
            org: self.org,
            seq: self.len,
            prev_hash: self.head,
            issued_at,
            action,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn head(&self) -> [u8; 32] {
        self.head
    }
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }
    pub fn member(&self, account: AccountId) -> Option<&Member> {
        self.members.get(&account)
    }
    pub fn member_by_name(&self, name: &str) -> Option<&Member> {
        self.members.values().find(|m| m.name == name)
    }
    /// A current member by key id: how records, grants and links name their author.
    pub fn member_by_key_id(&self, key_id: KeyId) -> Option<&Member> {
        self.members.values().find(|m| m.author.key_id() == key_id)
    }
    /// A current or former member by key id, with the link that removed them if
    /// they were removed: for verifying history written while they were members.
    pub fn author_by_key_id(&self, key_id: KeyId) -> Option<(&Member, Option<u64>)> {
        self.member_by_key_id(key_id)
            .map(|m| (m, None))
            .or_else(|| {
                self.former
                    .values()
                    .find(|(m, _)| m.author.key_id() == key_id)
                    .map(|(m, removed_at)| (m, Some(*removed_at)))
            })
    }
    pub fn was_removed(&self, account: AccountId) -> bool {
        self.ever_added.contains(&account) && !self.members.contains_key(&account)
    }
}

fn verify_link_signature(bytes: &[u8], link: &Link, seq: u64) -> Result<(), MembershipError> {
    let unsigned = &bytes[..bytes.len() - 64];
    sig::verify(
        &link.signer,
        &[SIG_LABEL, unsigned].concat(),
        &link.signature,
    )
    .map_err(|source| MembershipError::BadSignature { seq, source })
}

/// Create a new organization: its genesis link and the link that adds the first admin,
/// both signed by the organization root key.
pub fn found_organization(
    org: OrgId,
    org_name: &str,
    root: &SigningSecret,
    issued_at: u64,
    first_admin: (AccountId, &str, MemberPublicKeys),
) -> Result<Vec<Vec<u8>>, MembershipError> {
    if !valid_name(org_name) {
        return Err(malformed(0, "invalid organization name"));
    }
    if !valid_name(first_admin.1) {
        return Err(malformed(1, "invalid member name"));
    }
    let genesis = sign_link(
        &LinkBody {
            org,
            seq: 0,
            prev_hash: [0; 32],
            issued_at,
            action: LinkAction::Create {
                org_name: org_name.to_owned(),
            },
        },
        root,
    );
    let add = sign_link(
        &LinkBody {
            org,
            seq: 1,
            prev_hash: link_hash(&genesis),
            issued_at,
            action: LinkAction::Add {
                account: first_admin.0,
                name: first_admin.1.to_owned(),
                role: Role::Admin,
                keys: first_admin.2,
            },
        },
        root,
    );
    let links = vec![genesis, add];
    MembershipState::verify(&root.public_key(), &links)?;
    Ok(links)
}
