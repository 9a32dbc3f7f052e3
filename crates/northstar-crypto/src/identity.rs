//! A member's key pair set and the key box that keeps private keys under a root key.
//!
//! Key box layout: `"NSKB" | 0x01 | kind u8 | account_id 16 | context_id 16 | public | nonce 24 | ct`.
//! Kind 1 is a member identity (context = account id; public = signing pk ‖ agreement pk,
//! 64 bytes; secret = Ed25519 seed ‖ X25519 secret, 64 bytes). Kind 2 is an organization
//! root key held by an admin (context = org id; public = root pk, 32 bytes; secret = seed).
//! The box key is HKDF-SHA256(root key, "northstar/v1/keybox", kind ‖ account ‖ context).

use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, Payload};
use zeroize::{Zeroize, Zeroizing};

use crate::kdf::{derive_key, labelled_hash};
use crate::sig::{self, SigningSecret};
use crate::slot::RootKey;
use crate::wire::{Reader, Writer};
use crate::{AccountId, CryptoError, Csprng, KeyId, OrgId, SignatureError, words};

const MAGIC: &[u8; 4] = b"NSKB";
const VERSION: u8 = 1;
const FORMAT: &str = "key box";
const KIND_MEMBER: u8 = 1;
const KIND_ORG_ROOT: u8 = 2;

/// A member's public keys, as registered in the membership chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemberPublicKeys {
    /// Ed25519, for signing records, grants and links.
    pub signing: [u8; 32],
    /// X25519, for receiving grants.
    pub agreement: [u8; 32],
}

impl MemberPublicKeys {
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[..32].copy_from_slice(&self.signing);
        b[32..].copy_from_slice(&self.agreement);
        b
    }

    pub fn key_id(&self) -> KeyId {
        let h = labelled_hash(b"northstar/v1/key-id", &[&self.signing, &self.agreement]);
        KeyId(h[..16].try_into().expect("16 bytes"))
    }

    /// The words two people compare to be sure these are the member's keys.
    pub fn fingerprint(&self) -> Vec<&'static str> {
        words::fingerprint("member", &self.to_bytes())
    }

    /// The registration check (docs/crypto.md §Signatures): the signing key
    /// passes the Ed25519 policy, and the agreement key is not of small order
    /// (a clamped scalar is a multiple of the cofactor, so it sends every
    /// small-order point to zero), which would make every grant to it fail.
    pub fn check(&self) -> Result<(), SignatureError> {
        sig::check_public_key(&self.signing)?;
        let mut probe = [0u8; 32];
        probe[0] = 9;
        if x25519_dalek::x25519(probe, self.agreement) == [0u8; 32] {
            return Err(SignatureError::SmallOrderAgreementKey);
        }
        Ok(())
    }
}

/// A member's public keys after the registration check, with the key id and the
/// decoded signing key cached: what verifiers of entries and grants hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorKey {
    public: MemberPublicKeys,
    key_id: KeyId,
    signing: sig::VerifiedKey,
}

impl AuthorKey {
    pub fn new(public: MemberPublicKeys) -> Result<Self, SignatureError> {
        public.check()?;
        Ok(AuthorKey {
            key_id: public.key_id(),
            signing: sig::VerifiedKey::new(&public.signing)?,
            public,
        })
    }
    pub fn public(&self) -> &MemberPublicKeys {
        &self.public
    }
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError> {
        self.signing.verify(message, signature)
    }
}

/// X25519 private key for opening grants. Not `Clone`, not printable.
pub struct AgreementSecret(x25519_dalek::StaticSecret);

impl AgreementSecret {
    pub fn generate(rng: &mut impl Csprng) -> Self {
        AgreementSecret(x25519_dalek::StaticSecret::random_from_rng(rng))
    }
    pub fn from_bytes(mut bytes: [u8; 32]) -> Self {
        let s = x25519_dalek::StaticSecret::from(bytes);
        bytes.zeroize();
        AgreementSecret(s)
    }
    pub fn public_key(&self) -> [u8; 32] {
        x25519_dalek::PublicKey::from(&self.0).to_bytes()
    }
    pub(crate) fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }
}

impl std::fmt::Debug for AgreementSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgreementSecret(redacted)")
    }
}

