/**
 * Compartment keys, the grants that hand them to members, and the rotation
 * links that let the holder of a new generation read the old ones (grant.rs).
 *
 * Grant layout (220 bytes):
 * `"NSGR" | 0x01 | suite u16 | org 16 | object 16 | compartment u8 | generation u32 |
 *  recipient key id 16 | granter key id 16 | enc 32 | ct 48 | signature 64`.
 * HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305
 * (suite 1), with `info = "northstar/v1/grant" ‖ bytes 0..76` (everything
 * before `enc`, so the context and both key ids are bound) and empty AAD. The
 * granter signs `"northstar/v1/grant/sig" ‖ bytes 0..156` (everything before
 * the signature, as the Rust code does).
 *
 * Kept grant (suite 2, 212 bytes): a key a member grants to itself.
 * `"NSGR" | 0x01 | 2 u16 | org 16 | object 16 | compartment u8 | generation u32 |
 *  recipient key id 16 | granter key id 16 (the same) | nonce 24 | ct 48 | signature 64`,
 * the key sealed with XChaCha20-Poly1305 under the member's keep key (from the
 * account root key) with `"northstar/v1/grant/kept" ‖ bytes 0..76` as associated
 * data, signed as a suite-1 grant is (over bytes 0..148). Its owner opens it with
 * one AEAD: no Diffie-Hellman and no signature, because only the holder of the root
 * key could have sealed it; the signature serves the server and the other members.
 *
 * Rotation layout (118 bytes):
 * `"NSRT" | 0x01 | org 16 | object 16 | compartment u8 | old gen u32 | new gen u32 | nonce 24 | ct 48`,
 * the old key sealed with XChaCha20-Poly1305 under HKDF(new key,
 * "northstar/v1/rotation"), bytes 0..46 as associated data.
 */
import { ascii, bytesEqual, concat, Reader, Writer } from './bytes.js';
import { contextMismatch, decryptFailed, malformed, NorthstarCryptoError, signatureRefused, unknownGeneration, unsupported } from './errors.js';
import { isCompartment, type Compartment } from './codes.js';
import { AuthorKey, keyId, publicKeysOf, type MemberPublicKeys, type ReceivingKeys, type SigningKeys } from './identity.js';
import { hpkeSuite } from './hpke.js';
import { deriveKey, injectedOrRandom, randomBytes, xchachaOpen, xchachaSeal } from './kdf.js';
import { derivePurposeKey } from './slot.js';
import * as sig from './sig.js';

const GRANT_MAGIC = 'NSGR';
const GRANT_FORMAT = 'grant';
const GRANT_SUITE = 1;
const GRANT_SUITE_KEPT = 2;
const KEPT_AAD_LABEL = 'northstar/v1/grant/kept';
export const KEPT_GRANT_LEN = 212;
const KEPT_NONCE_END = 100;
const KEPT_CT_END = 148;
const KEEP_PURPOSE = 'kept-grants';
const GRANT_INFO_LABEL = 'northstar/v1/grant';
const GRANT_SIG_LABEL = 'northstar/v1/grant/sig';
export const GRANT_LEN = 220;
const GRANT_INFO_END = 76;
const GRANT_ENC_END = 108;
const GRANT_SIGNED_END = 156;

const ROTATION_MAGIC = 'NSRT';
const ROTATION_FORMAT = 'rotation link';
export const ROTATION_LEN = 118;
const ROTATION_AAD_END = 46;
const ROTATION_LABEL = 'northstar/v1/rotation';

/** Where a compartment key belongs: the organization, the case or safe house, the compartment. */
export interface CompartmentRef {
  org: Uint8Array;
  object: Uint8Array;
  compartment: Compartment;
}

/** One generation of one compartment's key. */
export interface CompartmentKey {
  generation: number;
  key: Uint8Array;
}

export function generateCompartmentKey(generation: number): CompartmentKey {
  return { generation, key: randomBytes(32) };
}

/**
 * The key a member seals its kept grants under:
 * `HKDF-SHA256(root, "northstar/v1/purpose/" ‖ "kept-grants")` (grant.rs `KeepKey::from_root`).
 */
export function keepKeyFromRoot(rootKey: Uint8Array): Uint8Array {
  return derivePurposeKey(rootKey, KEEP_PURPOSE);
}

/** What sealing a kept grant needs: the member's signing keys and its keep key. */
export type KeepingKeys = SigningKeys & { keepKey: Uint8Array };

