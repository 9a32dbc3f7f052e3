//! Compartment keys, the grants that hand them to members, and the rotation
//! links that let the holder of a new generation read the old ones.
//!
//! Grant layout (220 bytes):
//! `"NSGR" | 0x01 | suite u16 | org 16 | object 16 | compartment u8 | generation u32 |
//!  recipient key id 16 | granter key id 16 | enc 32 | ct 48 | signature 64`.
//! HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305 (suite 1),
//! with `info = "northstar/v1/grant" ‖ bytes 0..76` (everything before `enc`, so the
//! context and both key ids are bound) and empty AAD. The granter signs `"northstar/v1/grant/sig" ‖ bytes 0..156`.
//!
//! Kept grant (suite 2, 212 bytes): a key a member grants to itself.
//! `"NSGR" | 0x01 | 2 u16 | org 16 | object 16 | compartment u8 | generation u32 |
//!  recipient key id 16 | granter key id 16 (the same) | nonce 24 | ct 48 | signature 64`,
//! the key sealed with XChaCha20-Poly1305 under the member's keep key (from the
//! account root key) with `"northstar/v1/grant/kept" ‖ bytes 0..76` as associated
//! data, signed as a suite-1 grant is (over bytes 0..148). Its owner opens it with
//! one AEAD: no Diffie-Hellman and no signature, because only the holder of the root
//! key could have sealed it; the signature serves the server and the other members.
//!
//! Rotation layout (118 bytes):
//! `"NSRT" | 0x01 | org 16 | object 16 | compartment u8 | old gen u32 | new gen u32 | nonce 24 | ct 48`,
//! the old key sealed with XChaCha20-Poly1305 under HKDF(new key, "northstar/v1/rotation"),
//! bytes 0..46 as associated data.

use std::collections::BTreeMap;

use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, Payload};
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use northstar_core::Compartment;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::identity::{AgreementSecret, AuthorKey, MemberPublicKeys, MemberSecretKeys};
use crate::kdf::derive_key;
use crate::wire::{Reader, Writer};
use crate::{CryptoError, Csprng, KeyId, ObjectId, OrgId};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

const GRANT_MAGIC: &[u8; 4] = b"NSGR";
const GRANT_FORMAT: &str = "grant";
const GRANT_SUITE: u16 = 1;
const GRANT_SUITE_KEPT: u16 = 2;
const KEPT_AAD_LABEL: &[u8] = b"northstar/v1/grant/kept";
pub const KEPT_GRANT_LEN: usize = 212;
const KEPT_CT_END: usize = 148;
const GRANT_INFO_LABEL: &[u8] = b"northstar/v1/grant";
const GRANT_SIG_LABEL: &[u8] = b"northstar/v1/grant/sig";
pub const GRANT_LEN: usize = 220;
const GRANT_INFO_END: usize = 76;
const GRANT_ENC_END: usize = 108;
const GRANT_SIGNED_END: usize = 156;

const ROTATION_MAGIC: &[u8; 4] = b"NSRT";
const ROTATION_FORMAT: &str = "rotation link";
pub const ROTATION_LEN: usize = 118;
const ROTATION_AAD_END: usize = 46;

/// Where a compartment key belongs: the organization, the case or safe house, the compartment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompartmentRef {
    pub org: OrgId,
    pub object: ObjectId,
    pub compartment: Compartment,
}

/// One generation of one compartment's key. Not `Clone`, not printable.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct CompartmentKey {
    #[zeroize(skip)]
    generation: u32,
    key: [u8; 32],
}

impl CompartmentKey {
    pub fn generate(generation: u32, rng: &mut impl Csprng) -> Self {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        CompartmentKey { generation, key }
    }
    pub fn from_bytes(generation: u32, key: [u8; 32]) -> Self {
        CompartmentKey { generation, key }
    }
    pub fn generation(&self) -> u32 {
        self.generation
    }
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.key
    }
    /// The raw key, for a client's own symmetric cache of opened grants. Handle with care.
    pub fn expose_for_cache(&self) -> &[u8; 32] {
        &self.key
    }
}

impl std::fmt::Debug for CompartmentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CompartmentKey(generation {}, redacted)",
            self.generation
        )
    }
}