/// A member's private keys, with their public keys and key id computed once
/// (an X25519 public key costs a scalar multiplication).
#[derive(Debug)]
pub struct MemberSecretKeys {
    signing: SigningSecret,
    agreement: AgreementSecret,
    public: MemberPublicKeys,
    key_id: KeyId,
}

impl MemberSecretKeys {
    pub fn new(signing: SigningSecret, agreement: AgreementSecret) -> Self {
        let public = MemberPublicKeys {
            signing: signing.public_key(),
            agreement: agreement.public_key(),
        };
        MemberSecretKeys {
            signing,
            agreement,
            key_id: public.key_id(),
            public,
        }
    }

    pub fn generate(rng: &mut impl Csprng) -> Self {
        Self::new(SigningSecret::generate(rng), AgreementSecret::generate(rng))
    }

    pub fn public(&self) -> MemberPublicKeys {
        self.public
    }

    pub fn signing(&self) -> &SigningSecret {
        &self.signing
    }

    pub fn agreement(&self) -> &AgreementSecret {
        &self.agreement
    }

    /// The Ed25519 seed and the X25519 secret, for tests that scan storage for leaked keys.
    #[cfg(feature = "leak-scan")]
    pub fn bytes_for_leak_scan(&self) -> [[u8; 32]; 2] {
        [*self.signing.seed(), *self.agreement.to_bytes()]
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
}

/// The organization's root signing key: signs the first membership links and
/// anchors every member's trust. Its fingerprint is compared in person.
#[derive(Debug)]
pub struct OrgRootKey(pub SigningSecret);

impl OrgRootKey {
    pub fn generate(rng: &mut impl Csprng) -> Self {
        OrgRootKey(SigningSecret::generate(rng))
    }
    pub fn public_key(&self) -> [u8; 32] {
        self.0.public_key()
    }

    /// The seed, for tests that scan storage for leaked keys.
    #[cfg(feature = "leak-scan")]
    pub fn bytes_for_leak_scan(&self) -> [u8; 32] {
        *self.0.seed()
    }
}

/// The words people compare to be sure they pinned the right organization.
pub fn org_fingerprint(root_public_key: &[u8; 32]) -> Vec<&'static str> {
    words::fingerprint("org", root_public_key)
}

fn box_key(
    root: &RootKey,
    kind: u8,
    account: AccountId,
    context: &[u8; 16],
) -> Zeroizing<[u8; 32]> {
    let mut ctx = [0u8; 33];
    ctx[0] = kind;
    ctx[1..17].copy_from_slice(account.as_bytes());
    ctx[17..].copy_from_slice(context);
    derive_key(root.expose(), b"northstar/v1/keybox", &ctx)
}

fn seal_box(
    root: &RootKey,
    kind: u8,
    account: AccountId,
    context: &[u8; 16],
    public: &[u8],
    secret: &[u8],
    rng: &mut impl Csprng,
) -> Vec<u8> {
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    let mut w = Writer::with_capacity(64 + public.len() + secret.len() + 40);
    w.bytes(MAGIC)
        .u8(VERSION)
        .u8(kind)
        .bytes(account.as_bytes())
        .bytes(context)
        .bytes(public);
    let key = box_key(root, kind, account, context);
    let ct = crate::kdf::xchacha(&key)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: w.as_slice(),
            },
        )
        .expect("in-memory encryption cannot fail");
    w.bytes(&nonce).bytes(&ct);
    w.finish()
}

/// Returns (public part, decrypted secret part).
fn open_box<'a>(
    bytes: &'a [u8],
    root: &RootKey,
    kind: u8,
    account: AccountId,
    context: &[u8; 16],
    public_len: usize,
) -> Result<(&'a [u8], Zeroizing<Vec<u8>>), CryptoError> {
    let mut r = Reader::new(bytes, FORMAT);
    r.expect_magic(MAGIC, VERSION)?;
    if r.u8()? != kind {
        return Err(CryptoError::ContextMismatch {
            format: FORMAT,
            field: "kind",
        });
    }
    if AccountId(r.array()?) != account {
        return Err(CryptoError::ContextMismatch {
            format: FORMAT,
            field: "account",
        });
    }
    if &r.array::<16>()? != context {
        return Err(CryptoError::ContextMismatch {
            format: FORMAT,
            field: "context",
        });
    }
    let public = r.take(public_len)?;
    let aad_len = r.position();
    let nonce: [u8; 24] = r.array()?;
    let ct = r.take(public_len + 16)?;
    r.finish()?;
    let key = box_key(root, kind, account, context);
    let pt = crate::kdf::xchacha(&key)
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: ct,
                aad: &bytes[..aad_len],
            },
        )
        .map_err(|_| CryptoError::Decrypt { format: FORMAT })?;
    Ok((public, Zeroizing::new(pt)))
}

