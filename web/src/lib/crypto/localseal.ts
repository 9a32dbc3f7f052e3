/**
 * Sealed blobs (localseal.rs, docs/crypto.md §18): bytes kept under a
 * symmetric key that never leaves its owner, such as an invitation's secret
 * half under a key derived from the issuing admin's root key.
 *
 * Layout (45 + P bytes): `"NSLS" | 0x01 | nonce 24 | XChaCha20-Poly1305(plaintext) ‖ tag 16`,
 * with the label (what the blob is) as associated data, so a blob sealed for
 * one use never opens as another. Magic and version are not in the AAD.
 */
import { ascii, concat, utf8 } from './bytes.js';
import { decryptFailed, malformed, unsupported } from './errors.js';
import { injectedOrRandom, xchachaOpen, xchachaSeal } from './kdf.js';

const MAGIC = ascii('NSLS');
const VERSION = 1;
const FORMAT = 'sealed blob';
const HEADER_LEN = 4 + 1 + 24;

/** Seal `plaintext` under a 32-byte key for the use `label` names. `nonce` is for vectors only. */
export function sealBlob(key: Uint8Array, label: string, plaintext: Uint8Array, nonce?: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new RangeError('a sealing key is 32 bytes');
  const n = injectedOrRandom(nonce, 24, 'nonce');
  return concat(MAGIC, Uint8Array.of(VERSION), n, xchachaSeal(key, n, plaintext, utf8.encode(label)));
}

/** Open a blob sealed for `label`. Checks in localseal.rs order: length and magic, version, then decryption. */
export function openBlob(key: Uint8Array, label: string, sealed: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new RangeError('a sealing key is 32 bytes');
  if (sealed.length < HEADER_LEN + 16 || MAGIC.some((b, i) => sealed[i] !== b)) throw malformed(FORMAT, 'too short or wrong magic');
  if (sealed[4] !== VERSION) throw unsupported(FORMAT);
  const opened = xchachaOpen(key, sealed.subarray(5, HEADER_LEN), sealed.subarray(HEADER_LEN), utf8.encode(label));
  if (!opened) throw decryptFailed(FORMAT);
  return opened;
}
