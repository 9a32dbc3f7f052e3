//! The public intake: the organization's intake key, requests sealed to it,
//! codenames and the keys they derive, replies only a codename opens, the
//! proof-of-work on the browser path, and the intake keys an invitation carries.
//!
//! The intake key of generation `g` is an X25519 key pair derived (RFC 9180
//! `DeriveKeyPair`) from HKDF(compartment key, "northstar/v1/intake/keypair", org):
//! the compartment keys of the organization's *intake desk* are handed to the intake
//! team with ordinary grants (docs/crypto.md §24), so sharing and rotation need no new format.
//!
//! Sealed to the intake team (`"NSIN" | 0x01 | kind u8 | generation u32 | enc 32 | ct`):
//! HPKE base mode, suite 1 as grants, `info = "northstar/v1/intake/seal" ‖ org ‖
//! conversation ‖ bytes 0..10` (so a message moved to another conversation does not open).
//! A staff note (`kind 2`) carries the author's key id and Ed25519 signature after the
//! ciphertext, over `"northstar/v1/intake/staff-sig" ‖ org ‖ conversation ‖ everything before it`.
//!
//! A reply to the requester (`"NSIR" | 0x01 | enc 32 | ct`) is sealed to the reply key
//! the requester's codename derives, `info = "northstar/v1/intake/reply" ‖ org ‖ conversation`.
//!
//! Codename keys: Argon2id v1.3 (m = 19,456 KiB, t = 2, p = 1, 64 bytes) of the codename's
//! words joined by single spaces, salted with the first 16 bytes of
//! SHA-256("northstar/v1/intake/codename-salt" ‖ org). Bytes 0..32 are the *access
//! secret* (the server keeps only SHA-256("northstar/v1/intake/access" ‖ access)),
//! bytes 32..64 seed the reply key pair.

use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use zeroize::Zeroizing;

use crate::grant::CompartmentKey;
use crate::identity::{AuthorKey, MemberSecretKeys};
use crate::invite::InviteSecret;
use crate::kdf::{derive_key, labelled_hash};
use crate::wire::{Reader, Writer};
use crate::{CryptoError, Csprng, KeyId, OrgId};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

const SEAL_MAGIC: &[u8; 4] = b"NSIN";
const SEAL_FORMAT: &str = "intake message";
const SEAL_HEADER_LEN: usize = 10;
const REPLY_MAGIC: &[u8; 4] = b"NSIR";
const REPLY_FORMAT: &str = "intake reply";
const INVITE_FORMAT: &str = "invitation's intake keys";

/// The words of a codename (7 or 8 are accepted; 8 are issued, ≈ 103 bits).
pub const CODENAME_WORDS: usize = 8;
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;
/// The expected work of the browser path's proof, in leading zero bits of SHA-256
/// (2^17 hashes on average: about a second on a phone).
pub const DEFAULT_POW_BITS: u8 = 17;
const POW_CHALLENGE_LEN: usize = 8 + 16 + 16;

/// Who wrote a message sealed to the intake team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedBy {
    /// The requester (the first request, and every message after it).
    Requester,
    /// A member of the intake team (a copy of a reply, a note, a dismissal).
    Staff,
}

impl SealedBy {
    fn code(self) -> u8 {
        match self {
            SealedBy::Requester => 1,
            SealedBy::Staff => 2,
        }
    }
}

/// The intake key pair of one generation. Not `Clone`, not printable.
pub struct IntakeKeyPair {
    generation: u32,
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: [u8; 32],
}

impl std::fmt::Debug for IntakeKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IntakeKeyPair(generation {}, redacted)", self.generation)
    }
}

impl IntakeKeyPair {
    /// The intake key pair that the intake desk's compartment key of one generation derives.
    pub fn derive(org: &OrgId, desk_key: &CompartmentKey) -> Self {
        let ikm = derive_key(
            desk_key.expose(),
            b"northstar/v1/intake/keypair",
            org.as_bytes(),
        );
        let (secret, public) = <Kem as hpke::Kem>::derive_keypair(ikm.as_ref());
        IntakeKeyPair {
            generation: desk_key.generation(),
            secret,
            public: public.to_bytes().into(),
        }
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }
}

