/**
 * Suite 1 of the Rust core's HPKE uses (grants, intake): base mode,
 * DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, as the `hpke`
 * crate's `X25519HkdfSha256` / `HkdfSha256` / `ChaCha20Poly1305`.
 *
 * The KDF of @hpke/core runs on Web Crypto (HMAC-SHA256), so callers need
 * `crypto.subtle`: Node, or a browser page in a secure context.
 */
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';

/** The suite is built per call: it holds no secrets and is cheap to make. */
export function hpkeSuite(): CipherSuite {
  return new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Chacha20Poly1305(),
  });
}
