//! The record envelope, version 1: one sealed, signed entry of a case's chain,
//! plus the detached wrap of its data key.
//!
//! Entry = header (180 bytes) ‖ ciphertext ‖ signature (64 bytes). Header:
//! `"NSRE" | 0x01 | suite u16 | org 16 | case 16 | compartment u8 | record id 16 |
//!  record version u32 | seq u64 | key generation u32 | prev hash 32 | author key id 16 |
//!  nonce 24 | commitment 32 | ciphertext length u32`.
//!
//! Each record has its own random data key `dk`. The ciphertext is
//! XChaCha20-Poly1305 under HKDF(dk, "northstar/v1/record/encrypt") with the whole
//! header as associated data; `commitment = HKDF(dk, "northstar/v1/record/commit")`
//! makes the envelope key-committing. The author signs
//! `"northstar/v1/record/sig" ‖ header ‖ ciphertext`.
//!
//! The data key travels in a separate wrap (134 bytes), sealed under the compartment key:
//! `"NSKW" | 0x01 | org 16 | case 16 | compartment u8 | record id 16 | record version u32 |
//!  generation u32 | nonce 24 | ct 48` under HKDF(compartment key, "northstar/v1/record/wrap"),
//! bytes 0..62 as associated data. Keeping it apart from the chain lets one record be
//! shredded (delete its wrap) or, later, shared (wrap its key to someone else) without touching
//! the chain, whose hashes cover only the entry. (Sharing a single record with someone
//! outside the compartment needs a format of its own, planned for a later version.)

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use northstar_core::Compartment;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::grant::{CompartmentKey, CompartmentRef, Keyring};
use crate::identity::{AuthorKey, MemberSecretKeys};
use crate::kdf::{derive_key, labelled_hash};
use crate::wire::{Reader, Writer};
use crate::{CryptoError, Csprng, KeyId, ObjectId, OrgId, RecordId};

const MAGIC: &[u8; 4] = b"NSRE";
const FORMAT: &str = "record";
const SUITE: u16 = 1;
pub const HEADER_LEN: usize = 180;
pub const SIGNATURE_LEN: usize = 64;
const SIG_LABEL: &[u8] = b"northstar/v1/record/sig";
const ENTRY_HASH_LABEL: &[u8] = b"northstar/v1/chain/entry";
/// The largest plaintext one record may hold (16 MiB): documents go in several records.
pub const MAX_PLAINTEXT: usize = 16 * 1024 * 1024;

const WRAP_MAGIC: &[u8; 4] = b"NSKW";
const WRAP_FORMAT: &str = "record key wrap";
pub const WRAP_LEN: usize = 134;
const WRAP_AAD_END: usize = 62;

/// Where a record lives and which version of it this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordAddress {
    pub org: OrgId,
    pub case: ObjectId,
    pub compartment: Compartment,
    pub record: RecordId,
}

impl RecordAddress {
    pub fn compartment_ref(&self) -> CompartmentRef {
        CompartmentRef {
            org: self.org,
            object: self.case,
            compartment: self.compartment,
        }
    }
}

/// The place in the case's chain that a new entry extends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainPosition {
    pub seq: u64,
    pub prev_hash: [u8; 32],
}

/// Everything the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryHeader {
    pub address: RecordAddress,
    pub record_version: u32,
    pub seq: u64,
    pub generation: u32,
    pub prev_hash: [u8; 32],
    pub author: KeyId,
    pub nonce: [u8; 24],
    pub commitment: [u8; 32],
    pub ciphertext_len: u32,
}

impl EntryHeader {
    fn encode(&self) -> Writer {
        let mut w = Writer::with_capacity(HEADER_LEN);
        w.bytes(MAGIC)
            .u8(1)
            .u16(SUITE)
            .bytes(self.address.org.as_bytes())
            .bytes(self.address.case.as_bytes())
            .u8(self.address.compartment.code())
            .bytes(self.address.record.as_bytes())
            .u32(self.record_version)
            .u64(self.seq)
            .u32(self.generation)
            .bytes(&self.prev_hash)
            .bytes(self.author.as_bytes())
            .bytes(&self.nonce)
            .bytes(&self.commitment)
            .u32(self.ciphertext_len);
        debug_assert_eq!(w.len(), HEADER_LEN);
        w
    }
}

