/**
 * The record envelope, version 1 (envelope.rs): one sealed, signed entry of a
 * case's chain, plus the detached wrap of its data key.
 *
 * Entry = header (180 bytes) ‖ ciphertext ‖ signature (64 bytes). Header:
 * `"NSRE" | 0x01 | suite u16 | org 16 | case 16 | compartment u8 | record id 16 |
 *  record version u32 | seq u64 | key generation u32 | prev hash 32 | author key id 16 |
 *  nonce 24 | commitment 32 | ciphertext length u32`.
 *
 * Each record has its own random data key `dk`. The ciphertext is
 * XChaCha20-Poly1305 under HKDF(dk, "northstar/v1/record/encrypt") with the
 * whole header as associated data; `commitment = HKDF(dk,
 * "northstar/v1/record/commit")` makes the envelope key-committing (ChaCha20-
 * Poly1305 alone is not). The author signs
 * `"northstar/v1/record/sig" ‖ header ‖ ciphertext`.
 *
 * The data key travels in a separate wrap (134 bytes), sealed under the
 * compartment key: `"NSKW" | 0x01 | org 16 | case 16 | compartment u8 | record id 16 |
 * record version u32 | generation u32 | nonce 24 | ct 48` under HKDF(compartment
 * key, "northstar/v1/record/wrap"), bytes 0..62 as associated data. Keeping it
 * apart lets one record be shredded (delete its wrap) or shared without
 * touching the chain, whose hashes cover only the entry.
 */
import { ascii, bytesEqual, concat, Reader, Writer } from './bytes.js';
import { contextMismatch, decryptFailed, malformed, NorthstarCryptoError, signatureRefused, unsupported } from './errors.js';
import { isCompartment, type Compartment } from './codes.js';
import { sameCompartmentRef, type CompartmentKey, type CompartmentRef, type Keyring } from './grant.js';
import { AuthorKey, keyId, publicKeysOf, type MemberPublicKeys, type SigningKeys } from './identity.js';
import { deriveKey, injectedOrRandom, labelledHash, xchachaOpen, xchachaSeal } from './kdf.js';
import * as sig from './sig.js';

const MAGIC = 'NSRE';
const FORMAT = 'record';
const SUITE = 1;
export const HEADER_LEN = 180;
export const SIGNATURE_LEN = 64;
const SIG_LABEL = 'northstar/v1/record/sig';
const ENTRY_HASH_LABEL = 'northstar/v1/chain/entry';
/** The largest plaintext one record may hold (16 MiB): documents go in several records. */
export const MAX_PLAINTEXT = 16 * 1024 * 1024;

const WRAP_MAGIC = 'NSKW';
const WRAP_FORMAT = 'record key wrap';
export const WRAP_LEN = 134;
const WRAP_AAD_END = 62;

/** Where a record lives. */
export interface RecordAddress {
  org: Uint8Array;
  case: Uint8Array;
  compartment: Compartment;
  record: Uint8Array;
}

export function compartmentRefOf(a: RecordAddress): CompartmentRef {
  return { org: a.org, object: a.case, compartment: a.compartment };
}

/** The place in the case's chain that a new entry extends. */
export interface ChainPosition {
  seq: bigint;
  prevHash: Uint8Array;
}

/** Everything the header says. */
export interface EntryHeader {
  address: RecordAddress;
  recordVersion: number;
  seq: bigint;
  generation: number;
  prevHash: Uint8Array;
  author: Uint8Array;
  nonce: Uint8Array;
  commitment: Uint8Array;
  ciphertextLen: number;
}

function encodeHeader(h: EntryHeader): Uint8Array {
  const out = new Writer()
    .bytes(ascii(MAGIC))
    .u8(1)
    .u16(SUITE)
    .bytes(h.address.org)
    .bytes(h.address.case)
    .u8(h.address.compartment)
    .bytes(h.address.record)
    .u32(h.recordVersion)
    .u64(h.seq)
    .u32(h.generation)
    .bytes(h.prevHash)
    .bytes(h.author)
    .bytes(h.nonce)
    .bytes(h.commitment)
    .u32(h.ciphertextLen)
    .finish();
  if (out.length !== HEADER_LEN) throw new RangeError('record header fields have the wrong lengths');
  return out;
}

