/**
 * Key derivation and labelled hashing, as kdf.rs. Every derived key goes
 * through `deriveKey` with its own label, so no two uses of one secret collide.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { concat, utf8 } from './bytes.js';

/** A label is ASCII text in the specification; we carry it as bytes. */
export type Label = string | Uint8Array;

function labelBytes(label: Label): Uint8Array {
  return typeof label === 'string' ? utf8.encode(label) : label;
}

/** HKDF-SHA256 with no salt, `info = label ‖ context`, 32 bytes out (kdf.rs derive_key). */
export function deriveKey(ikm: Uint8Array, label: Label, context: Uint8Array = new Uint8Array(0)): Uint8Array {
  // No salt: RFC 5869 then uses HashLen zero bytes, as Rust's `Hkdf::new(None, ..)`.
  return hkdf(sha256, ikm, undefined, concat(labelBytes(label), context), 32);
}

/** SHA-256 over `label ‖ parts…` (kdf.rs labelled_hash). */
export function labelledHash(label: Label, ...parts: Uint8Array[]): Uint8Array {
  const h = sha256.create();
  h.update(labelBytes(label));
  for (const p of parts) h.update(p);
  return h.digest();
}

/** XChaCha20-Poly1305 seal: ciphertext ‖ 16-byte tag. */
export function xchachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

/** XChaCha20-Poly1305 open; `undefined` when the tag does not verify (callers name the format). */
export function xchachaOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}

/** The platform CSPRNG (Web Crypto `getRandomValues`). */
export function randomBytes(n: number): Uint8Array {
  return nobleRandomBytes(n);
}

/**
 * Take injected bytes for tests and vectors, or draw fresh ones. An injected
 * value of the wrong length is a programming error.
 */
export function injectedOrRandom(value: Uint8Array | undefined, n: number, what: string): Uint8Array {
  if (value === undefined) return randomBytes(n);
  if (value.length !== n) throw new RangeError(`${what} must be ${n} bytes`);
  return value;
}
