//! Random 16-byte identifiers. They name things to the server and carry no meaning.

use crate::Csprng;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; 16]);

        impl $name {
            pub fn random(rng: &mut impl Csprng) -> Self {
                let mut b = [0u8; 16];
                rng.fill_bytes(&mut b);
                $name(b)
            }
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
            /// Lower-case hex, the form used in URLs, the CLI and JSON.
            pub fn to_hex(&self) -> String {
                crate::ids::to_hex(&self.0)
            }
            pub fn from_hex(s: &str) -> Option<Self> {
                crate::ids::from_hex(s).map($name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
    };
}

id_type!(
    /// An organization.
    OrgId
);
id_type!(
    /// A member account; also the OPAQUE identifier, so it never changes and says nothing.
    AccountId
);
id_type!(
    /// A case or a safe house: anything that has compartments.
    ObjectId
);
id_type!(
    /// A logical record inside a compartment (a field, a note, an event).
    RecordId
);
id_type!(
    /// The first 16 bytes of a labelled hash of a member's public keys.
    KeyId
);

pub fn to_hex(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for byte in b {
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 0xf) as usize] as char);
    }
    s
}

pub fn from_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_bad_input() {
        let id = OrgId([0xab; 16]);
        assert_eq!(OrgId::from_hex(&id.to_hex()), Some(id));
        assert_eq!(OrgId::from_hex("zz"), None);
        assert_eq!(OrgId::from_hex(&"g".repeat(32)), None);
        assert_eq!(format!("{id:?}"), format!("OrgId({})", "ab".repeat(16)));
    }
}