function commitment(dataKey: Uint8Array): Uint8Array {
  return deriveKey(dataKey, 'northstar/v1/record/commit');
}

function recordKey(dataKey: Uint8Array): Uint8Array {
  return deriveKey(dataKey, 'northstar/v1/record/encrypt');
}

function wrapKey(key: CompartmentKey): Uint8Array {
  return deriveKey(key.key, 'northstar/v1/record/wrap');
}

/** A sealed record: the chain entry and the wrap of its data key. */
export interface SealedRecord {
  entry: Uint8Array;
  wrap: Uint8Array;
}

export interface SealRecordParams {
  address: RecordAddress;
  recordVersion: number;
  position: ChainPosition;
  key: CompartmentKey;
  author: SigningKeys;
  plaintext: Uint8Array;
  /**
   * For vectors only: the randomness Rust draws, in its order: the data key
   * (32 bytes), the entry nonce (24), the wrap nonce (24).
   */
  dataKey?: Uint8Array;
  nonce?: Uint8Array;
  wrapNonce?: Uint8Array;
}

/** Seal `plaintext` as the next entry of the case's chain. */
export function sealRecord(p: SealRecordParams): SealedRecord {
  if (p.plaintext.length > MAX_PLAINTEXT) throw malformed(FORMAT, 'plaintext larger than 16 MiB');
  const dataKey = injectedOrRandom(p.dataKey, 32, 'data key');
  const nonce = injectedOrRandom(p.nonce, 24, 'nonce');
  const wrapNonce = injectedOrRandom(p.wrapNonce, 24, 'wrap nonce');
  const header: EntryHeader = {
    address: p.address,
    recordVersion: p.recordVersion,
    seq: p.position.seq,
    generation: p.key.generation,
    prevHash: p.position.prevHash,
    author: keyId(publicKeysOf(p.author)),
    nonce,
    commitment: commitment(dataKey),
    ciphertextLen: p.plaintext.length + 16,
  };
  const headerBytes = encodeHeader(header);
  const ct = xchachaSeal(recordKey(dataKey), nonce, p.plaintext, headerBytes);
  const signed = concat(headerBytes, ct);
  const entry = concat(signed, sig.sign(p.author.signingSeed, concat(ascii(SIG_LABEL), signed)));
  const wrapHeader = wrapHeaderBytes(p.address, p.recordVersion, p.key.generation);
  const wrap = concat(wrapHeader, wrapNonce, xchachaSeal(wrapKey(p.key), wrapNonce, dataKey, wrapHeader));
  return { entry, wrap };
}

function wrapHeaderBytes(a: RecordAddress, recordVersion: number, generation: number): Uint8Array {
  return new Writer()
    .bytes(ascii(WRAP_MAGIC))
    .u8(1)
    .bytes(a.org)
    .bytes(a.case)
    .u8(a.compartment)
    .bytes(a.record)
    .u32(recordVersion)
    .u32(generation)
    .finish();
}

function readCompartment(r: Reader): Compartment {
  const code = r.u8();
  if (!isCompartment(code)) throw malformed(r.format, 'unknown compartment');
  return code;
}

/** Parse an entry's structure (no signature check, no decryption). */
export function parseEntry(entry: Uint8Array): EntryHeader {
  const r = new Reader(entry, FORMAT);
  r.expectMagic(MAGIC, 1);
  if (r.u16() !== SUITE) throw unsupported(FORMAT);
  const org = r.array(16);
  const kase = r.array(16);
  const compartment = readCompartment(r);
  const record = r.array(16);
  const header: EntryHeader = {
    address: { org, case: kase, compartment, record },
    recordVersion: r.u32(),
    seq: r.u64(),
    generation: r.u32(),
    prevHash: r.array(32),
    author: r.array(16),
    nonce: r.array(24),
    commitment: r.array(32),
    ciphertextLen: r.u32(),
  };
  if (header.ciphertextLen < 16 || header.ciphertextLen > MAX_PLAINTEXT + 16) {
    throw malformed(FORMAT, 'ciphertext length out of range');
  }
  r.take(header.ciphertextLen);
  r.take(SIGNATURE_LEN);
  r.finish();
  return header;
}