/// The key a member seals its kept grants under:
/// `HKDF-SHA256(root, "northstar/v1/purpose/" ‖ "kept-grants")`. Not `Clone`,
/// not printable, zeroized on drop.
pub struct KeepKey(Zeroizing<[u8; 32]>);

impl KeepKey {
    pub fn from_root(root: &crate::slot::RootKey) -> Self {
        KeepKey(root.derive_purpose_key("kept-grants"))
    }
}

impl std::fmt::Debug for KeepKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeepKey(redacted)")
    }
}

/// What a grant says, once its signature has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantHeader {
    pub target: CompartmentRef,
    pub generation: u32,
    pub recipient: KeyId,
    pub granter: KeyId,
    /// Suite 2: sealed by the recipient to itself under its keep key.
    pub kept: bool,
}

impl GrantHeader {
    fn signed_end(&self) -> usize {
        if self.kept {
            KEPT_CT_END
        } else {
            GRANT_SIGNED_END
        }
    }
}

fn grant_header_bytes(h: &GrantHeader) -> Writer {
    let mut w = Writer::with_capacity(GRANT_LEN);
    w.bytes(GRANT_MAGIC)
        .u8(1)
        .u16(if h.kept {
            GRANT_SUITE_KEPT
        } else {
            GRANT_SUITE
        })
        .bytes(h.target.org.as_bytes())
        .bytes(h.target.object.as_bytes())
        .u8(h.target.compartment.code())
        .u32(h.generation)
        .bytes(h.recipient.as_bytes())
        .bytes(h.granter.as_bytes());
    w
}

/// Seal `key` to `recipient`, signed by `granter`.
pub fn seal_grant(
    target: CompartmentRef,
    key: &CompartmentKey,
    recipient: &MemberPublicKeys,
    granter: &MemberSecretKeys,
    rng: &mut impl Csprng,
) -> Result<Vec<u8>, CryptoError> {
    let header = GrantHeader {
        target,
        generation: key.generation,
        recipient: recipient.key_id(),
        granter: granter.key_id(),
        kept: false,
    };
    let mut w = grant_header_bytes(&header);
    debug_assert_eq!(w.len(), GRANT_INFO_END);
    let info = [GRANT_INFO_LABEL, &w.as_slice()[..GRANT_INFO_END]].concat();
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(&recipient.agreement).map_err(|_| {
        CryptoError::Malformed {
            format: GRANT_FORMAT,
            reason: "recipient agreement key",
        }
    })?;
    let (enc, ct) = hpke::single_shot_seal::<HpkeAead, Kdf, Kem, _>(
        &OpModeS::Base,
        &pk,
        &info,
        key.expose(),
        &[],
        rng,
    )
    .map_err(|_| CryptoError::Malformed {
        format: GRANT_FORMAT,
        reason: "recipient agreement key has small order",
    })?;
    w.bytes(&enc.to_bytes()).bytes(&ct);
    debug_assert_eq!(w.len(), GRANT_SIGNED_END);
    let signature = granter
        .signing()
        .sign(&[GRANT_SIG_LABEL, w.as_slice()].concat());
    w.bytes(&signature);
    Ok(w.finish())
}

/// Grant `key` to `me`, kept under my keep key and signed by me (suite 2).
pub fn seal_kept_grant(
    target: CompartmentRef,
    key: &CompartmentKey,
    me: &MemberSecretKeys,
    keep: &KeepKey,
    rng: &mut impl Csprng,
) -> Vec<u8> {
    let header = GrantHeader {
        target,
        generation: key.generation,
        recipient: me.key_id(),
        granter: me.key_id(),
        kept: true,
    };
    let mut w = grant_header_bytes(&header);
    debug_assert_eq!(w.len(), GRANT_INFO_END);
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    let aad = [KEPT_AAD_LABEL, w.as_slice()].concat();
    let ct = crate::kdf::xchacha(&keep.0)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: key.expose(),
                aad: &aad,
            },
        )
        .expect("in-memory encryption cannot fail");
    w.bytes(&nonce).bytes(&ct);
    debug_assert_eq!(w.len(), KEPT_CT_END);
    let signature = me.signing().sign(&[GRANT_SIG_LABEL, w.as_slice()].concat());
    w.bytes(&signature);
    w.finish()
}

