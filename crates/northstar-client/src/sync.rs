//! The local cache and syncing into it.
//!
//! The cache is a SQLite file in the profile (`cache.sqlite3`, through
//! `northstar-store-cache`). Every row is sealed under a key derived from the
//! account root key, and bound to its case id, so the file alone reveals case
//! ids and chain positions (which the server knows too) and nothing else.
//!
//! A sync asks the server for the heads of every case the member holds a
//! grant for, then fetches, 256 cases per round trip, only what moved: the
//! entries after the cached head, or the whole case again when its keys
//! changed (a share or an unshare moves no head). Each entry is checked
//! against the chain (links, order, organization and case), its author's
//! signature, and, where the member holds the compartment, its key commitment
//! before it is opened and folded into the case. Grants are opened once, when
//! a compartment first needs its key, and the keys are kept sealed in the
//! cache: public-key work is never repeated per record.
//!
//! Rollback protection: each case's state remembers the highest head ever
//! verified. A server that serves less, or something else at that position,
//! is refused by name.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use northstar_core::{Actor, Compartment, SafeHouse};
use northstar_crypto::chain::{ChainHead, verify_chain};
use northstar_crypto::envelope::{RecordAddress, entry_hash, open_record, verify_entry};
use northstar_crypto::grant::{CompartmentKey, CompartmentRef, KeepKey, Keyring, open_grant_as};
use northstar_crypto::identity::MemberSecretKeys;
use northstar_crypto::membership::MembershipState;
use northstar_crypto::slot::RootKey;
use northstar_crypto::{AccountId, ChainError, ObjectId, OrgId, localseal};

use northstar_protocol as p;
use northstar_store_cache::{CacheDb, CachedCase, CaseId, Position};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::cases::{CaseView, RecordBody};
use crate::listing_pages;
use crate::{ClientError, Result, unb64};

const FILE: &str = "cache.sqlite3";
const OWNER_LABEL: &str = "northstar/v1/cache/owner";
/// Cases per sync request (the server's limit).
const BATCH: usize = 256;

/// Where a case's sync stands, with everything needed to continue it. Sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CaseState {
    /// Entries folded into `view` (0 ..= len - 1).
    len: u64,
    /// The hash of entry `len - 1`.
    head_hash: Option<String>,
    /// The highest head ever verified for this case; never goes down.
    highest: Option<(u64, String)>,
    keys_version: u64,
    /// The member's own grants and the case's rotation links, as last served.
    grants: Vec<p::GrantInfo>,
    rotations: Vec<p::RotationInfo>,
    view: CaseView,
}

/// What a list or a search shows of a case, without opening its state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Listing {
    pub case_id: String,
    pub alias: Option<String>,
    pub stage: Option<String>,
    pub priority: Option<String>,
    pub country: Option<String>,
    pub entries: u64,
    /// Every readable field value and note, lower-cased, one per line.
    pub text: String,
    /// Open tasks, earliest due first (empty without access to `summary`).
    #[serde(default)]
    pub tasks: Vec<ListedTask>,
    #[serde(default)]
    pub flags: Vec<String>,
    /// The day the case was opened (`YYYY-MM-DD`), where to, and by which route.
    #[serde(default)]
    pub opened: Option<String>,
    #[serde(default)]
    pub destination: Option<String>,
    #[serde(default)]
    pub pathway: Option<String>,
    /// `Some("safehouse")` for a safe house; cases have none.
    #[serde(default)]
    pub kind: Option<String>,
    /// A safe house's places and how many are taken.
    #[serde(default)]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub occupancy: Option<u32>,
    /// Journey legs still waiting for their check-in: (leg, check-in due by).
    #[serde(default)]
    pub pending_checkins: Vec<(u32, i64)>,
    /// Disbursements (empty without access to `finance`).
    #[serde(default)]
    pub payments: Vec<northstar_core::money::Payment>,
}

impl Listing {
    pub fn is_safe_house(&self) -> bool {
        self.kind.as_deref() == Some(crate::cases::SAFE_HOUSE_KIND)
    }
}

/// An open task, as a list shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ListedTask {
    pub id: String,
    pub title: String,
    pub due: i64,
}

