//! A tiny Rust endpoint for the live TypeScript ↔ Rust round trips
//! (web/src/lib/crypto/interop.test.ts). Reads one JSON request on stdin and
//! prints one JSON response on stdout. Test-only: it takes secret keys as hex.
//!
//! Requests (all byte strings lower-case hex; compartment as its numeric code):
//! - `{"op":"keygen"}` → `{"signing_seed","agreement_secret","signing","agreement","key_id"}`
//! - `{"op":"seal-record","org_id","case_id","compartment","record_id","record_version","seq",
//!   "prev_hash","generation","compartment_key","author":{"signing_seed","agreement_secret"},
//!   "plaintext"}` → `{"entry","wrap"}`
//! - `{"op":"open-record","entry","wrap","org_id","case_id","compartment","record_id",
//!   "generation","compartment_key","author":{"signing","agreement"}}` → `{"plaintext"}`
//! - `{"op":"seal-grant","org_id","object_id","compartment","generation","key",
//!   "recipient":{"signing","agreement"},"granter":{"signing_seed","agreement_secret"}}` → `{"grant"}`
//! - `{"op":"open-grant","grant","org_id","object_id","compartment",
//!   "recipient":{"signing_seed","agreement_secret"},"granter":{"signing","agreement"}}`
//!   → `{"key","generation"}`
//! - `{"op":"intake-seal","org_id","conversation_id","generation","desk_key","plaintext",
//!   "author"?:{"signing_seed","agreement_secret"}}` → `{"sealed","intake_public"}`
//!   (a requester's message; with an author, a staff note signed by that author)
//! - `{"op":"intake-open","org_id","conversation_id","generation","desk_key","sealed",
//!   "author"?:{"signing","agreement"}}` → `{"by","author","plaintext"}`
//!   (`by` is "requester" or "staff"; `author` the signing key id of a staff note, else null)
//! - `{"op":"intake-codename-keys","codename","org_id"}`
//!   → `{"codename","access","access_hash","reply_public"}` (`codename` as Rust reads it back)
//! - `{"op":"intake-reply-seal","org_id","conversation_id","codename","plaintext"}`
//!   → `{"reply","reply_public"}`
//! - `{"op":"intake-reply-open","org_id","conversation_id","codename","reply"}` → `{"plaintext"}`
//!
//! The intake ops take the intake desk's compartment key and the codename itself, not
//! the keys they derive, so the derivations are checked along with the formats.
//!
//! Any failure prints `{"error": code, "message": text}` and exits with status 1.
#![allow(clippy::print_stdout)]

use std::io::Read;

use northstar_core::Compartment;
use northstar_crypto::envelope::{ChainPosition, RecordAddress, open_record, seal_record};
use northstar_crypto::grant::{CompartmentKey, CompartmentRef, Keyring, open_grant, seal_grant};
use northstar_crypto::identity::{AgreementSecret, AuthorKey, MemberPublicKeys, MemberSecretKeys};
use northstar_crypto::intake::{
    Codename, CodenameKeys, IntakeKeyPair, SealedBy, access_hash, codename_keys, open_sealed,
    seal_reply, seal_request, seal_staff_note,
};
use northstar_crypto::sig::SigningSecret;
use northstar_crypto::{CryptoError, ObjectId, OrgId, RecordId};
use rand::rngs::OsRng;
use serde_json::{Value, json};

