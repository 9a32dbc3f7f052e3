//! The frozen vectors in `testdata/vectors/`: a deterministic generator, a test
//! that proves the files are what the generator makes today, and tests that
//! check every vector through the public API. The TypeScript suite checks the
//! same files (web/src/lib/crypto/vectors.test.ts).
//!
//! Regenerate after an intended format change with `cargo xtask vectors`
//! (it runs this test with `NORTHSTAR_WRITE_VECTORS=1`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use northstar_core::{Compartment, Role};
use northstar_crypto::chain::{ChainHead, check_served_head, verify_chain};
use northstar_crypto::envelope::{
    ChainPosition, RecordAddress, entry_hash, open_record, parse_entry, seal_record,
};
use northstar_crypto::grant::{
    CompartmentKey, CompartmentRef, KeepKey, Keyring, open_rotation, seal_grant, seal_kept_grant,
    seal_rotation,
};
use northstar_crypto::identity::{
    AgreementSecret, AuthorKey, MemberPublicKeys, MemberSecretKeys, OrgRootKey, org_fingerprint,
    unwrap_member_keys, unwrap_org_root, wrap_member_keys, wrap_org_root,
};
use northstar_crypto::membership::{LinkAction, MembershipState, found_organization, sign_link};
use northstar_crypto::sig::{self, SigningSecret};
use northstar_crypto::slot::{RootKey, SlotKind, device_unlock_secret, open_slot, seal_slot};
use northstar_crypto::{AccountId, ObjectId, OrgId, RecordId, words};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vectors_dir() -> PathBuf {
    repo_root().join("testdata/vectors")
}

fn rng(label: &str) -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    seed[..label.len().min(32)].copy_from_slice(&label.as_bytes()[..label.len().min(32)]);
    ChaCha20Rng::from_seed(seed)
}

fn bytes<const N: usize>(rng: &mut ChaCha20Rng) -> [u8; N] {
    let mut b = [0u8; N];
    rng.fill_bytes(&mut b);
    b
}

/// Member keys from explicit bytes, so the vector can list them.
struct TestMember {
    seed: [u8; 32],
    agreement_secret: [u8; 32],
}

impl TestMember {
    fn new(rng: &mut ChaCha20Rng) -> Self {
        TestMember {
            seed: bytes(rng),
            agreement_secret: bytes(rng),
        }
    }
    fn secret(&self) -> MemberSecretKeys {
        MemberSecretKeys::new(
            SigningSecret::from_seed(self.seed),
            AgreementSecret::from_bytes(self.agreement_secret),
        )
    }
    fn public(&self) -> MemberPublicKeys {
        self.secret().public()
    }
    fn json_public(&self) -> Value {
        let p = self.public();
        json!({"signing": hex::encode(p.signing), "agreement": hex::encode(p.agreement)})
    }
}

fn h(b: impl AsRef<[u8]>) -> String {
    hex::encode(b)
}

fn flip(bytes: &[u8], index: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[index] ^= 0x01;
    b
}

fn gen_slot() -> Value {
    let mut rng = rng("slot");
    let mut cases = vec![];
    for (name, kind, kind_name, secret_len) in [
        (
            "password slot (OPAQUE export key)",
            SlotKind::Password,
            "password",
            64,
        ),
        ("recovery slot", SlotKind::Recovery, "recovery", 32),
    ] {
        let mut unlock = vec![0u8; secret_len];
        rng.fill_bytes(&mut unlock);
        let account = AccountId(bytes(&mut rng));
        let slot_id: [u8; 16] = bytes(&mut rng);
        let root_bytes: [u8; 32] = bytes(&mut rng);
        let mut replay = rng.clone();
        let nonce: [u8; 24] = bytes(&mut replay);
        let slot = seal_slot(
            kind,
            &unlock,
            account,
            slot_id,
            &RootKey::from_bytes(root_bytes),
            &mut rng,
        );
        cases.push(json!({
            "name": name, "kind": kind_name, "unlock_secret": h(&unlock),
            "account_id": account.to_hex(), "slot_id": h(slot_id), "nonce": h(nonce),
            "root_key": h(root_bytes), "slot": h(&slot),
        }));
    }
    // The device slot: its unlock secret is Argon2id of a passphrase.
    let passphrase = "correct horse battery staple, but longer — Zürich 🌍";
    let account = AccountId(bytes(&mut rng));
    let slot_id: [u8; 16] = bytes(&mut rng);
    let root_bytes: [u8; 32] = bytes(&mut rng);
    let unlock = device_unlock_secret(passphrase.as_bytes(), slot_id).unwrap();
    let mut replay = rng.clone();
    let nonce: [u8; 24] = bytes(&mut replay);
    let slot = seal_slot(
        SlotKind::Device,
        unlock.as_slice(),
        account,
        slot_id,
        &RootKey::from_bytes(root_bytes),
        &mut rng,
    );
    cases.push(json!({
        "name": "device slot (Argon2id of the passphrase, salt = slot id)", "kind": "device",
        "passphrase": passphrase, "unlock_secret": h(unlock.as_slice()),
        "account_id": account.to_hex(), "slot_id": h(slot_id), "nonce": h(nonce),
        "root_key": h(root_bytes), "slot": h(&slot),
    }));
    json!({ "format": "NSSL v1 (docs/crypto.md §Slots)", "cases": cases })
}

fn gen_keybox() -> Value {
    let mut rng = rng("keybox");
    let root_bytes: [u8; 32] = bytes(&mut rng);
    let root = RootKey::from_bytes(root_bytes);
    let account = AccountId(bytes(&mut rng));
    let member = TestMember::new(&mut rng);
    let mut replay = rng.clone();
    let nonce: [u8; 24] = bytes(&mut replay);
    let member_box = wrap_member_keys(&root, account, &member.secret(), &mut rng);
    let org = OrgId(bytes(&mut rng));
    let org_seed: [u8; 32] = bytes(&mut rng);
    let org_key = OrgRootKey(SigningSecret::from_seed(org_seed));
    let mut replay = rng.clone();
    let org_nonce: [u8; 24] = bytes(&mut replay);
    let org_box = wrap_org_root(&root, account, org, &org_key, &mut rng);
    json!({
        "format": "NSKB v1 (docs/crypto.md §Key boxes)",
        "cases": [
            {"name": "member identity", "kind": "member", "root_key": h(root_bytes),
             "account_id": account.to_hex(), "context_id": account.to_hex(), "nonce": h(nonce),
             "public": h(member.public().to_bytes()),
             "secret": h([member.seed, member.agreement_secret].concat()), "box": h(&member_box)},
            {"name": "organization root key", "kind": "org-root", "root_key": h(root_bytes),
             "account_id": account.to_hex(), "context_id": org.to_hex(), "nonce": h(org_nonce),
             "public": h(org_key.public_key()), "secret": h(org_seed), "box": h(&org_box)},
        ]
    })
}

fn gen_fingerprint() -> Value {
    let mut rng = rng("fingerprint");
    let list = words::word_list().join("\n");
    let mut cases = vec![];
    let mut key_ids = vec![];
    for _ in 0..4 {
        let m = TestMember::new(&mut rng);
        let p = m.public();
        cases.push(json!({"kind": "member", "public": h(p.to_bytes()), "words": p.fingerprint()}));
        key_ids.push(json!({"signing": h(p.signing), "agreement": h(p.agreement), "key_id": p.key_id().to_hex()}));
        let org = SigningSecret::from_seed(bytes(&mut rng)).public_key();
        cases.push(json!({"kind": "org", "public": h(org), "words": org_fingerprint(&org)}));
    }
    json!({
        "wordlist": "EFF large word list, 7,776 words (diceware_wordlists crate)",
        "wordlist_sha256": h(<sha2::Sha256 as sha2::Digest>::digest(list.as_bytes())),
        "cases": cases,
        "key_ids": key_ids,
    })
}