impl Listing {
    fn of(view: &CaseView, entries: u64) -> Self {
        let summary = |name: &str| view.field(Compartment::Summary, name).map(str::to_owned);
        let mut text = String::new();
        for fields in view.fields.values() {
            for f in fields.values() {
                text.push_str(&f.value.to_lowercase());
                text.push('\n');
            }
        }
        for n in &view.notes {
            text.push_str(&n.2.to_lowercase());
            text.push('\n');
        }
        Listing {
            case_id: view.case_id.clone(),
            alias: summary("alias"),
            stage: (view.readable.contains(&Compartment::Summary) && view.house.is_none())
                .then(|| view.workflow.stage.name().to_owned()),
            priority: summary("priority"),
            country: summary("country"),
            entries,
            text,
            tasks: view
                .workflow
                .open_tasks()
                .into_iter()
                .map(|(id, t)| ListedTask {
                    id: id.to_owned(),
                    title: t.title.clone(),
                    due: t.due,
                })
                .collect(),
            flags: view
                .workflow
                .flags
                .iter()
                .map(|f| f.name().to_owned())
                .collect(),
            opened: summary("opened"),
            destination: summary("destination"),
            pathway: summary("pathway"),
            kind: view
                .house
                .as_ref()
                .map(|_| crate::cases::SAFE_HOUSE_KIND.to_owned()),
            capacity: view.house.as_ref().map(|h| h.capacity),
            occupancy: view.house.as_ref().map(SafeHouse::occupancy),
            pending_checkins: view
                .current_fields(Compartment::Travel)
                .map(|travel| {
                    northstar_core::pathway::legs(&travel)
                        .into_iter()
                        .filter(|leg| leg.checked_in.is_none())
                        .filter_map(|leg| leg.checkin_by.map(|by| (leg.number, by)))
                        .collect()
                })
                .unwrap_or_default(),
            payments: view
                .current_fields(Compartment::Finance)
                .map(|finance| northstar_core::money::payments(&finance))
                .unwrap_or_default(),
        }
    }

    /// Whether a readable value or note contains `needle` (ignoring case).
    pub fn matches(&self, needle: &str) -> bool {
        self.text.contains(&needle.to_lowercase())
    }
}

type KeyMap = BTreeMap<Compartment, Keyring>;

/// What appending to a compartment needs.
#[derive(Debug)]
pub(crate) struct Writable {
    pub head: Option<ChainHead>,
    /// The newest generation the member holds, and its keyring.
    pub key: Option<(u32, Keyring)>,
}

/// The local cache of one account, open with its key.
#[derive(Debug)]
pub struct LocalCache {
    db: CacheDb,
    key: Arc<CacheKey>,
}

/// The key every cached blob is sealed under. Shared, never copied, with the
/// task that writes a sync round while the next is verified.
struct CacheKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKey(redacted)")
    }
}

fn label(what: &str, case: &str) -> String {
    format!("northstar/v1/cache/{what}/{case}")
}

pub(crate) fn damaged(reason: &str) -> ClientError {
    ClientError::Cache(format!(
        "{reason}; run `northstar cache clear` and sync again"
    ))
}

fn cache_error(e: northstar_store_cache::CacheError) -> ClientError {
    ClientError::Cache(e.to_string())
}

impl LocalCache {
    pub fn path(profile_dir: &Path) -> PathBuf {
        profile_dir.join(FILE)
    }