fn seal_info(org: &OrgId, conversation: &[u8; 16], header: &[u8]) -> Vec<u8> {
    [
        b"northstar/v1/intake/seal".as_slice(),
        org.as_bytes(),
        conversation,
        header,
    ]
    .concat()
}

fn hpke_public(
    bytes: &[u8; 32],
    format: &'static str,
) -> Result<<Kem as hpke::Kem>::PublicKey, CryptoError> {
    <Kem as hpke::Kem>::PublicKey::from_bytes(bytes).map_err(|_| CryptoError::Malformed {
        format,
        reason: "public key",
    })
}

fn staff_sig_message(org: &OrgId, conversation: &[u8; 16], signed: &[u8]) -> Vec<u8> {
    [
        b"northstar/v1/intake/staff-sig".as_slice(),
        org.as_bytes(),
        conversation,
        signed,
    ]
    .concat()
}

/// Seal a requester's message to the intake key `public` of `generation`.
pub fn seal_request(
    org: &OrgId,
    generation: u32,
    public: &[u8; 32],
    conversation: &[u8; 16],
    plaintext: &[u8],
    rng: &mut impl Csprng,
) -> Result<Vec<u8>, CryptoError> {
    seal_to_intake(
        org,
        generation,
        public,
        conversation,
        SealedBy::Requester,
        plaintext,
        rng,
    )
}

/// Seal a staff note to the intake key and sign it with the author's key.
pub fn seal_staff_note(
    org: &OrgId,
    generation: u32,
    public: &[u8; 32],
    conversation: &[u8; 16],
    plaintext: &[u8],
    author: &MemberSecretKeys,
    rng: &mut impl Csprng,
) -> Result<Vec<u8>, CryptoError> {
    let mut sealed = seal_to_intake(
        org,
        generation,
        public,
        conversation,
        SealedBy::Staff,
        plaintext,
        rng,
    )?;
    sealed.extend_from_slice(author.key_id().as_bytes());
    let signature = author
        .signing()
        .sign(&staff_sig_message(org, conversation, &sealed));
    sealed.extend_from_slice(&signature);
    Ok(sealed)
}

fn seal_to_intake(
    org: &OrgId,
    generation: u32,
    public: &[u8; 32],
    conversation: &[u8; 16],
    by: SealedBy,
    plaintext: &[u8],
    rng: &mut impl Csprng,
) -> Result<Vec<u8>, CryptoError> {
    let mut w = Writer::with_capacity(SEAL_HEADER_LEN + 32 + plaintext.len() + 16);
    w.bytes(SEAL_MAGIC).u8(1).u8(by.code()).u32(generation);
    let info = seal_info(org, conversation, w.as_slice());
    let pk = hpke_public(public, SEAL_FORMAT)?;
    let (enc, ct) = hpke::single_shot_seal::<HpkeAead, Kdf, Kem, _>(
        &OpModeS::Base,
        &pk,
        &info,
        plaintext,
        &[],
        rng,
    )
    .map_err(|_| CryptoError::Malformed {
        format: SEAL_FORMAT,
        reason: "intake key has small order",
    })?;
    w.bytes(&enc.to_bytes()).bytes(&ct);
    Ok(w.finish())
}

/// What a sealed intake message says about itself before it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedHeader {
    pub by: SealedBy,
    pub generation: u32,
}

/// Read a sealed intake message's header (the server checks it on receipt).
pub fn parse_sealed_header(bytes: &[u8]) -> Result<SealedHeader, CryptoError> {
    let mut r = Reader::new(bytes, SEAL_FORMAT);
    r.expect_magic(SEAL_MAGIC, 1)?;
    let by = match r.u8()? {
        1 => SealedBy::Requester,
        2 => SealedBy::Staff,
        _ => {
            return Err(CryptoError::Malformed {
                format: SEAL_FORMAT,
                reason: "unknown author kind",
            });
        }
    };
    let generation = r.u32()?;
    let min = 32 + 16 + if by == SealedBy::Staff { 16 + 64 } else { 0 };
    if bytes.len() < SEAL_HEADER_LEN + min {
        return Err(CryptoError::Malformed {
            format: SEAL_FORMAT,
            reason: "too short",
        });
    }
    Ok(SealedHeader { by, generation })
}

