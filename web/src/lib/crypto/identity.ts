/**
 * A member's key pair set and the key box that keeps private keys under a
 * root key (identity.rs).
 *
 * Key box layout: `"NSKB" | 0x01 | kind u8 | account_id 16 | context_id 16 | public | nonce 24 | ct`.
 * Kind 1 is a member identity (context = account id; public = signing pk ‖
 * agreement pk, 64 bytes; secret = Ed25519 seed ‖ X25519 secret, 64 bytes).
 * Kind 2 is an organization root key held by an admin (context = org id;
 * public = root pk, 32 bytes; secret = seed). The box key is
 * HKDF-SHA256(root key, "northstar/v1/keybox", kind ‖ account ‖ context).
 * Everything before the nonce is associated data.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { ascii, bytesEqual, concat, Reader, Writer } from './bytes.js';
import { contextMismatch, decryptFailed, malformed, NorthstarCryptoError } from './errors.js';
import { deriveKey, injectedOrRandom, labelledHash, randomBytes, xchachaOpen, xchachaSeal } from './kdf.js';
import * as sig from './sig.js';
import type { SignatureCode } from './errors.js';
import { fingerprint } from './words.js';

const MAGIC = 'NSKB';
const VERSION = 1;
const FORMAT = 'key box';
const KIND_MEMBER = 1;
const KIND_ORG_ROOT = 2;

/** A member's public keys, as registered in the membership chain. */
export interface MemberPublicKeys {
  /** Ed25519, for signing records, grants and links. */
  signing: Uint8Array;
  /** X25519, for receiving grants. */
  agreement: Uint8Array;
}

/** A member's private keys: the Ed25519 seed and the X25519 secret, 32 bytes each. */
export interface MemberSecretKeys {
  signingSeed: Uint8Array;
  agreementSecret: Uint8Array;
}

/**
 * What signing needs: the Ed25519 seed and the member's public keys (for the
 * key id). Full secret keys qualify; so do a seed and the public keys as
 * registered, which is all a vector or an interop peer hands over.
 */
export type SigningKeys = MemberSecretKeys | { signingSeed: Uint8Array; public: MemberPublicKeys };

/**
 * What opening a grant needs: the X25519 secret and the member's public keys
 * (for the key id); for the grants the member kept for itself (suite 2), its
 * keep key (grant.ts `keepKeyFromRoot`).
 */
export type ReceivingKeys = (MemberSecretKeys | { agreementSecret: Uint8Array; public: MemberPublicKeys }) & { keepKey?: Uint8Array };

/** The public keys of a key set; a given seed must match the given signing key. */
export function publicKeysOf(k: SigningKeys | ReceivingKeys): MemberPublicKeys {
  if ('public' in k) {
    if ('signingSeed' in k && !bytesEqual(sig.publicKey(k.signingSeed), k.public.signing)) {
      throw new RangeError('signing seed does not match the signing public key');
    }
    return k.public;
  }
  return memberPublicKeys(k);
}

/** signing ‖ agreement, 64 bytes: what fingerprints and key boxes carry. */
export function publicKeysBytes(keys: MemberPublicKeys): Uint8Array {
  return concat(keys.signing, keys.agreement);
}

/** The first 16 bytes of SHA-256("northstar/v1/key-id" ‖ signing ‖ agreement): how records, grants and links name a member's keys. */
export function keyId(keys: MemberPublicKeys): Uint8Array {
  return labelledHash('northstar/v1/key-id', keys.signing, keys.agreement).slice(0, 16);
}

/** The words two people compare to be sure these are the member's keys. */
export function memberFingerprint(keys: MemberPublicKeys): string[] {
  return fingerprint('member', publicKeysBytes(keys));
}

/** The words people compare to be sure they pinned the right organization. */
export function orgFingerprint(rootPublicKey: Uint8Array): string[] {
  return fingerprint('org', rootPublicKey);
}

/**
 * The registration check (identity.rs MemberPublicKeys::check): the signing
 * key passes the Ed25519 policy, then the agreement key is not of small order,
 * which would make every grant to it fail. Rust multiplies the key by the
 * clamped scalar 9 and refuses an all-zero result; a clamped scalar is a
 * multiple of the cofactor, so that is exactly the small-order u-coordinates,
 * which noble refuses by list before its ladder: the same verdict.
 */
export function checkMemberKeys(keys: MemberPublicKeys): SignatureCode | undefined {
  const signing = sig.checkPublicKey(keys.signing);
  if (signing) return signing;
  const probe = new Uint8Array(32);
  probe[0] = 9;
  let out: Uint8Array;
  try {
    out = x25519.scalarMult(probe, keys.agreement);
  } catch {
    return 'key-small-order-agreement';
  }
  return out.every((b) => b === 0) ? 'key-small-order-agreement' : undefined;
}

/**
 * A member's public keys after the registration check, with the key id
 * cached: what verifiers of entries and grants hold (identity.rs AuthorKey).
 */
export class AuthorKey {
  readonly keyId: Uint8Array;

  private constructor(
    private readonly pub: MemberPublicKeys,
    private readonly signing: sig.VerifiedKey,
  ) {
    this.keyId = keyId(pub);
  }

  /** The checked keys, or the code of the check they fail (signing key first, then agreement key). */
  static check(keys: MemberPublicKeys): AuthorKey | SignatureCode {
    const code = checkMemberKeys(keys);
    if (code) return code;
    const signing = sig.VerifiedKey.check(keys.signing);
    if (typeof signing === 'string') return signing;
    return new AuthorKey({ signing: keys.signing.slice(), agreement: keys.agreement.slice() }, signing);
  }