/// Read a grant's header without opening it (to find the granter, or to index it).
pub fn parse_grant_header(bytes: &[u8]) -> Result<GrantHeader, CryptoError> {
    let mut r = Reader::new(bytes, GRANT_FORMAT);
    r.expect_magic(GRANT_MAGIC, 1)?;
    let kept = match r.u16()? {
        GRANT_SUITE => false,
        GRANT_SUITE_KEPT => true,
        _ => {
            return Err(CryptoError::Unsupported {
                format: GRANT_FORMAT,
            });
        }
    };
    let org = OrgId(r.array()?);
    let object = ObjectId(r.array()?);
    let compartment = Compartment::from_code(r.u8()?).map_err(|_| CryptoError::Malformed {
        format: GRANT_FORMAT,
        reason: "unknown compartment",
    })?;
    let generation = r.u32()?;
    let recipient = KeyId(r.array()?);
    let granter = KeyId(r.array()?);
    r.take(if kept { 24 } else { 32 } + 48 + 64)?;
    r.finish()?;
    Ok(GrantHeader {
        target: CompartmentRef {
            org,
            object,
            compartment,
        },
        generation,
        recipient,
        granter,
        kept,
    })
}

/// Check a grant's signature without opening it: what a server (or anyone
/// holding the granter's public keys) can check. Returns its header.
pub fn verify_grant(bytes: &[u8], granter_key: &AuthorKey) -> Result<GrantHeader, CryptoError> {
    let header = parse_grant_header(bytes)?;
    if header.granter != granter_key.key_id() {
        return Err(CryptoError::UnexpectedSigner {
            key_id: header.granter,
        });
    }
    let signed_end = header.signed_end();
    let signature: [u8; 64] = bytes[signed_end..].try_into().expect("length checked");
    granter_key
        .verify(
            &[GRANT_SIG_LABEL, &bytes[..signed_end]].concat(),
            &signature,
        )
        .map_err(|source| CryptoError::Signature {
            format: GRANT_FORMAT,
            source,
        })?;
    if header.kept && header.recipient != header.granter {
        return Err(CryptoError::Malformed {
            format: GRANT_FORMAT,
            reason: "a kept grant is for the member who sealed it",
        });
    }
    Ok(header)
}

/// Open a grant addressed to `me`, for the compartment the caller asked for,
/// after checking the granter's signature with `granter_key` (from the verified
/// membership chain).
pub fn open_grant(
    bytes: &[u8],
    expected: CompartmentRef,
    me: &MemberSecretKeys,
    granter_key: &AuthorKey,
) -> Result<CompartmentKey, CryptoError> {
    open_grant_as(
        bytes,
        expected,
        me.agreement(),
        me.key_id(),
        None,
        granter_key,
    )
}

/// [`open_grant`] for a caller that knows its own key id (saves a scalar
/// multiplication per grant), and opens its own kept grants with `keep`.
pub fn open_grant_as(
    bytes: &[u8],
    expected: CompartmentRef,
    my_agreement: &AgreementSecret,
    my_key_id: KeyId,
    keep: Option<&KeepKey>,
    granter_key: &AuthorKey,
) -> Result<CompartmentKey, CryptoError> {
    if parse_grant_header(bytes)?.kept {
        if granter_key.key_id() != my_key_id {
            return Err(CryptoError::UnexpectedSigner {
                key_id: granter_key.key_id(),
            });
        }
        return match keep {
            Some(keep) => open_kept_grant(bytes, expected, keep, my_key_id),
            None => Err(CryptoError::NotRecipient),
        };
    }
    let header = verify_grant(bytes, granter_key)?;
    check_ref(GRANT_FORMAT, header.target, expected)?;
    if header.recipient != my_key_id {
        return Err(CryptoError::NotRecipient);
    }
    let info = [GRANT_INFO_LABEL, &bytes[..GRANT_INFO_END]].concat();
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&bytes[GRANT_INFO_END..GRANT_ENC_END])
        .map_err(|_| CryptoError::Malformed {
            format: GRANT_FORMAT,
            reason: "encapsulated key",
        })?;
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(my_agreement.to_bytes().as_ref()).map_err(
        |_| CryptoError::Decrypt {
            format: GRANT_FORMAT,
        },
    )?;
    let pt = Zeroizing::new(
        hpke::single_shot_open::<HpkeAead, Kdf, Kem>(
            &OpModeR::Base,
            &sk,
            &enc,
            &info,
            &bytes[GRANT_ENC_END..GRANT_SIGNED_END],
            &[],
        )
        .map_err(|_| CryptoError::Decrypt {
            format: GRANT_FORMAT,
        })?,
    );
    let key: [u8; 32] = pt
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::Malformed {
            format: GRANT_FORMAT,
            reason: "key length",
        })?;
    Ok(CompartmentKey::from_bytes(header.generation, key))
}