/// An opened intake message: who wrote it, and for a staff note, whose key signed it.
pub struct OpenedIntake {
    pub by: SealedBy,
    pub author: Option<KeyId>,
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for OpenedIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenedIntake({:?}, redacted)", self.by)
    }
}

/// The key id that signed a staff note (to look its public key up), without opening it.
pub fn staff_note_author(bytes: &[u8]) -> Result<KeyId, CryptoError> {
    let header = parse_sealed_header(bytes)?;
    if header.by != SealedBy::Staff {
        return Err(CryptoError::Malformed {
            format: SEAL_FORMAT,
            reason: "not a staff note",
        });
    }
    let at = bytes.len() - 64 - 16;
    Ok(KeyId(bytes[at..at + 16].try_into().expect("16 bytes")))
}

/// Open a message sealed to the intake team. A staff note must come with the
/// author key its signature names (from the verified membership chain).
pub fn open_sealed(
    org: &OrgId,
    conversation: &[u8; 16],
    keys: &IntakeKeyPair,
    bytes: &[u8],
    staff_author: Option<&AuthorKey>,
) -> Result<OpenedIntake, CryptoError> {
    let header = parse_sealed_header(bytes)?;
    if header.generation != keys.generation {
        return Err(CryptoError::UnknownGeneration {
            generation: header.generation,
        });
    }
    let (sealed, author) = match header.by {
        SealedBy::Requester => (bytes, None),
        SealedBy::Staff => {
            let at = bytes.len() - 64;
            let key_id = staff_note_author(bytes)?;
            let author = staff_author.ok_or(CryptoError::UnexpectedSigner { key_id })?;
            if author.key_id() != key_id {
                return Err(CryptoError::UnexpectedSigner { key_id });
            }
            let signature: [u8; 64] = bytes[at..].try_into().expect("64 bytes");
            author
                .verify(
                    &staff_sig_message(org, conversation, &bytes[..at]),
                    &signature,
                )
                .map_err(|source| CryptoError::Signature {
                    format: SEAL_FORMAT,
                    source,
                })?;
            (&bytes[..at - 16], Some(key_id))
        }
    };
    let info = seal_info(org, conversation, &sealed[..SEAL_HEADER_LEN]);
    let enc =
        <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed[SEAL_HEADER_LEN..SEAL_HEADER_LEN + 32])
            .map_err(|_| CryptoError::Malformed {
                format: SEAL_FORMAT,
                reason: "encapsulated key",
            })?;
    let plaintext = hpke::single_shot_open::<HpkeAead, Kdf, Kem>(
        &OpModeR::Base,
        &keys.secret,
        &enc,
        &info,
        &sealed[SEAL_HEADER_LEN + 32..],
        &[],
    )
    .map_err(|_| CryptoError::Decrypt {
        format: SEAL_FORMAT,
    })?;
    Ok(OpenedIntake {
        by: header.by,
        author,
        plaintext: Zeroizing::new(plaintext),
    })
}

/// A requester's codename. Not `Clone`, not printable; shown once, then forgotten.
pub struct Codename(Zeroizing<String>);

impl std::fmt::Debug for Codename {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Codename(redacted)")
    }
}

impl Codename {
    /// Eight words drawn uniformly from the EFF large list.
    pub fn generate(rng: &mut impl Csprng) -> Self {
        let list = crate::words::word_list();
        let words: Vec<&str> = (0..CODENAME_WORDS)
            .map(|_| list[uniform_below(rng, list.len() as u32) as usize])
            .collect();
        Codename(Zeroizing::new(words.join(" ")))
    }