/// A record's own key. Not `Clone`, not printable.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn generate(rng: &mut impl Csprng) -> Self {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        DataKey(k)
    }
    fn commitment(&self) -> [u8; 32] {
        *derive_key(&self.0, b"northstar/v1/record/commit", &[])
    }
    fn cipher(&self) -> XChaCha20Poly1305 {
        let k = derive_key(&self.0, b"northstar/v1/record/encrypt", &[]);
        crate::kdf::xchacha(&k)
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(redacted)")
    }
}

/// A sealed record: the chain entry and the wrap of its data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    pub entry: Vec<u8>,
    pub wrap: Vec<u8>,
}

/// Seal `plaintext` as the next entry of the case's chain.
pub fn seal_record(
    address: RecordAddress,
    record_version: u32,
    position: ChainPosition,
    key: &CompartmentKey,
    author: &MemberSecretKeys,
    plaintext: &[u8],
    rng: &mut impl Csprng,
) -> Result<SealedRecord, CryptoError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(CryptoError::Malformed {
            format: FORMAT,
            reason: "plaintext larger than 16 MiB",
        });
    }
    let data_key = DataKey::generate(rng);
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    let header = EntryHeader {
        address,
        record_version,
        seq: position.seq,
        generation: key.generation(),
        prev_hash: position.prev_hash,
        author: author.key_id(),
        nonce,
        commitment: data_key.commitment(),
        ciphertext_len: (plaintext.len() + 16) as u32,
    };
    let mut w = header.encode();
    let ct = data_key
        .cipher()
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: w.as_slice(),
            },
        )
        .expect("in-memory encryption cannot fail");
    w.bytes(&ct);
    let signature = author.signing().sign(&[SIG_LABEL, w.as_slice()].concat());
    w.bytes(&signature);
    let wrap = seal_wrap(&header, &data_key, key, rng);
    Ok(SealedRecord {
        entry: w.finish(),
        wrap,
    })
}

fn wrap_header(address: &RecordAddress, record_version: u32, generation: u32) -> Writer {
    let mut w = Writer::with_capacity(WRAP_LEN);
    w.bytes(WRAP_MAGIC)
        .u8(1)
        .bytes(address.org.as_bytes())
        .bytes(address.case.as_bytes())
        .u8(address.compartment.code())
        .bytes(address.record.as_bytes())
        .u32(record_version)
        .u32(generation);
    debug_assert_eq!(w.len(), WRAP_AAD_END);
    w
}

fn wrap_cipher(key: &CompartmentKey) -> XChaCha20Poly1305 {
    let k = derive_key(key.expose(), b"northstar/v1/record/wrap", &[]);
    crate::kdf::xchacha(&k)
}

fn seal_wrap(
    header: &EntryHeader,
    data_key: &DataKey,
    key: &CompartmentKey,
    rng: &mut impl Csprng,
) -> Vec<u8> {
    let mut w = wrap_header(&header.address, header.record_version, key.generation());
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    let ct = wrap_cipher(key)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &data_key.0,
                aad: w.as_slice(),
            },
        )
        .expect("in-memory encryption cannot fail");
    w.bytes(&nonce).bytes(&ct);
    w.finish()
}

/// Parse an entry's structure (no signature check, no decryption).
pub fn parse_entry(entry: &[u8]) -> Result<EntryHeader, CryptoError> {
    let mut r = Reader::new(entry, FORMAT);
    r.expect_magic(MAGIC, 1)?;
    if r.u16()? != SUITE {
        return Err(CryptoError::Unsupported { format: FORMAT });
    }
    let org = OrgId(r.array()?);
    let case = ObjectId(r.array()?);
    let compartment = Compartment::from_code(r.u8()?).map_err(|_| CryptoError::Malformed {
        format: FORMAT,
        reason: "unknown compartment",
    })?;
    let record = RecordId(r.array()?);
    let header = EntryHeader {
        address: RecordAddress {
            org,
            case,
            compartment,
            record,
        },
        record_version: r.u32()?,
        seq: r.u64()?,
        generation: r.u32()?,
        prev_hash: r.array()?,
        author: KeyId(r.array()?),
        nonce: r.array()?,
        commitment: r.array()?,
        ciphertext_len: r.u32()?,
    };
    if (header.ciphertext_len as usize) < 16 || header.ciphertext_len as usize > MAX_PLAINTEXT + 16
    {
        return Err(CryptoError::Malformed {
            format: FORMAT,
            reason: "ciphertext length out of range",
        });
    }
    r.take(header.ciphertext_len as usize)?;
    r.take(SIGNATURE_LEN)?;
    r.finish()?;
    Ok(header)
}

