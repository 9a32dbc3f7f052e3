/**
 * The project's Ed25519 policy, as sig.rs.
 *
 * Verifiers disagree on edge cases, so we do not rely on noble's defaults. A
 * public key or an R is accepted only if it decodes, its encoding is canonical
 * (re-encoding gives the same bytes), it is not of small order and it has no
 * small-order component. Then noble verifies with `zip215: false`. With both
 * points in the prime-order subgroup the cofactored equation noble checks and
 * the cofactorless one of dalek's `verify_strict` agree, so both sides reach
 * the same verdict, and the same error code, on every input.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesEqual } from './bytes.js';
import { NorthstarCryptoError, type SignatureCode } from './errors.js';

export const PUBLIC_KEY_LEN = 32;
export const SIGNATURE_LEN = 64;
export const SEED_LEN = 32;

const MESSAGES: Record<SignatureCode, string> = {
  'sig-invalid-key': 'public key is not a valid point encoding',
  'sig-non-canonical-key': 'public key uses a non-canonical encoding',
  'sig-small-order-key': 'public key has small order',
  'sig-mixed-order-key': 'public key has a small-order component',
  'sig-invalid-r': 'signature R is not a valid point encoding',
  'sig-non-canonical-r': 'signature R uses a non-canonical encoding',
  'sig-small-order-r': 'signature R has small order',
  'sig-mixed-order-r': 'signature R has a small-order component',
  'sig-mismatch': 'signature does not verify',
  'key-small-order-agreement': 'X25519 agreement key has small order',
};

/** A policy refusal as an error; `code` is the SignatureError code itself. */
export class SignaturePolicyError extends NorthstarCryptoError {
  constructor(readonly sigCode: SignatureCode) {
    super(sigCode, MESSAGES[sigCode], sigCode);
    this.name = 'SignaturePolicyError';
  }
}

type Which = 'key' | 'r';

const CODES: Record<Which, [SignatureCode, SignatureCode, SignatureCode, SignatureCode]> = {
  key: ['sig-invalid-key', 'sig-non-canonical-key', 'sig-small-order-key', 'sig-mixed-order-key'],
  r: ['sig-invalid-r', 'sig-non-canonical-r', 'sig-small-order-r', 'sig-mixed-order-r'],
};

/**
 * The point checks of sig.rs check_point, in its order. Decoding uses noble's
 * permissive (ZIP-215) decoder because it accepts exactly what dalek's
 * `decompress` accepts: any y below 2^255 (reduced mod p) and x = 0 with the
 * sign bit set. Such encodings are then caught as non-canonical, as in Rust,
 * instead of as invalid.
 */
function checkPoint(bytes: Uint8Array, which: Which): SignatureCode | undefined {
  const [invalid, nonCanonical, small, mixed] = CODES[which];
  if (bytes.length !== 32) return invalid;
  let point;
  try {
    point = ed25519.Point.fromBytes(bytes, true);
  } catch {
    return invalid;
  }
  if (!bytesEqual(point.toBytes(), bytes)) return nonCanonical;
  if (point.isSmallOrder()) return small;
  if (!point.isTorsionFree()) return mixed;
  return undefined;
}

/** The registration check (sig.rs check_public_key): the code of the refusal, or undefined. */
export function checkPublicKey(publicKey: Uint8Array): SignatureCode | undefined {
  return checkPoint(publicKey, 'key');
}

/**
 * The verdict of the policy: undefined if the signature is good, otherwise the
 * code of the first check that failed (key, then R, then the equation).
 */
export function verifyCode(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): SignatureCode | undefined {
  return checkPoint(publicKey, 'key') ?? verifyWithCheckedKey(publicKey, message, signature);
}

/** R, then the equation, for a key that already passed `checkPoint`. */
function verifyWithCheckedKey(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): SignatureCode | undefined {
  if (signature.length !== SIGNATURE_LEN) return 'sig-mismatch';
  const rError = checkPoint(signature.subarray(0, 32), 'r');
  if (rError) return rError;
  let ok = false;
  try {
    // zip215: false = RFC 8032 decoding plus noble's small-order key refusal;
    // an S of l or more is refused inside, as dalek's verify_strict does.
    ok = ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    ok = false;
  }
  return ok ? undefined : 'sig-mismatch';
}

/**
 * A public key that passed the registration check once (sig.rs VerifiedKey),
 * for verifying many signatures by one author.
 *
 * Rust's `VerifiedKey::verify` runs `verify_strict` without separate R
 * checks: with A canonical and torsion-free, what it accepts already has a
 * canonical, torsion-free R, and any bad R is reported as 'sig-mismatch'.
 * noble's cofactored equation would accept an R with a small-order component,
 * so here the R checks still run, but any refusal is reported as
 * 'sig-mismatch': the same verdict and the same code as Rust.
 */
export class VerifiedKey {
  private constructor(readonly bytes: Uint8Array) {}

  /** The key, or the code of the policy check it fails. */
  static check(publicKey: Uint8Array): VerifiedKey | SignatureCode {
    const code = checkPoint(publicKey, 'key');
    return code ?? new VerifiedKey(publicKey.slice());
  }

  /** undefined if good, else 'sig-mismatch'. */
  verifyCode(message: Uint8Array, signature: Uint8Array): SignatureCode | undefined {
    return verifyWithCheckedKey(this.bytes, message, signature) === undefined ? undefined : 'sig-mismatch';
  }
}

/** Verify under the policy; throws SignaturePolicyError with the code of the refusal. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void {
  const code = verifyCode(publicKey, message, signature);
  if (code) throw new SignaturePolicyError(code);
}

/** The Ed25519 public key of a 32-byte seed. */
export function publicKey(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

/** Sign (RFC 8032, deterministic: the same bytes as ed25519-dalek). */
export function sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}
