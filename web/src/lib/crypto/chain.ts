/**
 * Each case's entries form one hash chain across all its compartments
 * (chain.rs). Every member can check the chain, readable compartments or not,
 * and remembers the highest head seen, so a server that drops, duplicates,
 * reorders, forks or rolls back entries is caught and named.
 */
import { bytesEqual } from './bytes.js';
import { NorthstarCryptoError, type ChainCode } from './errors.js';
import { entryHash, parseEntry } from './envelope.js';

/** The newest entry a client has verified for a case. */
export interface ChainHead {
  seq: bigint;
  hash: Uint8Array;
}

/** A chain error; `code` is the ChainError code, `seq` the entry it names. */
export class ChainError extends NorthstarCryptoError {
  constructor(
    code: ChainCode,
    message: string,
    readonly seq: bigint,
    /** For 'chain-gap' and 'chain-reordered': the entry that belonged here. */
    readonly expected?: bigint,
  ) {
    super(code, message);
    this.name = 'ChainError';
  }
}

function gap(expected: bigint, found: bigint): ChainError {
  return new ChainError(
    'chain-gap',
    `chain entry ${found} arrived where entry ${expected} belongs: entries ${expected}..${found} are missing`,
    found,
    expected,
  );
}

function reordered(expected: bigint, found: bigint): ChainError {
  return new ChainError(
    'chain-reordered',
    `chain entry ${found} appears where entry ${expected} belongs: entries are out of order`,
    found,
    expected,
  );
}

/** Verifies entries one by one as they arrive. */
export class ChainVerifier {
  private current: ChainHead | undefined;

  /** `head`: where the chain was verified up to before, if it was. */
  constructor(
    readonly org: Uint8Array,
    readonly kase: Uint8Array,
    head?: ChainHead,
  ) {
    this.current = head;
  }

  get head(): ChainHead | undefined {
    return this.current;
  }

  /** Check that `entry` is the next link of the chain and advance. */
  push(entry: Uint8Array): ChainHead {
    const header = parseEntry(entry);
    const hash = entryHash(entry);
    const seq = header.seq;
    if (!bytesEqual(header.address.org, this.org) || !bytesEqual(header.address.case, this.kase)) {
      throw new ChainError('chain-foreign-entry', `chain entry ${seq} belongs to another organization or case`, seq);
    }
    const h = this.current;
    const expected = h ? h.seq + 1n : 0n;
    if (seq !== expected) {
      if (h && seq === h.seq && bytesEqual(hash, h.hash)) {
        throw new ChainError('chain-duplicate', `chain entry ${seq} appears twice`, seq);
      }
      if (h && seq === h.seq) {
        throw new ChainError('chain-fork', `chain entry ${seq} differs from the one seen before: the server forked this case`, seq);
      }
      if (!h || seq > expected) throw gap(expected, seq);
      throw reordered(expected, seq);
    }
    const prev = h ? h.hash : new Uint8Array(32);
    if (!bytesEqual(header.prevHash, prev)) {
      throw new ChainError('chain-broken-link', `chain entry ${seq} does not link to the entry before it`, seq);
    }
    this.current = { seq, hash };
    return this.current;
  }
}

/**
 * Verify a whole served chain (or the part after `known`). When an entry is
 * missing where it should be but appears later in the list, the error says
 * the entries were reordered rather than dropped.
 */
export function verifyChain(
  org: Uint8Array,
  kase: Uint8Array,
  known: ChainHead | undefined,
  entries: readonly Uint8Array[],
): ChainHead | undefined {
  const v = new ChainVerifier(org, kase, known);
  for (let i = 0; i < entries.length; i++) {
    try {
      v.push(entries[i]!);
    } catch (err) {
      if (err instanceof ChainError && err.code === 'chain-gap' && err.expected !== undefined) {
        const expected = err.expected;
        const later = entries.slice(i + 1).some((e) => {
          try {
            return parseEntry(e).seq === expected;
          } catch {
            return false;
          }
        });
        if (later) throw reordered(expected, err.seq);
      }
      throw err;
    }
  }
  return v.head;
}

/** Compare the head a server reports with the highest one this client has seen. */
export function checkServedHead(known: ChainHead, served: ChainHead): void {
  if (served.seq < known.seq) {
    throw new ChainError(
      'chain-rollback',
      `chain head went back from entry ${known.seq} to entry ${served.seq}: the server rolled the case back`,
      served.seq,
    );
  }
  if (served.seq === known.seq && !bytesEqual(served.hash, known.hash)) {
    throw new ChainError('chain-fork', `chain entry ${served.seq} differs from the one seen before: the server forked this case`, served.seq);
  }
}
