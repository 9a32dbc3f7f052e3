/**
 * The public intake (intake.rs): the organization's intake key, requests
 * sealed to it, codenames and the keys they derive, replies only a codename
 * opens, and the proof of work of the browser path.
 *
 * The intake key of generation `g` is an X25519 key pair derived (RFC 9180
 * `DeriveKeyPair`) from HKDF(desk compartment key, "northstar/v1/intake/keypair", org).
 *
 * Sealed to the intake team (`"NSIN" | 0x01 | kind u8 | generation u32 | enc 32 | ct`):
 * HPKE base mode, suite 1 as grants, `info = "northstar/v1/intake/seal" ‖ org ‖
 * conversation ‖ bytes 0..10`, empty AAD. Kind 1 is the requester, kind 2 a
 * staff note, which carries the author's key id and Ed25519 signature after
 * the ciphertext, over `"northstar/v1/intake/staff-sig" ‖ org ‖ conversation ‖
 * everything before the signature`.
 *
 * A reply (`"NSIR" | 0x01 | enc 32 | ct`) is sealed to the reply key the
 * codename derives, `info = "northstar/v1/intake/reply" ‖ org ‖ conversation`.
 *
 * Codename keys: Argon2id v1.3 (m = 19,456 KiB, t = 2, p = 1, 64 bytes) of the
 * codename's words joined by single spaces, salted with the first 16 bytes of
 * SHA-256("northstar/v1/intake/codename-salt" ‖ org). Bytes 0..32 are the
 * access secret (the server keeps only SHA-256("northstar/v1/intake/access" ‖
 * access)); bytes 32..64 seed the reply key pair (RFC 9180 `DeriveKeyPair`).
 */
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ascii, bytesEqual, concat, Reader, toHex, u64be, utf8, Writer } from './bytes.js';
import { decryptFailed, malformed, NorthstarCryptoError, signatureRefused, unknownGeneration } from './errors.js';
import type { CompartmentKey } from './grant.js';
import { hpkeSuite } from './hpke.js';
import { AuthorKey, keyId, publicKeysOf, type MemberPublicKeys, type SigningKeys } from './identity.js';
import { deriveKey, labelledHash } from './kdf.js';
import * as sig from './sig.js';
import { EFF_LARGE_WORDLIST } from './wordlist.js';

const SEAL_MAGIC = 'NSIN';
const SEAL_FORMAT = 'intake message';
const SEAL_HEADER_LEN = 10;
const SEAL_INFO_LABEL = 'northstar/v1/intake/seal';
const STAFF_SIG_LABEL = 'northstar/v1/intake/staff-sig';
const REPLY_MAGIC = 'NSIR';
const REPLY_FORMAT = 'intake reply';
const REPLY_INFO_LABEL = 'northstar/v1/intake/reply';
const ENC_LEN = 32;
const TAG_LEN = 16;
const KEY_ID_LEN = 16;
const SIGNATURE_LEN = 64;

/** The words of a codename (7 or 8 are accepted; 8 are issued, ≈ 103 bits). */
export const CODENAME_WORDS = 8;
/** The codename hash's cost, fixed in code as in intake.rs (never sent by the server). */
export const CODENAME_ARGON2 = { m: 19_456, t: 2, p: 1, dkLen: 64, version: 0x13 } as const;
/** The expected work of the browser path's proof, in leading zero bits (2^17 hashes on average). */
export const DEFAULT_POW_BITS = 17;

/** Who wrote a message sealed to the intake team. */
export type SealedBy = 'requester' | 'staff';

const SEALED_BY_CODE: Record<SealedBy, number> = { requester: 1, staff: 2 };

/** The intake key pair of one generation. The private key stays inside @hpke's key object. */
export interface IntakeKeyPair {
  readonly generation: number;
  readonly publicKey: Uint8Array;
  readonly privateKey: CryptoKey;
}

function checkIds(org: Uint8Array, conversation: Uint8Array): void {
  if (org.length !== 16 || conversation.length !== 16) throw new RangeError('org and conversation ids are 16 bytes');
}