    /// Read a codename as a person types it back: any case, any spacing or
    /// hyphens between the words. Every word must be on the list.
    pub fn parse(typed: &str) -> Result<Self, CryptoError> {
        let list = crate::words::word_list();
        let lowered = Zeroizing::new(typed.to_lowercase());
        let words: Vec<&str> = lowered
            .split(|c: char| c.is_whitespace() || c == '-' || c == ',' || c == '.')
            .filter(|w| !w.is_empty())
            .collect();
        if !(CODENAME_WORDS - 1..=CODENAME_WORDS).contains(&words.len())
            || words.iter().any(|w| !list.contains(w))
        {
            return Err(CryptoError::Malformed {
                format: "codename",
                reason: "not 7 or 8 words from the list",
            });
        }
        Ok(Codename(Zeroizing::new(words.join(" "))))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn uniform_below(rng: &mut impl Csprng, n: u32) -> u32 {
    // Rejection sampling: no modulo bias.
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let x = rng.next_u32();
        if x < zone {
            return x % n;
        }
    }
}

/// The salt every codename of one organization is hashed with.
pub fn codename_salt(org: &OrgId) -> [u8; 16] {
    labelled_hash(b"northstar/v1/intake/codename-salt", &[org.as_bytes()])[..16]
        .try_into()
        .expect("16 bytes")
}

/// What a codename derives: the access secret and the reply key pair. Not `Clone`.
pub struct CodenameKeys {
    access: Zeroizing<[u8; 32]>,
    reply_secret: <Kem as hpke::Kem>::PrivateKey,
    reply_public: [u8; 32],
}

impl std::fmt::Debug for CodenameKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodenameKeys(redacted)")
    }
}

/// The slow, salted derivation of a codename's keys (tens of milliseconds).
pub fn codename_keys(codename: &Codename, org: &OrgId) -> CodenameKeys {
    let params = argon2::Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(64))
        .expect("the fixed Argon2id parameters are valid");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 64]);
    argon
        .hash_password_into(
            codename.expose().as_bytes(),
            &codename_salt(org),
            out.as_mut(),
        )
        .expect("64 bytes is a valid Argon2 output length");
    let mut access = Zeroizing::new([0u8; 32]);
    access.copy_from_slice(&out[..32]);
    let (reply_secret, reply_public) = <Kem as hpke::Kem>::derive_keypair(&out[32..]);
    CodenameKeys {
        access,
        reply_secret,
        reply_public: reply_public.to_bytes().into(),
    }
}

impl CodenameKeys {
    /// The secret that proves the codename to the server (sent, never stored).
    pub fn access(&self) -> &[u8; 32] {
        &self.access
    }

    pub fn reply_public(&self) -> [u8; 32] {
        self.reply_public
    }

    /// Open a reply sealed to this codename in `conversation`.
    pub fn open_reply(
        &self,
        org: &OrgId,
        conversation: &[u8; 16],
        bytes: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut r = Reader::new(bytes, REPLY_FORMAT);
        r.expect_magic(REPLY_MAGIC, 1)?;
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(r.take(32)?).map_err(|_| {
            CryptoError::Malformed {
                format: REPLY_FORMAT,
                reason: "encapsulated key",
            }
        })?;
        let ct = r.take(bytes.len().saturating_sub(5 + 32))?;
        hpke::single_shot_open::<HpkeAead, Kdf, Kem>(
            &OpModeR::Base,
            &self.reply_secret,
            &enc,
            &reply_info(org, conversation),
            ct,
            &[],
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt {
            format: REPLY_FORMAT,
        })
    }
}

/// What the server keeps of an access secret.
pub fn access_hash(access: &[u8; 32]) -> [u8; 32] {
    labelled_hash(b"northstar/v1/intake/access", &[access])
}

fn reply_info(org: &OrgId, conversation: &[u8; 16]) -> Vec<u8> {
    [
        b"northstar/v1/intake/reply".as_slice(),
        org.as_bytes(),
        conversation,
    ]
    .concat()
}