fn hx(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(
        v[field]
            .as_str()
            .unwrap_or_else(|| panic!("missing {field}")),
    )
    .unwrap_or_else(|_| panic!("{field} is not hex"))
}
fn arr<const N: usize>(v: &Value, field: &str) -> [u8; N] {
    hx(v, field)
        .try_into()
        .unwrap_or_else(|_| panic!("{field} must be {N} bytes"))
}
fn num(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("missing {field}"))
}
fn compartment(v: &Value) -> Compartment {
    Compartment::from_code(num(v, "compartment") as u8).expect("compartment code")
}
fn secret_keys(v: &Value) -> MemberSecretKeys {
    MemberSecretKeys::new(
        SigningSecret::from_seed(arr(v, "signing_seed")),
        AgreementSecret::from_bytes(arr(v, "agreement_secret")),
    )
}
fn public_keys(v: &Value) -> MemberPublicKeys {
    MemberPublicKeys {
        signing: arr(v, "signing"),
        agreement: arr(v, "agreement"),
    }
}
fn author_key(v: &Value) -> Result<AuthorKey, CryptoError> {
    AuthorKey::new(public_keys(v)).map_err(CryptoError::WeakPublicKey)
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("missing {field}"))
}
/// The intake key pair that the request's desk key (`generation`, `desk_key`) derives for `org_id`.
fn intake_keys(v: &Value) -> IntakeKeyPair {
    IntakeKeyPair::derive(
        &OrgId(arr(v, "org_id")),
        &CompartmentKey::from_bytes(num(v, "generation") as u32, arr(v, "desk_key")),
    )
}
/// The keys of the request's `codename`, read as a person would type it back.
fn keys_of_codename(v: &Value) -> Result<CodenameKeys, CryptoError> {
    Ok(codename_keys(
        &Codename::parse(text(v, "codename"))?,
        &OrgId(arr(v, "org_id")),
    ))
}