/** The intake key pair that the intake desk's compartment key of one generation derives. */
export async function deriveIntakeKeyPair(org: Uint8Array, deskKey: CompartmentKey): Promise<IntakeKeyPair> {
  if (org.length !== 16) throw new RangeError('org id is 16 bytes');
  const ikm = deriveKey(deskKey.key, 'northstar/v1/intake/keypair', org);
  const suite = hpkeSuite();
  const pair = await suite.kem.deriveKeyPair(ikm);
  ikm.fill(0);
  const publicKey = new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey));
  return { generation: deskKey.generation, publicKey, privateKey: pair.privateKey };
}

function sealInfo(org: Uint8Array, conversation: Uint8Array, header: Uint8Array): Uint8Array {
  return concat(ascii(SEAL_INFO_LABEL), org, conversation, header);
}

function staffSigMessage(org: Uint8Array, conversation: Uint8Array, signed: Uint8Array): Uint8Array {
  return concat(ascii(STAFF_SIG_LABEL), org, conversation, signed);
}

/**
 * HPKE single-shot seal to a 32-byte X25519 key: `enc ‖ ct`. A key of the
 * wrong length, or one whose shared secret is all zeros (small order), is
 * refused as 'malformed', as the Rust code refuses it.
 */
async function hpkeSealTo(publicKey: Uint8Array, info: Uint8Array, plaintext: Uint8Array, format: string, keyName: string): Promise<Uint8Array> {
  if (publicKey.length !== 32) throw malformed(format, 'public key');
  const suite = hpkeSuite();
  let recipientPublicKey;
  try {
    recipientPublicKey = await suite.kem.deserializePublicKey(publicKey);
  } catch {
    throw malformed(format, 'public key');
  }
  let sealed;
  try {
    sealed = await suite.seal({ recipientPublicKey, info }, plaintext, new Uint8Array(0));
  } catch {
    // The only way a seal fails on good input: an all-zero shared secret.
    throw malformed(format, `${keyName} has small order`);
  }
  return concat(new Uint8Array(sealed.enc), new Uint8Array(sealed.ct));
}

/** HPKE single-shot open; any failure (bad enc, wrong key, altered bytes, wrong info) is 'decrypt'. */
async function hpkeOpenWith(privateKey: CryptoKey, enc: Uint8Array, ct: Uint8Array, info: Uint8Array, format: string): Promise<Uint8Array> {
  const suite = hpkeSuite();
  try {
    // `slice` gives @hpke buffers of their own, not views into the caller's message.
    return new Uint8Array(await suite.open({ recipientKey: privateKey, enc: enc.slice(), info }, ct.slice(), new Uint8Array(0)));
  } catch {
    throw decryptFailed(format);
  }
}

async function sealToIntake(
  org: Uint8Array,
  generation: number,
  publicKey: Uint8Array,
  conversation: Uint8Array,
  by: SealedBy,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  checkIds(org, conversation);
  const header = new Writer().bytes(ascii(SEAL_MAGIC)).u8(1).u8(SEALED_BY_CODE[by]).u32(generation).finish();
  const body = await hpkeSealTo(publicKey, sealInfo(org, conversation, header), plaintext, SEAL_FORMAT, 'intake key');
  return concat(header, body);
}

/** Seal a requester's message to the intake key `publicKey` of `generation`, bound to `conversation`. */
export function sealRequest(
  org: Uint8Array,
  generation: number,
  publicKey: Uint8Array,
  conversation: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  return sealToIntake(org, generation, publicKey, conversation, 'requester', plaintext);
}

/** Seal a staff note to the intake key and sign it with the author's key. */
export async function sealStaffNote(
  org: Uint8Array,
  generation: number,
  publicKey: Uint8Array,
  conversation: Uint8Array,
  plaintext: Uint8Array,
  author: SigningKeys,
): Promise<Uint8Array> {
  const authorId = keyId(publicKeysOf(author));
  const sealed = concat(await sealToIntake(org, generation, publicKey, conversation, 'staff', plaintext), authorId);
  return concat(sealed, sig.sign(author.signingSeed, staffSigMessage(org, conversation, sealed)));
}

/** What a sealed intake message says about itself before it is opened. */
export interface SealedHeader {
  by: SealedBy;
  generation: number;
}

