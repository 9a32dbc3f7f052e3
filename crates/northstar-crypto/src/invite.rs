//! Invitations: a code in two halves. The server sees only the id half, to
//! find the invitation and to enforce single use and expiry. The secret half
//! never reaches the server: the joiner proves knowing it with an HMAC over
//! their identity, and the admin who adds them to the membership chain checks
//! that proof — so a server cannot slip its own keys into the organization.
//!
//! Code: `<invite id, 32 hex>-<secret, 32 hex>`. Proof:
//! HMAC-SHA256(HKDF(secret, "northstar/v1/invite/proof"), org ‖ invite id ‖
//! account ‖ signing pk ‖ agreement pk ‖ name). The role is not in the proof: the
//! joiner does not choose it; the admin takes it from the invitation they sealed.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::identity::MemberPublicKeys;
use crate::kdf::derive_key;
use crate::{AccountId, CryptoError, Csprng, OrgId};

/// The part of the code that the server sees.
pub type InviteId = [u8; 16];

/// The secret half of an invitation code. Not `Clone`, not printable.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct InviteSecret([u8; 16]);

impl std::fmt::Debug for InviteSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteSecret(redacted)")
    }
}

impl InviteSecret {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        InviteSecret(bytes)
    }
    /// The bytes, for sealing to the issuing admin. Handle with care.
    pub fn expose(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Make a new invitation: its id and its secret.
pub fn new_invite(rng: &mut impl Csprng) -> (InviteId, InviteSecret) {
    let mut id = [0u8; 16];
    let mut secret = [0u8; 16];
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    (id, InviteSecret(secret))
}

/// The code people pass on: `<id hex>-<secret hex>`.
pub fn format_code(id: &InviteId, secret: &InviteSecret) -> String {
    format!(
        "{}-{}",
        crate::ids::to_hex(id),
        crate::ids::to_hex(&secret.0)
    )
}

/// Split a code typed by a person. The error never repeats the code.
pub fn parse_code(code: &str) -> Result<(InviteId, InviteSecret), CryptoError> {
    let malformed = CryptoError::Malformed {
        format: "invitation code",
        reason: "expected <32 hex digits>-<32 hex digits>",
    };
    let (id, secret) = code.trim().split_once('-').ok_or(malformed)?;
    let id = crate::ids::from_hex::<16>(id).ok_or(CryptoError::Malformed {
        format: "invitation code",
        reason: "expected <32 hex digits>-<32 hex digits>",
    })?;
    let secret = crate::ids::from_hex::<16>(secret).ok_or(CryptoError::Malformed {
        format: "invitation code",
        reason: "expected <32 hex digits>-<32 hex digits>",
    })?;
    Ok((id, InviteSecret(secret)))
}

/// What the joiner proves to the admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinClaim<'a> {
    pub org: OrgId,
    pub invite: InviteId,
    pub account: AccountId,
    pub keys: MemberPublicKeys,
    pub name: &'a str,
}

fn mac(secret: &InviteSecret, claim: &JoinClaim<'_>) -> Hmac<Sha256> {
    let key = derive_key(&secret.0, b"northstar/v1/invite/proof", &[]);
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()).expect("any key length");
    m.update(claim.org.as_bytes());
    m.update(&claim.invite);
    m.update(claim.account.as_bytes());
    m.update(&claim.keys.signing);
    m.update(&claim.keys.agreement);
    m.update(claim.name.as_bytes());
    m
}

pub fn prove(secret: &InviteSecret, claim: &JoinClaim<'_>) -> [u8; 32] {
    mac(secret, claim).finalize().into_bytes().into()
}

/// Constant-time check of a joiner's proof.
pub fn check_proof(secret: &InviteSecret, claim: &JoinClaim<'_>, proof: &[u8]) -> bool {
    mac(secret, claim).verify_slice(proof).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::MemberSecretKeys;
    use rand::rngs::OsRng;

    #[test]
    fn codes_round_trip_and_proofs_bind_every_field() {
        let (id, secret) = new_invite(&mut OsRng);
        let code = format_code(&id, &secret);
        let (id2, secret2) = parse_code(&code).unwrap();
        assert_eq!(id, id2);
        assert_eq!(secret.expose(), secret2.expose());
        assert!(parse_code("nonsense").is_err());
        assert!(!format!("{:?}", parse_code("zz-zz")).contains("zz"));

        let keys = MemberSecretKeys::generate(&mut OsRng).public();
        let claim = JoinClaim {
            org: OrgId::random(&mut OsRng),
            invite: id,
            account: AccountId::random(&mut OsRng),
            keys,
            name: "bob",
        };
        let proof = prove(&secret, &claim);
        assert!(check_proof(&secret2, &claim, &proof));
        let other_name = JoinClaim {
            name: "mallory",
            ..claim.clone()
        };
        assert!(!check_proof(&secret, &other_name, &proof));
        let other_keys = JoinClaim {
            keys: MemberSecretKeys::generate(&mut OsRng).public(),
            ..claim.clone()
        };
        assert!(!check_proof(&secret, &other_keys, &proof));
        let (_, wrong_secret) = new_invite(&mut OsRng);
        assert!(!check_proof(&wrong_secret, &claim, &proof));
    }
}
