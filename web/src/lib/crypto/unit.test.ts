/**
 * Unit tests of what the vectors do not reach: the byte reader, the word
 * rendering, name rules, the signature policy's mismatch paths, and chain and
 * membership edge cases built here.
 */
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { concat, fromHex, Reader, toHex, u64be, utf8, Writer } from './bytes.js';
import { deriveKey } from './kdf.js';
import { digestToWords, fingerprint, wordsMatch } from './words.js';
import { EFF_LARGE_WORDLIST } from './wordlist.js';
import * as sig from './sig.js';
import { ROLES } from './codes.js';
import { AuthorKey, generateMemberKeys, memberPublicKeys, type MemberPublicKeys } from './identity.js';
import { foundOrganization, linkHash, MembershipState, signLink, validName, type LinkAction } from './membership.js';
import { entryHash, sealRecord } from './envelope.js';
import { ChainVerifier, checkServedHead, verifyChain } from './chain.js';
import { generateCompartmentKey } from './grant.js';
import { openSlot, sealSlot } from './slot.js';
import { codeOf, readVectors } from './testing.js';
import { NorthstarCryptoError } from './errors.js';

describe('bytes', () => {
  it('hex round-trips and refuses bad input', () => {
    const b = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromHex(toHex(b))).toEqual(b);
    expect(fromHex('ABcd')).toEqual(Uint8Array.of(0xab, 0xcd));
    expect(() => fromHex('abc')).toThrow();
    expect(() => fromHex('zz')).toThrow();
  });

  it('writes big-endian integers, u64 beyond 2^53 exactly', () => {
    const w = new Writer().u8(1).u16(0x0203).u32(0x04050607).u64(0xfffffffffffffffen).finish();
    expect(toHex(w)).toBe('01' + '0203' + '04050607' + 'fffffffffffffffe');
    const r = new Reader(w, 'test');
    expect([r.u8(), r.u16(), r.u32(), r.u64()]).toEqual([1, 0x0203, 0x04050607, 0xfffffffffffffffen]);
    r.finish();
    expect(() => u64be(-1n)).toThrow(RangeError);
    expect(() => new Writer().u32(2 ** 32)).toThrow(RangeError);
  });

  it('truncation and trailing bytes are malformed', () => {
    expect(codeOf(() => new Reader(new Uint8Array(3), 'x').u32())).toBe('malformed');
    expect(codeOf(() => new Reader(new Uint8Array(3), 'x').finish())).toBe('malformed');
    expect(codeOf(() => new Reader(utf8.encode('NSSL\x02'), 'x').expectMagic('NSSL', 1))).toBe('unsupported');
    expect(codeOf(() => new Reader(utf8.encode('NSSM\x01'), 'x').expectMagic('NSSL', 1))).toBe('malformed');
  });

  it('strict UTF-8 keeps a byte-order mark and refuses bad sequences', () => {
    expect(utf8.decodeStrict(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61))).toBe('\ufeffa');
    expect(utf8.decodeStrict(Uint8Array.of(0xc0, 0x80))).toBeUndefined();
    expect(utf8.decodeStrict(Uint8Array.of(0xed, 0xa0, 0x80))).toBeUndefined();
  });
});

describe('kdf', () => {
  it('is HKDF-SHA256 with an empty salt (RFC 5869 test case 3 shape)', () => {
    // RFC 5869 A.3: IKM = 0x0b*22, salt and info empty, L = 42; our info is label ‖ context.
    const okm = deriveKey(new Uint8Array(22).fill(0x0b), new Uint8Array(0));
    expect(toHex(okm)).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d');
  });
});