/** Read a sealed intake message's header (the server checks it on receipt), as intake.rs parse_sealed_header. */
export function parseSealedHeader(bytes: Uint8Array): SealedHeader {
  const r = new Reader(bytes, SEAL_FORMAT);
  r.expectMagic(SEAL_MAGIC, 1);
  const kind = r.u8();
  const by: SealedBy | undefined = kind === 1 ? 'requester' : kind === 2 ? 'staff' : undefined;
  if (by === undefined) throw malformed(SEAL_FORMAT, 'unknown author kind');
  const generation = r.u32();
  const min = ENC_LEN + TAG_LEN + (by === 'staff' ? KEY_ID_LEN + SIGNATURE_LEN : 0);
  if (bytes.length < SEAL_HEADER_LEN + min) throw malformed(SEAL_FORMAT, 'too short');
  return { by, generation };
}

/** The key id that signed a staff note (to look its public key up), without opening it. */
export function staffNoteAuthor(bytes: Uint8Array): Uint8Array {
  if (parseSealedHeader(bytes).by !== 'staff') throw malformed(SEAL_FORMAT, 'not a staff note');
  const at = bytes.length - SIGNATURE_LEN - KEY_ID_LEN;
  return bytes.slice(at, at + KEY_ID_LEN);
}

/** An opened intake message: who wrote it, and for a staff note, the key id that signed it. */
export interface OpenedIntake {
  by: SealedBy;
  author: Uint8Array | undefined;
  plaintext: Uint8Array;
}

/**
 * Open a message sealed to the intake team. A staff note must come with the
 * author key its signature names (from the verified membership chain). Checks
 * in intake.rs order: header, generation, signer, signature, then HPKE.
 */
export async function openSealed(
  org: Uint8Array,
  conversation: Uint8Array,
  keys: IntakeKeyPair,
  bytes: Uint8Array,
  staffAuthor?: AuthorKey | MemberPublicKeys,
): Promise<OpenedIntake> {
  checkIds(org, conversation);
  const header = parseSealedHeader(bytes);
  if (header.generation !== keys.generation) throw unknownGeneration(header.generation);
  let sealed = bytes;
  let author: Uint8Array | undefined;
  if (header.by === 'staff') {
    const at = bytes.length - SIGNATURE_LEN;
    const signer = staffNoteAuthor(bytes);
    const expected = staffAuthor === undefined ? undefined : AuthorKey.from(staffAuthor);
    if (expected === undefined || !bytesEqual(expected.keyId, signer)) {
      throw new NorthstarCryptoError('unexpected-signer', `signed by key ${toHex(signer)}, which is not the expected author`);
    }
    const code = expected.verifyCode(staffSigMessage(org, conversation, bytes.subarray(0, at)), bytes.subarray(at));
    if (code) throw signatureRefused(SEAL_FORMAT, code);
    sealed = bytes.subarray(0, at - KEY_ID_LEN);
    author = signer;
  }
  const plaintext = await hpkeOpenWith(
    keys.privateKey,
    sealed.subarray(SEAL_HEADER_LEN, SEAL_HEADER_LEN + ENC_LEN),
    sealed.subarray(SEAL_HEADER_LEN + ENC_LEN),
    sealInfo(org, conversation, sealed.subarray(0, SEAL_HEADER_LEN)),
    SEAL_FORMAT,
  );
  return { by: header.by, author, plaintext };
}

// ---- Codenames ----

declare const codenameBrand: unique symbol;
/**
 * A codename in its one canonical form (lower-case list words joined by single
 * spaces), as only {@link generateCodename} and {@link parseCodename} make it:
 * any other spelling would hash to other keys.
 */
export type Codename = string & { readonly [codenameBrand]: true };

let wordSet: ReadonlySet<string> | undefined;

function isListWord(word: string): boolean {
  wordSet ??= new Set(EFF_LARGE_WORDLIST);
  return wordSet.has(word);
}

/** A uniform integer in [0, n) from the platform CSPRNG; rejection sampling, so no modulo bias (intake.rs uniform_below). */
function uniformBelow(n: number): number {
  const zone = 0xffffffff - (0xffffffff % n);
  const draw = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(draw);
    const x = draw[0]!;
    if (x < zone) return x % n;
  }
}