/// Seal a reply to the requester's reply key (from the conversation).
pub fn seal_reply(
    org: &OrgId,
    conversation: &[u8; 16],
    reply_public: &[u8; 32],
    plaintext: &[u8],
    rng: &mut impl Csprng,
) -> Result<Vec<u8>, CryptoError> {
    let pk = hpke_public(reply_public, REPLY_FORMAT)?;
    let (enc, ct) = hpke::single_shot_seal::<HpkeAead, Kdf, Kem, _>(
        &OpModeS::Base,
        &pk,
        &reply_info(org, conversation),
        plaintext,
        &[],
        rng,
    )
    .map_err(|_| CryptoError::Malformed {
        format: REPLY_FORMAT,
        reason: "reply key has small order",
    })?;
    let mut w = Writer::with_capacity(5 + 32 + ct.len());
    w.bytes(REPLY_MAGIC).u8(1).bytes(&enc.to_bytes()).bytes(&ct);
    Ok(w.finish())
}

/// A proof-of-work challenge the server issues and later recognizes without
/// storing it: `expires u64 | random 16 | HMAC-SHA256(key, both)[..16]`.
pub fn pow_challenge(
    server_key: &[u8; 32],
    expires: u64,
    rng: &mut impl Csprng,
) -> [u8; POW_CHALLENGE_LEN] {
    let mut out = [0u8; POW_CHALLENGE_LEN];
    out[..8].copy_from_slice(&expires.to_be_bytes());
    rng.fill_bytes(&mut out[8..24]);
    let tag = pow_tag(server_key, &out[..24]);
    out[24..].copy_from_slice(&tag);
    out
}

fn pow_mac(server_key: &[u8; 32], body: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(server_key)
        .expect("HMAC takes any key length");
    mac.update(b"northstar/v1/intake/pow-challenge");
    mac.update(body);
    mac
}

fn pow_tag(server_key: &[u8; 32], body: &[u8]) -> [u8; 16] {
    use hmac::Mac;
    pow_mac(server_key, body).finalize().into_bytes()[..16]
        .try_into()
        .expect("16 bytes")
}

/// Why a proof of work was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    #[error("the challenge was not issued by this server")]
    Forged,
    #[error("the challenge has expired; ask for a new one")]
    Expired,
    #[error("the proof does not meet the challenge's difficulty")]
    TooEasy,
}

/// Check a challenge this server issued (`server_key`), still valid at `now`,
/// solved by `nonce` to `bits` leading zero bits. Single use is the caller's job.
pub fn pow_check(
    server_key: &[u8; 32],
    challenge: &[u8],
    nonce: u64,
    bits: u8,
    now: u64,
) -> Result<(), PowError> {
    if challenge.len() != POW_CHALLENGE_LEN {
        return Err(PowError::Forged);
    }
    // Constant-time comparison of the tag.
    hmac::Mac::verify_truncated_left(pow_mac(server_key, &challenge[..24]), &challenge[24..])
        .map_err(|_| PowError::Forged)?;
    let expires = u64::from_be_bytes(challenge[..8].try_into().expect("8 bytes"));
    if now > expires {
        return Err(PowError::Expired);
    }
    if leading_zero_bits(&pow_hash(challenge, nonce)) < u32::from(bits) {
        return Err(PowError::TooEasy);
    }
    Ok(())
}

/// SHA-256("northstar/v1/intake/pow" ‖ challenge ‖ nonce u64 BE).
pub fn pow_hash(challenge: &[u8], nonce: u64) -> [u8; 32] {
    labelled_hash(
        b"northstar/v1/intake/pow",
        &[challenge, &nonce.to_be_bytes()],
    )
}

pub fn leading_zero_bits(hash: &[u8; 32]) -> u32 {
    let mut n = 0;
    for b in hash {
        if *b == 0 {
            n += 8;
        } else {
            return n + b.leading_zeros();
        }
    }
    n
}

/// Find the smallest nonce that solves `challenge` (what the page does, for tests and benchmarks).
pub fn pow_solve(challenge: &[u8], bits: u8) -> u64 {
    (0u64..)
        .find(|n| leading_zero_bits(&pow_hash(challenge, *n)) >= u32::from(bits))
        .expect("a solution exists")
}

fn invite_key(secret: &InviteSecret, invite_id: &[u8; 16]) -> Zeroizing<[u8; 32]> {
    derive_key(secret.expose(), b"northstar/v1/intake/invite", invite_id)
}

const INVITE_LABEL: &str = "northstar/v1/intake/invite";