    /// Delete the cache of a profile (the file and SQLite's journal files).
    pub fn delete(profile_dir: &Path) -> std::io::Result<bool> {
        let mut any = false;
        for suffix in ["", "-wal", "-shm"] {
            let path = profile_dir.join(format!("{FILE}{suffix}"));
            match std::fs::remove_file(&path) {
                Ok(()) => any = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(any)
    }

    /// Open the profile's cache with the key derived from `root`. A cache
    /// sealed under another key (another account used this profile) is
    /// deleted and started afresh.
    pub async fn open(profile_dir: &Path, root: &RootKey, account: AccountId) -> Result<Self> {
        let key = root.derive_purpose_key("cache");
        std::fs::create_dir_all(profile_dir).map_err(|e| ClientError::Cache(e.to_string()))?;
        let path = Self::path(profile_dir);
        for attempt in 0..2 {
            let db = CacheDb::open(&path).await.map_err(cache_error)?;
            match db.meta("owner").await.map_err(cache_error)? {
                None => {
                    let owner = localseal::seal(&key, OWNER_LABEL, account.as_bytes(), &mut OsRng);
                    db.set_meta("owner", &owner).await.map_err(cache_error)?;
                    return Ok(LocalCache::with(db, key));
                }
                Some(owner) => match localseal::open(&key, OWNER_LABEL, &owner) {
                    Ok(found) if found.as_slice() == account.as_bytes() => {
                        return Ok(LocalCache::with(db, key));
                    }
                    _ if attempt == 0 => {
                        db.close().await;
                        Self::delete(profile_dir).map_err(|e| ClientError::Cache(e.to_string()))?;
                    }
                    _ => break,
                },
            }
        }
        Err(damaged("the cache belongs to another key"))
    }

    fn with(db: CacheDb, key: Zeroizing<[u8; 32]>) -> Self {
        LocalCache {
            db,
            key: Arc::new(CacheKey(key)),
        }
    }

    pub async fn close(&self) {
        self.db.close().await;
    }

    fn seal(&self, what: &str, case: &str, plaintext: &[u8]) -> Vec<u8> {
        localseal::seal(&self.key.0, &label(what, case), plaintext, &mut OsRng)
    }

    fn open_blob(&self, what: &str, case: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        localseal::open(&self.key.0, &label(what, case), sealed)
            .map_err(|_| damaged(&format!("the cached {what} of case {case} does not open")))
    }

    /// Every cached case's listing, in case id order. Opened on every core.
    pub async fn listings(&self) -> Result<Vec<Listing>> {
        let pages = self.db.listing_pages().await.map_err(cache_error)?;
        listing_pages::open_all(&self.key.0, &pages, workers())
    }

    /// Forget cases the member lost access to, with their listings.
    async fn forget(&self, cases: &[(CaseId, Option<u64>)]) -> Result<()> {
        if cases.is_empty() {
            return Ok(());
        }
        let changes = cases
            .iter()
            .map(|&(case, page)| listing_pages::Change {
                case,
                page,
                listing: None,
            })
            .collect();
        let (_, pages) = listing_pages::plan(&self.db, &self.key.0, changes).await?;
        let ids: Vec<CaseId> = cases.iter().map(|(id, _)| *id).collect();
        self.db
            .remove_cases(&ids, &pages)
            .await
            .map_err(cache_error)
    }

    /// The cached view of one case, if it was ever synced.
    pub async fn view(&self, case: ObjectId) -> Result<Option<CaseView>> {
        Ok(self.load(case).await?.map(|(state, _)| state.view))
    }

    /// What writing to `compartment` of a cached case needs: the verified
    /// head and the newest key the member holds for it (opening its grant
    /// now if no record needed it yet). `None` if the case is not cached.
    pub(crate) async fn writable(
        &self,
        unlocked: &crate::Unlocked,
        chain: &MembershipState,
        case: ObjectId,
        compartment: Compartment,
    ) -> Result<Option<Writable>> {
        let rows = self.db.cases(&[case.0]).await.map_err(cache_error)?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let (state, mut rings) = self.open_row(row, Some(unlocked.org))?;
        let head = state
            .head_hash
            .as_deref()
            .and_then(northstar_crypto::ids::from_hex::<32>)
            .map(|hash| ChainHead {
                seq: state.len - 1,
                hash,
            });
        let newest = state
            .grants
            .iter()
            .filter(|g| g.compartment == compartment.code())
            .map(|g| g.generation)
            .max();
        let Some(generation) = newest else {
            return Ok(Some(Writable { head, key: None }));
        };
        let verifier = Verifier {
            org: unlocked.org,
            keys: &unlocked.keys,
            keep: unlocked.keep_key(),
            chain,
        };
        let had = rings
            .get(&compartment)
            .is_some_and(|r| r.get(generation).is_ok());
        if !verifier.ensure_key(case, &state, &mut rings, compartment, generation)? {
            return Ok(Some(Writable { head, key: None }));
        }
        if !had {
            // Keep the opened grant, so it is not opened again.
            let hex = case.to_hex();
            self.db
                .set_sealed_keys(case.0, &self.seal("keys", &hex, &keys_to_bytes(&rings)))
                .await
                .map_err(cache_error)?;
        }
        let ring = rings.remove(&compartment).expect("ensured above");
        Ok(Some(Writable {
            head,
            key: Some((generation, ring)),
        }))
    }

    async fn positions(&self) -> Result<HashMap<[u8; 16], Position>> {
        Ok(self
            .db
            .positions()
            .await
            .map_err(cache_error)?
            .into_iter()
            .map(|p| (p.case_id, p))
            .collect())
    }

    async fn load(&self, case: ObjectId) -> Result<Option<(CaseState, KeyMap)>> {
        let rows = self.db.cases(&[case.0]).await.map_err(cache_error)?;
        rows.first().map(|row| self.open_row(row, None)).transpose()
    }

    fn open_row(&self, row: &CachedCase, org: Option<OrgId>) -> Result<(CaseState, KeyMap)> {
        let hex = northstar_crypto::ids::to_hex(&row.case_id);
        let plain = self.open_blob("state", &hex, &row.sealed_state)?;
        let state: CaseState = serde_json::from_slice(&plain)
            .map_err(|_| damaged(&format!("the cached state of case {hex} is unreadable")))?;
        if state.view.case_id != hex || state.len != row.len {
            return Err(damaged(&format!(
                "the cached state of case {hex} does not match its row"
            )));
        }
        let keys = self.open_blob("keys", &hex, &row.sealed_keys)?;
        let rings = match org {
            Some(org) => keys_from_bytes(&keys, org, ObjectId(row.case_id))?,
            None => KeyMap::new(),
        };
        Ok((state, rings))
    }

    /// A case's row, sealed, and its listing. The row's `listing_page` is
    /// set when the listing is placed on a page.
    fn seal_row(&self, case: ObjectId, state: &CaseState, rings: &KeyMap) -> (CachedCase, Listing) {
        let hex = case.to_hex();
        let json = Zeroizing::new(serde_json::to_vec(state).expect("case state serializes"));
        let head_hash = state
            .head_hash
            .as_deref()
            .and_then(northstar_crypto::ids::from_hex::<32>)
            .unwrap_or([0; 32]);
        let row = CachedCase {
            case_id: case.0,
            len: state.len,
            head_hash,
            keys_version: state.keys_version,
            sealed_keys: self.seal("keys", &hex, &keys_to_bytes(rings)),
            sealed_state: self.seal("state", &hex, &json),
            listing_page: 0,
        };
        (row, Listing::of(&state.view, state.len))
    }
}

/// How many threads verify and open in parallel.
fn workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// The opened compartment keys, as `compartment u8 | generation u32 BE | key 32`.
fn keys_to_bytes(rings: &KeyMap) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    for (compartment, ring) in rings {
        for generation in ring.generations() {
            let key = ring.get(generation).expect("listed generation");
            out.push(compartment.code());
            out.extend_from_slice(&generation.to_be_bytes());
            out.extend_from_slice(key.expose_for_cache());
        }
    }
    out
}

fn keys_from_bytes(bytes: &[u8], org: OrgId, case: ObjectId) -> Result<KeyMap> {
    let mut rings = KeyMap::new();
    for record in bytes.chunks(37) {
        let [code, g0, g1, g2, g3, key @ ..] = record else {
            return Err(damaged("the cached keys are cut short"));
        };
        let compartment = Compartment::from_code(*code)
            .map_err(|_| damaged("a cached key names no compartment"))?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| damaged("the cached keys are cut short"))?;
        rings
            .entry(compartment)
            .or_insert_with(|| {
                Keyring::new(CompartmentRef {
                    org,
                    object: case,
                    compartment,
                })
            })
            .insert(CompartmentKey::from_bytes(
                u32::from_be_bytes([*g0, *g1, *g2, *g3]),
                key,
            ));
    }
    Ok(rings)
}

