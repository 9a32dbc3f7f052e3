/**
 * The account root key and the slots that unlock it, like LUKS key slots (slot.rs).
 *
 * Layout (110 bytes): `"NSSL" | 0x01 | kind u8 | account_id 16 | slot_id 16 | nonce 24 | ct 48`.
 * The slot key is HKDF-SHA256(unlock secret, label of the kind, account_id ‖ slot_id);
 * the 32-byte root key is sealed with XChaCha20-Poly1305 under it, the first
 * 38 bytes as associated data.
 */
import { argon2id } from '@noble/hashes/argon2.js';
import { ascii, bytesEqual, concat, Reader, utf8, Writer } from './bytes.js';
import { contextMismatch, decryptFailed, malformed } from './errors.js';
import { deriveKey, injectedOrRandom, randomBytes, xchachaOpen, xchachaSeal } from './kdf.js';

const MAGIC = 'NSSL';
const VERSION = 1;
const FORMAT = 'slot';
export const SLOT_LEN = 4 + 1 + 1 + 16 + 16 + 24 + 32 + 16;

/**
 * What unlocks a slot: the OPAQUE export key of a password login, a printed
 * recovery secret, or a device's offline unlock ({@link deviceUnlockSecret} of
 * a passphrase, kept only in that device's profile next to the local cache).
 */
export type SlotKind = 'password' | 'recovery' | 'device';

const KIND_CODE: Record<SlotKind, number> = { password: 1, recovery: 2, device: 3 };
const KIND_LABEL: Record<SlotKind, string> = {
  password: 'northstar/v1/slot/password',
  recovery: 'northstar/v1/slot/recovery',
  device: 'northstar/v1/slot/device',
};

function kindFromCode(code: number): SlotKind | undefined {
  return code === 1 ? 'password' : code === 2 ? 'recovery' : code === 3 ? 'device' : undefined;
}

/** slot.rs takes these from opaque.rs: a device passphrase costs a guesser as much as a login password. */
const ARGON2_M_KIB = 64 * 1024;
const ARGON2_T = 3;
const ARGON2_P = 4;

/**
 * The secret that opens a device slot: Argon2id v1.3 of the passphrase with
 * the slot id as salt, m = 64 MiB, t = 3, p = 4, 32 bytes. A stolen profile
 * still costs an attacker this much per passphrase guess. A string is taken
 * as its UTF-8 bytes, unnormalised, exactly as Rust's `str::as_bytes`.
 */
export function deviceUnlockSecret(passphrase: string | Uint8Array, slotId: Uint8Array): Uint8Array {
  if (slotId.length !== 16) throw new RangeError('slot id is 16 bytes');
  const password = typeof passphrase === 'string' ? utf8.encode(passphrase) : passphrase;
  return argon2id(password, slotId, { t: ARGON2_T, m: ARGON2_M_KIB, p: ARGON2_P, dkLen: 32, version: 0x13 });
}

/** A fresh 32-byte account root key. */
export function generateRootKey(): Uint8Array {
  return randomBytes(32);
}

/** A key for a purpose of the client's own (such as the local cache), under its own label. */
export function derivePurposeKey(rootKey: Uint8Array, purpose: string): Uint8Array {
  return deriveKey(rootKey, 'northstar/v1/purpose/', new TextEncoder().encode(purpose));
}

function slotKey(kind: SlotKind, unlockSecret: Uint8Array, accountId: Uint8Array, slotId: Uint8Array): Uint8Array {
  return deriveKey(unlockSecret, KIND_LABEL[kind], concat(accountId, slotId));
}

export interface SealSlotParams {
  kind: SlotKind;
  unlockSecret: Uint8Array;
  accountId: Uint8Array;
  slotId: Uint8Array;
  rootKey: Uint8Array;
  /** For vectors only: the 24-byte nonce Rust would draw. */
  nonce?: Uint8Array;
}

/** Seal the root key into a slot that `unlockSecret` opens. */
export function sealSlot(p: SealSlotParams): Uint8Array {
  if (p.accountId.length !== 16 || p.slotId.length !== 16) throw new RangeError('ids are 16 bytes');
  if (p.rootKey.length !== 32) throw new RangeError('root key is 32 bytes');
  const nonce = injectedOrRandom(p.nonce, 24, 'nonce');
  const header = new Writer().bytes(ascii(MAGIC)).u8(VERSION).u8(KIND_CODE[p.kind]).bytes(p.accountId).bytes(p.slotId).finish();
  const ct = xchachaSeal(slotKey(p.kind, p.unlockSecret, p.accountId, p.slotId), nonce, p.rootKey, header);
  return concat(header, nonce, ct);
}

/**
 * Open a slot of `expectedAccount`; a slot of another account, of another
 * kind of secret, or a wrong secret is refused. Checks in slot.rs order:
 * structure, kind, account, then decryption.
 */
export function openSlot(slot: Uint8Array, kind: SlotKind, unlockSecret: Uint8Array, expectedAccount: Uint8Array): Uint8Array {
  const r = new Reader(slot, FORMAT);
  r.expectMagic(MAGIC, VERSION);
  const foundKind = kindFromCode(r.u8());
  if (foundKind === undefined) throw malformed(FORMAT, 'unknown slot kind');
  const account = r.array(16);
  const slotId = r.array(16);
  const aadLen = r.position;
  const nonce = r.array(24);
  const ct = r.take(48);
  r.finish();
  if (foundKind !== kind) throw contextMismatch(FORMAT, 'slot kind');
  if (!bytesEqual(account, expectedAccount)) throw contextMismatch(FORMAT, 'account');
  const root = xchachaOpen(slotKey(kind, unlockSecret, account, slotId), nonce, ct, slot.subarray(0, aadLen));
  if (!root) throw decryptFailed(FORMAT);
  return root;
}