/// Seal the intake desk's keys (every generation given) for whoever holds the
/// invitation's secret, so a new intake officer can work the queue from the
/// moment they join. Layout inside the sealed blob: `(generation u32 | key 32)*`.
pub fn seal_for_invite(
    secret: &InviteSecret,
    invite_id: &[u8; 16],
    keys: &[&CompartmentKey],
    rng: &mut impl Csprng,
) -> Vec<u8> {
    let mut plain = Zeroizing::new(Vec::with_capacity(keys.len() * 36));
    for key in keys {
        plain.extend_from_slice(&key.generation().to_be_bytes());
        plain.extend_from_slice(key.expose());
    }
    crate::localseal::seal(&invite_key(secret, invite_id), INVITE_LABEL, &plain, rng)
}

/// Open what [`seal_for_invite`] sealed.
pub fn open_for_invite(
    secret: &InviteSecret,
    invite_id: &[u8; 16],
    sealed: &[u8],
) -> Result<Vec<CompartmentKey>, CryptoError> {
    let plain = crate::localseal::open(&invite_key(secret, invite_id), INVITE_LABEL, sealed)?;
    if plain.len() % 36 != 0 {
        return Err(CryptoError::Malformed {
            format: INVITE_FORMAT,
            reason: "length",
        });
    }
    Ok(plain
        .chunks_exact(36)
        .map(|c| {
            CompartmentKey::from_bytes(
                u32::from_be_bytes(c[..4].try_into().expect("4 bytes")),
                c[4..].try_into().expect("32 bytes"),
            )
        })
        .collect())
}