/// What the verifying threads share.
struct Verifier<'a> {
    org: OrgId,
    keys: &'a MemberSecretKeys,
    /// Opens the grants the member kept for itself: one AEAD each.
    keep: KeepKey,
    chain: &'a MembershipState,
}

/// One case to bring up to date: what the cache held and what the server sent.
struct Work {
    case: ObjectId,
    state: Option<CaseState>,
    /// The highest head remembered for a case that is not in the cache.
    remembered: Option<(u64, [u8; 32])>,
    rings: KeyMap,
    /// Fold from scratch (the first sync, changed keys, or a full check).
    rebuild: bool,
    bundle: p::CaseBundle,
}

impl Verifier<'_> {
    fn case_ref(&self, case: ObjectId, compartment: Compartment) -> CompartmentRef {
        CompartmentRef {
            org: self.org,
            object: case,
            compartment,
        }
    }

    /// Make sure `rings` can open `generation` of `compartment`: open the
    /// member's grants of that compartment, newest first, until it can. Each
    /// grant is opened at most once per sync; its keys are then cached.
    fn ensure_key(
        &self,
        case: ObjectId,
        state: &CaseState,
        rings: &mut KeyMap,
        compartment: Compartment,
        generation: u32,
    ) -> Result<bool> {
        if rings
            .get(&compartment)
            .is_some_and(|r| r.get(generation).is_ok())
        {
            return Ok(true);
        }
        let mut mine: Vec<&p::GrantInfo> = state
            .grants
            .iter()
            .filter(|g| g.compartment == compartment.code() && g.generation >= generation)
            .collect();
        mine.sort_by_key(|g| std::cmp::Reverse(g.generation));
        let links: BTreeMap<u32, Vec<u8>> = state
            .rotations
            .iter()
            .filter(|r| r.compartment == compartment.code())
            .map(|r| Ok((r.new_generation, unb64("rotation", &r.link)?)))
            .collect::<Result<_>>()?;
        let target = self.case_ref(case, compartment);
        for g in mine {
            if rings
                .get(&compartment)
                .is_some_and(|r| r.get(g.generation).is_ok())
            {
                continue;
            }
            let bytes = unb64("grant", &g.grant)?;
            let header = northstar_crypto::grant::parse_grant_header(&bytes)?;
            let (granter, _) = self.chain.author_by_key_id(header.granter).ok_or_else(|| {
                ClientError::ServerChanged(format!(
                    "a grant of {compartment} is signed by key {} that was never a member",
                    header.granter
                ))
            })?;
            let key = open_grant_as(
                &bytes,
                target,
                self.keys.agreement(),
                self.keys.key_id(),
                Some(&self.keep),
                granter.author_key(),
            )?;
            let ring = rings
                .entry(compartment)
                .or_insert_with(|| Keyring::new(target));
            ring.insert(key);
            ring.unwind(&links)?;
            if ring.get(generation).is_ok() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Verify and fold what the server sent for one case.
    fn apply(&self, work: Work) -> Result<(ObjectId, CaseState, KeyMap)> {
        let Work {
            case,
            state,
            remembered,
            mut rings,
            rebuild,
            bundle,
        } = work;
        let hex = case.to_hex();
        let highest = state
            .as_ref()
            .and_then(|s| s.highest.clone())
            .or_else(|| remembered.map(|(seq, hash)| (seq, northstar_crypto::ids::to_hex(&hash))));
        if let Some((seq, _)) = &highest
            && bundle.head.len <= *seq
        {
            return Err(ChainError::Rollback {
                known: *seq,
                served: bundle.head.len.saturating_sub(1),
            }
            .into());
        }
        let held: BTreeSet<Compartment> = bundle
            .grants
            .iter()
            .filter_map(|g| Compartment::from_code(g.compartment).ok())
            .collect();
        // Keys of compartments the member no longer holds are forgotten.
        rings.retain(|c, _| held.contains(c));
        let mut state = match state {
            Some(s) if !rebuild => s,
            _ => CaseState {
                len: 0,
                head_hash: None,
                highest: highest.clone(),
                keys_version: 0,
                grants: vec![],
                rotations: vec![],
                view: CaseView {
                    case_id: hex.clone(),
                    ..CaseView::default()
                },
            },
        };
        state.keys_version = bundle.head.keys_version;
        state.grants = bundle.grants;
        state.rotations = bundle.rotations;
        state.view.readable = held;
        let resume = match &state.head_hash {
            Some(h) if state.len > 0 => Some(ChainHead {
                seq: state.len - 1,
                hash: northstar_crypto::ids::from_hex::<32>(h)
                    .ok_or_else(|| damaged("a cached head is unreadable"))?,
            }),
            _ => None,
        };
        let known = highest
            .as_ref()
            .map(|(seq, hash)| {
                northstar_crypto::ids::from_hex::<32>(hash)
                    .map(|h| (*seq, h))
                    .ok_or_else(|| damaged("a cached head is unreadable"))
            })
            .transpose()?;
        // Links first, for the whole page (cheap hashes): a missing, moved or
        // reordered entry is named as such before any signature is checked.
        let raw = bundle
            .entries
            .iter()
            .map(|e| unb64("entry", &e.entry))
            .collect::<Result<Vec<_>>>()?;
        verify_chain(self.org, case, resume, &raw)?;
        for (e, entry) in bundle.entries.iter().zip(raw) {
            let header = northstar_crypto::envelope::parse_entry(&entry)?;
            let head = ChainHead {
                seq: header.seq,
                hash: entry_hash(&entry),
            };
            let at = |source| ClientError::Entry {
                seq: header.seq,
                source,
            };
            let (author, _) = self.chain.author_by_key_id(header.author).ok_or_else(|| {
                ClientError::ServerChanged(format!(
                    "entry {} is signed by a key that was never a member",
                    header.seq
                ))
            })?;
            let compartment = header.address.compartment;
            let wrap = e.wrap.as_deref().map(|w| unb64("wrap", w)).transpose()?;
            let readable = match &wrap {
                Some(_) if state.view.readable.contains(&compartment) => {
                    self.ensure_key(case, &state, &mut rings, compartment, header.generation)?
                }
                _ => false,
            };
            let body = match (readable, wrap) {
                (true, Some(wrap)) => {
                    let address = RecordAddress {
                        org: self.org,
                        case,
                        ..header.address
                    };
                    let opened = open_record(
                        &entry,
                        &wrap,
                        &address,
                        &rings[&compartment],
                        author.author_key(),
                    )
                    .map_err(at)?;
                    Some(
                        serde_json::from_slice::<RecordBody>(&opened.plaintext).map_err(|_| {
                            ClientError::Protocol(format!(
                                "entry {} holds a record this client does not understand",
                                header.seq
                            ))
                        })?,
                    )
                }
                _ => {
                    verify_entry(&entry, author.author_key()).map_err(at)?;
                    None
                }
            };
            // Checked after the signature, so a damaged entry is named as
            // such; a well-signed different entry here is a fork.
            if let Some((seq, hash)) = known
                && head.seq == seq
                && head.hash != hash
            {
                return Err(ChainError::Fork { seq }.into());
            }
            let actor = Actor {
                account: author.account.to_hex(),
                role: author.role,
            };
            state
                .view
                .apply(header.seq, compartment, &actor, author.name.clone(), body);
            state.len = head.seq + 1;
            state.head_hash = Some(northstar_crypto::ids::to_hex(&head.hash));
        }
        let served_len = bundle.head.len;
        if state.len > served_len {
            return Err(ClientError::Protocol(format!(
                "the server sent entries of case {hex} beyond the head it names"
            )));
        }
        if state.len == served_len {
            let served_hash = if served_len == 0 {
                None
            } else {
                Some(bundle.head.head_hash.clone())
            };
            if served_hash != state.head_hash {
                return Err(ChainError::Fork {
                    seq: served_len.saturating_sub(1),
                }
                .into());
            }
        }
        if let (Some(hash), true) = (
            &state.head_hash,
            known.is_none_or(|(seq, _)| state.len > seq + 1),
        ) {
            state.highest = Some((state.len - 1, hash.clone()));
        }
        state.view.head = state.head_hash.as_ref().map(|h| (state.len - 1, h.clone()));
        Ok((case, state, rings))
    }
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Cases the member holds a grant for.
    pub cases: usize,
    /// Cases fetched because something moved.
    pub updated: usize,
    /// Entries verified in this sync.
    pub entries: u64,
    /// Cases dropped from the cache because the member lost access.
    pub removed: usize,
    /// Cases that failed verification, with why. They stay as they were.
    pub refused: Vec<(ObjectId, ClientError)>,
}

/// Which cases to sync and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every case, fetching only what moved.
    All,
    /// One case, fetched whole and verified from its first entry (what `case
    /// show` does: the server's copy is checked end to end every time).
    Full(ObjectId),
    /// One case, fetching only what moved.
    One(ObjectId),
}

