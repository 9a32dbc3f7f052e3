/**
 * The one error type of the cryptographic core.
 *
 * `code` is the stable string of the Rust `code()` methods in
 * crates/northstar-crypto/src/error.rs (CryptoError, MembershipError,
 * ChainError, SignatureError), so both implementations can be held to the same
 * vectors and the UI can map a code to a sentence. Messages name the object and
 * what is wrong with it, never key material or plaintext.
 */

/** Codes of `SignatureError::code()`. */
export type SignatureCode =
  | 'sig-invalid-key'
  | 'sig-non-canonical-key'
  | 'sig-small-order-key'
  | 'sig-mixed-order-key'
  | 'sig-invalid-r'
  | 'sig-non-canonical-r'
  | 'sig-small-order-r'
  | 'sig-mixed-order-r'
  | 'sig-mismatch'
  /** Not an Ed25519 failure, but reported through the same key policy: an X25519 agreement key of small order. */
  | 'key-small-order-agreement';

/** Codes of `ChainError::code()`. */
export type ChainCode =
  | 'chain-gap'
  | 'chain-duplicate'
  | 'chain-reordered'
  | 'chain-broken-link'
  | 'chain-rollback'
  | 'chain-fork'
  | 'chain-foreign-entry';

/** Codes of `MembershipError::code()`. */
export type MembershipCode =
  | 'membership-empty'
  | 'membership-malformed'
  | 'membership-out-of-sequence'
  | 'membership-broken-link'
  | 'membership-foreign-org'
  | 'membership-bad-signature'
  | 'membership-signer-unknown'
  | 'membership-signer-removed'
  | 'membership-signer-not-admin'
  | 'membership-bad-genesis'
  | 'membership-already-member'
  | 'membership-name-taken'
  | 'membership-not-member'
  | 'membership-weak-key'
  | 'membership-last-admin'
  | 'membership-key-reused';

/** Codes of `CryptoError::code()`, which also passes chain and membership codes through. */
export type CryptoCode =
  | 'malformed'
  | 'unsupported'
  | 'decrypt'
  | 'key-commitment'
  | 'signature'
  | 'context-mismatch'
  | 'unknown-generation'
  | 'not-recipient'
  | 'unexpected-signer'
  | 'weak-public-key'
  | 'export'
  | ChainCode
  | MembershipCode;

export type ErrorCode = CryptoCode | SignatureCode;

export class NorthstarCryptoError extends Error {
  /** The stable code shared with the Rust core. */
  readonly code: ErrorCode;
  /**
   * For 'signature', 'weak-public-key', 'membership-bad-signature' and
   * 'membership-weak-key': the signature-policy code that caused it, as the
   * Rust variants carry their `source`.
   */
  readonly signatureCode: SignatureCode | undefined;

  constructor(code: ErrorCode, message: string, causeCode?: SignatureCode) {
    super(message);
    this.name = 'NorthstarCryptoError';
    this.code = code;
    this.signatureCode = causeCode;
  }
}

/** True if `e` is a Northstar error with this code. */
export function hasCode(e: unknown, code: ErrorCode): boolean {
  return e instanceof NorthstarCryptoError && e.code === code;
}

export function malformed(format: string, reason: string): NorthstarCryptoError {
  return new NorthstarCryptoError('malformed', `malformed ${format}: ${reason}`);
}

export function unsupported(format: string): NorthstarCryptoError {
  return new NorthstarCryptoError('unsupported', `unsupported ${format} version or suite`);
}

export function decryptFailed(format: string): NorthstarCryptoError {
  return new NorthstarCryptoError(
    'decrypt',
    `${format} does not decrypt: wrong key, or the data was altered`,
  );
}

export function contextMismatch(format: string, field: string): NorthstarCryptoError {
  return new NorthstarCryptoError(
    'context-mismatch',
    `${format} is bound to another ${field} than expected: it was moved or swapped`,
  );
}

export function signatureRefused(format: string, cause: SignatureCode): NorthstarCryptoError {
  return new NorthstarCryptoError('signature', `${format} signature refused: ${cause}`, cause);
}

export function unknownGeneration(generation: number): NorthstarCryptoError {
  return new NorthstarCryptoError(
    'unknown-generation',
    `no key for generation ${generation} of this compartment`,
  );
}