/// Keep a member's private keys under their root key.
pub fn wrap_member_keys(
    root: &RootKey,
    account: AccountId,
    keys: &MemberSecretKeys,
    rng: &mut impl Csprng,
) -> Vec<u8> {
    let mut secret = Zeroizing::new([0u8; 64]);
    secret[..32].copy_from_slice(keys.signing.seed());
    secret[32..].copy_from_slice(keys.agreement.to_bytes().as_ref());
    seal_box(
        root,
        KIND_MEMBER,
        account,
        account.as_bytes(),
        &keys.public().to_bytes(),
        secret.as_ref(),
        rng,
    )
}

pub fn unwrap_member_keys(
    bytes: &[u8],
    root: &RootKey,
    account: AccountId,
) -> Result<MemberSecretKeys, CryptoError> {
    let (public, secret) = open_box(bytes, root, KIND_MEMBER, account, account.as_bytes(), 64)?;
    let keys = MemberSecretKeys::new(
        SigningSecret::from_seed(secret[..32].try_into().expect("32 bytes")),
        AgreementSecret::from_bytes(secret[32..].try_into().expect("32 bytes")),
    );
    if keys.public().to_bytes().as_slice() != public {
        return Err(CryptoError::Malformed {
            format: FORMAT,
            reason: "private keys do not match the public keys",
        });
    }
    Ok(keys)
}

/// Keep the organization root key under an admin's root key.
pub fn wrap_org_root(
    root: &RootKey,
    account: AccountId,
    org: OrgId,
    key: &OrgRootKey,
    rng: &mut impl Csprng,
) -> Vec<u8> {
    seal_box(
        root,
        KIND_ORG_ROOT,
        account,
        org.as_bytes(),
        &key.public_key(),
        key.0.seed(),
        rng,
    )
}

pub fn unwrap_org_root(
    bytes: &[u8],
    root: &RootKey,
    account: AccountId,
    org: OrgId,
) -> Result<OrgRootKey, CryptoError> {
    let (public, secret) = open_box(bytes, root, KIND_ORG_ROOT, account, org.as_bytes(), 32)?;
    let key = OrgRootKey(SigningSecret::from_seed(
        secret[..].try_into().expect("32 bytes"),
    ));
    if key.public_key().as_slice() != public {
        return Err(CryptoError::Malformed {
            format: FORMAT,
            reason: "private key does not match the public key",
        });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn member_keys_round_trip_under_the_root_key_only() {
        let root = RootKey::generate(&mut OsRng);
        let account = AccountId::random(&mut OsRng);
        let keys = MemberSecretKeys::generate(&mut OsRng);
        let boxed = wrap_member_keys(&root, account, &keys, &mut OsRng);
        let back = unwrap_member_keys(&boxed, &root, account).unwrap();
        assert_eq!(back.public(), keys.public());
        let other_root = RootKey::generate(&mut OsRng);
        assert_eq!(
            unwrap_member_keys(&boxed, &other_root, account)
                .unwrap_err()
                .code(),
            "decrypt"
        );
        let org = OrgId::random(&mut OsRng);
        assert_eq!(
            unwrap_org_root(&boxed, &root, account, org)
                .unwrap_err()
                .code(),
            "context-mismatch"
        );
    }

    #[test]
    fn org_root_round_trips() {
        let root = RootKey::generate(&mut OsRng);
        let account = AccountId::random(&mut OsRng);
        let org = OrgId::random(&mut OsRng);
        let key = OrgRootKey::generate(&mut OsRng);
        let boxed = wrap_org_root(&root, account, org, &key, &mut OsRng);
        let back = unwrap_org_root(&boxed, &root, account, org).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        assert_eq!(org_fingerprint(&key.public_key()).len(), 8);
    }
}