/// Bring the cache up to date with the server. Cases that fail verification
/// are listed in the report and left as they were; the others are saved.
pub async fn sync(
    unlocked: &crate::Unlocked,
    cache: &LocalCache,
    chain: &MembershipState,
    scope: Scope,
) -> Result<SyncReport> {
    let api = &unlocked.api;
    let org = unlocked.org;
    let verifier = Verifier {
        org,
        keys: &unlocked.keys,
        keep: unlocked.keep_key(),
        chain,
    };
    let positions = cache.positions().await?;
    let remembered_heads: HashMap<[u8; 16], (u64, [u8; 32])> = cache
        .db
        .known_heads_uncached()
        .await
        .map_err(cache_error)?
        .into_iter()
        .map(|(id, seq, hash)| (id, (seq, hash)))
        .collect();
    // The cases with a row in the cache: only their rows are read back.
    let mut in_cache: BTreeSet<[u8; 16]> = positions.keys().copied().collect();
    let mut report = SyncReport::default();
    // (case, from, rebuild) for every case that moved.
    let mut todo: Vec<(ObjectId, u64, bool)> = vec![];
    // What the server says the member holds, with heads, a page at a time:
    // the first rounds are fetched and verified while later pages arrive.
    let mut heads = None;
    match scope {
        Scope::Full(case) => todo.push((case, 0, true)),
        Scope::One(case) => match positions.get(&case.0) {
            Some(p) => todo.push((case, p.len, false)),
            None => todo.push((case, 0, true)),
        },
        Scope::All => heads = Some(page_heads(api)),
    }
    if scope != Scope::All {
        report.cases = 1;
    }
    let mut listed = BTreeSet::new();
    // Round trips of up to BATCH cases; a case the server's page cut short
    // goes round again from where it stopped.
    // The next round is fetched while this one is verified, so the server's
    // work and the transfer overlap the client's.
    // A round's rows are written while the next round is verified; a round
    // that holds a case still being written waits for that write first.
    let mut writing: Option<PendingWrite> = None;
    let mut next = None;
    loop {
        while let Some(feed) = heads.as_mut() {
            // Wait for heads only when there is nothing else to do.
            let page = if todo.is_empty() && next.is_none() {
                feed.recv().await
            } else {
                match feed.try_recv() {
                    Ok(page) => Some(page),
                    Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                    Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => None,
                }
            };
            let Some(page) = page else {
                heads = None;
                // The member lost access to what the server no longer lists.
                // Listing pages change one plan at a time.
                if let Some(pending) = writing.take() {
                    pending.finish().await?;
                }
                let gone: Vec<(CaseId, Option<u64>)> = positions
                    .values()
                    .filter(|p| !listed.contains(&p.case_id))
                    .map(|p| (p.case_id, Some(p.listing_page)))
                    .collect();
                report.removed += gone.len();
                cache.forget(&gone).await?;
                for (id, _) in &gone {
                    in_cache.remove(id);
                }
                break;
            };
            for head in page? {
                report.cases += 1;
                let (case, moved) = what_moved(&head, &positions)?;
                listed.insert(case.0);
                match moved {
                    Ok(Some(work)) => todo.push(work),
                    Ok(None) => {}
                    Err(refused) => report.refused.push((case, refused)),
                }
            }
        }
        if next.is_none() {
            next = start_round(api, &mut todo);
        }
        let Some((round, fetch)) = next.take() else {
            break;
        };
        let response = fetch
            .await
            .map_err(|e| ClientError::Protocol(format!("a sync request failed: {e}")))??;
        next = start_round(api, &mut todo);
        let ids: Vec<[u8; 16]> = round.iter().map(|(c, _, _)| c.0).collect();
        if let Some(pending) = writing.take_if(|w| ids.iter().any(|id| w.cases.contains(id))) {
            pending.finish().await?;
        }
        let held: Vec<[u8; 16]> = ids
            .iter()
            .filter(|id| in_cache.contains(*id))
            .copied()
            .collect();
        let cached: HashMap<[u8; 16], CachedCase> = cache
            .db
            .cases(&held)
            .await
            .map_err(cache_error)?
            .into_iter()
            .map(|c| (c.case_id, c))
            .collect();
        let asked: HashMap<String, (ObjectId, u64, bool)> =
            round.iter().map(|w| (w.0.to_hex(), *w)).collect();
        let mut works = vec![];
        for bundle in response.cases {
            let Some(&(case, _, rebuild)) = asked.get(&bundle.head.case_id) else {
                return Err(ClientError::Protocol(
                    "the server sent a case that was not asked for".into(),
                ));
            };
            let (state, rings) = match cached.get(&case.0) {
                Some(row) => {
                    let (s, r) = cache.open_row(row, Some(org))?;
                    (Some(s), r)
                }
                None => (None, KeyMap::new()),
            };
            // A case seen before, then lost and regained: its old head still binds.
            let remembered = match &state {
                Some(_) => None,
                None => remembered_heads.get(&case.0).copied(),
            };
            // The keys changed since: fold the whole case again with them.
            if !rebuild
                && state
                    .as_ref()
                    .is_some_and(|s| s.keys_version != bundle.head.keys_version)
            {
                todo.push((case, 0, true));
                continue;
            }
            works.push(Work {
                case,
                state,
                remembered,
                rings,
                rebuild,
                bundle,
            });
        }
        // Asked but not returned: the member holds no grant (any more).
        let returned: BTreeSet<[u8; 16]> = works.iter().map(|w| w.case.0).collect();
        let lost: Vec<(CaseId, Option<u64>)> = round
            .iter()
            .map(|(c, _, _)| c.0)
            .filter(|id| !returned.contains(id) && !todo.iter().any(|t| t.0.0 == *id))
            .map(|id| (id, cached.get(&id).map(|row| row.listing_page)))
            .collect();
        report.removed += lost.len();
        if !lost.is_empty() {
            // Listing pages change one plan at a time.
            if let Some(pending) = writing.take() {
                pending.finish().await?;
            }
            cache.forget(&lost).await?;
            for (id, _) in &lost {
                in_cache.remove(id);
            }
        }
        let outcomes = apply_in_parallel(&verifier, cache, works);
        let progress = outcomes
            .iter()
            .any(|o| o.as_ref().is_ok_and(|(_, _, _, fetched, _)| *fetched > 0));
        let mut rows = vec![];
        let mut heads = vec![];
        for outcome in outcomes {
            match outcome {
                Ok((case, state, (row, listing), fetched, complete)) => {
                    if let Some((seq, hash)) = &state.highest
                        && let Some(hash) = northstar_crypto::ids::from_hex::<32>(hash)
                    {
                        heads.push((case.0, *seq, hash));
                    }
                    report.entries += fetched;
                    report.updated += 1;
                    let page = cached.get(&case.0).map(|row| row.listing_page);
                    in_cache.insert(case.0);
                    rows.push((row, listing, page));
                    if !complete && progress {
                        todo.push((case, state.len, false));
                    } else if !complete {
                        // A page that sends nothing at all would loop forever.
                        report.refused.push((
                            case,
                            ClientError::Protocol(
                                "the server names entries it does not send".into(),
                            ),
                        ));
                    }
                }
                Err((case, e)) => report.refused.push((case, e)),
            }
        }
        if let Some(pending) = writing.take() {
            pending.finish().await?;
        }
        writing = Some(PendingWrite {
            cases: rows.iter().map(|(r, _, _)| r.case_id).collect(),
            task: tokio::spawn(write_round(
                cache.db.clone(),
                Arc::clone(&cache.key),
                rows,
                heads,
            )),
        });
    }
    if let Some(pending) = writing.take() {
        pending.finish().await?;
    }
    Ok(report)
}

