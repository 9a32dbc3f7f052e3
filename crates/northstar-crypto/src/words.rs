//! Fingerprints and codenames as words from the EFF large word list (7,776 words),
//! as shipped by the `diceware_wordlists` crate. The TypeScript twin carries the
//! same list, generated from this one and checked by the vector tests.

use crate::kdf::labelled_hash;

pub const FINGERPRINT_WORDS: usize = 8;

/// The EFF large word list, in its published order.
pub fn word_list() -> &'static [&'static str] {
    diceware_wordlists::Wordlist::EffLong.get_list()
}

/// Render the first 16 bytes of `digest` as `count` words, most significant first.
///
/// The bytes are read as one big-endian integer and written in base 7,776, so
/// every word carries log2(7776) ≈ 12.9 bits and 8 words carry ≈ 103 bits.
pub fn digest_to_words(digest: &[u8; 32], count: usize) -> Vec<&'static str> {
    assert!(count <= 9, "16 bytes hold at most 9 full base-7776 digits");
    let list = word_list();
    let base = list.len() as u128;
    let mut n = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"));
    let mut digits = Vec::with_capacity(count);
    for _ in 0..count {
        digits.push(list[(n % base) as usize]);
        n /= base;
    }
    digits.reverse();
    digits
}

/// The words people compare, in person or on video, to check a public key.
/// `kind` separates the uses ("member", "org").
pub fn fingerprint(kind: &str, public_bytes: &[u8]) -> Vec<&'static str> {
    let digest = labelled_hash(
        b"northstar/v1/fingerprint/",
        &[kind.as_bytes(), &[0u8], public_bytes],
    );
    digest_to_words(&digest, FINGERPRINT_WORDS)
}

/// Compare what a person typed with the expected words: case and spacing do not
/// matter, every word does.
pub fn words_match(expected: &[&str], typed: &str) -> bool {
    let typed: Vec<String> = typed
        .split(|c: char| c.is_whitespace() || c == '-' || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    typed.len() == expected.len() && typed.iter().zip(expected).all(|(a, b)| a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_eff_large_list() {
        let list = word_list();
        assert_eq!(list.len(), 7776);
        assert_eq!(list[0], "abacus");
        assert_eq!(list[7775], "zoom");
    }

    #[test]
    fn fingerprints_differ_by_kind_and_key() {
        let a = fingerprint("member", &[1; 64]);
        assert_eq!(a.len(), FINGERPRINT_WORDS);
        assert_ne!(a, fingerprint("org", &[1; 64]));
        assert_ne!(a, fingerprint("member", &[2; 64]));
    }

    #[test]
    fn typed_words_match_loosely_on_spacing_but_strictly_on_words() {
        let fp = fingerprint("member", &[7; 64]);
        let typed = fp.join("  ").to_uppercase();
        assert!(words_match(&fp, &typed));
        assert!(words_match(&fp, &fp.join("-")));
        assert!(!words_match(&fp, &fp[..7].join(" ")));
        let mut wrong = fp.clone();
        wrong[3] = "zoom";
        if wrong != fp {
            assert!(!words_match(&fp, &wrong.join(" ")));
        }
    }
}