fn handle(req: &Value) -> Result<Value, CryptoError> {
    match req["op"].as_str().unwrap_or("") {
        "keygen" => {
            let mut seed = [0u8; 32];
            let mut agreement = [0u8; 32];
            rand::RngCore::fill_bytes(&mut OsRng, &mut seed);
            rand::RngCore::fill_bytes(&mut OsRng, &mut agreement);
            let keys = MemberSecretKeys::new(
                SigningSecret::from_seed(seed),
                AgreementSecret::from_bytes(agreement),
            );
            let p = keys.public();
            Ok(
                json!({"signing_seed": hex::encode(seed), "agreement_secret": hex::encode(agreement),
                      "signing": hex::encode(p.signing), "agreement": hex::encode(p.agreement),
                      "key_id": p.key_id().to_hex()}),
            )
        }
        "seal-record" => {
            let address = RecordAddress {
                org: OrgId(arr(req, "org_id")),
                case: ObjectId(arr(req, "case_id")),
                compartment: compartment(req),
                record: RecordId(arr(req, "record_id")),
            };
            let key = CompartmentKey::from_bytes(
                num(req, "generation") as u32,
                arr(req, "compartment_key"),
            );
            let sealed = seal_record(
                address,
                num(req, "record_version") as u32,
                ChainPosition {
                    seq: num(req, "seq"),
                    prev_hash: arr(req, "prev_hash"),
                },
                &key,
                &secret_keys(&req["author"]),
                &hx(req, "plaintext"),
                &mut OsRng,
            )?;
            Ok(json!({"entry": hex::encode(sealed.entry), "wrap": hex::encode(sealed.wrap)}))
        }
        "open-record" => {
            let address = RecordAddress {
                org: OrgId(arr(req, "org_id")),
                case: ObjectId(arr(req, "case_id")),
                compartment: compartment(req),
                record: RecordId(arr(req, "record_id")),
            };
            let mut keyring = Keyring::new(address.compartment_ref());
            keyring.insert(CompartmentKey::from_bytes(
                num(req, "generation") as u32,
                arr(req, "compartment_key"),
            ));
            let opened = open_record(
                &hx(req, "entry"),
                &hx(req, "wrap"),
                &address,
                &keyring,
                &author_key(&req["author"])?,
            )?;
            Ok(json!({"plaintext": hex::encode(&*opened.plaintext), "seq": opened.header.seq}))
        }
        "seal-grant" => {
            let target = CompartmentRef {
                org: OrgId(arr(req, "org_id")),
                object: ObjectId(arr(req, "object_id")),
                compartment: compartment(req),
            };
            let key = CompartmentKey::from_bytes(num(req, "generation") as u32, arr(req, "key"));
            let grant = seal_grant(
                target,
                &key,
                &public_keys(&req["recipient"]),
                &secret_keys(&req["granter"]),
                &mut OsRng,
            )?;
            Ok(json!({"grant": hex::encode(grant)}))
        }
        "open-grant" => {
            let target = CompartmentRef {
                org: OrgId(arr(req, "org_id")),
                object: ObjectId(arr(req, "object_id")),
                compartment: compartment(req),
            };
            let key = open_grant(
                &hx(req, "grant"),
                target,
                &secret_keys(&req["recipient"]),
                &author_key(&req["granter"])?,
            )?;
            Ok(json!({"key": hex::encode(key.expose_for_cache()), "generation": key.generation()}))
        }
        "intake-seal" => {
            let org = OrgId(arr(req, "org_id"));
            let keys = intake_keys(req);
            let conversation = arr(req, "conversation_id");
            let plaintext = hx(req, "plaintext");
            let sealed = if req["author"].is_null() {
                seal_request(
                    &org,
                    keys.generation(),
                    &keys.public_key(),
                    &conversation,
                    &plaintext,
                    &mut OsRng,
                )?
            } else {
                seal_staff_note(
                    &org,
                    keys.generation(),
                    &keys.public_key(),
                    &conversation,
                    &plaintext,
                    &secret_keys(&req["author"]),
                    &mut OsRng,
                )?
            };
            Ok(
                json!({"sealed": hex::encode(sealed), "intake_public": hex::encode(keys.public_key())}),
            )
        }
        "intake-open" => {
            let author = if req["author"].is_null() {
                None
            } else {
                Some(author_key(&req["author"])?)
            };
            let opened = open_sealed(
                &OrgId(arr(req, "org_id")),
                &arr(req, "conversation_id"),
                &intake_keys(req),
                &hx(req, "sealed"),
                author.as_ref(),
            )?;
            let by = match opened.by {
                SealedBy::Requester => "requester",
                SealedBy::Staff => "staff",
            };
            Ok(
                json!({"by": by, "author": opened.author.map(|id| id.to_hex()),
                      "plaintext": hex::encode(&*opened.plaintext)}),
            )
        }
        "intake-codename-keys" => {
            let codename = Codename::parse(text(req, "codename"))?;
            let keys = codename_keys(&codename, &OrgId(arr(req, "org_id")));
            Ok(
                json!({"codename": codename.expose(), "access": hex::encode(keys.access()),
                      "access_hash": hex::encode(access_hash(keys.access())),
                      "reply_public": hex::encode(keys.reply_public())}),
            )
        }
        "intake-reply-seal" => {
            let keys = keys_of_codename(req)?;
            let reply = seal_reply(
                &OrgId(arr(req, "org_id")),
                &arr(req, "conversation_id"),
                &keys.reply_public(),
                &hx(req, "plaintext"),
                &mut OsRng,
            )?;
            Ok(
                json!({"reply": hex::encode(reply), "reply_public": hex::encode(keys.reply_public())}),
            )
        }
        "intake-reply-open" => {
            let plaintext = keys_of_codename(req)?.open_reply(
                &OrgId(arr(req, "org_id")),
                &arr(req, "conversation_id"),
                &hx(req, "reply"),
            )?;
            Ok(json!({"plaintext": hex::encode(&*plaintext)}))
        }
        other => panic!("unknown op {other:?}"),
    }
}

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("stdin");
    let req: Value = serde_json::from_str(&input).expect("one JSON request on stdin");
    match handle(&req) {
        Ok(v) => println!("{v}"),
        Err(e) => {
            println!("{}", json!({"error": e.code(), "message": e.to_string()}));
            std::process::exit(1);
        }
    }
}