describe('words', () => {
  it('renders base 7776, most significant word first', () => {
    const zero = new Uint8Array(32);
    expect(digestToWords(zero, 8)).toEqual(Array(8).fill('abacus'));
    const one = new Uint8Array(32);
    one[15] = 1;
    expect(digestToWords(one, 3)).toEqual(['abacus', 'abacus', EFF_LARGE_WORDLIST[1]]);
    const n = new Uint8Array(32);
    // 7776 = 0x1e60 → digits [.., 1, 0]
    n[14] = 0x1e;
    n[15] = 0x60;
    expect(digestToWords(n, 2)).toEqual([EFF_LARGE_WORDLIST[1], 'abacus']);
    expect(() => digestToWords(n, 10)).toThrow(RangeError);
  });

  it('typed words match loosely on spacing and case, strictly on words', () => {
    const fp = fingerprint('member', new Uint8Array(64).fill(7));
    expect(fp).toHaveLength(8);
    expect(wordsMatch(fp, fp.join('  ').toUpperCase())).toBe(true);
    expect(wordsMatch(fp, fp.join('-'))).toBe(true);
    expect(wordsMatch(fp, fp.join(',\u00a0'))).toBe(true);
    expect(wordsMatch(fp, fp.slice(0, 7).join(' '))).toBe(false);
    const wrong = [...fp];
    wrong[3] = wrong[3] === 'zoom' ? 'abacus' : 'zoom';
    expect(wordsMatch(fp, wrong.join(' '))).toBe(false);
    expect(fingerprint('org', new Uint8Array(64).fill(7))).not.toEqual(fp);
  });
});

describe('signature policy', () => {
  const seed = new Uint8Array(32).fill(42);
  const pk = sig.publicKey(seed);
  const msg = utf8.encode('hello');
  const good = sig.sign(seed, msg);

  it('a fresh signature verifies; a changed message does not', () => {
    expect(sig.verifyCode(pk, msg, good)).toBeUndefined();
    expect(sig.verifyCode(pk, utf8.encode('hellp'), good)).toBe('sig-mismatch');
    expect(() => sig.verify(pk, utf8.encode('hellp'), good)).toThrow(sig.SignaturePolicyError);
  });

  it('an S of l or more is a mismatch (no malleability)', () => {
    const l = ed25519.Point.CURVE().n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(good[32 + i]!);
    const s2 = s + l;
    const bad = good.slice();
    for (let i = 0; i < 32; i++) bad[32 + i] = Number((s2 >> BigInt(8 * i)) & 0xffn);
    expect(sig.verifyCode(pk, msg, bad)).toBe('sig-mismatch');
  });

  it('a key or R that is not a point is invalid, key first', () => {
    // y = 2 has no x on the curve.
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    expect(sig.checkPublicKey(notAPoint)).toBe('sig-invalid-key');
    const badR = concat(notAPoint, good.subarray(32));
    expect(sig.verifyCode(pk, msg, badR)).toBe('sig-invalid-r');
    expect(sig.verifyCode(notAPoint, msg, badR)).toBe('sig-invalid-key');
  });

  it('the identity point is a small-order key; its -0 encoding is non-canonical', () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(sig.checkPublicKey(identity)).toBe('sig-small-order-key');
    const negZero = identity.slice();
    negZero[31] = 0x80;
    expect(sig.checkPublicKey(negZero)).toBe('sig-non-canonical-key');
  });
});