/** What a grant says, once its signature has been checked. */
export interface GrantHeader {
  target: CompartmentRef;
  generation: number;
  recipient: Uint8Array;
  granter: Uint8Array;
  /** Suite 2: sealed by the recipient to itself under its keep key. */
  kept: boolean;
}

function signedEnd(h: GrantHeader): number {
  return h.kept ? KEPT_CT_END : GRANT_SIGNED_END;
}

function grantHeaderBytes(h: GrantHeader): Uint8Array {
  return new Writer()
    .bytes(ascii(GRANT_MAGIC))
    .u8(1)
    .u16(h.kept ? GRANT_SUITE_KEPT : GRANT_SUITE)
    .bytes(h.target.org)
    .bytes(h.target.object)
    .u8(h.target.compartment)
    .u32(h.generation)
    .bytes(h.recipient)
    .bytes(h.granter)
    .finish();
}

/** Seal `key` to `recipient`, signed by `granter`. */
export async function sealGrant(
  target: CompartmentRef,
  key: CompartmentKey,
  recipient: MemberPublicKeys,
  granter: SigningKeys,
): Promise<Uint8Array> {
  const header = grantHeaderBytes({
    target,
    generation: key.generation,
    recipient: keyId(recipient),
    granter: keyId(publicKeysOf(granter)),
    kept: false,
  });
  if (header.length !== GRANT_INFO_END) throw new RangeError('ids are 16 bytes');
  const suite = hpkeSuite();
  let recipientKey;
  try {
    recipientKey = await suite.kem.deserializePublicKey(recipient.agreement);
  } catch {
    throw malformed(GRANT_FORMAT, 'recipient agreement key');
  }
  let sealed;
  try {
    sealed = await suite.seal({ recipientPublicKey: recipientKey, info: concat(ascii(GRANT_INFO_LABEL), header) }, key.key, new Uint8Array(0));
  } catch {
    // The only way a seal fails on good input: an all-zero shared secret.
    throw malformed(GRANT_FORMAT, 'recipient agreement key has small order');
  }
  const signed = concat(header, new Uint8Array(sealed.enc), new Uint8Array(sealed.ct));
  if (signed.length !== GRANT_SIGNED_END) throw new RangeError('compartment keys are 32 bytes');
  return concat(signed, sig.sign(granter.signingSeed, concat(ascii(GRANT_SIG_LABEL), signed)));
}

/** Grant `key` to `me`, kept under my keep key and signed by me (suite 2). */
export function sealKeptGrant(target: CompartmentRef, key: CompartmentKey, me: KeepingKeys): Uint8Array {
  if (me.keepKey.length !== 32) throw new RangeError('a keep key is 32 bytes');
  const mine = keyId(publicKeysOf(me));
  const header = grantHeaderBytes({ target, generation: key.generation, recipient: mine, granter: mine, kept: true });
  if (header.length !== GRANT_INFO_END) throw new RangeError('ids are 16 bytes');
  const nonce = randomBytes(24);
  const signed = concat(header, nonce, xchachaSeal(me.keepKey, nonce, key.key, concat(ascii(KEPT_AAD_LABEL), header)));
  if (signed.length !== KEPT_CT_END) throw new RangeError('compartment keys are 32 bytes');
  return concat(signed, sig.sign(me.signingSeed, concat(ascii(GRANT_SIG_LABEL), signed)));
}

function readCompartment(r: Reader): Compartment {
  const code = r.u8();
  if (!isCompartment(code)) throw malformed(r.format, 'unknown compartment');
  return code;
}

/** Read a grant's header without opening it (to find the granter, or to index it). */
export function parseGrantHeader(bytes: Uint8Array): GrantHeader {
  const r = new Reader(bytes, GRANT_FORMAT);
  r.expectMagic(GRANT_MAGIC, 1);
  const suite = r.u16();
  if (suite !== GRANT_SUITE && suite !== GRANT_SUITE_KEPT) throw unsupported(GRANT_FORMAT);
  const kept = suite === GRANT_SUITE_KEPT;
  const org = r.array(16);
  const object = r.array(16);
  const compartment = readCompartment(r);
  const generation = r.u32();
  const recipient = r.array(16);
  const granter = r.array(16);
  r.take((kept ? 24 : 32) + 48 + 64);
  r.finish();
  return { target: { org, object, compartment }, generation, recipient, granter, kept };
}

