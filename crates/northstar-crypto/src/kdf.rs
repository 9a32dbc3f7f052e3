use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// HKDF-SHA256 with no salt, `info = label || context`, 32 bytes out.
///
/// Every derived key in Northstar goes through here with its own label from
/// docs/crypto.md, so no two uses of one secret can collide.
pub(crate) fn derive_key(ikm: &[u8], label: &[u8], context: &[u8]) -> Zeroizing<[u8; 32]> {
    let hk = Hkdf::<Sha256>::new(None, ikm);
    let mut out = Zeroizing::new([0u8; 32]);
    hk.expand_multi_info(&[label, context], out.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

/// SHA-256 over `label || parts...`.
pub(crate) fn labelled_hash(label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// XChaCha20-Poly1305 keyed with a 32-byte key.
pub(crate) fn xchacha(key: &[u8; 32]) -> chacha20poly1305::XChaCha20Poly1305 {
    use chacha20poly1305::KeyInit;
    chacha20poly1305::XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key))
}