/** The hash that the next entry of the chain names as its `prevHash`. */
export function entryHash(entry: Uint8Array): Uint8Array {
  return labelledHash(ENTRY_HASH_LABEL, entry);
}

/**
 * Check an entry's signature with its author's keys (from the membership
 * chain). Every member can do this for every entry of a case, readable or not.
 * Raw public keys are checked first, as Rust callers must make an AuthorKey
 * (a failure there is 'weak-public-key').
 */
export function verifyEntry(entry: Uint8Array, author: AuthorKey | MemberPublicKeys): EntryHeader {
  const key = AuthorKey.from(author);
  const header = parseEntry(entry);
  if (!bytesEqual(header.author, key.keyId)) {
    throw new NorthstarCryptoError('unexpected-signer', 'record is signed by a key that is not the expected author');
  }
  const split = entry.length - SIGNATURE_LEN;
  const code = key.verifyCode(concat(ascii(SIG_LABEL), entry.subarray(0, split)), entry.subarray(split));
  if (code) throw signatureRefused(FORMAT, code);
  return header;
}

function checkAddress(format: string, found: RecordAddress, expected: RecordAddress): void {
  if (!bytesEqual(found.org, expected.org)) throw contextMismatch(format, 'organization');
  if (!bytesEqual(found.case, expected.case)) throw contextMismatch(format, 'case');
  if (found.compartment !== expected.compartment) throw contextMismatch(format, 'compartment');
  if (!bytesEqual(found.record, expected.record)) throw contextMismatch(format, 'record id');
}

export interface OpenedRecord {
  header: EntryHeader;
  plaintext: Uint8Array;
}

/**
 * Open a record that the server says lives at `expected`: check the signature,
 * the address, the keyring, the key generation, the wrap, the key commitment,
 * then decrypt — the order of envelope.rs open_record.
 */
export function openRecord(
  entry: Uint8Array,
  wrap: Uint8Array,
  expected: RecordAddress,
  keyring: Keyring,
  author: AuthorKey | MemberPublicKeys,
): OpenedRecord {
  const header = verifyEntry(entry, author);
  checkAddress(FORMAT, header.address, expected);
  if (!sameCompartmentRef(keyring.target, compartmentRefOf(expected))) throw contextMismatch(FORMAT, 'keyring');
  const key = keyring.get(header.generation);
  const dataKey = openWrap(wrap, header, key);
  if (!bytesEqual(commitment(dataKey), header.commitment)) {
    throw new NorthstarCryptoError('key-commitment', 'record key commitment does not match its data key');
  }
  const plaintext = xchachaOpen(
    recordKey(dataKey),
    header.nonce,
    entry.subarray(HEADER_LEN, entry.length - SIGNATURE_LEN),
    entry.subarray(0, HEADER_LEN),
  );
  if (!plaintext) throw decryptFailed(FORMAT);
  return { header, plaintext };
}

function openWrap(wrap: Uint8Array, header: EntryHeader, key: CompartmentKey): Uint8Array {
  const r = new Reader(wrap, WRAP_FORMAT);
  r.expectMagic(WRAP_MAGIC, 1);
  const org = r.array(16);
  const kase = r.array(16);
  const compartment = readCompartment(r);
  const record = r.array(16);
  const recordVersion = r.u32();
  const generation = r.u32();
  const nonce = r.array(24);
  const ct = r.take(48);
  r.finish();
  checkAddress(WRAP_FORMAT, { org, case: kase, compartment, record }, header.address);
  if (recordVersion !== header.recordVersion) throw contextMismatch(WRAP_FORMAT, 'record version');
  if (generation !== header.generation) throw contextMismatch(WRAP_FORMAT, 'key generation');
  const dk = xchachaOpen(wrapKey(key), nonce, ct, wrap.subarray(0, WRAP_AAD_END));
  if (!dk) throw decryptFailed(WRAP_FORMAT);
  return dk;
}
