/**
 * Invitations (invite.rs, docs/crypto.md §17): a code in two halves. The
 * server sees only the id half; the joiner proves knowing the secret half
 * with an HMAC over their identity, which only the issuing admin can check,
 * so a server cannot slip its own keys into the organization.
 *
 * Code: `<invite id, 32 hex>-<secret, 32 hex>`. Proof:
 * HMAC-SHA256(HKDF(secret, "northstar/v1/invite/proof"), org ‖ invite id ‖
 * account ‖ signing pk ‖ agreement pk ‖ name). The role is not in the proof:
 * the joiner does not choose it.
 *
 * Also here, from intake.rs: the intake desk's keys sealed under the
 * invitation's secret (`seal_for_invite` / `open_for_invite`), so an intake
 * officer reads the queue from the moment they join. The blob is NSLS
 * (localseal.ts) under HKDF(secret, "northstar/v1/intake/invite", invite id),
 * label "northstar/v1/intake/invite", holding `(generation u32 | key 32)*`.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, concat, fromHex, toHex, u32be, utf8 } from './bytes.js';
import { malformed } from './errors.js';
import type { CompartmentKey } from './grant.js';
import type { MemberPublicKeys } from './identity.js';
import { deriveKey, randomBytes } from './kdf.js';
import { openBlob, sealBlob } from './localseal.js';

const CODE_FORMAT = 'invitation code';
const CODE_SHAPE = 'expected <32 hex digits>-<32 hex digits>';
const PROOF_LABEL = 'northstar/v1/invite/proof';
const DESK_LABEL = 'northstar/v1/intake/invite';
const DESK_FORMAT = "invitation's intake keys";

/** Both halves of an invitation. `secret` must never reach the server. */
export interface Invitation {
  id: Uint8Array;
  secret: Uint8Array;
}

export function newInvite(): Invitation {
  return { id: randomBytes(16), secret: randomBytes(16) };
}

/** The code people pass on: `<id hex>-<secret hex>`, lower case. */
export function formatInviteCode(invite: Invitation): string {
  checkInvite(invite);
  return `${toHex(invite.id)}-${toHex(invite.secret)}`;
}

/** Rust's `str::trim` strips Unicode White_Space only; JavaScript's `trim` also strips U+FEFF. */
const SURROUNDING_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;
const HEX32 = /^[0-9a-fA-F]{32}$/;

/**
 * Split a code a person typed or pasted: surrounding white space is dropped,
 * the code splits at its first `-`, and either case of hex is accepted. The
 * error never repeats the code: it is half a secret.
 */
export function parseInviteCode(code: string): Invitation {
  const trimmed = code.replace(SURROUNDING_SPACE, '');
  const dash = trimmed.indexOf('-');
  if (dash < 0) throw malformed(CODE_FORMAT, CODE_SHAPE);
  const id = trimmed.slice(0, dash);
  const secret = trimmed.slice(dash + 1);
  if (!HEX32.test(id) || !HEX32.test(secret)) throw malformed(CODE_FORMAT, CODE_SHAPE);
  return { id: fromHex(id), secret: fromHex(secret) };
}

/** What the joiner proves to the admin who issued the invitation. */
export interface JoinClaim {
  org: Uint8Array;
  invite: Uint8Array;
  account: Uint8Array;
  keys: MemberPublicKeys;
  /** The display name; its UTF-8 bytes come last, so the input has one parse. */
  name: string;
}

function claimBytes(c: JoinClaim): Uint8Array {
  for (const [what, value, len] of [
    ['org id', c.org, 16],
    ['invite id', c.invite, 16],
    ['account id', c.account, 16],
    ['signing key', c.keys.signing, 32],
    ['agreement key', c.keys.agreement, 32],
  ] as const) {
    if (value.length !== len) throw new RangeError(`${what} is ${len} bytes`);
  }
  return concat(c.org, c.invite, c.account, c.keys.signing, c.keys.agreement, utf8.encode(c.name));
}

/** The 32-byte join proof. */
export function proveJoin(secret: Uint8Array, claim: JoinClaim): Uint8Array {
  if (secret.length !== 16) throw new RangeError('an invitation secret is 16 bytes');
  const key = deriveKey(secret, PROOF_LABEL);
  try {
    return hmac(sha256, key, claimBytes(claim));
  } finally {
    key.fill(0);
  }
}

/** Check a joiner's proof; the comparison does not stop at the first differing byte. */
export function checkJoinProof(secret: Uint8Array, claim: JoinClaim, proof: Uint8Array): boolean {
  return bytesEqual(proveJoin(secret, claim), proof);
}

function deskKey(invite: Invitation): Uint8Array {
  checkInvite(invite);
  return deriveKey(invite.secret, DESK_LABEL, invite.id);
}

/** Seal the intake desk's keys (every generation given) for whoever holds the invitation's secret. `nonce` is for vectors only. */
export function sealForInvite(invite: Invitation, keys: readonly CompartmentKey[], nonce?: Uint8Array): Uint8Array {
  const plain = concat(...keys.flatMap((k) => [u32be(k.generation), checkKey(k.key)]));
  const key = deskKey(invite);
  try {
    return sealBlob(key, DESK_LABEL, plain, nonce);
  } finally {
    key.fill(0);
    plain.fill(0);
  }
}

/** Open what {@link sealForInvite} sealed. */
export function openForInvite(invite: Invitation, sealed: Uint8Array): CompartmentKey[] {
  const key = deskKey(invite);
  let plain: Uint8Array;
  try {
    plain = openBlob(key, DESK_LABEL, sealed);
  } finally {
    key.fill(0);
  }
  try {
    if (plain.length % 36 !== 0) throw malformed(DESK_FORMAT, 'length');
    const keys: CompartmentKey[] = [];
    const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
    for (let at = 0; at < plain.length; at += 36) {
      keys.push({ generation: view.getUint32(at, false), key: plain.slice(at + 4, at + 36) });
    }
    return keys;
  } finally {
    plain.fill(0);
  }
}

function checkInvite(invite: Invitation): void {
  if (invite.id.length !== 16 || invite.secret.length !== 16) throw new RangeError('invitation id and secret are 16 bytes each');
}

function checkKey(key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new RangeError('compartment keys are 32 bytes');
  return key;
}