  /** Check keys that come from a verified membership chain; throws 'weak-public-key' if they fail. */
  static from(keys: MemberPublicKeys | AuthorKey): AuthorKey {
    if (keys instanceof AuthorKey) return keys;
    const a = AuthorKey.check(keys);
    if (typeof a === 'string') throw new NorthstarCryptoError('weak-public-key', `public key refused: ${a}`, a);
    return a;
  }

  get publicKeys(): MemberPublicKeys {
    return this.pub;
  }

  /** undefined if the signature is good; otherwise 'sig-mismatch', as Rust's AuthorKey::verify. */
  verifyCode(message: Uint8Array, signature: Uint8Array): SignatureCode | undefined {
    return this.signing.verifyCode(message, signature);
  }
}

export function agreementPublicKey(secret: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secret);
}

export function memberPublicKeys(secret: MemberSecretKeys): MemberPublicKeys {
  return { signing: sig.publicKey(secret.signingSeed), agreement: agreementPublicKey(secret.agreementSecret) };
}

/**
 * Fresh member keys. Like Rust, the X25519 secret is kept as 32 random bytes;
 * clamping happens where it is used.
 */
export function generateMemberKeys(): MemberSecretKeys {
  return { signingSeed: randomBytes(32), agreementSecret: randomBytes(32) };
}

/** A fresh organization root signing key (its seed). */
export function generateOrgRootSeed(): Uint8Array {
  return randomBytes(32);
}

function boxKey(root: Uint8Array, kind: number, account: Uint8Array, context: Uint8Array): Uint8Array {
  return deriveKey(root, 'northstar/v1/keybox', concat(Uint8Array.of(kind), account, context));
}

function sealBox(
  root: Uint8Array,
  kind: number,
  account: Uint8Array,
  context: Uint8Array,
  pub: Uint8Array,
  secret: Uint8Array,
  nonce: Uint8Array | undefined,
): Uint8Array {
  if (root.length !== 32) throw new RangeError('root key is 32 bytes');
  if (account.length !== 16 || context.length !== 16) throw new RangeError('ids are 16 bytes');
  const n = injectedOrRandom(nonce, 24, 'nonce');
  const header = new Writer().bytes(ascii(MAGIC)).u8(VERSION).u8(kind).bytes(account).bytes(context).bytes(pub).finish();
  return concat(header, n, xchachaSeal(boxKey(root, kind, account, context), n, secret, header));
}

/** Checks in identity.rs open_box order: structure up to the context, each field as read, then decryption. */
function openBox(
  bytes: Uint8Array,
  root: Uint8Array,
  kind: number,
  account: Uint8Array,
  context: Uint8Array,
  publicLen: number,
): { pub: Uint8Array; secret: Uint8Array } {
  const r = new Reader(bytes, FORMAT);
  r.expectMagic(MAGIC, VERSION);
  if (r.u8() !== kind) throw contextMismatch(FORMAT, 'kind');
  if (!bytesEqual(r.take(16), account)) throw contextMismatch(FORMAT, 'account');
  if (!bytesEqual(r.take(16), context)) throw contextMismatch(FORMAT, 'context');
  const pub = r.array(publicLen);
  const aadLen = r.position;
  const nonce = r.array(24);
  const ct = r.take(publicLen + 16);
  r.finish();
  const secret = xchachaOpen(boxKey(root, kind, account, context), nonce, ct, bytes.subarray(0, aadLen));
  if (!secret) throw decryptFailed(FORMAT);
  return { pub, secret };
}

/** Keep a member's private keys under their root key. */
export function wrapMemberKeys(root: Uint8Array, accountId: Uint8Array, keys: MemberSecretKeys, nonce?: Uint8Array): Uint8Array {
  const pub = publicKeysBytes(memberPublicKeys(keys));
  const secret = concat(keys.signingSeed, keys.agreementSecret);
  return sealBox(root, KIND_MEMBER, accountId, accountId, pub, secret, nonce);
}

export function unwrapMemberKeys(bytes: Uint8Array, root: Uint8Array, accountId: Uint8Array): MemberSecretKeys {
  const { pub, secret } = openBox(bytes, root, KIND_MEMBER, accountId, accountId, 64);
  const keys: MemberSecretKeys = { signingSeed: secret.slice(0, 32), agreementSecret: secret.slice(32, 64) };
  if (!bytesEqual(publicKeysBytes(memberPublicKeys(keys)), pub)) {
    throw malformed(FORMAT, 'private keys do not match the public keys');
  }
  return keys;
}

/** Keep the organization root key (its seed) under an admin's root key. */
export function wrapOrgRoot(root: Uint8Array, accountId: Uint8Array, orgId: Uint8Array, rootSeed: Uint8Array, nonce?: Uint8Array): Uint8Array {
  return sealBox(root, KIND_ORG_ROOT, accountId, orgId, sig.publicKey(rootSeed), rootSeed, nonce);
}

/** Returns the organization root seed. */
export function unwrapOrgRoot(bytes: Uint8Array, root: Uint8Array, accountId: Uint8Array, orgId: Uint8Array): Uint8Array {
  const { pub, secret } = openBox(bytes, root, KIND_ORG_ROOT, accountId, orgId, 32);
  if (!bytesEqual(sig.publicKey(secret), pub)) {
    throw malformed(FORMAT, 'private key does not match the public key');
  }
  return secret;
}