const T0: u64 = 1_795_000_000;

fn gen_membership() -> Value {
    let mut rng = rng("membership");
    let org = OrgId(bytes(&mut rng));
    let root = SigningSecret::from_seed(bytes(&mut rng));
    let names = ["ada", "bob", "carl", "dora", "eve"];
    let people: BTreeMap<&str, (AccountId, TestMember)> = names
        .iter()
        .map(|n| (*n, (AccountId(bytes(&mut rng)), TestMember::new(&mut rng))))
        .collect();
    let add = |n: &str, role: Role| LinkAction::Add {
        account: people[n].0,
        name: n.to_owned(),
        role,
        keys: people[n].1.public(),
    };
    let signer = |n: &str| SigningSecret::from_seed(people[n].1.seed);

    let mut links = found_organization(
        org,
        "Northstar Test Org",
        &root,
        T0,
        (people["ada"].0, "ada", people["ada"].1.public()),
    )
    .unwrap();
    let mut state = MembershipState::verify(&root.public_key(), &links).unwrap();
    let push =
        |state: &mut MembershipState, links: &mut Vec<Vec<u8>>, action, by: &SigningSecret| {
            let body = state.next_link(T0 + links.len() as u64, action);
            let link = sign_link(&body, by);
            state.apply(&link).unwrap();
            links.push(link);
        };
    push(
        &mut state,
        &mut links,
        add("bob", Role::Approver),
        &signer("ada"),
    );
    push(
        &mut state,
        &mut links,
        add("carl", Role::Caseworker),
        &signer("ada"),
    );
    push(
        &mut state,
        &mut links,
        LinkAction::ChangeRole {
            account: people["carl"].0,
            role: Role::Coordinator,
        },
        &signer("ada"),
    );
    push(
        &mut state,
        &mut links,
        add("dora", Role::Admin),
        &signer("ada"),
    );
    push(
        &mut state,
        &mut links,
        LinkAction::Remove {
            account: people["dora"].0,
        },
        &signer("ada"),
    );

    let members: Vec<Value> = state
        .members()
        .map(|m| {
            json!({"account_id": m.account.to_hex(), "name": m.name, "role": m.role.name(),
                   "signing": h(m.keys.signing), "agreement": h(m.keys.agreement),
                   "fingerprint": m.keys.fingerprint()})
        })
        .collect();

    // Each invalid chain is the valid one plus (or with) one bad link.
    let next =
        |action: LinkAction, by: &SigningSecret| sign_link(&state.next_link(T0 + 99, action), by);
    let with = |extra: Vec<u8>| {
        let mut l = links.clone();
        l.push(extra);
        l.iter().map(h).collect::<Vec<_>>()
    };
    let stranger = SigningSecret::from_seed(bytes(&mut rng));
    let mut small_order_keys = people["eve"].1.public();
    small_order_keys.signing = [0u8; 32];
    small_order_keys.signing[0] = 1;
    let mut forked_prev = state.next_link(T0 + 99, add("eve", Role::Caseworker));
    forked_prev.prev_hash = [7u8; 32];
    let mut skipped = state.next_link(T0 + 99, add("eve", Role::Caseworker));
    skipped.seq += 1;
    let bad_genesis = {
        let mut l = links.clone();
        l[0] = sign_link(
            &northstar_crypto::membership::LinkBody {
                org,
                seq: 0,
                prev_hash: [0; 32],
                issued_at: T0,
                action: LinkAction::Create {
                    org_name: "Northstar Test Org".into(),
                },
            },
            &stranger,
        );
        l.iter().map(h).collect::<Vec<_>>()
    };
    let flipped_sig = {
        let mut l = links.clone();
        let last = l.len() - 1;
        let n = l[last].len();
        l[last] = flip(&l[last], n - 1);
        l.iter().map(h).collect::<Vec<_>>()
    };
    let invalid = vec![
        json!({"name": "signed by a removed admin", "error": "membership-signer-removed",
               "links": with(next(add("eve", Role::Admin), &signer("dora")))}),
        json!({"name": "signed by a key that was never added", "error": "membership-signer-unknown",
               "links": with(next(add("eve", Role::Admin), &stranger))}),
        json!({"name": "signed by a member who is not an admin", "error": "membership-signer-not-admin",
               "links": with(next(add("eve", Role::Admin), &signer("bob")))}),
        json!({"name": "names the wrong previous link", "error": "membership-broken-link",
               "links": with(sign_link(&forked_prev, &signer("ada")))}),
        json!({"name": "skips a sequence number", "error": "membership-out-of-sequence",
               "links": with(sign_link(&skipped, &signer("ada")))}),
        json!({"name": "a bit flipped in the last signature", "error": "membership-bad-signature",
               "links": flipped_sig}),
        json!({"name": "genesis signed by another key than the pinned root", "error": "membership-bad-genesis",
               "links": bad_genesis}),
        json!({"name": "adds a small-order signing key", "error": "membership-weak-key",
               "links": with(next(LinkAction::Add { account: people["eve"].0, name: "eve".into(),
                   role: Role::Caseworker, keys: small_order_keys }, &signer("ada")))}),
        json!({"name": "re-adds a removed account", "error": "membership-already-member",
               "links": with(next(add("dora", Role::Admin), &signer("ada")))}),
        json!({"name": "adds a second member named ada", "error": "membership-name-taken",
               "links": with(next(LinkAction::Add { account: people["eve"].0, name: "ada".into(),
                   role: Role::Caseworker, keys: people["eve"].1.public() }, &signer("ada")))}),
        json!({"name": "removes the last admin", "error": "membership-last-admin",
               "links": with(next(LinkAction::Remove { account: people["ada"].0 }, &signer("ada")))}),
        json!({"name": "adds a small-order X25519 agreement key", "error": "membership-weak-key",
               "links": with(next(LinkAction::Add { account: people["eve"].0, name: "eve".into(),
                   role: Role::Caseworker, keys: MemberPublicKeys { agreement: [0u8; 32], ..people["eve"].1.public() } }, &signer("ada")))}),
        json!({"name": "registers the removed admin's keys for a new account", "error": "membership-key-reused",
               "links": with(next(LinkAction::Add { account: people["eve"].0, name: "eve".into(),
                   role: Role::Admin, keys: people["dora"].1.public() }, &signer("ada")))}),
        json!({"name": "removes someone who is not a member", "error": "membership-not-member",
               "links": with(next(LinkAction::Remove { account: people["eve"].0 }, &signer("ada")))}),
    ];
    json!({
        "format": "NSML v1 (docs/crypto.md §Membership chain)",
        "root_public_key": h(root.public_key()),
        "org_id": org.to_hex(),
        "links": links.iter().map(h).collect::<Vec<_>>(),
        "expected": {"org_name": state.org_name, "len": state.len(), "head": h(state.head()), "members": members},
        "invalid": invalid,
    })
}