/// The hash that the next entry of the chain names as its `prev_hash`.
pub fn entry_hash(entry: &[u8]) -> [u8; 32] {
    labelled_hash(ENTRY_HASH_LABEL, &[entry])
}

/// Check an entry's signature with its author's keys (from the membership chain).
/// Every member can do this for every entry of a case, readable or not.
pub fn verify_entry(entry: &[u8], author: &AuthorKey) -> Result<EntryHeader, CryptoError> {
    let header = parse_entry(entry)?;
    if header.author != author.key_id() {
        return Err(CryptoError::UnexpectedSigner {
            key_id: header.author,
        });
    }
    let split = entry.len() - SIGNATURE_LEN;
    let signature: [u8; 64] = entry[split..].try_into().expect("64 bytes");
    author
        .verify(&[SIG_LABEL, &entry[..split]].concat(), &signature)
        .map_err(|source| CryptoError::Signature {
            format: FORMAT,
            source,
        })?;
    Ok(header)
}

/// An opened record.
#[derive(Debug)]
pub struct OpenedRecord {
    pub header: EntryHeader,
    pub plaintext: Zeroizing<Vec<u8>>,
}

fn mismatch(format: &'static str, field: &'static str) -> CryptoError {
    CryptoError::ContextMismatch { format, field }
}

fn check_address(
    format: &'static str,
    found: &RecordAddress,
    expected: &RecordAddress,
) -> Result<(), CryptoError> {
    if found.org != expected.org {
        Err(mismatch(format, "organization"))
    } else if found.case != expected.case {
        Err(mismatch(format, "case"))
    } else if found.compartment != expected.compartment {
        Err(mismatch(format, "compartment"))
    } else if found.record != expected.record {
        Err(mismatch(format, "record id"))
    } else {
        Ok(())
    }
}

/// Open a record that the server says lives at `expected`: check the signature,
/// the address, the key generation, the wrap, the key commitment, then decrypt.
pub fn open_record(
    entry: &[u8],
    wrap: &[u8],
    expected: &RecordAddress,
    keyring: &Keyring,
    author: &AuthorKey,
) -> Result<OpenedRecord, CryptoError> {
    let header = verify_entry(entry, author)?;
    check_address(FORMAT, &header.address, expected)?;
    if keyring.target() != expected.compartment_ref() {
        return Err(mismatch(FORMAT, "keyring"));
    }
    let key = keyring.get(header.generation)?;
    let data_key = open_wrap(wrap, &header, key)?;
    if data_key.commitment() != header.commitment {
        return Err(CryptoError::KeyCommitment);
    }
    let aad = &entry[..HEADER_LEN];
    let ct = &entry[HEADER_LEN..entry.len() - SIGNATURE_LEN];
    let plaintext = data_key
        .cipher()
        .decrypt(XNonce::from_slice(&header.nonce), Payload { msg: ct, aad })
        .map_err(|_| CryptoError::Decrypt { format: FORMAT })?;
    Ok(OpenedRecord {
        header,
        plaintext: Zeroizing::new(plaintext),
    })
}

fn open_wrap(
    wrap: &[u8],
    header: &EntryHeader,
    key: &CompartmentKey,
) -> Result<DataKey, CryptoError> {
    let mut r = Reader::new(wrap, WRAP_FORMAT);
    r.expect_magic(WRAP_MAGIC, 1)?;
    let org = OrgId(r.array()?);
    let case = ObjectId(r.array()?);
    let compartment = Compartment::from_code(r.u8()?).map_err(|_| CryptoError::Malformed {
        format: WRAP_FORMAT,
        reason: "unknown compartment",
    })?;
    let record = RecordId(r.array()?);
    let record_version = r.u32()?;
    let generation = r.u32()?;
    let nonce: [u8; 24] = r.array()?;
    let ct = r.take(48)?;
    r.finish()?;
    check_address(
        WRAP_FORMAT,
        &RecordAddress {
            org,
            case,
            compartment,
            record,
        },
        &header.address,
    )?;
    if record_version != header.record_version {
        return Err(mismatch(WRAP_FORMAT, "record version"));
    }
    if generation != header.generation {
        return Err(mismatch(WRAP_FORMAT, "key generation"));
    }
    let mut dk = wrap_cipher(key)
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: ct,
                aad: &wrap[..WRAP_AAD_END],
            },
        )
        .map_err(|_| CryptoError::Decrypt {
            format: WRAP_FORMAT,
        })?;
    let mut k = [0u8; 32];
    k.copy_from_slice(&dk);
    dk.zeroize();
    Ok(DataKey(k))
}