/// Open a grant I kept (suite 2) with my keep key: one AEAD, which also
/// authenticates the header, since nobody else holds the keep key. The
/// signature is left to those who cannot open it (the server, other members).
pub fn open_kept_grant(
    bytes: &[u8],
    expected: CompartmentRef,
    keep: &KeepKey,
    my_key_id: KeyId,
) -> Result<CompartmentKey, CryptoError> {
    let header = parse_grant_header(bytes)?;
    if !header.kept {
        return Err(CryptoError::Unsupported {
            format: GRANT_FORMAT,
        });
    }
    if header.granter != my_key_id {
        return Err(CryptoError::UnexpectedSigner {
            key_id: header.granter,
        });
    }
    let aad = [KEPT_AAD_LABEL, &bytes[..GRANT_INFO_END]].concat();
    let pt = Zeroizing::new(
        crate::kdf::xchacha(&keep.0)
            .decrypt(
                XNonce::from_slice(&bytes[GRANT_INFO_END..GRANT_INFO_END + 24]),
                Payload {
                    msg: &bytes[GRANT_INFO_END + 24..KEPT_CT_END],
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt {
                format: GRANT_FORMAT,
            })?,
    );
    check_ref(GRANT_FORMAT, header.target, expected)?;
    if header.recipient != my_key_id {
        return Err(CryptoError::NotRecipient);
    }
    Ok(CompartmentKey::from_bytes(
        header.generation,
        pt.as_slice().try_into().expect("32-byte key"),
    ))
}

fn check_ref(
    format: &'static str,
    found: CompartmentRef,
    expected: CompartmentRef,
) -> Result<(), CryptoError> {
    let field = if found.org != expected.org {
        "organization"
    } else if found.object != expected.object {
        "case"
    } else if found.compartment != expected.compartment {
        "compartment"
    } else {
        return Ok(());
    };
    Err(CryptoError::ContextMismatch { format, field })
}

fn rotation_header(target: CompartmentRef, old_gen: u32, new_gen: u32) -> Writer {
    let mut w = Writer::with_capacity(ROTATION_LEN);
    w.bytes(ROTATION_MAGIC)
        .u8(1)
        .bytes(target.org.as_bytes())
        .bytes(target.object.as_bytes())
        .u8(target.compartment.code())
        .u32(old_gen)
        .u32(new_gen);
    w
}

/// Seal the previous generation under the next one, so that members who get
/// only the new key still read the history.
pub fn seal_rotation(
    target: CompartmentRef,
    old: &CompartmentKey,
    new: &CompartmentKey,
    rng: &mut impl Csprng,
) -> Vec<u8> {
    assert_eq!(
        new.generation,
        old.generation + 1,
        "rotation moves one generation forward"
    );
    let mut w = rotation_header(target, old.generation, new.generation);
    debug_assert_eq!(w.len(), ROTATION_AAD_END);
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    let k = derive_key(new.expose(), b"northstar/v1/rotation", &[]);
    let ct = crate::kdf::xchacha(&k)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: old.expose(),
                aad: w.as_slice(),
            },
        )
        .expect("in-memory encryption cannot fail");
    w.bytes(&nonce).bytes(&ct);
    w.finish()
}