/// Page through the heads of every case the member holds, in the background.
fn page_heads(api: &crate::Api) -> tokio::sync::mpsc::Receiver<Result<Vec<p::CaseHead>>> {
    let (pages, feed) = tokio::sync::mpsc::channel(4);
    let api = api.clone();
    tokio::spawn(async move {
        let mut after: Option<String> = None;
        loop {
            let (heads, next) = match api.cases(after.as_deref()).await {
                Ok(page) => (page.cases, page.next),
                Err(e) => {
                    let _ = pages.send(Err(e)).await;
                    return;
                }
            };
            // A closed feed: the sync ended early.
            if pages.send(Ok(heads)).await.is_err() {
                return;
            }
            match next {
                Some(n) => after = Some(n),
                None => return,
            }
        }
    });
    feed
}

/// What a case's head on the server means for the cached copy: the round
/// trip it needs (case, from, rebuild), nothing, or a refusal.
type Moved = std::result::Result<Option<(ObjectId, u64, bool)>, ClientError>;

fn what_moved(
    head: &p::CaseHead,
    positions: &HashMap<[u8; 16], Position>,
) -> Result<(ObjectId, Moved)> {
    let case = crate::cases::parse_case_id(&head.case_id)
        .map_err(|_| ClientError::Protocol("a case id is not 32 hex digits".into()))?;
    let moved = match positions.get(&case.0) {
        None => Ok(Some((case, 0, true))),
        Some(p) if p.keys_version != head.keys_version => Ok(Some((case, 0, true))),
        Some(p) if p.len < head.len => Ok(Some((case, p.len, false))),
        Some(p) if p.len > head.len => Err(ChainError::Rollback {
            known: p.len - 1,
            served: head.len.saturating_sub(1),
        }
        .into()),
        Some(p) if p.len > 0 && northstar_crypto::ids::to_hex(&p.head_hash) != head.head_hash => {
            Err(ChainError::Fork { seq: p.len - 1 }.into())
        }
        Some(_) => Ok(None),
    };
    Ok((case, moved))
}

