//! Northstar's cryptographic core: every format the server stores but cannot read.
//!
//! The byte layouts, labels and invariants are specified in `docs/crypto.md`;
//! the TypeScript twin in `web/src/lib/crypto/` implements the same formats and
//! both are held to the frozen vectors in `testdata/vectors/`.
//!
//! No I/O lives here. Randomness is always passed in (`&mut impl CryptoRngCore`),
//! so the vector generator can replay every format deterministically.
#![forbid(unsafe_code)]

mod error;
mod kdf;
mod wire;

pub mod chain;
pub mod envelope;
pub mod export;
pub mod grant;
pub mod identity;
pub mod ids;
pub mod intake;
pub mod invite;
pub mod localseal;
pub mod membership;
pub mod opaque;
pub mod sig;
pub mod slot;
pub mod words;

pub use error::{ChainError, CryptoError, MembershipError, SignatureError};
pub use ids::{AccountId, KeyId, ObjectId, OrgId, RecordId};

/// A cryptographically secure random number generator, as every sealing
/// function takes one.
pub use rand::CryptoRng;
pub use rand::RngCore;

/// Both bounds in one, for signatures.
pub trait Csprng: rand::RngCore + rand::CryptoRng {}
impl<T: rand::RngCore + rand::CryptoRng> Csprng for T {}
