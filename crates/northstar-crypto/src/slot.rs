//! The account root key and the slots that unlock it, like LUKS key slots.
//!
//! Layout (110 bytes): `"NSSL" | 0x01 | kind u8 | account_id 16 | slot_id 16 | nonce 24 | ct 48`.
//! The slot key is HKDF-SHA256(unlock secret, label of the kind || account_id || slot_id);
//! the root key is sealed with XChaCha20-Poly1305 under it, the first 38 bytes as
//! associated data.

use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, Payload};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::kdf::derive_key;
use crate::wire::{Reader, Writer};
use crate::{AccountId, CryptoError, Csprng};

const MAGIC: &[u8; 4] = b"NSSL";
const VERSION: u8 = 1;
const FORMAT: &str = "slot";
pub const SLOT_LEN: usize = 4 + 1 + 1 + 16 + 16 + 24 + 32 + 16;

/// The key every other key of an account hangs from. Never leaves the client.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RootKey([u8; 32]);

impl RootKey {
    pub fn generate(rng: &mut impl Csprng) -> Self {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        RootKey(k)
    }

    /// Rebuild a root key from its bytes (a recovery secret, or a test vector).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        RootKey(bytes)
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The raw bytes, for tests that scan storage for leaked keys.
    #[cfg(feature = "leak-scan")]
    pub fn bytes_for_leak_scan(&self) -> [u8; 32] {
        self.0
    }

    /// A key for a purpose of the client's own (such as the local cache), derived
    /// under its own label so it can never equal a key used elsewhere.
    pub fn derive_purpose_key(&self, purpose: &str) -> zeroize::Zeroizing<[u8; 32]> {
        derive_key(&self.0, b"northstar/v1/purpose/", purpose.as_bytes())
    }
}

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootKey(redacted)")
    }
}

/// What unlocks a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// The OPAQUE export key of a password login (64 bytes).
    Password,
    /// A printed recovery secret.
    Recovery,
    /// A device's offline unlock: [`device_unlock_secret`] of the passphrase.
    /// It lives only in that device's profile, next to the local cache.
    Device,
}

impl SlotKind {
    fn code(self) -> u8 {
        match self {
            SlotKind::Password => 1,
            SlotKind::Recovery => 2,
            SlotKind::Device => 3,
        }
    }
    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(SlotKind::Password),
            2 => Some(SlotKind::Recovery),
            3 => Some(SlotKind::Device),
            _ => None,
        }
    }
    fn label(self) -> &'static [u8] {
        match self {
            SlotKind::Password => b"northstar/v1/slot/password",
            SlotKind::Recovery => b"northstar/v1/slot/recovery",
            SlotKind::Device => b"northstar/v1/slot/device",
        }
    }
}

/// Seal `root` into a slot that `unlock_secret` opens.
pub fn seal_slot(
    kind: SlotKind,
    unlock_secret: &[u8],
    account: AccountId,
    slot_id: [u8; 16],
    root: &RootKey,
    rng: &mut impl Csprng,
) -> Vec<u8> {
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    let mut w = Writer::with_capacity(SLOT_LEN);
    w.bytes(MAGIC)
        .u8(VERSION)
        .u8(kind.code())
        .bytes(account.as_bytes())
        .bytes(&slot_id);
    let aad_len = w.len();
    let key = slot_key(kind, unlock_secret, account, slot_id);
    let ct = crate::kdf::xchacha(&key)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: root.expose(),
                aad: &w.as_slice()[..aad_len],
            },
        )
        .expect("in-memory encryption cannot fail");
    w.bytes(&nonce).bytes(&ct);
    w.finish()
}

