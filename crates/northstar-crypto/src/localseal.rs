//! Sealing a blob under a symmetric key that never leaves its owner: the
//! server's own secrets under its seal key, a client's cache under a key
//! derived from the account root key.
//!
//! Layout: `"NSLS" | 0x01 | nonce 24 | XChaCha20-Poly1305 ciphertext`, with
//! `label` (what the blob is, e.g. "northstar/v1/server/opaque-setup") as
//! associated data, so a blob sealed for one purpose never opens as another.

use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, Payload};
use zeroize::Zeroizing;

use crate::{CryptoError, Csprng};

const MAGIC: &[u8; 4] = b"NSLS";
const FORMAT: &str = "sealed blob";

/// A key for one purpose, derived from a key of the owner's:
/// HKDF-SHA256(key, "northstar/v1/purpose/" ‖ purpose).
pub fn subkey(key: &[u8; 32], purpose: &str) -> Zeroizing<[u8; 32]> {
    crate::kdf::derive_key(key, b"northstar/v1/purpose/", purpose.as_bytes())
}

pub fn seal(key: &[u8; 32], label: &str, plaintext: &[u8], rng: &mut impl Csprng) -> Vec<u8> {
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut nonce);
    let ct = crate::kdf::xchacha(key)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: label.as_bytes(),
            },
        )
        .expect("in-memory encryption cannot fail");
    [MAGIC.as_slice(), &[1], &nonce, &ct].concat()
}

pub fn open(key: &[u8; 32], label: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < 4 + 1 + 24 + 16 || &sealed[..4] != MAGIC {
        return Err(CryptoError::Malformed {
            format: FORMAT,
            reason: "too short or wrong magic",
        });
    }
    if sealed[4] != 1 {
        return Err(CryptoError::Unsupported { format: FORMAT });
    }
    crate::kdf::xchacha(key)
        .decrypt(
            XNonce::from_slice(&sealed[5..29]),
            Payload {
                msg: &sealed[29..],
                aad: label.as_bytes(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt { format: FORMAT })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn a_sealed_blob_opens_only_with_its_key_and_label() {
        let key = [1u8; 32];
        let sealed = seal(&key, "a", b"secret", &mut OsRng);
        assert_eq!(open(&key, "a", &sealed).unwrap().as_slice(), b"secret");
        assert_eq!(open(&key, "b", &sealed).unwrap_err().code(), "decrypt");
        assert_eq!(
            open(&[2u8; 32], "a", &sealed).unwrap_err().code(),
            "decrypt"
        );
        assert_eq!(
            open(&key, "a", &sealed[..10]).unwrap_err().code(),
            "malformed"
        );
    }
}