/** Eight words drawn uniformly from the EFF large list. */
export function generateCodename(): Codename {
  const words: string[] = [];
  for (let i = 0; i < CODENAME_WORDS; i++) words.push(EFF_LARGE_WORDLIST[uniformBelow(EFF_LARGE_WORDLIST.length)]!);
  return words.join(' ') as Codename;
}

/**
 * Read a codename as a person types it back: any case, any Unicode white
 * space (Rust's `char::is_whitespace`), hyphens, commas or full stops between
 * the words. Every word must be on the list; 7 or 8 words.
 */
export function parseCodename(typed: string): Codename {
  const words = typed
    .toLowerCase()
    .split(/[\p{White_Space},.-]/u)
    .filter((w) => w.length > 0);
  if (words.length < CODENAME_WORDS - 1 || words.length > CODENAME_WORDS || !words.every(isListWord)) {
    throw malformed('codename', 'not 7 or 8 words from the list');
  }
  return words.join(' ') as Codename;
}

/** The salt every codename of one organization is hashed with. */
export function codenameSalt(org: Uint8Array): Uint8Array {
  if (org.length !== 16) throw new RangeError('org id is 16 bytes');
  return labelledHash('northstar/v1/intake/codename-salt', org).slice(0, 16);
}

/** What a codename derives: the access secret, the reply key, and the opening of replies. */
export interface CodenameKeys {
  /** The secret that proves the codename to the server (sent, never stored). */
  readonly access: Uint8Array;
  readonly replyPublic: Uint8Array;
  /** Open a reply sealed to this codename in `conversation`. */
  openReply(org: Uint8Array, conversation: Uint8Array, bytes: Uint8Array): Promise<Uint8Array>;
}

/**
 * The slow, salted derivation of a codename's keys: about a second of
 * Argon2id in a browser. It runs in slices that yield to the page;
 * `onProgress` gets the fraction done, 0 to 1.
 */
export async function codenameKeys(codename: Codename, org: Uint8Array, onProgress?: (fraction: number) => void): Promise<CodenameKeys> {
  const options = { ...CODENAME_ARGON2, asyncTick: 20, ...(onProgress ? { onProgress } : {}) };
  const out = await argon2idAsync(utf8.encode(codename), codenameSalt(org), options);
  const access = out.slice(0, 32);
  const suite = hpkeSuite();
  const replyPair = await suite.kem.deriveKeyPair(out.slice(32, 64));
  // JavaScript cannot promise to erase a secret, but this copy need not linger.
  out.fill(0);
  const replyPublic = new Uint8Array(await suite.kem.serializePublicKey(replyPair.publicKey));
  return {
    access,
    replyPublic,
    openReply(replyOrg, conversation, bytes) {
      checkIds(replyOrg, conversation);
      const r = new Reader(bytes, REPLY_FORMAT);
      r.expectMagic(REPLY_MAGIC, 1);
      const enc = r.take(ENC_LEN);
      const ct = r.take(bytes.length - r.position);
      return hpkeOpenWith(replyPair.privateKey, enc, ct, replyInfo(replyOrg, conversation), REPLY_FORMAT);
    },
  };
}

/** What the server keeps of an access secret. */
export function accessHash(access: Uint8Array): Uint8Array {
  if (access.length !== 32) throw new RangeError('access secret is 32 bytes');
  return labelledHash('northstar/v1/intake/access', access);
}

function replyInfo(org: Uint8Array, conversation: Uint8Array): Uint8Array {
  return concat(ascii(REPLY_INFO_LABEL), org, conversation);
}

/** Seal a reply to the requester's reply key (from the conversation). */
export async function sealReply(org: Uint8Array, conversation: Uint8Array, replyPublic: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  checkIds(org, conversation);
  const body = await hpkeSealTo(replyPublic, replyInfo(org, conversation), plaintext, REPLY_FORMAT, 'reply key');
  return concat(ascii(REPLY_MAGIC), Uint8Array.of(1), body);
}

/** Open a reply with the keys of a codename (the same as `keys.openReply`). */
export function openReply(keys: CodenameKeys, org: Uint8Array, conversation: Uint8Array, bytes: Uint8Array): Promise<Uint8Array> {
  return keys.openReply(org, conversation, bytes);
}

// ---- Proof of work ----

const POW_LABEL = 'northstar/v1/intake/pow';