describe('membership edge cases', () => {
  const rootSeed = new Uint8Array(32).fill(1);
  const org = new Uint8Array(16).fill(2);
  const member = (n: number): { account: Uint8Array; keys: MemberPublicKeys; seed: Uint8Array } => {
    const k = { signingSeed: new Uint8Array(32).fill(10 + n), agreementSecret: new Uint8Array(32).fill(100 + n) };
    return { account: new Uint8Array(16).fill(n), keys: memberPublicKeys(k), seed: k.signingSeed };
  };
  const ada = member(1);
  const bob = member(2);

  function extend(links: Uint8Array[], action: LinkAction, signer: Uint8Array): Uint8Array[] {
    const state = MembershipState.verify(sig.publicKey(rootSeed), links);
    return [...links, signLink(state.nextLink(1n, action), signer)];
  }

  it('names follow Rust: no control characters, no White_Space at the ends, at most 64 bytes', () => {
    expect(validName('Ada Lovelace')).toBe(true);
    expect(validName('')).toBe(false);
    expect(validName(' ada')).toBe(false);
    expect(validName('ada\u00a0')).toBe(false);
    expect(validName('a\u0007b')).toBe(false);
    expect(validName('a\u0085')).toBe(false);
    // U+FEFF is not White_Space (JS trim would strip it; Rust keeps it).
    expect(validName('\ufeffada')).toBe(true);
    expect(validName('é'.repeat(32))).toBe(true);
    expect(validName('é'.repeat(33))).toBe(false);
  });

  it('admins manage members; the last admin cannot leave', () => {
    let links = foundOrganization(org, 'Org', rootSeed, 1n, { account: ada.account, name: 'ada', keys: ada.keys });
    links = extend(links, { type: 'add', account: bob.account, name: 'bob', role: ROLES.caseworker, keys: bob.keys }, ada.seed);
    const root = sig.publicKey(rootSeed);
    // bob is not an admin.
    const byBob = extend(links, { type: 'change-role', account: bob.account, role: ROLES.admin }, bob.seed);
    expect(codeOf(() => MembershipState.verify(root, byBob))).toBe('membership-signer-not-admin');
    // ada cannot demote or remove herself while she is the only admin.
    expect(codeOf(() => extend(links, { type: 'change-role', account: ada.account, role: ROLES.approver }, ada.seed).length)).toBe('ok');
    const demoted = extend(links, { type: 'change-role', account: ada.account, role: ROLES.approver }, ada.seed);
    expect(codeOf(() => MembershipState.verify(root, demoted))).toBe('membership-last-admin');
    // Once bob is an admin, ada may go, and then her key signs nothing more.
    const promoted = extend(links, { type: 'change-role', account: bob.account, role: ROLES.admin }, ada.seed);
    const removed = extend(promoted, { type: 'remove', account: ada.account }, bob.seed);
    const s = MembershipState.verify(root, removed);
    expect(s.members().map((m) => m.name)).toEqual(['bob']);
    expect(s.wasRemoved(ada.account)).toBe(true);
    const byAda = extend(removed, { type: 'change-role', account: bob.account, role: ROLES.auditor }, ada.seed);
    expect(codeOf(() => MembershipState.verify(root, byAda))).toBe('membership-signer-removed');
    // A failed apply leaves the state unchanged.
    const before = s.head;
    expect(codeOf(() => s.apply(byAda[byAda.length - 1]!))).toBe('membership-signer-removed');
    expect(s.head).toEqual(before);
    expect(s.len).toBe(BigInt(removed.length));
    expect(linkHash(removed[removed.length - 1]!)).toEqual(s.head);
  });

  it('a key is registered once: not the root key, not both halves equal, not a former member\'s', () => {
    const root = sig.publicKey(rootSeed);
    const links = foundOrganization(org, 'Org', rootSeed, 1n, { account: ada.account, name: 'ada', keys: ada.keys });
    const carl = member(3);
    const cases: [string, MemberPublicKeys][] = [
      ['root key as signing key', { signing: root, agreement: carl.keys.agreement }],
      ["ada's agreement key", { signing: carl.keys.signing, agreement: ada.keys.agreement }],
      ['signing key used as agreement key', { signing: carl.keys.signing, agreement: carl.keys.signing }],
    ];
    for (const [name, keys] of cases) {
      const next = extend(links, { type: 'add', account: carl.account, name: 'carl', role: ROLES.intake, keys }, ada.seed);
      expect([name, codeOf(() => MembershipState.verify(root, next))]).toEqual([name, 'membership-key-reused']);
    }
  });

  it('a small-order agreement key is a weak key, named as such', () => {
    const links = foundOrganization(org, 'Org', rootSeed, 1n, { account: ada.account, name: 'ada', keys: ada.keys });
    const carl = member(3);
    // u = 1 has order 4 on Curve25519 (0 and p-1 are the other obvious ones).
    const weak = { signing: carl.keys.signing, agreement: fromHex('01' + '00'.repeat(31)) };
    const next = extend(links, { type: 'add', account: carl.account, name: 'carl', role: ROLES.intake, keys: weak }, ada.seed);
    try {
      MembershipState.verify(sig.publicKey(rootSeed), next);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NorthstarCryptoError);
      expect((e as NorthstarCryptoError).code).toBe('membership-weak-key');
      expect((e as NorthstarCryptoError).signatureCode).toBe('key-small-order-agreement');
    }
  });

  it('a removed member is still found by key id, with the link that removed them', () => {
    const root = sig.publicKey(rootSeed);
    let links = foundOrganization(org, 'Org', rootSeed, 1n, { account: ada.account, name: 'ada', keys: ada.keys });
    links = extend(links, { type: 'add', account: bob.account, name: 'bob', role: ROLES.caseworker, keys: bob.keys }, ada.seed);
    links = extend(links, { type: 'remove', account: bob.account }, ada.seed);
    const s = MembershipState.verify(root, links);
    const bobId = AuthorKey.from(bob.keys).keyId;
    expect(s.memberByKeyId(bobId)).toBeUndefined();
    const found = s.authorByKeyId(bobId);
    expect(found?.member.name).toBe('bob');
    expect(found?.removedAt).toBe(3n);
    expect(s.authorByKeyId(AuthorKey.from(ada.keys).keyId)?.removedAt).toBeUndefined();
  });

  it('a second create link is malformed', () => {
    const links = foundOrganization(org, 'Org', rootSeed, 1n, { account: ada.account, name: 'ada', keys: ada.keys });
    const again = extend(links, { type: 'create', orgName: 'Other' }, rootSeed);
    expect(codeOf(() => MembershipState.verify(sig.publicKey(rootSeed), again))).toBe('membership-malformed');
  });
});

