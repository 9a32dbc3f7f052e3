/**
 * Property-style tests over random inputs: tampering with any bit of a sealed
 * record is detected, and a record moved to another address is named as such.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from './kdf.js';
import { COMPARTMENTS, type Compartment } from './codes.js';
import { entryHash, HEADER_LEN, openRecord, sealRecord, SIGNATURE_LEN, verifyEntry, type RecordAddress } from './envelope.js';
import { generateCompartmentKey, Keyring, openGrant, sealGrant, type CompartmentRef } from './grant.js';
import { AuthorKey, generateMemberKeys, memberPublicKeys } from './identity.js';
import { verifyChain } from './chain.js';
import { codeOf, codeOfAsync } from './testing.js';

const ALL_COMPARTMENTS = Object.values(COMPARTMENTS) as Compartment[];

function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(Math.random() * xs.length)]!;
}

function randomAddress(): RecordAddress {
  return { org: randomBytes(16), case: randomBytes(16), compartment: pick(ALL_COMPARTMENTS), record: randomBytes(16) };
}

function ringFor(a: RecordAddress, ...keys: { generation: number; key: Uint8Array }[]): Keyring {
  const ring = new Keyring({ org: a.org, object: a.case, compartment: a.compartment });
  for (const k of keys) ring.insert(k);
  return ring;
}

function flipped(b: Uint8Array, bit: number): Uint8Array {
  const c = b.slice();
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
}

describe('every single-bit flip of a record is rejected', () => {
  const author = generateMemberKeys();
  // Checked once, as a client holds it from the membership chain.
  const authorPub = AuthorKey.from(memberPublicKeys(author));
  const key = generateCompartmentKey(3);
  const address = randomAddress();
  const ring = ringFor(address, key);
  const sealed = sealRecord({
    address,
    recordVersion: 2,
    position: { seq: 5n, prevHash: randomBytes(32) },
    key,
    author,
    plaintext: new TextEncoder().encode('safe house 7, room 2'),
  });

  it('the untouched record opens', () => {
    expect(new TextDecoder().decode(openRecord(sealed.entry, sealed.wrap, address, ring, authorPub).plaintext)).toBe('safe house 7, room 2');
  });

  const regions: [string, number, number][] = [
    ['header', 0, HEADER_LEN],
    ['ciphertext', HEADER_LEN, sealed.entry.length - SIGNATURE_LEN],
    ['signature', sealed.entry.length - SIGNATURE_LEN, sealed.entry.length],
  ];
  for (const [region, start, end] of regions) {
    it(`in the ${region} (${(end - start) * 8} flips)`, () => {
      const accepted: number[] = [];
      const codes = new Set<string>();
      for (let bit = start * 8; bit < end * 8; bit++) {
        const code = codeOf(() => openRecord(flipped(sealed.entry, bit), sealed.wrap, address, ring, authorPub));
        if (code === 'ok') accepted.push(bit);
        codes.add(code);
        // Every member can check an entry without the key: the signature catches the flip.
        expect(codeOf(() => verifyEntry(flipped(sealed.entry, bit), authorPub))).not.toBe('ok');
      }
      expect(accepted).toEqual([]);
      // A flip is refused as a broken structure, a foreign author or a bad signature, before any key is used.
      for (const c of codes) expect(['malformed', 'unsupported', 'unexpected-signer', 'signature']).toContain(c);
    });
  }

  it(`in the wrap (${sealed.wrap.length * 8} flips)`, () => {
    for (let bit = 0; bit < sealed.wrap.length * 8; bit++) {
      expect(codeOf(() => openRecord(sealed.entry, flipped(sealed.wrap, bit), address, ring, authorPub))).not.toBe('ok');
    }
  });

  it('a flipped entry no longer has the same chain hash', () => {
    const h = entryHash(sealed.entry);
    for (let bit = 0; bit < sealed.entry.length * 8; bit += 97) {
      expect(entryHash(flipped(sealed.entry, bit))).not.toEqual(h);
    }
  });
});

describe('a record opened at another address is a context mismatch', () => {
  const author = generateMemberKeys();
  const authorPub = AuthorKey.from(memberPublicKeys(author));

  it('over random records, plaintexts and addresses', () => {
    for (let i = 0; i < 40; i++) {
      const key = generateCompartmentKey(Math.floor(Math.random() * 5));
      const address = randomAddress();
      const plaintext = randomBytes(Math.floor(Math.random() * 600));
      const { entry, wrap } = sealRecord({
        address,
        recordVersion: 1 + Math.floor(Math.random() * 10),
        position: { seq: BigInt(Math.floor(Math.random() * 1000)), prevHash: randomBytes(32) },
        key,
        author,
        plaintext,
      });
      expect(openRecord(entry, wrap, address, ringFor(address, key), authorPub).plaintext).toEqual(plaintext);

      const otherCompartment = pick(ALL_COMPARTMENTS.filter((c) => c !== address.compartment));
      const moved: RecordAddress[] = [
        { ...address, org: randomBytes(16) },
        { ...address, case: randomBytes(16) },
        { ...address, compartment: otherCompartment },
        { ...address, record: randomBytes(16) },
      ];
      for (const m of moved) {
        // Whatever keyring the reader holds for the claimed address, the header names the truth.
        expect(codeOf(() => openRecord(entry, wrap, m, ringFor(m, key), authorPub))).toBe('context-mismatch');
      }
      // A keyring for another compartment than the address is refused too.
      const wrongRing = ringFor({ ...address, compartment: otherCompartment }, key);
      expect(codeOf(() => openRecord(entry, wrap, address, wrongRing, authorPub))).toBe('context-mismatch');
    }
  });

  it('the wrap of another record is refused as a context mismatch', () => {
    const key = generateCompartmentKey(0);
    const a = randomAddress();
    const b = { ...a, record: randomBytes(16) };
    const ra = sealRecord({ address: a, recordVersion: 1, position: { seq: 0n, prevHash: new Uint8Array(32) }, key, author, plaintext: randomBytes(10) });
    const rb = sealRecord({ address: b, recordVersion: 1, position: { seq: 1n, prevHash: entryHash(ra.entry) }, key, author, plaintext: randomBytes(10) });
    expect(codeOf(() => openRecord(ra.entry, rb.wrap, a, ringFor(a, key), authorPub))).toBe('context-mismatch');
    // …and the two entries make a valid chain.
    expect(verifyChain(a.org, a.case, undefined, [ra.entry, rb.entry])?.seq).toBe(1n);
  });
});

describe('grants over random keys', () => {
  it('seal → open round-trips, and a flip anywhere is refused', async () => {
    for (let i = 0; i < 5; i++) {
      const granter = generateMemberKeys();
      const recipient = generateMemberKeys();
      const target: CompartmentRef = { org: randomBytes(16), object: randomBytes(16), compartment: pick(ALL_COMPARTMENTS) };
      const key = generateCompartmentKey(i);
      const grant = await sealGrant(target, key, memberPublicKeys(recipient), granter);
      expect(grant.length).toBe(220);
      const opened = await openGrant(grant, target, recipient, memberPublicKeys(granter));
      expect(opened).toEqual(key);
      // Another member, or the granter itself, cannot open it.
      expect(await codeOfAsync(() => openGrant(grant, target, granter, memberPublicKeys(granter)))).toBe('not-recipient');
      for (let n = 0; n < 20; n++) {
        const bit = Math.floor(Math.random() * grant.length * 8);
        expect(await codeOfAsync(() => openGrant(flipped(grant, bit), target, recipient, memberPublicKeys(granter)))).not.toBe('ok');
      }
    }
  });
});