/** SHA-256("northstar/v1/intake/pow" ‖ challenge ‖ nonce u64 BE). */
export function powHash(challenge: Uint8Array, nonce: bigint | number): Uint8Array {
  return labelledHash(POW_LABEL, challenge, u64be(BigInt(nonce)));
}

export function leadingZeroBits(hash: Uint8Array): number {
  let n = 0;
  for (const b of hash) {
    // clz32 counts over 32 bits; a byte sits in the low 8.
    if (b !== 0) return n + Math.clz32(b) - 24;
    n += 8;
  }
  return n;
}

export interface PowSolveOptions {
  /** Called between slices with the chance that a solution would have been found by now (0 to 1). */
  onProgress?: (fraction: number) => void;
  /** How long to hash before giving the page a turn, in milliseconds (default 50). */
  sliceMs?: number;
  signal?: AbortSignal;
}

/**
 * Hand control back to the event loop. A message to oneself is not throttled
 * like a timer in a background tab, so the search keeps its pace when the
 * requester switches tabs; a timer is the fallback.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof MessageChannel === 'undefined') {
      setTimeout(resolve, 0);
      return;
    }
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Find the smallest nonce whose hash has `bits` leading zero bits, as
 * intake.rs pow_solve, hashing in time slices so a page stays responsive.
 * The search never gets near 2^53 (2^17 hashes are expected), so the nonce is
 * a plain number, ready for JSON.
 */
export async function powSolve(challenge: Uint8Array, bits: number, options: PowSolveOptions = {}): Promise<number> {
  if (!Number.isInteger(bits) || bits < 0 || bits > 256) throw new RangeError('bits must be 0..256');
  const sliceMs = options.sliceMs ?? 50;
  const expected = 2 ** bits;
  // One buffer, the nonce rewritten in place: the same bytes powHash hashes, without an allocation per try.
  const input = concat(ascii(POW_LABEL), challenge, new Uint8Array(8));
  const nonceView = new DataView(input.buffer, input.length - 8, 8);
  let nonce = 0;
  for (;;) {
    const sliceEnd = performance.now() + sliceMs;
    do {
      // Checking the clock every 256 tries keeps its cost out of the loop.
      for (let i = 0; i < 256; i++, nonce++) {
        nonceView.setUint32(0, Math.floor(nonce / 0x1_0000_0000));
        nonceView.setUint32(4, nonce >>> 0);
        if (leadingZeroBits(sha256(input)) >= bits) return nonce;
      }
    } while (performance.now() < sliceEnd);
    if (!Number.isSafeInteger(nonce)) throw new RangeError('no solution below 2^53');
    options.onProgress?.(1 - Math.exp(-nonce / expected));
    await yieldToEventLoop();
    options.signal?.throwIfAborted();
  }
}

// ---- Referral codes ----

/** Crockford's base 32: no I, L, O or U, so a code read aloud is not misheard (intake.rs REFERRAL_ALPHABET). */
export const REFERRAL_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const REFERRAL_DRAWS = 12;

/**
 * A referral code a partner hands out, `REF-XXXX-XXXX-XXXX` (60 random bits),
 * as intake.rs new_referral_code: each character is the low 5 bits of one
 * 32-bit draw. `draws` (12 of them) is for vectors only.
 */
export function newReferralCode(draws?: Uint32Array): string {
  if (draws !== undefined && draws.length !== REFERRAL_DRAWS) throw new RangeError(`draws must be ${REFERRAL_DRAWS} values`);
  const source = draws ?? crypto.getRandomValues(new Uint32Array(REFERRAL_DRAWS));
  let code = 'REF';
  for (let i = 0; i < REFERRAL_DRAWS; i++) {
    if (i % 4 === 0) code += '-';
    code += REFERRAL_ALPHABET[source[i]! & 31]!;
  }
  return code;
}

/**
 * What the server keeps of a referral code: SHA-256("northstar/v1/intake/referral" ‖
 * the code upper-cased with white space and dashes removed, and without its `REF` prefix).
 */
export function referralHash(code: string): Uint8Array {
  const normal = code.replace(/[\p{White_Space}-]/gu, '').toUpperCase();
  return labelledHash('northstar/v1/intake/referral', utf8.encode(normal.startsWith('REF') ? normal.slice(3) : normal));
}