describe('chain edge cases', () => {
  const author = generateMemberKeys();
  const key = generateCompartmentKey(0);
  const org = new Uint8Array(16).fill(1);
  const kase = new Uint8Array(16).fill(2);
  const entries: Uint8Array[] = [];
  let prev: Uint8Array = new Uint8Array(32);
  for (let i = 0; i < 4; i++) {
    const { entry } = sealRecord({
      address: { org, case: kase, compartment: 1, record: new Uint8Array(16).fill(i) },
      recordVersion: 1,
      position: { seq: BigInt(i), prevHash: prev },
      key,
      author,
      plaintext: Uint8Array.of(i),
    });
    entries.push(entry);
    prev = entryHash(entry);
  }
  const [e0, e1, e2, e3] = entries as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

  it('a missing entry that appears later is a reordering, one that never appears a gap', () => {
    expect(codeOf(() => verifyChain(org, kase, undefined, [e0, e2, e1, e3]))).toBe('chain-reordered');
    expect(codeOf(() => verifyChain(org, kase, undefined, [e0, e2, e3]))).toBe('chain-gap');
    expect(codeOf(() => verifyChain(org, kase, undefined, [e0, e1, e1]))).toBe('chain-duplicate');
  });

  it('a different entry at a seen position is a fork; an older one a reordering', () => {
    const v = new ChainVerifier(org, kase);
    v.push(e0);
    v.push(e1);
    const other = sealRecord({
      address: { org, case: kase, compartment: 1, record: new Uint8Array(16) },
      recordVersion: 2,
      position: { seq: 1n, prevHash: entryHash(e0) },
      key,
      author,
      plaintext: Uint8Array.of(9),
    }).entry;
    expect(codeOf(() => v.push(other))).toBe('chain-fork');
    expect(codeOf(() => v.push(e0))).toBe('chain-reordered');
    expect(v.head?.seq).toBe(1n);
  });

  it('served heads: ahead is fine, behind is a rollback, same seq other hash a fork', () => {
    const known = { seq: 2n, hash: entryHash(e2) };
    expect(codeOf(() => checkServedHead(known, { seq: 3n, hash: entryHash(e3) }))).toBe('ok');
    expect(codeOf(() => checkServedHead(known, { seq: 1n, hash: entryHash(e1) }))).toBe('chain-rollback');
    expect(codeOf(() => checkServedHead(known, { seq: 2n, hash: entryHash(e1) }))).toBe('chain-fork');
  });
});

describe('vector files', () => {
  it('a missing file is a loud failure, never a skip', () => {
    expect(() => readVectors('no-such-file.json')).toThrow(/missing/);
  });
});

describe('error messages', () => {
  it('never carry key material', () => {
    const secret = new Uint8Array(64).fill(0xab);
    const account = new Uint8Array(16).fill(3);
    const root = new Uint8Array(32).fill(0xcd);
    const slot = sealSlot({ kind: 'password', unlockSecret: secret, accountId: account, slotId: new Uint8Array(16), rootKey: root });
    try {
      openSlot(slot, 'password', new Uint8Array(64).fill(0xee), account);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NorthstarCryptoError);
      const m = (e as Error).message;
      for (const needle of ['abab', 'cdcd', 'eeee', 'ABAB']) expect(m).not.toContain(needle);
    }
  });
});