/**
 * Check a grant's signature without opening it, either suite: what a server
 * (or anyone holding the granter's public keys) can check. Returns its header.
 */
export function verifyGrant(bytes: Uint8Array, granterKey: AuthorKey | MemberPublicKeys): GrantHeader {
  const granter = AuthorKey.from(granterKey);
  const header = parseGrantHeader(bytes);
  if (!bytesEqual(header.granter, granter.keyId)) {
    throw new NorthstarCryptoError('unexpected-signer', 'grant is signed by a key that is not the expected granter');
  }
  const end = signedEnd(header);
  const code = granter.verifyCode(concat(ascii(GRANT_SIG_LABEL), bytes.subarray(0, end)), bytes.subarray(end));
  if (code) throw signatureRefused(GRANT_FORMAT, code);
  if (header.kept && !bytesEqual(header.recipient, header.granter)) {
    throw malformed(GRANT_FORMAT, 'a kept grant is for the member who sealed it');
  }
  return header;
}

/** Which field of a compartment reference differs, in grant.rs check_ref order. */
function checkRef(format: string, found: CompartmentRef, expected: CompartmentRef): void {
  if (!bytesEqual(found.org, expected.org)) throw contextMismatch(format, 'organization');
  if (!bytesEqual(found.object, expected.object)) throw contextMismatch(format, 'case');
  if (found.compartment !== expected.compartment) throw contextMismatch(format, 'compartment');
}

export function sameCompartmentRef(a: CompartmentRef, b: CompartmentRef): boolean {
  return bytesEqual(a.org, b.org) && bytesEqual(a.object, b.object) && a.compartment === b.compartment;
}

/**
 * Open a grant addressed to `me`, for the compartment the caller asked for,
 * after checking the granter's signature with `granterKey` (from the verified
 * membership chain). Checks in grant.rs `open_grant_as` order: structure,
 * granter key id, signature, context, recipient, then HPKE. A kept grant
 * (suite 2) opens only with `me.keepKey`, and only if `granterKey` is mine.
 */
export async function openGrant(
  bytes: Uint8Array,
  expected: CompartmentRef,
  me: ReceivingKeys,
  granterKey: AuthorKey | MemberPublicKeys,
): Promise<CompartmentKey> {
  const granter = AuthorKey.from(granterKey);
  const myKeyId = keyId(publicKeysOf(me));
  if (parseGrantHeader(bytes).kept) {
    if (!bytesEqual(granter.keyId, myKeyId)) {
      throw new NorthstarCryptoError('unexpected-signer', 'the expected granter of a kept grant is not its owner');
    }
    if (!me.keepKey) throw new NorthstarCryptoError('not-recipient', 'a kept grant opens only with the keep key of its owner');
    return openKeptGrant(bytes, expected, me.keepKey, myKeyId);
  }
  const header = verifyGrant(bytes, granter);
  checkRef(GRANT_FORMAT, header.target, expected);
  if (!bytesEqual(header.recipient, myKeyId)) {
    throw new NorthstarCryptoError('not-recipient', 'grant is addressed to another key');
  }
  const suite = hpkeSuite();
  let pt: ArrayBuffer;
  try {
    const recipientKey = await suite.kem.deserializePrivateKey(me.agreementSecret);
    pt = await suite.open(
      {
        recipientKey,
        enc: bytes.slice(GRANT_INFO_END, GRANT_ENC_END),
        info: concat(ascii(GRANT_INFO_LABEL), bytes.subarray(0, GRANT_INFO_END)),
      },
      bytes.slice(GRANT_ENC_END, GRANT_SIGNED_END),
      new Uint8Array(0),
    );
  } catch {
    throw decryptFailed(GRANT_FORMAT);
  }
  if (pt.byteLength !== 32) throw malformed(GRANT_FORMAT, 'key length');
  return { generation: header.generation, key: new Uint8Array(pt) };
}

/**
 * Open a grant I kept (suite 2) with my keep key: one AEAD, which also
 * authenticates the header, since nobody else holds the keep key. The
 * signature is left to those who cannot open it (the server, other members).
 */