fn gen_grant() -> Value {
    let mut rng = rng("grant");
    let org = OrgId(bytes(&mut rng));
    let object = ObjectId(bytes(&mut rng));
    let granter = TestMember::new(&mut rng);
    let recipient = TestMember::new(&mut rng);
    let other = TestMember::new(&mut rng);
    let mut cases = vec![];
    let mut grants = vec![];
    for (name, compartment, generation) in [
        ("identity, generation 0", Compartment::Identity, 0u32),
        ("logistics, generation 3", Compartment::Logistics, 3),
    ] {
        let key_bytes: [u8; 32] = bytes(&mut rng);
        let target = CompartmentRef {
            org,
            object,
            compartment,
        };
        let key = CompartmentKey::from_bytes(generation, key_bytes);
        let grant = seal_grant(
            target,
            &key,
            &recipient.public(),
            &granter.secret(),
            &mut rng,
        )
        .unwrap();
        cases.push(json!({
            "name": name, "org_id": org.to_hex(), "object_id": object.to_hex(),
            "compartment": compartment.code(), "generation": generation,
            "recipient": {"signing": h(recipient.public().signing), "agreement": h(recipient.public().agreement),
                          "agreement_secret": h(recipient.agreement_secret)},
            "granter": granter.json_public(), "key": h(key_bytes), "grant": h(&grant),
        }));
        grants.push((target, grant));
    }
    let (target, grant) = &grants[0];
    let key = CompartmentKey::from_bytes(0, bytes(&mut rng));
    let to_other = seal_grant(*target, &key, &other.public(), &granter.secret(), &mut rng).unwrap();
    let by_other = seal_grant(
        *target,
        &key,
        &recipient.public(),
        &other.secret(),
        &mut rng,
    )
    .unwrap();
    let [here, other_case, other_compartment] = grant_places(*target, Compartment::Story, &mut rng);
    let invalid = vec![
        json!({"name": "a bit flipped in the encapsulated key", "grant": h(flip(grant, 80)), "expect": here, "error": "signature"}),
        json!({"name": "a bit flipped in the ciphertext", "grant": h(flip(grant, 120)), "expect": here, "error": "signature"}),
        json!({"name": "a bit flipped in the signature", "grant": h(flip(grant, 219)), "expect": here, "error": "signature"}),
        json!({"name": "a bit flipped in the generation", "grant": h(flip(grant, 42)), "expect": here, "error": "signature"}),
        json!({"name": "addressed to another member", "grant": h(&to_other), "expect": here, "error": "not-recipient"}),
        json!({"name": "signed by a key other than the expected granter", "grant": h(&by_other), "expect": here, "error": "unexpected-signer"}),
        json!({"name": "served for another case", "grant": h(grant), "expect": other_case, "error": "context-mismatch"}),
        json!({"name": "served for another compartment", "grant": h(grant), "expect": other_compartment, "error": "context-mismatch"}),
        json!({"name": "truncated", "grant": h(&grant[..200]), "expect": here, "error": "malformed"}),
    ];
    let mut rotations = vec![];
    for (old_gen, compartment) in [(0u32, Compartment::Identity), (4, Compartment::Finance)] {
        let old_bytes: [u8; 32] = bytes(&mut rng);
        let new_bytes: [u8; 32] = bytes(&mut rng);
        let t = CompartmentRef {
            org,
            object,
            compartment,
        };
        let mut replay = rng.clone();
        let nonce: [u8; 24] = bytes(&mut replay);
        let link = seal_rotation(
            t,
            &CompartmentKey::from_bytes(old_gen, old_bytes),
            &CompartmentKey::from_bytes(old_gen + 1, new_bytes),
            &mut rng,
        );
        rotations.push(json!({
            "org_id": org.to_hex(), "object_id": object.to_hex(), "compartment": compartment.code(),
            "old_generation": old_gen, "old_key": h(old_bytes), "new_generation": old_gen + 1,
            "new_key": h(new_bytes), "nonce": h(nonce), "link": h(&link),
        }));
    }
    json!({
        "format": "NSGR v1 (suites 1 and 2) and NSRT v1 (docs/crypto.md §Grants, §Kept grants, §Rotation)",
        "cases": cases, "invalid": invalid, "rotations": rotations, "kept": gen_kept_grants(org, object),
    })
}

/// Where a grant may be served: its own place, another case (drawn from
/// `rng`), another compartment.
fn grant_places(target: CompartmentRef, other: Compartment, rng: &mut ChaCha20Rng) -> [Value; 3] {
    let place = |t: CompartmentRef| json!({"org_id": t.org.to_hex(), "object_id": t.object.to_hex(), "compartment": t.compartment.code()});
    let other_case = CompartmentRef {
        object: ObjectId(bytes(rng)),
        ..target
    };
    let other_compartment = CompartmentRef {
        compartment: other,
        ..target
    };
    [place(target), place(other_case), place(other_compartment)]
}

/// Suite 2: grants a member keeps for itself under its keep key.
fn gen_kept_grants(org: OrgId, object: ObjectId) -> Value {
    let mut rng = rng("grant/kept");
    let member = TestMember::new(&mut rng);
    let root_bytes: [u8; 32] = bytes(&mut rng);
    let keep = KeepKey::from_root(&RootKey::from_bytes(root_bytes));
    let other = TestMember::new(&mut rng);
    let other_keep = KeepKey::from_root(&RootKey::from_bytes(bytes(&mut rng)));
    let mut cases = vec![];
    let mut grants = vec![];
    for (name, compartment, generation) in [
        ("story, generation 0", Compartment::Story, 0u32),
        ("finance, generation 2", Compartment::Finance, 2),
    ] {
        let key_bytes: [u8; 32] = bytes(&mut rng);
        let target = CompartmentRef {
            org,
            object,
            compartment,
        };
        let grant = seal_kept_grant(
            target,
            &CompartmentKey::from_bytes(generation, key_bytes),
            &member.secret(),
            &keep,
            &mut rng,
        );
        cases.push(json!({
            "name": name, "org_id": org.to_hex(), "object_id": object.to_hex(),
            "compartment": compartment.code(), "generation": generation, "key": h(key_bytes),
            "grant": h(&grant),
        }));
        grants.push((target, grant));
    }
    let (target, grant) = &grants[0];
    let key = CompartmentKey::from_bytes(0, bytes(&mut rng));
    let by_other = seal_kept_grant(*target, &key, &other.secret(), &other_keep, &mut rng);
    // The other member's header with my key id, sealed under the other's keep key.
    let under_other_keep = {
        let mut g = seal_kept_grant(*target, &key, &other.secret(), &other_keep, &mut rng);
        let me = member.public().key_id();
        g[44..60].copy_from_slice(me.as_bytes());
        g[60..76].copy_from_slice(me.as_bytes());
        g
    };
    let [here, other_case, other_compartment] =
        grant_places(*target, Compartment::Identity, &mut rng);
    let invalid = vec![
        json!({"name": "a bit flipped in the generation", "grant": h(flip(grant, 42)), "expect": here, "error": "decrypt"}),
        json!({"name": "a bit flipped in the nonce", "grant": h(flip(grant, 80)), "expect": here, "error": "decrypt"}),
        json!({"name": "a bit flipped in the ciphertext", "grant": h(flip(grant, 120)), "expect": here, "error": "decrypt"}),
        json!({"name": "kept by another member", "grant": h(&by_other), "expect": here, "error": "unexpected-signer"}),
        json!({"name": "sealed under another member's keep key", "grant": h(&under_other_keep), "expect": here, "error": "decrypt"}),
        json!({"name": "served for another case", "grant": h(grant), "expect": other_case, "error": "context-mismatch"}),
        json!({"name": "served for another compartment", "grant": h(grant), "expect": other_compartment, "error": "context-mismatch"}),
        json!({"name": "truncated", "grant": h(&grant[..200]), "expect": here, "error": "malformed"}),
        json!({"name": "an unknown suite", "grant": h({ let mut g = grant.clone(); g[6] = 3; g }), "expect": here, "error": "unsupported"}),
    ];
    // What the server and other members check: the signature, over bytes 0..148.
    let unsigned = vec![
        json!({"name": "a bit flipped in the signature", "grant": h(flip(grant, 211)), "error": "signature"}),
        json!({"name": "a bit flipped in the ciphertext", "grant": h(flip(grant, 120)), "error": "signature"}),
    ];
    json!({
        "member": {"signing": h(member.public().signing), "agreement": h(member.public().agreement),
                   "agreement_secret": h(member.agreement_secret), "root_key": h(root_bytes)},
        "keep_key_label": "northstar/v1/purpose/kept-grants",
        "cases": cases, "invalid": invalid, "signature_invalid": unsigned,
    })
}

