/**
 * Fingerprints as words from the EFF large word list, as words.rs. People
 * compare them in person or on video to check a public key.
 */
import { utf8 } from './bytes.js';
import { labelledHash } from './kdf.js';
import { EFF_LARGE_WORDLIST } from './wordlist.js';

export const FINGERPRINT_WORDS = 8;

export function wordList(): readonly string[] {
  return EFF_LARGE_WORDLIST;
}

/**
 * Render the first 16 bytes of `digest` as `count` words, most significant
 * first: the bytes read as one big-endian integer written in base 7,776.
 */
export function digestToWords(digest: Uint8Array, count: number): string[] {
  if (!Number.isInteger(count) || count < 0 || count > 9) {
    throw new RangeError('16 bytes hold at most 9 full base-7776 digits');
  }
  if (digest.length < 16) throw new RangeError('digest must have at least 16 bytes');
  const list = wordList();
  const base = BigInt(list.length);
  let n = 0n;
  for (const b of digest.subarray(0, 16)) n = (n << 8n) | BigInt(b);
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    words.push(list[Number(n % base)]!);
    n /= base;
  }
  return words.reverse();
}

/** `kind` separates the uses ("member", "org"). */
export function fingerprint(kind: string, publicBytes: Uint8Array): string[] {
  const digest = labelledHash('northstar/v1/fingerprint/', utf8.encode(kind), Uint8Array.of(0), publicBytes);
  return digestToWords(digest, FINGERPRINT_WORDS);
}

/**
 * Compare what a person typed with the expected words: case and spacing do
 * not matter, every word does. Separators are Unicode White_Space (Rust's
 * `char::is_whitespace`), '-' and ','.
 */
export function wordsMatch(expected: readonly string[], typed: string): boolean {
  const words = typed
    .split(/[\p{White_Space},-]/u)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
  return words.length === expected.length && words.every((w, i) => w === expected[i]);
}