/// A round's rows on their way into the cache.
struct PendingWrite {
    cases: BTreeSet<[u8; 16]>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl PendingWrite {
    async fn finish(self) -> Result<()> {
        self.task
            .await
            .map_err(|e| ClientError::Protocol(format!("writing the local copy failed: {e}")))?
    }
}

/// A verified case's sealed row, its listing, and the page listing it now.
type RoundRow = (CachedCase, Listing, Option<u64>);

/// Place a round's listings on their pages and write the rows, the pages
/// and the raised heads in one transaction.
async fn write_round(
    db: CacheDb,
    key: Arc<CacheKey>,
    rows: Vec<RoundRow>,
    heads: Vec<(CaseId, u64, [u8; 32])>,
) -> Result<()> {
    let mut cases = Vec::with_capacity(rows.len());
    let mut changes = Vec::with_capacity(rows.len());
    for (row, listing, page) in rows {
        changes.push(listing_pages::Change {
            case: row.case_id,
            page,
            listing: Some(listing),
        });
        cases.push(row);
    }
    let (placed, pages) = listing_pages::plan(&db, &key.0, changes).await?;
    for row in &mut cases {
        row.listing_page = placed[&row.case_id];
    }
    db.save(&cases, &pages, &heads).await.map_err(cache_error)
}

type Round = Vec<(ObjectId, u64, bool)>;

/// Take up to [`BATCH`] cases off `todo` and start fetching them.
fn start_round(
    api: &crate::Api,
    todo: &mut Vec<(ObjectId, u64, bool)>,
) -> Option<(Round, tokio::task::JoinHandle<Result<p::SyncResponse>>)> {
    if todo.is_empty() {
        return None;
    }
    let round: Round = todo.drain(..todo.len().min(BATCH)).collect();
    let request = p::SyncRequest {
        cases: round
            .iter()
            .map(|(case, from, _)| p::SyncWant {
                case_id: case.to_hex(),
                from: *from,
            })
            .collect(),
    };
    let api = api.clone();
    let fetch = tokio::spawn(async move { api.sync_cases(&request).await });
    Some((round, fetch))
}

/// A verified case, its row sealed for the cache, the entries fetched, and
/// whether the server sent all it names.
type Outcome = std::result::Result<
    (ObjectId, CaseState, (CachedCase, Listing), u64, bool),
    (ObjectId, ClientError),
>;

/// Verify, fold and seal each case's row, on every core.
fn apply_in_parallel(
    verifier: &Verifier<'_>,
    cache: &LocalCache,
    works: Vec<Work>,
) -> Vec<Outcome> {
    let chunk = works.len().div_ceil(workers()).max(1);
    let mut works = works;
    let mut parts = vec![];
    while !works.is_empty() {
        let rest = works.split_off(chunk.min(works.len()));
        parts.push(std::mem::replace(&mut works, rest));
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                s.spawn(move || {
                    part.into_iter()
                        .map(|w| {
                            let case = w.case;
                            let fetched = w.bundle.entries.len() as u64;
                            let served = w.bundle.head.len;
                            verifier
                                .apply(w)
                                .map(|(c, state, rings)| {
                                    let complete = state.len >= served;
                                    let row = cache.seal_row(c, &state, &rings);
                                    (c, state, row, fetched, complete)
                                })
                                .map_err(|e| (case, e))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("verifying cases does not panic"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_open_cache_prints_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootKey::from_bytes([0xab; 32]);
        let cache = LocalCache::open(dir.path(), &root, AccountId([1; 16]))
            .await
            .unwrap();
        let printed = format!("{cache:?}");
        assert!(printed.contains("CacheKey(redacted)"), "{printed}");
        let key = root.derive_purpose_key("cache");
        for shown in [format!("{:?}", &key[..]), format!("{:02x?}", &key[..])] {
            assert!(!printed.contains(&shown[1..shown.len() - 1]), "{printed}");
        }
    }
}