struct EnvelopeFixture {
    org: OrgId,
    case: ObjectId,
    author: TestMember,
    key_bytes: [u8; 32],
    generation: u32,
    records: Vec<(String, RecordAddress, u32, ChainPosition, Vec<u8>, Value)>,
    entries: Vec<Vec<u8>>,
    wraps: Vec<Vec<u8>>,
}

/// A case with five records across compartments; shared by the envelope and chain vectors.
fn envelope_fixture() -> EnvelopeFixture {
    let mut rng = rng("envelope");
    let org = OrgId(bytes(&mut rng));
    let case = ObjectId(bytes(&mut rng));
    let author = TestMember::new(&mut rng);
    let key_bytes: [u8; 32] = bytes(&mut rng);
    let generation = 2;
    let plaintexts: [(&str, Compartment, &[u8]); 5] = [
        (
            "summary alias",
            Compartment::Summary,
            br#"{"alias":"Falcon","priority":"urgent"}"#,
        ),
        (
            "identity legal name",
            Compartment::Identity,
            "{\"legal_name\":\"Ахмед Иванов\"}".as_bytes(),
        ),
        ("empty story note", Compartment::Story, b""),
        (
            "logistics placement",
            Compartment::Logistics,
            br#"{"safe_house":"Birch"}"#,
        ),
        ("2 KiB of binary", Compartment::Finance, &[0xA5; 2048]),
    ];
    let mut fixture = EnvelopeFixture {
        org,
        case,
        author,
        key_bytes,
        generation,
        records: vec![],
        entries: vec![],
        wraps: vec![],
    };
    let mut prev = [0u8; 32];
    for (seq, (name, compartment, pt)) in plaintexts.iter().enumerate() {
        let address = RecordAddress {
            org,
            case,
            compartment: *compartment,
            record: RecordId(bytes(&mut rng)),
        };
        let version = seq as u32 % 2 + 1;
        let position = ChainPosition {
            seq: seq as u64,
            prev_hash: prev,
        };
        let mut replay = rng.clone();
        let data_key: [u8; 32] = bytes(&mut replay);
        let nonce: [u8; 24] = bytes(&mut replay);
        let wrap_nonce: [u8; 24] = bytes(&mut replay);
        let sealed = seal_record(
            address,
            version,
            position,
            &CompartmentKey::from_bytes(generation, key_bytes),
            &fixture.author.secret(),
            pt,
            &mut rng,
        )
        .unwrap();
        prev = entry_hash(&sealed.entry);
        let json = json!({
            "name": name, "org_id": org.to_hex(), "case_id": case.to_hex(),
            "compartment": compartment.code(), "record_id": address.record.to_hex(),
            "record_version": version, "seq": seq, "prev_hash": h(position.prev_hash),
            "data_key": h(data_key), "nonce": h(nonce), "wrap_nonce": h(wrap_nonce),
            "plaintext": h(pt), "entry": h(&sealed.entry), "wrap": h(&sealed.wrap),
            "entry_hash": h(prev),
        });
        fixture.records.push((
            name.to_string(),
            address,
            version,
            position,
            pt.to_vec(),
            json,
        ));
        fixture.entries.push(sealed.entry);
        fixture.wraps.push(sealed.wrap);
    }
    fixture
}

fn gen_envelope() -> Value {
    let f = envelope_fixture();
    let mut rng = rng("envelope-invalid");
    let (_, address, version, position, pt, _) = &f.records[1];
    let entry = &f.entries[1];
    let wrap = &f.wraps[1];
    let expect = |a: &RecordAddress| json!({"org_id": a.org.to_hex(), "case_id": a.case.to_hex(), "compartment": a.compartment.code(), "record_id": a.record.to_hex()});
    // The same record sealed again with a different data key: its wrap is
    // valid under the compartment key but does not match the commitment.
    let resealed = seal_record(
        *address,
        *version,
        *position,
        &CompartmentKey::from_bytes(f.generation, f.key_bytes),
        &f.author.secret(),
        pt,
        &mut rng,
    )
    .unwrap();
    let next_generation = seal_record(
        *address,
        *version,
        *position,
        &CompartmentKey::from_bytes(f.generation + 1, bytes(&mut rng)),
        &f.author.secret(),
        pt,
        &mut rng,
    )
    .unwrap();
    let moved_case = RecordAddress {
        case: ObjectId(bytes(&mut rng)),
        ..*address
    };
    let moved_compartment = RecordAddress {
        compartment: Compartment::Logistics,
        ..*address
    };
    let moved_record = RecordAddress {
        record: RecordId(bytes(&mut rng)),
        ..*address
    };
    let ct_len = entry.len() - 180 - 64;
    let invalid = vec![
        json!({"name": "a bit flipped in the header (case id)", "entry": h(flip(entry, 30)), "wrap": h(wrap), "expect": expect(address), "error": "signature"}),
        json!({"name": "a bit flipped in the header (key generation)", "entry": h(flip(entry, 71)), "wrap": h(wrap), "expect": expect(address), "error": "signature"}),
        json!({"name": "a bit flipped in the commitment", "entry": h(flip(entry, 150)), "wrap": h(wrap), "expect": expect(address), "error": "signature"}),
        json!({"name": "a bit flipped in the ciphertext", "entry": h(flip(entry, 180 + ct_len / 2)), "wrap": h(wrap), "expect": expect(address), "error": "signature"}),
        json!({"name": "a bit flipped in the signature", "entry": h(flip(entry, entry.len() - 1)), "wrap": h(wrap), "expect": expect(address), "error": "signature"}),
        json!({"name": "a bit flipped in the wrap", "entry": h(entry), "wrap": h(flip(wrap, 100)), "expect": expect(address), "error": "decrypt"}),
        json!({"name": "served as a record of another case", "entry": h(entry), "wrap": h(wrap), "expect": expect(&moved_case), "error": "context-mismatch"}),
        json!({"name": "served as a record of another compartment", "entry": h(entry), "wrap": h(wrap), "expect": expect(&moved_compartment), "error": "context-mismatch"}),
        json!({"name": "served under another record id", "entry": h(entry), "wrap": h(wrap), "expect": expect(&moved_record), "error": "context-mismatch"}),
        json!({"name": "the wrap of another record", "entry": h(entry), "wrap": h(&f.wraps[2]), "expect": expect(address), "error": "context-mismatch"}),
        json!({"name": "a wrap of a different data key", "entry": h(entry), "wrap": h(&resealed.wrap), "expect": expect(address), "error": "key-commitment"}),
        json!({"name": "a key generation the reader does not hold", "entry": h(&next_generation.entry), "wrap": h(&next_generation.wrap), "expect": expect(address), "error": "unknown-generation"}),
        json!({"name": "truncated", "entry": h(&entry[..entry.len() - 1]), "wrap": h(wrap), "expect": expect(address), "error": "malformed"}),
    ];
    json!({
        "format": "NSRE v1 and NSKW v1 (docs/crypto.md §Record envelope)",
        "author": {"signing_seed": h(f.author.seed), "signing": h(f.author.public().signing), "agreement": h(f.author.public().agreement)},
        "generation": f.generation,
        "compartment_key": h(f.key_bytes),
        "records": f.records.iter().map(|r| r.5.clone()).collect::<Vec<_>>(),
        "invalid": invalid,
    })
}