/// Read a rotation link's header (where it belongs and its new generation)
/// without opening it.
pub fn parse_rotation_header(bytes: &[u8]) -> Result<(CompartmentRef, u32), CryptoError> {
    let mut r = Reader::new(bytes, ROTATION_FORMAT);
    r.expect_magic(ROTATION_MAGIC, 1)?;
    let org = OrgId(r.array()?);
    let object = ObjectId(r.array()?);
    let compartment = Compartment::from_code(r.u8()?).map_err(|_| CryptoError::Malformed {
        format: ROTATION_FORMAT,
        reason: "unknown compartment",
    })?;
    let old_gen = r.u32()?;
    let new_gen = r.u32()?;
    r.take(24 + 48)?;
    r.finish()?;
    if old_gen.checked_add(1) != Some(new_gen) {
        return Err(CryptoError::Malformed {
            format: ROTATION_FORMAT,
            reason: "a rotation moves one generation forward",
        });
    }
    Ok((
        CompartmentRef {
            org,
            object,
            compartment,
        },
        new_gen,
    ))
}

/// Open a rotation link with the newer key; returns the older key.
pub fn open_rotation(
    bytes: &[u8],
    expected: CompartmentRef,
    new: &CompartmentKey,
) -> Result<CompartmentKey, CryptoError> {
    let mut r = Reader::new(bytes, ROTATION_FORMAT);
    r.expect_magic(ROTATION_MAGIC, 1)?;
    let org = OrgId(r.array()?);
    let object = ObjectId(r.array()?);
    let compartment = Compartment::from_code(r.u8()?).map_err(|_| CryptoError::Malformed {
        format: ROTATION_FORMAT,
        reason: "unknown compartment",
    })?;
    let old_gen = r.u32()?;
    let new_gen = r.u32()?;
    let nonce: [u8; 24] = r.array()?;
    let ct = r.take(48)?;
    r.finish()?;
    check_ref(
        ROTATION_FORMAT,
        CompartmentRef {
            org,
            object,
            compartment,
        },
        expected,
    )?;
    if new_gen != new.generation || old_gen.checked_add(1) != Some(new_gen) {
        return Err(CryptoError::UnknownGeneration {
            generation: new_gen,
        });
    }
    let k = derive_key(new.expose(), b"northstar/v1/rotation", &[]);
    let pt = Zeroizing::new(
        crate::kdf::xchacha(&k)
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: ct,
                    aad: &bytes[..ROTATION_AAD_END],
                },
            )
            .map_err(|_| CryptoError::Decrypt {
                format: ROTATION_FORMAT,
            })?,
    );
    Ok(CompartmentKey::from_bytes(
        old_gen,
        pt.as_slice().try_into().expect("32-byte key"),
    ))
}

/// Every generation of one compartment's key that a member can reach.
#[derive(Debug)]
pub struct Keyring {
    target: CompartmentRef,
    keys: BTreeMap<u32, CompartmentKey>,
}

impl Keyring {
    pub fn new(target: CompartmentRef) -> Self {
        Keyring {
            target,
            keys: BTreeMap::new(),
        }
    }

    pub fn target(&self) -> CompartmentRef {
        self.target
    }

    pub fn insert(&mut self, key: CompartmentKey) {
        self.keys.insert(key.generation, key);
    }

    /// Walk the rotation links down from the newest key held; links are
    /// looked up by their new generation.
    pub fn unwind(&mut self, rotations: &BTreeMap<u32, Vec<u8>>) -> Result<(), CryptoError> {
        let Some(mut generation) = self.keys.keys().next_back().copied() else {
            return Ok(());
        };
        while generation > 0 {
            if !self.keys.contains_key(&(generation - 1)) {
                let Some(link) = rotations.get(&generation) else {
                    break;
                };
                let old = open_rotation(link, self.target, &self.keys[&generation])?;
                self.keys.insert(old.generation, old);
            }
            generation -= 1;
        }
        Ok(())
    }

    pub fn get(&self, generation: u32) -> Result<&CompartmentKey, CryptoError> {
        self.keys
            .get(&generation)
            .ok_or(CryptoError::UnknownGeneration { generation })
    }

    pub fn newest(&self) -> Option<&CompartmentKey> {
        self.keys.values().next_back()
    }

    pub fn generations(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }
}