export function openKeptGrant(bytes: Uint8Array, expected: CompartmentRef, keepKey: Uint8Array, myKeyId: Uint8Array): CompartmentKey {
  const header = parseGrantHeader(bytes);
  if (!header.kept) throw unsupported(GRANT_FORMAT);
  if (!bytesEqual(header.granter, myKeyId)) {
    throw new NorthstarCryptoError('unexpected-signer', 'a kept grant of another member');
  }
  const key = xchachaOpen(
    keepKey,
    bytes.subarray(GRANT_INFO_END, KEPT_NONCE_END),
    bytes.subarray(KEPT_NONCE_END, KEPT_CT_END),
    concat(ascii(KEPT_AAD_LABEL), bytes.subarray(0, GRANT_INFO_END)),
  );
  if (!key) throw decryptFailed(GRANT_FORMAT);
  checkRef(GRANT_FORMAT, header.target, expected);
  if (!bytesEqual(header.recipient, myKeyId)) {
    throw new NorthstarCryptoError('not-recipient', 'grant is addressed to another key');
  }
  return { generation: header.generation, key };
}

function rotationHeader(target: CompartmentRef, oldGen: number, newGen: number): Uint8Array {
  return new Writer()
    .bytes(ascii(ROTATION_MAGIC))
    .u8(1)
    .bytes(target.org)
    .bytes(target.object)
    .u8(target.compartment)
    .u32(oldGen)
    .u32(newGen)
    .finish();
}

/**
 * Seal the previous generation under the next one, so that members who get
 * only the new key still read the history. `nonce` is for vectors only.
 */
export function sealRotation(target: CompartmentRef, oldKey: CompartmentKey, newKey: CompartmentKey, nonce?: Uint8Array): Uint8Array {
  if (newKey.generation !== oldKey.generation + 1) throw new RangeError('rotation moves one generation forward');
  const header = rotationHeader(target, oldKey.generation, newKey.generation);
  if (header.length !== ROTATION_AAD_END) throw new RangeError('ids are 16 bytes');
  const n = injectedOrRandom(nonce, 24, 'nonce');
  const ct = xchachaSeal(deriveKey(newKey.key, ROTATION_LABEL), n, oldKey.key, header);
  return concat(header, n, ct);
}

/** Open a rotation link with the newer key; returns the older key. */
export function openRotation(bytes: Uint8Array, expected: CompartmentRef, newKey: CompartmentKey): CompartmentKey {
  const r = new Reader(bytes, ROTATION_FORMAT);
  r.expectMagic(ROTATION_MAGIC, 1);
  const org = r.array(16);
  const object = r.array(16);
  const compartment = readCompartment(r);
  const oldGen = r.u32();
  const newGen = r.u32();
  const nonce = r.array(24);
  const ct = r.take(48);
  r.finish();
  checkRef(ROTATION_FORMAT, { org, object, compartment }, expected);
  // u32 arithmetic as in Rust: old_gen.checked_add(1) fails at u32::MAX.
  if (newGen !== newKey.generation || oldGen === 0xffffffff || oldGen + 1 !== newGen) throw unknownGeneration(newGen);
  const old = xchachaOpen(deriveKey(newKey.key, ROTATION_LABEL), nonce, ct, bytes.subarray(0, ROTATION_AAD_END));
  if (!old) throw decryptFailed(ROTATION_FORMAT);
  return { generation: oldGen, key: old };
}

/** Every generation of one compartment's key that a member can reach. */
export class Keyring {
  private readonly keys = new Map<number, CompartmentKey>();

  constructor(readonly target: CompartmentRef) {}

  insert(key: CompartmentKey): void {
    this.keys.set(key.generation, key);
  }

  /**
   * Walk the rotation links down from the newest key held; links are looked
   * up by their new generation. Stops at the first missing link.
   */
  unwind(rotations: ReadonlyMap<number, Uint8Array>): void {
    const newest = this.newest();
    if (!newest) return;
    let generation = newest.generation;
    while (generation > 0) {
      if (!this.keys.has(generation - 1)) {
        const link = rotations.get(generation);
        if (!link) break;
        const old = openRotation(link, this.target, this.keys.get(generation)!);
        this.keys.set(old.generation, old);
      }
      generation -= 1;
    }
  }

  get(generation: number): CompartmentKey {
    const k = this.keys.get(generation);
    if (!k) throw unknownGeneration(generation);
    return k;
  }

  newest(): CompartmentKey | undefined {
    const g = this.generations();
    const last = g[g.length - 1];
    return last === undefined ? undefined : this.keys.get(last);
  }

  /** Generations held, ascending. */
  generations(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }
}