/// Open a slot of `expected_account`; a slot of another account, another kind
/// of secret or a wrong secret is refused.
pub fn open_slot(
    slot: &[u8],
    kind: SlotKind,
    unlock_secret: &[u8],
    expected_account: AccountId,
) -> Result<RootKey, CryptoError> {
    let mut r = Reader::new(slot, FORMAT);
    r.expect_magic(MAGIC, VERSION)?;
    let found_kind = SlotKind::from_code(r.u8()?).ok_or(CryptoError::Malformed {
        format: FORMAT,
        reason: "unknown slot kind",
    })?;
    let account = AccountId(r.array()?);
    let slot_id: [u8; 16] = r.array()?;
    let aad_len = r.position();
    let nonce: [u8; 24] = r.array()?;
    let ct = r.take(48)?;
    r.finish()?;
    if found_kind != kind {
        return Err(CryptoError::ContextMismatch {
            format: FORMAT,
            field: "slot kind",
        });
    }
    if account != expected_account {
        return Err(CryptoError::ContextMismatch {
            format: FORMAT,
            field: "account",
        });
    }
    let key = slot_key(kind, unlock_secret, account, slot_id);
    let mut pt = crate::kdf::xchacha(&key)
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: ct,
                aad: &slot[..aad_len],
            },
        )
        .map_err(|_| CryptoError::Decrypt { format: FORMAT })?;
    let mut root = [0u8; 32];
    root.copy_from_slice(&pt);
    pt.zeroize();
    Ok(RootKey(root))
}

/// The secret that opens a device slot: Argon2id v1.3 of the passphrase with
/// the slot id as salt, m = 64 MiB, t = 3, p = 4, 32 bytes — the same work
/// factors as OPAQUE's, fixed in client code. A stolen profile still costs an
/// attacker this much per passphrase guess.
pub fn device_unlock_secret(
    passphrase: &[u8],
    slot_id: [u8; 16],
) -> Result<zeroize::Zeroizing<[u8; 32]>, CryptoError> {
    use crate::opaque::{ARGON2_M_KIB, ARGON2_P, ARGON2_T};
    let params = argon2::Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(32))
        .expect("the fixed Argon2id parameters are valid");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, &slot_id, out.as_mut())
        .map_err(|_| CryptoError::Malformed {
            format: FORMAT,
            reason: "the passphrase is too long to stretch",
        })?;
    Ok(out)
}

/// Seal `root` into a device slot that `passphrase` opens.
pub fn seal_device_slot(
    passphrase: &[u8],
    account: AccountId,
    slot_id: [u8; 16],
    root: &RootKey,
    rng: &mut impl Csprng,
) -> Result<Vec<u8>, CryptoError> {
    let secret = device_unlock_secret(passphrase, slot_id)?;
    Ok(seal_slot(
        SlotKind::Device,
        secret.as_slice(),
        account,
        slot_id,
        root,
        rng,
    ))
}

/// Open a device slot with the passphrase: stretched with the slot's own id
/// as salt, then opened like any slot.
pub fn open_device_slot(
    slot: &[u8],
    passphrase: &[u8],
    expected_account: AccountId,
) -> Result<RootKey, CryptoError> {
    let mut r = Reader::new(slot, FORMAT);
    r.expect_magic(MAGIC, VERSION)?;
    r.u8()?;
    let _account: [u8; 16] = r.array()?;
    let slot_id: [u8; 16] = r.array()?;
    let secret = device_unlock_secret(passphrase, slot_id)?;
    open_slot(slot, SlotKind::Device, secret.as_slice(), expected_account)
}

fn slot_key(
    kind: SlotKind,
    unlock_secret: &[u8],
    account: AccountId,
    slot_id: [u8; 16],
) -> zeroize::Zeroizing<[u8; 32]> {
    let mut context = [0u8; 32];
    context[..16].copy_from_slice(account.as_bytes());
    context[16..].copy_from_slice(&slot_id);
    derive_key(unlock_secret, kind.label(), &context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn a_slot_opens_with_its_secret_only() {
        let account = AccountId::random(&mut OsRng);
        let root = RootKey::generate(&mut OsRng);
        let export_key = [9u8; 64];
        let slot = seal_slot(
            SlotKind::Password,
            &export_key,
            account,
            [1; 16],
            &root,
            &mut OsRng,
        );
        assert_eq!(slot.len(), SLOT_LEN);
        let opened = open_slot(&slot, SlotKind::Password, &export_key, account).unwrap();
        assert_eq!(opened.expose(), root.expose());
        let wrong = open_slot(&slot, SlotKind::Password, &[8u8; 64], account);
        assert_eq!(wrong.unwrap_err().code(), "decrypt");
        let other = open_slot(
            &slot,
            SlotKind::Password,
            &export_key,
            AccountId::random(&mut OsRng),
        );
        assert_eq!(other.unwrap_err().code(), "context-mismatch");
        let recovery = open_slot(&slot, SlotKind::Recovery, &export_key, account);
        assert_eq!(recovery.unwrap_err().code(), "context-mismatch");
    }
}
