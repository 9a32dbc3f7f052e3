/**
 * Northstar's cryptographic core for the browser: the TypeScript twin of
 * crates/northstar-crypto, byte-for-byte compatible and held to the same
 * frozen vectors (testdata/vectors/). Framework-free: components only call it.
 */
export * from './errors.js';
export {
  ascii,
  bytesEqual,
  concat,
  fromBase64Url,
  fromHex,
  toBase64Url,
  toHex,
  u16be,
  u32be,
  u64be,
  Reader,
  Writer,
} from './bytes.js';
export { deriveKey, labelledHash, randomBytes } from './kdf.js';
export * as sig from './sig.js';
export { SignaturePolicyError } from './sig.js';
export * from './codes.js';
export { digestToWords, fingerprint, FINGERPRINT_WORDS, wordList, wordsMatch } from './words.js';
export * from './slot.js';
export * from './identity.js';
export * from './membership.js';
export * from './grant.js';
export * from './envelope.js';
export * from './chain.js';
export * from './intake.js';
export * from './localseal.js';
export * from './invite.js';
