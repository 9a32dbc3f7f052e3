/**
 * Live round trips between this TypeScript core and the Rust core, through
 * the `interop` example of northstar-crypto (crates/northstar-crypto/examples/
 * interop.rs): one JSON request on stdin, one JSON response on stdout.
 *
 * The binary comes from NORTHSTAR_INTEROP_BIN, which `cargo xtask test` sets
 * after building it. Without it these tests fail: they are never skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from './bytes.js';
import { COMPARTMENTS, type Compartment } from './codes.js';
import { openRecord, sealRecord, type RecordAddress } from './envelope.js';
import { generateCompartmentKey, Keyring, openGrant, sealGrant, type CompartmentKey, type CompartmentRef } from './grant.js';
import { generateMemberKeys, keyId, memberPublicKeys, type MemberPublicKeys, type MemberSecretKeys } from './identity.js';
import {
  accessHash,
  codenameKeys,
  deriveIntakeKeyPair,
  generateCodename,
  openSealed,
  sealReply,
  sealRequest,
  sealStaffNote,
  type Codename,
  type IntakeKeyPair,
} from './intake.js';
import { randomBytes } from './kdf.js';
import { codeOf, codeOfAsync } from './testing.js';

type Json = Record<string, unknown>;

function interopBin(): string {
  const bin = process.env.NORTHSTAR_INTEROP_BIN;
  if (!bin) {
    throw new Error(
      'NORTHSTAR_INTEROP_BIN is not set, so the live Rust ↔ TypeScript interop tests cannot run. ' +
        'Run `cargo xtask test`: it builds the interop example of northstar-crypto and runs these tests against it.',
    );
  }
  if (!existsSync(bin)) {
    throw new Error(`NORTHSTAR_INTEROP_BIN=${bin} does not exist: run \`cargo xtask test\` to build it.`);
  }
  return bin;
}

interface RustResult {
  ok: boolean;
  body: Json;
}

/** One request to the Rust side. A failure answer ({"error","message"}, exit 1) is returned, not thrown. */
function rust(request: Json): RustResult {
  const run = spawnSync(interopBin(), [], { input: JSON.stringify(request), encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  const out = run.stdout.trim();
  let body: Json;
  try {
    body = JSON.parse(out) as Json;
  } catch {
    throw new Error(`interop binary answered ${JSON.stringify(request.op)} with no JSON (status ${run.status}): ${run.stderr}`);
  }
  if (run.status === 0 && !('error' in body)) return { ok: true, body };
  if (run.status === 1 && typeof body.error === 'string') return { ok: false, body };
  throw new Error(`interop binary failed on ${JSON.stringify(request.op)} (status ${run.status}): ${run.stderr}`);
}

function rustOk(request: Json): Json {
  const r = rust(request);
  if (!r.ok) throw new Error(`Rust refused ${JSON.stringify(request.op)}: ${String(r.body.error)}: ${String(r.body.message)}`);
  return r.body;
}

function str(body: Json, field: string): string {
  const v = body[field];
  if (typeof v !== 'string') throw new Error(`interop answer lacks ${field}`);
  return v;
}

const secretJson = (k: MemberSecretKeys) => ({ signing_seed: toHex(k.signingSeed), agreement_secret: toHex(k.agreementSecret) });
const publicJson = (k: MemberPublicKeys) => ({ signing: toHex(k.signing), agreement: toHex(k.agreement) });

/** A member whose keys Rust generated. */
function rustMember(): { secret: MemberSecretKeys; public: MemberPublicKeys } {
  const k = rustOk({ op: 'keygen' });
  const secret = { signingSeed: fromHex(str(k, 'signing_seed')), agreementSecret: fromHex(str(k, 'agreement_secret')) };
  const pub = memberPublicKeys(secret);
  // The public keys and key id Rust derives are the ones TypeScript derives.
  expect(toHex(pub.signing)).toBe(str(k, 'signing'));
  expect(toHex(pub.agreement)).toBe(str(k, 'agreement'));
  expect(toHex(keyId(pub))).toBe(str(k, 'key_id'));
  return { secret, public: pub };
}

const COMPARTMENT_CODES = Object.values(COMPARTMENTS) as Compartment[];

function randomAddress(i: number): RecordAddress {
  return { org: randomBytes(16), case: randomBytes(16), compartment: COMPARTMENT_CODES[i % COMPARTMENT_CODES.length]!, record: randomBytes(16) };
}

function addressJson(a: RecordAddress) {
  return { org_id: toHex(a.org), case_id: toHex(a.case), compartment: a.compartment, record_id: toHex(a.record) };
}

function ringFor(a: RecordAddress, key: { generation: number; key: Uint8Array }): Keyring {
  const ring = new Keyring({ org: a.org, object: a.case, compartment: a.compartment });
  ring.insert(key);
  return ring;
}

describe('live interop with the Rust core', () => {
  it('the interop binary is there (set by `cargo xtask test`)', () => {
    expect(existsSync(interopBin())).toBe(true);
  });

  it('keygen: Rust keys derive the same public keys and key id here', () => {
    rustMember();
  });

  it('records: TypeScript seals, Rust opens', () => {
    const author = generateMemberKeys();
    for (let i = 0; i < 4; i++) {
      const address = randomAddress(i);
      const key = generateCompartmentKey(i * 3);
      const plaintext = randomBytes(i * 700);
      const seq = BigInt(i) * 1_000_000_000_000n; // beyond 2^32, to exercise u64 on both sides
      const sealed = sealRecord({ address, recordVersion: i + 1, position: { seq, prevHash: randomBytes(32) }, key, author, plaintext });
      const opened = rustOk({
        op: 'open-record',
        entry: toHex(sealed.entry),
        wrap: toHex(sealed.wrap),
        ...addressJson(address),
        generation: key.generation,
        compartment_key: toHex(key.key),
        author: publicJson(memberPublicKeys(author)),
      });
      expect(str(opened, 'plaintext')).toBe(toHex(plaintext));
      expect(opened.seq).toBe(Number(seq));
    }
  });

  it('records: Rust seals, TypeScript opens', () => {
    const author = rustMember();
    for (let i = 0; i < 4; i++) {
      const address = randomAddress(i + 3);
      const key = generateCompartmentKey(i);
      const plaintext = randomBytes(1 + i * 333);
      const prevHash = randomBytes(32);
      const sealed = rustOk({
        op: 'seal-record',
        ...addressJson(address),
        record_version: 7,
        seq: 41 + i,
        prev_hash: toHex(prevHash),
        generation: key.generation,
        compartment_key: toHex(key.key),
        author: secretJson(author.secret),
        plaintext: toHex(plaintext),
      });
      const opened = openRecord(fromHex(str(sealed, 'entry')), fromHex(str(sealed, 'wrap')), address, ringFor(address, key), author.public);
      expect(opened.plaintext).toEqual(plaintext);
      expect(opened.header.seq).toBe(BigInt(41 + i));
      expect(opened.header.recordVersion).toBe(7);
      expect(opened.header.prevHash).toEqual(prevHash);
    }
  });

  it('records: both sides refuse a tampered or moved record with the same code', () => {
    const author = generateMemberKeys();
    const address = randomAddress(1);
    const key = generateCompartmentKey(2);
    const sealed = sealRecord({ address, recordVersion: 1, position: { seq: 0n, prevHash: new Uint8Array(32) }, key, author, plaintext: randomBytes(40) });
    const flipped = (b: Uint8Array, at: number) => {
      const c = b.slice();
      c[at]! ^= 0x10;
      return c;
    };
    const otherCompartment = COMPARTMENT_CODES.find((c) => c !== address.compartment)!;
    const cases: [string, Uint8Array, Uint8Array, RecordAddress, MemberPublicKeys?][] = [
      ['ciphertext flipped', flipped(sealed.entry, 190), sealed.wrap, address],
      ['signature flipped', flipped(sealed.entry, sealed.entry.length - 1), sealed.wrap, address],
      ['wrap flipped', sealed.entry, flipped(sealed.wrap, 100), address],
      ['truncated', sealed.entry.subarray(0, 100), sealed.wrap, address],
      ['other case', sealed.entry, sealed.wrap, { ...address, case: randomBytes(16) }],
      ['other compartment', sealed.entry, sealed.wrap, { ...address, compartment: otherCompartment }],
      ['another author', sealed.entry, sealed.wrap, address, memberPublicKeys(generateMemberKeys())],
      // The identity point as a signing key: refused before anything is read.
      ['small-order author key', sealed.entry, sealed.wrap, address, { signing: fromHex('01' + '00'.repeat(31)), agreement: memberPublicKeys(author).agreement }],
    ];
    for (const [name, entry, wrap, at, who = memberPublicKeys(author)] of cases) {
      const ts = codeOf(() => openRecord(entry, wrap, at, ringFor(at, key), who));
      const r = rust({
        op: 'open-record',
        entry: toHex(entry),
        wrap: toHex(wrap),
        ...addressJson(at),
        generation: key.generation,
        compartment_key: toHex(key.key),
        author: publicJson(who),
      });
      expect(r.ok, name).toBe(false);
      expect([name, ts]).toEqual([name, r.body.error]);
    }
  });

  it('grants: TypeScript grants, Rust opens', async () => {
    const granter = generateMemberKeys();
    const recipient = rustMember();
    for (let i = 0; i < 3; i++) {
      const target: CompartmentRef = { org: randomBytes(16), object: randomBytes(16), compartment: COMPARTMENT_CODES[i]! };
      const key = generateCompartmentKey(i * 5);
      const grant = await sealGrant(target, key, recipient.public, granter);
      const opened = rustOk({
        op: 'open-grant',
        grant: toHex(grant),
        org_id: toHex(target.org),
        object_id: toHex(target.object),
        compartment: target.compartment,
        recipient: secretJson(recipient.secret),
        granter: publicJson(memberPublicKeys(granter)),
      });
      expect(str(opened, 'key')).toBe(toHex(key.key));
      expect(opened.generation).toBe(key.generation);
    }
  });

  it('grants: Rust grants, TypeScript opens', async () => {
    const granter = rustMember();
    const recipient = generateMemberKeys();
    for (let i = 0; i < 3; i++) {
      const target: CompartmentRef = { org: randomBytes(16), object: randomBytes(16), compartment: COMPARTMENT_CODES[i + 4]! };
      const key = generateCompartmentKey(i + 1);
      const sealed = rustOk({
        op: 'seal-grant',
        org_id: toHex(target.org),
        object_id: toHex(target.object),
        compartment: target.compartment,
        generation: key.generation,
        key: toHex(key.key),
        recipient: publicJson(memberPublicKeys(recipient)),
        granter: secretJson(granter.secret),
      });
      const grant = fromHex(str(sealed, 'grant'));
      expect(grant.length).toBe(220);
      const opened = await openGrant(grant, target, recipient, granter.public);
      expect(opened).toEqual(key);
      // The same refusals on both sides: another compartment, another recipient.
      const other = { ...target, compartment: COMPARTMENT_CODES[(i + 5) % COMPARTMENT_CODES.length]! };
      expect(await codeOfAsync(() => openGrant(grant, other, recipient, granter.public))).toBe('context-mismatch');
      const stranger = generateMemberKeys();
      const ts = await codeOfAsync(() => openGrant(grant, target, stranger, granter.public));
      const r = rust({
        op: 'open-grant',
        grant: toHex(grant),
        org_id: toHex(target.org),
        object_id: toHex(target.object),
        compartment: target.compartment,
        recipient: secretJson(stranger),
        granter: publicJson(granter.public),
      });
      expect(ts).toBe('not-recipient');
      expect(r.body.error).toBe(ts);
    }
  });
});

/** Where an intake message is sealed to: the org, the conversation, and the desk key Rust derives the intake key from. */
interface IntakeTarget {
  org: Uint8Array;
  conversation: Uint8Array;
  desk: CompartmentKey;
  keys: IntakeKeyPair;
}

async function randomIntakeTarget(generation: number): Promise<IntakeTarget> {
  const org = randomBytes(16);
  const desk = generateCompartmentKey(generation);
  return { org, conversation: randomBytes(16), desk, keys: await deriveIntakeKeyPair(org, desk) };
}

function intakeJson(t: Pick<IntakeTarget, 'org' | 'conversation' | 'desk'>) {
  return { org_id: toHex(t.org), conversation_id: toHex(t.conversation), generation: t.desk.generation, desk_key: toHex(t.desk.key) };
}

function flipped(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  c[at < 0 ? c.length + at : at]! ^= 0x10;
  return c;
}

function withByte(b: Uint8Array, at: number, value: number): Uint8Array {
  const c = b.slice();
  c[at] = value;
  return c;
}

describe('live interop with the Rust core: the public intake', () => {
  it('intake messages: TypeScript seals, Rust opens (requests and staff notes)', async () => {
    const author = generateMemberKeys();
    for (let i = 0; i < 3; i++) {
      const target = await randomIntakeTarget(i * 4);
      const plaintext = randomBytes(i * 900); // the first one empty
      const request = await sealRequest(target.org, target.desk.generation, target.keys.publicKey, target.conversation, plaintext);
      expect(rustOk({ op: 'intake-open', ...intakeJson(target), sealed: toHex(request) })).toEqual({
        by: 'requester',
        author: null,
        plaintext: toHex(plaintext),
      });
      const note = await sealStaffNote(target.org, target.desk.generation, target.keys.publicKey, target.conversation, plaintext, author);
      const opened = rustOk({ op: 'intake-open', ...intakeJson(target), sealed: toHex(note), author: publicJson(memberPublicKeys(author)) });
      expect(opened).toEqual({ by: 'staff', author: toHex(keyId(memberPublicKeys(author))), plaintext: toHex(plaintext) });
    }
  });

  it('intake messages: Rust seals, TypeScript opens (requests and staff notes)', async () => {
    const author = rustMember();
    for (let i = 0; i < 3; i++) {
      const target = await randomIntakeTarget(i + 1);
      const plaintext = randomBytes(1 + i * 700);
      const request = rustOk({ op: 'intake-seal', ...intakeJson(target), plaintext: toHex(plaintext) });
      // Rust derives the same intake key from the desk key as this side.
      expect(str(request, 'intake_public')).toBe(toHex(target.keys.publicKey));
      const openedRequest = await openSealed(target.org, target.conversation, target.keys, fromHex(str(request, 'sealed')));
      expect(openedRequest).toEqual({ by: 'requester', author: undefined, plaintext });
      const note = rustOk({ op: 'intake-seal', ...intakeJson(target), plaintext: toHex(plaintext), author: secretJson(author.secret) });
      const openedNote = await openSealed(target.org, target.conversation, target.keys, fromHex(str(note, 'sealed')), author.public);
      expect(openedNote).toEqual({ by: 'staff', author: keyId(author.public), plaintext });
    }
  });

  it('intake messages: both sides refuse a tampered or misdirected message with the same code', async () => {
    const target = await randomIntakeTarget(6);
    const author = rustMember();
    const stranger = memberPublicKeys(generateMemberKeys());
    const plaintext = randomBytes(60);
    // Each side's own sealing, so the refusals are checked on bytes either one wrote.
    const sealedBy: [string, Uint8Array, Uint8Array][] = [
      [
        'TypeScript',
        await sealRequest(target.org, target.desk.generation, target.keys.publicKey, target.conversation, plaintext),
        await sealStaffNote(target.org, target.desk.generation, target.keys.publicKey, target.conversation, plaintext, author.secret),
      ],
      [
        'Rust',
        fromHex(str(rustOk({ op: 'intake-seal', ...intakeJson(target), plaintext: toHex(plaintext) }), 'sealed')),
        fromHex(str(rustOk({ op: 'intake-seal', ...intakeJson(target), plaintext: toHex(plaintext), author: secretJson(author.secret) }), 'sealed')),
      ],
    ];
    const elsewhere = { ...target, conversation: randomBytes(16) };
    const otherOrg = randomBytes(16);
    const otherOrganization = { ...target, org: otherOrg, keys: await deriveIntakeKeyPair(otherOrg, target.desk) };
    const nextDesk = generateCompartmentKey(7);
    const nextGeneration = { ...target, desk: nextDesk, keys: await deriveIntakeKeyPair(target.org, nextDesk) };
    for (const [sealer, request, note] of sealedBy) {
      type Case = [name: string, sealed: Uint8Array, expected: string, at?: IntakeTarget, who?: MemberPublicKeys];
      // A staff note is checked by its signature first, so its tampering is refused there.
      const cases: Case[] = [
        ['request: ciphertext flipped', flipped(request, 50), 'decrypt'],
        ['request: tag flipped', flipped(request, -1), 'decrypt'],
        ['request: ephemeral key flipped', flipped(request, 20), 'decrypt'],
        ['request: generation relabelled', withByte(request, 9, 7), 'unknown-generation'],
        ['request: relabelled and opened with that generation', withByte(request, 9, 7), 'decrypt', nextGeneration],
        ['request: unknown author kind', withByte(request, 5, 3), 'malformed'],
        ['request: wrong magic', withByte(request, 0, 0x58), 'malformed'],
        ['request: version 2', withByte(request, 4, 2), 'unsupported'],
        ['request: truncated', request.subarray(0, 40), 'malformed'],
        ['request: other conversation', request, 'decrypt', elsewhere],
        ['request: other organization', request, 'decrypt', otherOrganization],
        ['note: ciphertext flipped', flipped(note, 50), 'signature', target, author.public],
        ['note: key id flipped', flipped(note, -70), 'unexpected-signer', target, author.public],
        ['note: signature flipped', flipped(note, -1), 'signature', target, author.public],
        ['note: another author', note, 'unexpected-signer', target, stranger],
        ['note: no author given', note, 'unexpected-signer', target],
        ['note: truncated', note.subarray(0, 100), 'malformed', target, author.public],
        ['note: other conversation', note, 'signature', elsewhere, author.public],
      ];
      for (const [name, sealed, expected, at = target, who] of cases) {
        const ts = await codeOfAsync(() => openSealed(at.org, at.conversation, at.keys, sealed, who));
        const r = rust({ op: 'intake-open', ...intakeJson(at), sealed: toHex(sealed), ...(who ? { author: publicJson(who) } : {}) });
        expect(r.ok, `${sealer}: ${name}`).toBe(false);
        expect([`${sealer}: ${name}`, ts, r.body.error]).toEqual([`${sealer}: ${name}`, expected, expected]);
      }
    }
  });

  it('codename keys: a codename made here derives the same access secret, access hash and reply key in Rust', async () => {
    const org = randomBytes(16);
    const codename = generateCodename();
    const keys = await codenameKeys(codename, org);
    // Typed back in capitals with dashes, Rust must read it to the same words, hence the same keys.
    for (const typed of [codename, codename.toUpperCase().replaceAll(' ', ' - ')]) {
      expect(rustOk({ op: 'intake-codename-keys', codename: typed, org_id: toHex(org) })).toEqual({
        codename,
        access: toHex(keys.access),
        access_hash: toHex(accessHash(keys.access)),
        reply_public: toHex(keys.replyPublic),
      });
    }
    // The organization salts the derivation, in Rust as here.
    const elsewhere = rustOk({ op: 'intake-codename-keys', codename, org_id: toHex(randomBytes(16)) });
    expect(str(elsewhere, 'access')).not.toBe(toHex(keys.access));
    // Words off the list are refused by Rust as they are here.
    expect(rust({ op: 'intake-codename-keys', codename: 'not real words at all here friend', org_id: toHex(org) }).body.error).toBe('malformed');
  });

  it('replies: Rust seals to a codename made here, TypeScript opens; and the other way', async () => {
    const org = randomBytes(16);
    const codename = generateCodename();
    const keys = await codenameKeys(codename, org);
    for (let i = 0; i < 2; i++) {
      const conversation = randomBytes(16);
      const at = { org_id: toHex(org), conversation_id: toHex(conversation), codename };
      const fromRust = utf8.encode(`we read you (${i})`);
      const sealed = rustOk({ op: 'intake-reply-seal', ...at, plaintext: toHex(fromRust) });
      expect(str(sealed, 'reply_public')).toBe(toHex(keys.replyPublic));
      expect(await keys.openReply(org, conversation, fromHex(str(sealed, 'reply')))).toEqual(fromRust);
      const fromHere = randomBytes(i * 500);
      const reply = await sealReply(org, conversation, keys.replyPublic, fromHere);
      expect(str(rustOk({ op: 'intake-reply-open', ...at, reply: toHex(reply) }), 'plaintext')).toBe(toHex(fromHere));
    }
  });

  it('replies: both sides refuse a tampered or misdirected reply with the same code', async () => {
    const org = randomBytes(16);
    const conversation = randomBytes(16);
    const codename = generateCodename();
    const otherCodename = generateCodename();
    const keysOf = new Map([
      [codename, await codenameKeys(codename, org)],
      [otherCodename, await codenameKeys(otherCodename, org)],
    ]);
    const plaintext = randomBytes(80);
    const sealedBy: [string, Uint8Array][] = [
      ['TypeScript', await sealReply(org, conversation, keysOf.get(codename)!.replyPublic, plaintext)],
      ['Rust', fromHex(str(rustOk({ op: 'intake-reply-seal', org_id: toHex(org), conversation_id: toHex(conversation), codename, plaintext: toHex(plaintext) }), 'reply'))],
    ];
    for (const [sealer, reply] of sealedBy) {
      const cases: [name: string, bytes: Uint8Array, expected: string, openedWith?: Codename, inConversation?: Uint8Array][] = [
        ['ciphertext flipped', flipped(reply, 50), 'decrypt'],
        ['tag flipped', flipped(reply, -1), 'decrypt'],
        ['ephemeral key flipped', flipped(reply, 10), 'decrypt'],
        ['wrong magic', withByte(reply, 0, 0x58), 'malformed'],
        ['version 2', withByte(reply, 4, 2), 'unsupported'],
        ['truncated', reply.subarray(0, 20), 'malformed'],
        ['another codename', reply, 'decrypt', otherCodename],
        ['other conversation', reply, 'decrypt', codename, randomBytes(16)],
      ];
      for (const [name, bytes, expected, openedWith = codename, inConversation = conversation] of cases) {
        const ts = await codeOfAsync(() => keysOf.get(openedWith)!.openReply(org, inConversation, bytes));
        const r = rust({ op: 'intake-reply-open', org_id: toHex(org), conversation_id: toHex(inConversation), codename: openedWith, reply: toHex(bytes) });
        expect(r.ok, `${sealer}: ${name}`).toBe(false);
        expect([`${sealer}: ${name}`, ts, r.body.error]).toEqual([`${sealer}: ${name}`, expected, expected]);
      }
    }
  });
});
