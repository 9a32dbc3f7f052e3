//! The OPAQUE (RFC 9807) cipher suite shared by the server and every client.
//!
//! It matches `@serenity-kit/opaque` exactly, so an account registered from the
//! command line signs in from the browser with a bit-identical export key:
//! OPRF over Ristretto255, TripleDH over Ristretto255 with SHA-512, and
//! Argon2id v1.3 as the key-stretching function with a 16-byte zero salt,
//! 64-byte output, t = 3, m = 64 MiB, p = 4. The work factors are fixed here, in
//! client code: a server can never talk a client into weaker ones.

use opaque_ke::errors::InternalError;
use opaque_ke::generic_array::{ArrayLength, GenericArray};

/// Argon2id with the parameters above.
#[derive(Debug, Clone, Copy, Default)]
pub struct NorthstarKsf;

pub const ARGON2_M_KIB: u32 = 64 * 1024;
pub const ARGON2_T: u32 = 3;
pub const ARGON2_P: u32 = 4;

impl opaque_ke::ksf::Ksf for NorthstarKsf {
    fn hash<L: ArrayLength<u8>>(
        &self,
        input: GenericArray<u8, L>,
    ) -> Result<GenericArray<u8, L>, InternalError> {
        let params = argon2::Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
            .map_err(|_| InternalError::KsfError)?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut output = GenericArray::default();
        argon
            .hash_password_into(&input, &[0; argon2::RECOMMENDED_SALT_LEN], &mut output)
            .map_err(|_| InternalError::KsfError)?;
        Ok(output)
    }
}

/// Northstar's OPAQUE configuration.
#[derive(Debug, Clone, Copy)]
pub struct Suite;

impl opaque_ke::CipherSuite for Suite {
    type OprfCs = opaque_ke::Ristretto255;
    type KeyExchange = opaque_ke::TripleDh<opaque_ke::Ristretto255, sha2::Sha512>;
    type Ksf = NorthstarKsf;
}

pub use opaque_ke;