fn gen_chain() -> Value {
    let f = envelope_fixture();
    let mut rng = rng("chain-invalid");
    let e = &f.entries;
    let hexes = |list: Vec<&Vec<u8>>| list.into_iter().map(h).collect::<Vec<_>>();
    let head = |i: usize| json!({"seq": i, "hash": h(entry_hash(&e[i]))});
    // An entry with the right number that names the wrong predecessor.
    let (_, address, version, _, pt, _) = &f.records[2];
    let relinked = seal_record(
        *address,
        *version,
        ChainPosition {
            seq: 2,
            prev_hash: entry_hash(&e[0]),
        },
        &CompartmentKey::from_bytes(f.generation, f.key_bytes),
        &f.author.secret(),
        pt,
        &mut rng,
    )
    .unwrap()
    .entry;
    let foreign = seal_record(
        RecordAddress {
            case: ObjectId(bytes(&mut rng)),
            ..*address
        },
        *version,
        ChainPosition {
            seq: 2,
            prev_hash: entry_hash(&e[1]),
        },
        &CompartmentKey::from_bytes(f.generation, f.key_bytes),
        &f.author.secret(),
        pt,
        &mut rng,
    )
    .unwrap()
    .entry;
    let forked_head = json!({"seq": 2, "hash": h(entry_hash(&relinked))});
    json!({
        "org_id": f.org.to_hex(),
        "case_id": f.case.to_hex(),
        "entries": hexes(e.iter().collect()),
        "head": head(4),
        "invalid": [
            {"name": "entry 2 dropped", "entries": hexes(vec![&e[0], &e[1], &e[3], &e[4]]), "error": "chain-gap"},
            {"name": "the last entry dropped after a known head", "entries": hexes(vec![&e[0], &e[2]]), "error": "chain-gap"},
            {"name": "entry 1 served twice", "entries": hexes(vec![&e[0], &e[1], &e[1], &e[2]]), "error": "chain-duplicate"},
            {"name": "entries 2 and 3 swapped", "entries": hexes(vec![&e[0], &e[1], &e[3], &e[2], &e[4]]), "error": "chain-reordered"},
            {"name": "entry 2 links to entry 0", "entries": hexes(vec![&e[0], &e[1], &relinked]), "error": "chain-broken-link"},
            {"name": "an entry of another case", "entries": hexes(vec![&e[0], &e[1], &foreign]), "error": "chain-foreign-entry"},
            {"name": "chain starts at entry 1", "entries": hexes(vec![&e[1], &e[2]]), "error": "chain-gap"},
        ],
        "served_heads": [
            {"known": head(3), "served": head(4), "error": null},
            {"known": head(3), "served": head(3), "error": null},
            {"known": head(3), "served": head(1), "error": "chain-rollback"},
            {"known": head(2), "served": forked_head, "error": "chain-fork"},
        ],
    })
}

fn gen_ed25519_policy() -> Value {
    let raw = std::fs::read_to_string(vectors_dir().join("cctv-ed25519/ed25519vectors.json"))
        .expect("testdata/vectors/cctv-ed25519/ed25519vectors.json");
    let cctv: Vec<Value> = serde_json::from_str(&raw).unwrap();
    let verdicts: Vec<Value> = cctv
        .iter()
        .map(|v| {
            let key: [u8; 32] = hex::decode(v["key"].as_str().unwrap()).unwrap().try_into().unwrap();
            let sig: [u8; 64] = hex::decode(v["sig"].as_str().unwrap()).unwrap().try_into().unwrap();
            let msg = v["msg"].as_str().unwrap();
            let verdict = sig::verify(&key, msg.as_bytes(), &sig);
            json!({"number": v["number"], "key": v["key"], "sig": v["sig"], "msg": msg, "flags": v["flags"],
                   "valid": verdict.is_ok(), "error": verdict.err().map(|e| e.code())})
        })
        .collect();
    json!({
        "source": "C2SP CCTV ed25519vectors.json (testdata/vectors/cctv-ed25519), verdicts under docs/crypto.md §Signatures",
        "vectors": verdicts,
        "project_vectors": project_ed25519_vectors(),
    })
}

/// Cases the CCTV set does not reach: a valid signature, a changed message,
/// an unreduced S, and a key or R that is not a point at all.
fn project_ed25519_vectors() -> Vec<Value> {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    let key = SigningSecret::from_seed([0x11; 32]);
    let pk = key.public_key();
    let msg = "northstar project vector";
    let sig = key.sign(msg.as_bytes());
    // S + L, with L the group order, little-endian.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut unreduced = sig;
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = unreduced[32 + i] as u16 + L[i] as u16 + carry;
        unreduced[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    let not_a_point = (2u8..)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        })
        .find(|b| CompressedEdwardsY(*b).decompress().is_none())
        .expect("some small y is not on the curve");
    let mut bad_r = sig;
    bad_r[..32].copy_from_slice(&not_a_point);
    let cases: [(&str, [u8; 32], &str, [u8; 64]); 5] = [
        ("a valid signature", pk, msg, sig),
        ("the message changed", pk, "northstar project vectoR", sig),
        ("S not reduced (S + L)", pk, msg, unreduced),
        ("the public key is not a point", not_a_point, msg, sig),
        ("R is not a point", pk, msg, bad_r),
    ];
    cases
        .iter()
        .map(|(name, key, msg, sig)| {
            let verdict = sig::verify(key, msg.as_bytes(), sig);
            json!({"name": name, "key": h(key), "sig": h(sig), "msg": msg,
                   "valid": verdict.is_ok(), "error": verdict.err().map(|e| e.code())})
        })
        .collect()
}

fn wordlist_ts() -> String {
    let mut s = String::from(
        "// Generated by `cargo xtask vectors` from the diceware_wordlists crate: the EFF large\n\
         // word list (7,776 words, CC BY 3.0 US, Electronic Frontier Foundation). Do not edit.\n\
         export const EFF_LARGE_WORDLIST: readonly string[] = [\n",
    );
    for w in words::word_list() {
        s.push_str(&format!("  {w:?},\n"));
    }
    s.push_str("];\n");
    s
}

