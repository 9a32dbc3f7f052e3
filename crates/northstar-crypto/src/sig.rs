//! The project's Ed25519 policy (docs/crypto.md §Signatures).
//!
//! Verifiers disagree on edge cases, so Northstar does not rely on any
//! library's defaults. A public key or an `R` is accepted only if its encoding
//! is canonical, it is not of small order and it has no small-order component;
//! then the signature must pass `verify_strict`. With both points in the
//! prime-order subgroup, cofactored and cofactorless equations agree, so the
//! TypeScript twin (noble with `zip215: false` plus the same point checks)
//! reaches the same verdict on every input.

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use zeroize::Zeroize;

use crate::{Csprng, SignatureError};

pub const PUBLIC_KEY_LEN: usize = 32;
pub const SIGNATURE_LEN: usize = 64;

enum Which {
    Key,
    R,
}

fn check_point(bytes: &[u8; 32], which: Which) -> Result<(), SignatureError> {
    let (invalid, non_canonical, small, mixed) = match which {
        Which::Key => (
            SignatureError::InvalidKey,
            SignatureError::NonCanonicalKey,
            SignatureError::SmallOrderKey,
            SignatureError::MixedOrderKey,
        ),
        Which::R => (
            SignatureError::InvalidR,
            SignatureError::NonCanonicalR,
            SignatureError::SmallOrderR,
            SignatureError::MixedOrderR,
        ),
    };
    let point = CompressedEdwardsY(*bytes).decompress().ok_or(invalid)?;
    if point.compress().as_bytes() != bytes {
        return Err(non_canonical);
    }
    if point.is_small_order() {
        return Err(small);
    }
    if !point.is_torsion_free() {
        return Err(mixed);
    }
    Ok(())
}

/// The registration check: a public key that fails here is never stored.
pub fn check_public_key(public_key: &[u8; 32]) -> Result<(), SignatureError> {
    check_point(public_key, Which::Key)
}

/// A public key that passed the registration check once, decoded once, so that
/// verifying the thousands of entries of a sync costs one equation each.
///
/// With `A` canonical and torsion-free, `[S]B − [k]A` is a torsion-free point.
/// dalek's cofactorless `verify` accepts only if its canonical encoding is the
/// bytes of `R` (and `S < ℓ`), so an accepted `R` is canonical and torsion-free;
/// the only small-order point it can then be is the identity, refused by its
/// encoding. So the `R` checks of [`verify`] are implied without decoding `R`,
/// and the verdict is the same (only the error code of a bad `R` becomes
/// `sig-mismatch`). The CCTV vectors check this equivalence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedKey(VerifyingKey);

/// The encoding of the identity point, the one small-order `R` that could
/// satisfy the equation with a torsion-free key.
const IDENTITY_ENCODING: [u8; 32] = {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    bytes
};

impl VerifiedKey {
    pub fn new(public_key: &[u8; 32]) -> Result<Self, SignatureError> {
        check_point(public_key, Which::Key)?;
        VerifyingKey::from_bytes(public_key)
            .map(VerifiedKey)
            .map_err(|_| SignatureError::InvalidKey)
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError> {
        use ed25519_dalek::Verifier;
        if signature[..32] == IDENTITY_ENCODING {
            return Err(SignatureError::Mismatch);
        }
        self.0
            .verify(message, &Signature::from_bytes(signature))
            .map_err(|_| SignatureError::Mismatch)
    }
}

/// Verify `signature` over `message` under the project's policy, naming the
/// first check that fails: the key, then `R`, then the equation.
pub fn verify(
    public_key: &[u8; 32],
    message: &[u8],
    signature: &[u8; 64],
) -> Result<(), SignatureError> {
    let key = VerifiedKey::new(public_key)?;
    let r: [u8; 32] = signature[..32].try_into().expect("64-byte signature");
    check_point(&r, Which::R)?;
    key.verify(message, signature)
}

/// An Ed25519 signing key. Not `Clone`, not printable, zeroized on drop.
pub struct SigningSecret(SigningKey);

impl SigningSecret {
    pub fn generate(rng: &mut impl Csprng) -> Self {
        SigningSecret(SigningKey::generate(rng))
    }

    pub fn from_seed(mut seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        seed.zeroize();
        SigningSecret(key)
    }

    /// The 32-byte seed, for wrapping under a root key. Handle with care.
    pub(crate) fn seed(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn a_fresh_signature_verifies_and_a_changed_message_does_not() {
        let key = SigningSecret::generate(&mut OsRng);
        let sig = key.sign(b"hello");
        assert_eq!(verify(&key.public_key(), b"hello", &sig), Ok(()));
        assert_eq!(
            verify(&key.public_key(), b"hellp", &sig),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_identity_point_is_refused_as_a_key() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            check_public_key(&identity),
            Err(SignatureError::SmallOrderKey)
        );
    }
}