const REFERRAL_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A referral code a partner hands out: `REF-XXXX-XXXX-XXXX` (60 random bits,
/// Crockford's base-32 alphabet, so it reads aloud without I/L/O/U confusions).
pub fn new_referral_code(rng: &mut impl Csprng) -> String {
    let mut code = String::from("REF");
    for _ in 0..3 {
        code.push('-');
        for _ in 0..4 {
            code.push(REFERRAL_ALPHABET[(rng.next_u32() & 31) as usize] as char);
        }
    }
    code
}

/// What the server keeps of a referral code: SHA-256("northstar/v1/intake/referral" ‖
/// the code upper-cased with spaces and dashes removed, and without its `REF` prefix).
pub fn referral_hash(code: &str) -> [u8; 32] {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    let normal = normal.strip_prefix("REF").unwrap_or(&normal);
    labelled_hash(b"northstar/v1/intake/referral", &[normal.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(7)
    }

    #[test]
    fn a_request_opens_only_in_its_conversation_and_generation() {
        let mut rng = rng();
        let org = OrgId([1; 16]);
        let desk = CompartmentKey::generate(3, &mut rng);
        let keys = IntakeKeyPair::derive(&org, &desk);
        let sealed =
            seal_request(&org, 3, &keys.public_key(), &[9; 16], b"help", &mut rng).unwrap();
        let opened = open_sealed(&org, &[9; 16], &keys, &sealed, None).unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"help");
        assert_eq!(opened.by, SealedBy::Requester);
        assert_eq!(
            open_sealed(&org, &[8; 16], &keys, &sealed, None)
                .unwrap_err()
                .code(),
            "decrypt"
        );
        let other = IntakeKeyPair::derive(&org, &CompartmentKey::generate(4, &mut rng));
        assert_eq!(
            open_sealed(&org, &[9; 16], &other, &sealed, None)
                .unwrap_err()
                .code(),
            "unknown-generation"
        );
    }

    #[test]
    fn a_staff_note_needs_its_authors_signature() {
        let mut rng = rng();
        let org = OrgId([1; 16]);
        let keys = IntakeKeyPair::derive(&org, &CompartmentKey::generate(1, &mut rng));
        let author = MemberSecretKeys::generate(&mut rng);
        let stranger = MemberSecretKeys::generate(&mut rng);
        let sealed = seal_staff_note(
            &org,
            1,
            &keys.public_key(),
            &[2; 16],
            b"ok",
            &author,
            &mut rng,
        )
        .unwrap();
        let author_key = AuthorKey::new(author.public()).unwrap();
        let opened = open_sealed(&org, &[2; 16], &keys, &sealed, Some(&author_key)).unwrap();
        assert_eq!(opened.author, Some(author.key_id()));
        let stranger_key = AuthorKey::new(stranger.public()).unwrap();
        assert_eq!(
            open_sealed(&org, &[2; 16], &keys, &sealed, Some(&stranger_key))
                .unwrap_err()
                .code(),
            "unexpected-signer"
        );
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert_eq!(
            open_sealed(&org, &[2; 16], &keys, &flipped, Some(&author_key))
                .unwrap_err()
                .code(),
            "signature"
        );
    }

    #[test]
    fn a_codename_reads_back_however_it_is_typed_and_opens_its_replies() {
        let mut rng = rng();
        let org = OrgId([5; 16]);
        let codename = Codename::generate(&mut rng);
        assert_eq!(codename.expose().split(' ').count(), CODENAME_WORDS);
        let typed = codename.expose().to_uppercase().replace(' ', " - ");
        let again = Codename::parse(&typed).unwrap();
        assert_eq!(again.expose(), codename.expose());
        let keys = codename_keys(&codename, &org);
        let reply = seal_reply(
            &org,
            &[4; 16],
            &keys.reply_public(),
            b"we read you",
            &mut rng,
        )
        .unwrap();
        assert_eq!(
            keys.open_reply(&org, &[4; 16], &reply).unwrap().as_slice(),
            b"we read you"
        );
        assert!(keys.open_reply(&org, &[3; 16], &reply).is_err());
        let wrong = codename_keys(&Codename::generate(&mut rng), &org);
        assert!(wrong.open_reply(&org, &[4; 16], &reply).is_err());
        assert_ne!(wrong.access(), keys.access());
        assert!(Codename::parse("not real words at all here friend").is_err());
        assert!(Codename::parse("").is_err());
    }

    #[test]
    fn a_proof_of_work_is_checked_for_issuer_expiry_and_difficulty() {
        let mut rng = rng();
        let key = [7u8; 32];
        let challenge = pow_challenge(&key, 1000, &mut rng);
        let nonce = pow_solve(&challenge, 8);
        assert_eq!(pow_check(&key, &challenge, nonce, 8, 999), Ok(()));
        assert_eq!(
            pow_check(&key, &challenge, nonce, 8, 1001),
            Err(PowError::Expired)
        );
        assert_eq!(
            pow_check(&[8; 32], &challenge, nonce, 8, 999),
            Err(PowError::Forged)
        );
        let harder = (0u64..)
            .find(|n| leading_zero_bits(&pow_hash(&challenge, *n)) < 8)
            .unwrap();
        assert_eq!(
            pow_check(&key, &challenge, harder, 8, 999),
            Err(PowError::TooEasy)
        );
        let mut forged = challenge;
        forged[0] ^= 1;
        assert_eq!(
            pow_check(&key, &forged, nonce, 8, 999),
            Err(PowError::Forged)
        );
    }

    #[test]
    fn a_referral_code_hashes_the_same_however_it_is_typed() {
        let code = new_referral_code(&mut rng());
        assert_eq!(code.len(), 18);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(referral_hash(&typed), referral_hash(&code));
        assert_ne!(referral_hash("REF-0000-0000-0000"), referral_hash(&code));
    }

    #[test]
    fn an_invitation_carries_the_desk_keys_to_its_secret_only() {
        let mut rng = rng();
        let secret = InviteSecret::from_bytes([3; 16]);
        let k1 = CompartmentKey::generate(1, &mut rng);
        let k2 = CompartmentKey::generate(2, &mut rng);
        let sealed = seal_for_invite(&secret, &[1; 16], &[&k1, &k2], &mut rng);
        let opened = open_for_invite(&secret, &[1; 16], &sealed).unwrap();
        assert_eq!(opened.len(), 2);
        assert_eq!(opened[1].generation(), 2);
        assert_eq!(opened[1].expose(), k2.expose());
        assert!(open_for_invite(&InviteSecret::from_bytes([4; 16]), &[1; 16], &sealed).is_err());
        assert!(open_for_invite(&secret, &[2; 16], &sealed).is_err());
    }
}