fn gen_intake() -> Value {
    use northstar_crypto::intake::*;
    let mut rng = rng("intake");
    let org = OrgId(bytes(&mut rng));
    let desk_key: [u8; 32] = bytes(&mut rng);
    let keys = IntakeKeyPair::derive(&org, &CompartmentKey::from_bytes(2, desk_key));
    let conversation: [u8; 16] = bytes(&mut rng);
    let codename = Codename::generate(&mut rng);
    let ck = codename_keys(&codename, &org);
    let author = TestMember::new(&mut rng);
    let request =
        b"{\"what\":\"\xd0\x9f\xd0\xbe\xd0\xbc\xd0\xbe\xd0\xb3\xd0\xb8\xd1\x82\xd0\xb5\"}";
    let sealed_request = seal_request(
        &org,
        2,
        &keys.public_key(),
        &conversation,
        request,
        &mut rng,
    )
    .unwrap();
    let note = b"{\"reply\":\"we will call\"}";
    let sealed_note = seal_staff_note(
        &org,
        2,
        &keys.public_key(),
        &conversation,
        note,
        &author.secret(),
        &mut rng,
    )
    .unwrap();
    let reply = "Мы вам ответим.".as_bytes();
    let sealed_reply =
        seal_reply(&org, &conversation, &ck.reply_public(), reply, &mut rng).unwrap();
    let pow_key: [u8; 32] = bytes(&mut rng);
    let challenge = pow_challenge(&pow_key, 1_900_000_000, &mut rng);
    let nonce = pow_solve(&challenge, 12);
    json!({
        "about": "Intake (crypto §24): the intake key from the desk key, codename keys (Argon2id m=19456 t=2 p=1), a request and a signed staff note sealed to the intake key, a reply sealed to the codename, a proof of work.",
        "org": h(org.as_bytes()),
        "desk_key": {"generation": 2, "key": h(desk_key)},
        "intake_public": h(keys.public_key()),
        "conversation": h(conversation),
        "codename": codename.expose(),
        "codename_salt": h(codename_salt(&org)),
        "access": h(ck.access()),
        "access_hash": h(access_hash(ck.access())),
        "reply_public": h(ck.reply_public()),
        "request": {"plaintext": h(request), "sealed": h(&sealed_request)},
        "staff_note": {"author": author.json_public(), "plaintext": h(note), "sealed": h(&sealed_note)},
        "reply": {"plaintext": h(reply), "sealed": h(&sealed_reply)},
        "pow": {"challenge": h(challenge), "bits": 12, "nonce": nonce, "hash": h(pow_hash(&challenge, nonce))},
        "invalid": [
            {"name": "request read in another conversation", "what": "request", "conversation": h([0u8; 16]), "sealed": h(&sealed_request), "error": "decrypt"},
            {"name": "request with a byte of its ciphertext flipped", "what": "request", "conversation": h(conversation), "sealed": h(flip(&sealed_request, 60)), "error": "decrypt"},
            {"name": "staff note with a byte flipped", "what": "staff_note", "conversation": h(conversation), "sealed": h(flip(&sealed_note, 60)), "error": "signature"},
            {"name": "reply read in another conversation", "what": "reply", "conversation": h([0u8; 16]), "sealed": h(&sealed_reply), "error": "decrypt"}
        ]
    })
}

/// Every generated file: path relative to the repo root, and its content.
fn generate() -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = [
        ("slot.json", gen_slot()),
        ("keybox.json", gen_keybox()),
        ("fingerprint.json", gen_fingerprint()),
        ("membership.json", gen_membership()),
        ("grant.json", gen_grant()),
        ("envelope.json", gen_envelope()),
        ("chain.json", gen_chain()),
        ("ed25519-policy.json", gen_ed25519_policy()),
        ("intake.json", gen_intake()),
    ]
    .into_iter()
    .map(|(name, v)| {
        (
            PathBuf::from("testdata/vectors").join(name),
            serde_json::to_string_pretty(&v).unwrap() + "\n",
        )
    })
    .collect();
    files.push((
        PathBuf::from("web/src/lib/crypto/wordlist.ts"),
        wordlist_ts(),
    ));
    files
}

#[test]
fn vector_files_are_what_the_generator_makes() {
    let write = std::env::var_os("NORTHSTAR_WRITE_VECTORS").is_some();
    let mut stale = vec![];
    for (path, content) in generate() {
        let full = repo_root().join(&path);
        if write {
            std::fs::write(&full, &content).unwrap();
        } else if std::fs::read_to_string(&full).ok().as_deref() != Some(content.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "these vector files differ from what the generator makes: {stale:?}. \
         If the format change is intended, run `cargo xtask vectors` and commit the result."
    );
}

// ---- Checking every vector through the public API, from the files on disk ----

fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let raw = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask vectors`)", path.display()));
    serde_json::from_str(&raw).unwrap()
}

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn hx32(v: &Value) -> [u8; 32] {
    hx(v).try_into().expect("32 bytes")
}

fn hx16(v: &Value) -> [u8; 16] {
    hx(v).try_into().expect("16 bytes")
}

#[test]
fn slot_vectors_open_to_their_root_keys() {
    let v = load("slot.json");
    for c in v["cases"].as_array().unwrap() {
        let kind = match c["kind"].as_str().unwrap() {
            "password" => SlotKind::Password,
            "device" => SlotKind::Device,
            _ => SlotKind::Recovery,
        };
        let account = AccountId(hx16(&c["account_id"]));
        if let Some(passphrase) = c["passphrase"].as_str() {
            let secret = device_unlock_secret(passphrase.as_bytes(), hx16(&c["slot_id"])).unwrap();
            assert_eq!(
                secret.to_vec(),
                hx(&c["unlock_secret"]),
                "Argon2id of the passphrase"
            );
        }
        let root = open_slot(&hx(&c["slot"]), kind, &hx(&c["unlock_secret"]), account).unwrap();
        // The root key is not printable; prove equality through a derived key.
        assert_eq!(
            *root.derive_purpose_key("vector-check"),
            *RootKey::from_bytes(hx32(&c["root_key"])).derive_purpose_key("vector-check"),
            "{}",
            c["name"]
        );
        let mut wrong = hx(&c["unlock_secret"]);
        wrong[0] ^= 1;
        assert_eq!(
            open_slot(&hx(&c["slot"]), kind, &wrong, account)
                .unwrap_err()
                .code(),
            "decrypt"
        );
    }
}

#[test]
fn keybox_vectors_open_to_their_keys() {
    let v = load("keybox.json");
    for c in v["cases"].as_array().unwrap() {
        let root = RootKey::from_bytes(hx32(&c["root_key"]));
        let account = AccountId(hx16(&c["account_id"]));
        let boxed = hx(&c["box"]);
        match c["kind"].as_str().unwrap() {
            "member" => {
                let keys = unwrap_member_keys(&boxed, &root, account).unwrap();
                assert_eq!(keys.public().to_bytes().to_vec(), hx(&c["public"]));
                let secret = hx(&c["secret"]);
                let expected = MemberSecretKeys::new(
                    SigningSecret::from_seed(secret[..32].try_into().unwrap()),
                    AgreementSecret::from_bytes(secret[32..].try_into().unwrap()),
                );
                assert_eq!(keys.public(), expected.public());
            }
            _ => {
                let org = OrgId(hx16(&c["context_id"]));
                let key = unwrap_org_root(&boxed, &root, account, org).unwrap();
                assert_eq!(key.public_key().to_vec(), hx(&c["public"]));
            }
        }
    }
}

#[test]
fn fingerprint_vectors_render_the_same_words() {
    let v = load("fingerprint.json");
    for c in v["cases"].as_array().unwrap() {
        let expected: Vec<&str> = c["words"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        let public = hx(&c["public"]);
        let got = match c["kind"].as_str().unwrap() {
            "org" => org_fingerprint(&public.clone().try_into().unwrap()),
            _ => MemberPublicKeys {
                signing: public[..32].try_into().unwrap(),
                agreement: public[32..].try_into().unwrap(),
            }
            .fingerprint(),
        };
        assert_eq!(got, expected);
    }
    for k in v["key_ids"].as_array().unwrap() {
        let keys = MemberPublicKeys {
            signing: hx32(&k["signing"]),
            agreement: hx32(&k["agreement"]),
        };
        assert_eq!(keys.key_id().to_hex(), k["key_id"].as_str().unwrap());
    }
}

#[test]
fn membership_vectors_verify_and_each_invalid_chain_is_refused_by_name() {
    let v = load("membership.json");
    let root = hx32(&v["root_public_key"]);
    let links: Vec<Vec<u8>> = v["links"].as_array().unwrap().iter().map(hx).collect();
    let state = MembershipState::verify(&root, &links).unwrap();
    let e = &v["expected"];
    assert_eq!(state.org_name, e["org_name"].as_str().unwrap());
    assert_eq!(state.len(), e["len"].as_u64().unwrap());
    assert_eq!(h(state.head()), e["head"].as_str().unwrap());
    let expected_members = e["members"].as_array().unwrap();
    assert_eq!(state.members().count(), expected_members.len());
    for m in expected_members {
        let member = state.member_by_name(m["name"].as_str().unwrap()).unwrap();
        assert_eq!(member.account.to_hex(), m["account_id"].as_str().unwrap());
        assert_eq!(member.role.name(), m["role"].as_str().unwrap());
        assert_eq!(
            member.keys.fingerprint(),
            m["fingerprint"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_str().unwrap())
                .collect::<Vec<_>>()
        );
    }
    for bad in v["invalid"].as_array().unwrap() {
        let links: Vec<Vec<u8>> = bad["links"].as_array().unwrap().iter().map(hx).collect();
        let err = MembershipState::verify(&root, &links).unwrap_err();
        assert_eq!(
            err.code(),
            bad["error"].as_str().unwrap(),
            "{}: {err}",
            bad["name"]
        );
    }
}

fn compartment_ref(v: &Value, object_field: &str) -> CompartmentRef {
    CompartmentRef {
        org: OrgId(hx16(&v["org_id"])),
        object: ObjectId(hx16(&v[object_field])),
        compartment: Compartment::from_code(v["compartment"].as_u64().unwrap() as u8).unwrap(),
    }
}

#[test]
fn grant_vectors_open_and_each_invalid_grant_is_refused_by_name() {
    let v = load("grant.json");
    let cases = v["cases"].as_array().unwrap();
    // The vector gives the recipient's agreement secret and public keys; the
    // key id covers both public keys.
    let recipient_keys = |c: &Value| -> (AgreementSecret, MemberPublicKeys) {
        let public = MemberPublicKeys {
            signing: hx32(&c["recipient"]["signing"]),
            agreement: hx32(&c["recipient"]["agreement"]),
        };
        (
            AgreementSecret::from_bytes(hx32(&c["recipient"]["agreement_secret"])),
            public,
        )
    };
    for c in cases {
        let granter = AuthorKey::new(MemberPublicKeys {
            signing: hx32(&c["granter"]["signing"]),
            agreement: hx32(&c["granter"]["agreement"]),
        })
        .unwrap();
        let (secret, public) = recipient_keys(c);
        assert_eq!(secret.public_key(), public.agreement);
        let key = northstar_crypto::grant::open_grant_as(
            &hx(&c["grant"]),
            compartment_ref(c, "object_id"),
            &secret,
            public.key_id(),
            None,
            &granter,
        )
        .unwrap();
        assert_eq!(key.generation() as u64, c["generation"].as_u64().unwrap());
        assert_eq!(h(key.expose_for_cache()), c["key"].as_str().unwrap());
    }
    let first = &cases[0];
    let granter = AuthorKey::new(MemberPublicKeys {
        signing: hx32(&first["granter"]["signing"]),
        agreement: hx32(&first["granter"]["agreement"]),
    })
    .unwrap();
    let (secret, public) = recipient_keys(first);
    for bad in v["invalid"].as_array().unwrap() {
        let err = northstar_crypto::grant::open_grant_as(
            &hx(&bad["grant"]),
            compartment_ref(&bad["expect"], "object_id"),
            &secret,
            public.key_id(),
            None,
            &granter,
        )
        .unwrap_err();
        assert_eq!(
            err.code(),
            bad["error"].as_str().unwrap(),
            "{}: {err}",
            bad["name"]
        );
    }
    for r in v["rotations"].as_array().unwrap() {
        let new = CompartmentKey::from_bytes(
            r["new_generation"].as_u64().unwrap() as u32,
            hx32(&r["new_key"]),
        );
        let old = open_rotation(&hx(&r["link"]), compartment_ref(r, "object_id"), &new).unwrap();
        assert_eq!(
            old.generation() as u64,
            r["old_generation"].as_u64().unwrap()
        );
        assert_eq!(h(old.expose_for_cache()), r["old_key"].as_str().unwrap());
    }
}

#[test]
fn kept_grant_vectors_open_with_the_keep_key_alone_and_each_invalid_one_is_refused_by_name() {
    let v = load("grant.json");
    let kept = &v["kept"];
    let m = &kept["member"];
    let public = MemberPublicKeys {
        signing: hx32(&m["signing"]),
        agreement: hx32(&m["agreement"]),
    };
    let me = AuthorKey::new(public).unwrap();
    let secret = AgreementSecret::from_bytes(hx32(&m["agreement_secret"]));
    let keep = KeepKey::from_root(&RootKey::from_bytes(hx32(&m["root_key"])));
    let open = |grant: &[u8], expected: CompartmentRef| {
        northstar_crypto::grant::open_grant_as(
            grant,
            expected,
            &secret,
            public.key_id(),
            Some(&keep),
            &me,
        )
    };
    for c in kept["cases"].as_array().unwrap() {
        let grant = hx(&c["grant"]);
        assert_eq!(grant.len(), northstar_crypto::grant::KEPT_GRANT_LEN);
        let key = open(&grant, compartment_ref(c, "object_id")).unwrap();
        assert_eq!(key.generation() as u64, c["generation"].as_u64().unwrap());
        assert_eq!(h(key.expose_for_cache()), c["key"].as_str().unwrap());
        // The server's check: signed by its member, and for that member.
        let header = northstar_crypto::grant::verify_grant(&grant, &me).unwrap();
        assert!(header.kept);
        assert_eq!(header.recipient, public.key_id());
        // Without the keep key (the HPKE path of a suite-1 reader) it does not open.
        assert!(
            northstar_crypto::grant::open_grant_as(
                &grant,
                compartment_ref(c, "object_id"),
                &secret,
                public.key_id(),
                None,
                &me
            )
            .is_err()
        );
    }
    for bad in kept["invalid"].as_array().unwrap() {
        let err = open(
            &hx(&bad["grant"]),
            compartment_ref(&bad["expect"], "object_id"),
        )
        .unwrap_err();
        assert_eq!(
            err.code(),
            bad["error"].as_str().unwrap(),
            "{}: {err}",
            bad["name"]
        );
    }
    for bad in kept["signature_invalid"].as_array().unwrap() {
        let err = northstar_crypto::grant::verify_grant(&hx(&bad["grant"]), &me).unwrap_err();
        assert_eq!(
            err.code(),
            bad["error"].as_str().unwrap(),
            "{}",
            bad["name"]
        );
    }
}

fn address(v: &Value) -> RecordAddress {
    RecordAddress {
        org: OrgId(hx16(&v["org_id"])),
        case: ObjectId(hx16(&v["case_id"])),
        compartment: Compartment::from_code(v["compartment"].as_u64().unwrap() as u8).unwrap(),
        record: RecordId(hx16(&v["record_id"])),
    }
}

#[test]
fn envelope_vectors_open_and_each_invalid_record_is_refused_by_name() {
    let v = load("envelope.json");
    let author = AuthorKey::new(MemberPublicKeys {
        signing: hx32(&v["author"]["signing"]),
        agreement: hx32(&v["author"]["agreement"]),
    })
    .unwrap();
    let generation = v["generation"].as_u64().unwrap() as u32;
    let keyring_for = |a: &RecordAddress| {
        let mut k = Keyring::new(a.compartment_ref());
        k.insert(CompartmentKey::from_bytes(
            generation,
            hx32(&v["compartment_key"]),
        ));
        k
    };
    for r in v["records"].as_array().unwrap() {
        let a = address(r);
        let opened = open_record(
            &hx(&r["entry"]),
            &hx(&r["wrap"]),
            &a,
            &keyring_for(&a),
            &author,
        )
        .unwrap();
        assert_eq!(*opened.plaintext, hx(&r["plaintext"]), "{}", r["name"]);
        assert_eq!(opened.header.seq, r["seq"].as_u64().unwrap());
        assert_eq!(
            h(entry_hash(&hx(&r["entry"]))),
            r["entry_hash"].as_str().unwrap()
        );
    }
    for bad in v["invalid"].as_array().unwrap() {
        let a = address(&bad["expect"]);
        let err = open_record(
            &hx(&bad["entry"]),
            &hx(&bad["wrap"]),
            &a,
            &keyring_for(&a),
            &author,
        )
        .unwrap_err();
        assert_eq!(
            err.code(),
            bad["error"].as_str().unwrap(),
            "{}: {err}",
            bad["name"]
        );
    }
}

#[test]
fn chain_vectors_verify_and_each_broken_chain_is_named() {
    let v = load("chain.json");
    let org = OrgId(hx16(&v["org_id"]));
    let case = ObjectId(hx16(&v["case_id"]));
    let entries: Vec<Vec<u8>> = v["entries"].as_array().unwrap().iter().map(hx).collect();
    let head = verify_chain(org, case, None, &entries).unwrap().unwrap();
    assert_eq!(head.seq, v["head"]["seq"].as_u64().unwrap());
    assert_eq!(h(head.hash), v["head"]["hash"].as_str().unwrap());
    for bad in v["invalid"].as_array().unwrap() {
        let entries: Vec<Vec<u8>> = bad["entries"].as_array().unwrap().iter().map(hx).collect();
        let err = verify_chain(org, case, None, &entries).unwrap_err();
        assert_eq!(
            err.code(),
            bad["error"].as_str().unwrap(),
            "{}: {err}",
            bad["name"]
        );
        assert!(parse_entry(&entries[0]).is_ok());
    }
    let to_head = |v: &Value| ChainHead {
        seq: v["seq"].as_u64().unwrap(),
        hash: hx32(&v["hash"]),
    };
    for s in v["served_heads"].as_array().unwrap() {
        let got = check_served_head(to_head(&s["known"]), to_head(&s["served"]))
            .err()
            .map(|e| e.code());
        assert_eq!(got, s["error"].as_str());
    }
}

#[test]
fn ed25519_policy_vectors_get_the_recorded_verdict() {
    let v = load("ed25519-policy.json");
    let vectors = v["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 914, "the CCTV set has 914 vectors");
    let mut accepted = 0;
    for t in vectors {
        let key: [u8; 32] = hx32(&t["key"]);
        let sig: [u8; 64] = hx(&t["sig"]).try_into().unwrap();
        let verdict = sig::verify(&key, t["msg"].as_str().unwrap().as_bytes(), &sig);
        assert_eq!(
            verdict.is_ok(),
            t["valid"].as_bool().unwrap(),
            "vector {}",
            t["number"]
        );
        assert_eq!(
            verdict.err().map(|e| e.code()),
            t["error"].as_str(),
            "vector {}",
            t["number"]
        );
        accepted += usize::from(verdict.is_ok());
        // The sync's fast path (a key checked once, then one equation per
        // signature) reaches the same verdict on every `R` edge case.
        if let Ok(checked) = sig::VerifiedKey::new(&key) {
            assert_eq!(
                checked
                    .verify(t["msg"].as_str().unwrap().as_bytes(), &sig)
                    .is_ok(),
                verdict.is_ok(),
                "vector {} through a checked key",
                t["number"]
            );
        }
        // The policy never accepts what its flags say it must refuse.
        let flags: Vec<&str> = t["flags"]
            .as_array()
            .map(|f| f.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        if verdict.is_ok() {
            for refused in [
                "low_order_A",
                "low_order_R",
                "non_canonical_A",
                "non_canonical_R",
                "low_order_component_A",
                "low_order_component_R",
            ] {
                assert!(
                    !flags.contains(&refused),
                    "vector {} accepted with {refused}",
                    t["number"]
                );
            }
        }
    }
    assert!(
        accepted > 0,
        "some vectors are valid signatures under any policy"
    );
    let project = v["project_vectors"].as_array().unwrap();
    let codes: Vec<Option<&str>> = project.iter().map(|t| t["error"].as_str()).collect();
    assert_eq!(
        codes,
        vec![
            None,
            Some("sig-mismatch"),
            Some("sig-mismatch"),
            Some("sig-invalid-key"),
            Some("sig-invalid-r")
        ]
    );
    for t in project {
        let verdict = sig::verify(
            &hx32(&t["key"]),
            t["msg"].as_str().unwrap().as_bytes(),
            &hx(&t["sig"]).try_into().unwrap(),
        );
        assert_eq!(
            verdict.err().map(|e| e.code()),
            t["error"].as_str(),
            "{}",
            t["name"]
        );
    }
}

#[test]
fn the_generated_wordlist_matches_the_crate_list() {
    let v = load("fingerprint.json");
    let list = words::word_list().join("\n");
    assert_eq!(
        h(<sha2::Sha256 as sha2::Digest>::digest(list.as_bytes())),
        v["wordlist_sha256"].as_str().unwrap()
    );
}

#[test]
fn intake_vectors_derive_the_same_keys_and_open_or_are_refused_by_name() {
    use northstar_crypto::intake::*;
    let v = load("intake.json");
    let org = OrgId(hx16(&v["org"]));
    let keys = IntakeKeyPair::derive(
        &org,
        &CompartmentKey::from_bytes(2, hx32(&v["desk_key"]["key"])),
    );
    assert_eq!(h(keys.public_key()), v["intake_public"].as_str().unwrap());
    let codename = Codename::parse(v["codename"].as_str().unwrap()).unwrap();
    let ck = codename_keys(&codename, &org);
    assert_eq!(h(ck.access()), v["access"].as_str().unwrap());
    assert_eq!(
        h(access_hash(ck.access())),
        v["access_hash"].as_str().unwrap()
    );
    assert_eq!(h(ck.reply_public()), v["reply_public"].as_str().unwrap());
    let conversation = hx16(&v["conversation"]);
    let opened = open_sealed(
        &org,
        &conversation,
        &keys,
        &hx(&v["request"]["sealed"]),
        None,
    )
    .unwrap();
    assert_eq!(
        opened.plaintext.as_slice(),
        hx(&v["request"]["plaintext"]).as_slice()
    );
    let author = AuthorKey::new(MemberPublicKeys {
        signing: hx32(&v["staff_note"]["author"]["signing"]),
        agreement: hx32(&v["staff_note"]["author"]["agreement"]),
    })
    .unwrap();
    let note = open_sealed(
        &org,
        &conversation,
        &keys,
        &hx(&v["staff_note"]["sealed"]),
        Some(&author),
    )
    .unwrap();
    assert_eq!(
        note.plaintext.as_slice(),
        hx(&v["staff_note"]["plaintext"]).as_slice()
    );
    let reply = ck
        .open_reply(&org, &conversation, &hx(&v["reply"]["sealed"]))
        .unwrap();
    assert_eq!(reply.as_slice(), hx(&v["reply"]["plaintext"]).as_slice());
    let pow = &v["pow"];
    let hash = pow_hash(&hx(&pow["challenge"]), pow["nonce"].as_u64().unwrap());
    assert_eq!(h(hash), pow["hash"].as_str().unwrap());
    assert!(leading_zero_bits(&hash) >= pow["bits"].as_u64().unwrap() as u32);
    for c in v["invalid"].as_array().unwrap() {
        let conv = hx16(&c["conversation"]);
        let sealed = hx(&c["sealed"]);
        let code = match c["what"].as_str().unwrap() {
            "request" => open_sealed(&org, &conv, &keys, &sealed, None)
                .unwrap_err()
                .code(),
            "staff_note" => open_sealed(&org, &conv, &keys, &sealed, Some(&author))
                .unwrap_err()
                .code(),
            _ => ck.open_reply(&org, &conv, &sealed).unwrap_err().code(),
        };
        assert_eq!(code, c["error"].as_str().unwrap(), "{}", c["name"]);
    }
}
