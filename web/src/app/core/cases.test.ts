/**
 * The case client against an in-memory fake of the server's case API
 * (casefake.ts), with the real crypto on both sides: what an honest server
 * serves round-trips, and each way a lying server can serve something wrong
 * is refused with its own reason.
 */
import { describe, expect, it } from 'vitest';
import {
  COMPARTMENTS,
  entryHash,
  fromHex,
  generateCompartmentKey,
  keepKeyFromRoot,
  openGrant,
  parseEntry,
  parseGrantHeader,
  randomBytes,
  sealGrant,
  sealRecord,
  toBase64Url,
} from '../../lib/crypto/index.js';
import { utf8 } from '../../lib/crypto/bytes.js';
import type { RecordBody } from '../../lib/domain/record.js';
import { ApiError } from './api.js';
import { FakeServer, Organization, type Person } from './casefake.js';
import { CASE_COMPARTMENTS, CaseClient, CaseError, HeadPins, SAFE_HOUSE_COMPARTMENTS } from './cases.js';

function world() {
  const o = new Organization();
  const server = new FakeServer(o);
  const client = (p: Person, pins = new HeadPins()) => {
    const session = server.session(p);
    return { cases: new CaseClient(session, o.orgView(p), pins), session, pins };
  };
  return { o, server, client };
}

async function failure(p: Promise<unknown>): Promise<CaseError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CaseError);
  return e as CaseError;
}

const SUMMARY = { alias: 'Sparrow', priority: 'urgent', opened: '2025-01-31', country: 'RU' };

/** An entry at the next position of a stored case, signed by `author`, its key thrown away (served without a wrap). */
function forge(server: FakeServer, caseId: string, author: Person, compartment: number = COMPARTMENTS.summary): Uint8Array {
  const c = server.cases.get(caseId)!;
  return sealRecord({
    address: { org: server.o.org, case: fromHex(caseId), compartment: compartment as 1, record: randomBytes(16) },
    recordVersion: 1,
    position: { seq: BigInt(c.len), prevHash: c.headHash },
    key: generateCompartmentKey(0),
    author: author.keys,
    plaintext: utf8.encode('{"kind":"note","text":"forged"}'),
  }).entry;
}

describe('CaseClient: an honest server', () => {
  it('creates a case, then lists it back with every entry verified and opened', async () => {
    const { o, client } = world();
    const { cases } = client(o.ada);
    const id = await cases.createCase(SUMMARY);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await cases.append(id, 'story', { kind: 'note', text: 'met at the border' });
    await cases.append(id, 'summary', { kind: 'event', event: { event: 'advance', to: 'screening' } });

    // A fresh page of the same member reads it all from the server.
    const { cases: again } = client(o.ada);
    const { cases: views, refused, removed } = await again.list();
    expect(refused).toEqual([]);
    expect(removed).toEqual([]);
    expect(views).toHaveLength(1);
    const view = views[0]!;
    expect(view.caseId).toBe(id);
    expect(view.head?.seq).toBe(2);
    expect(view.head?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(view.readable).toEqual([...CASE_COMPARTMENTS]);
    expect(view.entries.map((e) => [e.seq, e.compartment, e.authorName, e.actor])).toEqual([
      [0, 'summary', 'ada', { account: o.ada.hex, role: 'admin' }],
      [1, 'story', 'ada', { account: o.ada.hex, role: 'admin' }],
      [2, 'summary', 'ada', { account: o.ada.hex, role: 'admin' }],
    ]);
    expect(view.entries[0]!.body).toEqual({ kind: 'fields', fields: SUMMARY });
    expect(view.entries[1]!.body).toEqual({ kind: 'note', text: 'met at the border' });
    expect(view.listing).toMatchObject({ kind: 'case', alias: 'Sparrow', priority: 'urgent', country: 'RU', opened: '2025-01-31', stage: 'screening', entries: 3 });
    expect(again.listings()).toEqual([view.listing]);
    expect(await again.read(id)).toEqual(view);
  });

  it('leaves the server only ciphertext', async () => {
    const { o, server, client } = world();
    const { cases } = client(o.ada);
    const id = await cases.createCase({ priority: 'normal', alias: 'Wren' });
    const { cases: views } = await cases.list();
    expect(views[0]!.entries[0]!.body).toEqual({ kind: 'fields', fields: { alias: 'Wren', priority: 'normal' } });
    // The server holds only ciphertext: no field value appears in what it stores.
    const stored = server.cases.get(id)!.entries[0]!.entry;
    expect(new TextDecoder().decode(stored)).not.toContain('Wren');
  });

  it('fetches only what moved, pages through the list and through sync rounds', async () => {
    const { o, server, client } = world();
    server.listLimit = 2;
    server.syncEntryLimit = 3;
    const { cases } = client(o.ada);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await cases.createCase({ alias: `case ${i}` });
      await cases.append(id, 'story', { kind: 'note', text: `note ${i}` });
      ids.push(id);
    }
    const reader = client(o.ada).cases;
    const before = server.requests.length;
    const { cases: views, refused } = await reader.list();
    expect(refused).toEqual([]);
    expect(views.map((v) => v.caseId)).toEqual([...ids].sort());
    expect(views.every((v) => v.entries.length === 2 && v.entries.every((e) => e.body !== null))).toBe(true);
    const sent = server.requests.slice(before);
    expect(sent.filter((r) => r.path.startsWith('/api/cases?') || r.path === '/api/cases').length).toBe(3);
    // Ten entries at three a response: the cut-short cases went round again from where they stopped.
    const rounds = sent.filter((r) => r.path === '/api/cases/sync');
    expect(rounds.length).toBeGreaterThanOrEqual(4);
    expect(rounds.slice(1).some((r) => (r.body!.cases as { from: number }[]).some((w) => w.from > 0))).toBe(true);

    // Nothing moved: no sync round at all. One case moved: only its new entry is asked for.
    const quiet = server.requests.length;
    await reader.list();
    expect(server.requests.slice(quiet).filter((r) => r.path === '/api/cases/sync')).toEqual([]);
    await cases.append(ids[2]!, 'summary', { kind: 'fields', fields: { alias: 'renamed' } });
    const moved = server.requests.length;
    const { cases: after } = await reader.list();
    const asked = server.requests.slice(moved).filter((r) => r.path === '/api/cases/sync');
    expect(asked.map((r) => r.body!.cases)).toEqual([[{ case_id: ids[2], from: 2 }]]);
    expect(after.find((v) => v.caseId === ids[2])!.listing.alias).toBe('renamed');
  });

  it('shares compartments: the other member reads those and verifies the rest without opening it', async () => {
    const { o, client } = world();
    const { cases } = client(o.ada);
    const id = await cases.createCase(SUMMARY);
    await cases.append(id, 'identity', { kind: 'fields', fields: { legal_name: 'secret name' } });
    expect(await cases.share(id, o.bob.hex, ['summary'])).toEqual(['summary']);
    // Sharing again is a no-op, as in Rust.
    expect(await cases.share(id, o.bob.hex, ['summary'])).toEqual([]);

    const bob = client(o.bob).cases;
    const view = await bob.read(id);
    expect(view.readable).toEqual(['summary']);
    expect(view.entries.map((e) => [e.compartment, e.body === null])).toEqual([
      ['summary', false],
      ['identity', true],
    ]);
    expect(JSON.stringify(view)).not.toContain('secret name');
    await bob.append(id, 'summary', { kind: 'note', text: 'called' });
    await expect(failure(bob.append(id, 'identity', { kind: 'note', text: 'x' }))).resolves.toMatchObject({ reason: 'no_access' });
    await expect(failure(bob.share(id, o.carol.hex, ['identity']))).resolves.toMatchObject({ reason: 'no_access' });

    const back = await cases.read(id);
    expect(back.entries.at(-1)).toMatchObject({ seq: 2, authorName: 'bob', actor: { account: o.bob.hex, role: 'caseworker' }, body: { kind: 'note', text: 'called' } });
    // A member without a grant learns nothing, not even that the case exists.
    await expect(failure(client(o.carol).cases.read(id))).resolves.toMatchObject({ reason: 'no_access' });
    await expect(failure(cases.share(id, o.mallory.hex, ['summary']))).resolves.toMatchObject({ reason: 'refused' });
  });

  it('unshares by rotation: those who stay read old and new, the one who left reads nothing new', async () => {
    const { o, server, client } = world();
    const { cases } = client(o.ada);
    const id = await cases.createCase(SUMMARY);
    await cases.append(id, 'story', { kind: 'note', text: 'before' });
    await cases.share(id, o.bob.hex, ['summary', 'story']);
    const bob = client(o.bob).cases;
    expect((await bob.read(id)).entries[1]!.body).toEqual({ kind: 'note', text: 'before' });

    expect(await cases.unshare(id, o.bob.hex, ['story'])).toEqual(['story']);
    await cases.append(id, 'story', { kind: 'note', text: 'after' });
    const stored = server.cases.get(id)!;
    expect(parseEntry(stored.entries[2]!.entry).generation).toBe(1);
    expect(stored.grants.filter((g) => g.recipient === o.bob.hex).map((g) => g.compartment)).toEqual([COMPARTMENTS.summary]);
    expect(stored.rotations.map((r) => [r.compartment, r.newGeneration])).toEqual([[COMPARTMENTS.story, 1]]);
    // Ada's own grants, of the new generation too, are kept grants; the ones to others are sealed to them.
    const adas = stored.grants.filter((g) => g.recipient === o.ada.hex);
    expect(adas.filter((g) => g.compartment === COMPARTMENTS.story).map((g) => g.generation).sort()).toEqual([0, 1]);
    expect(adas.every((g) => parseGrantHeader(g.grant).kept)).toBe(true);
    expect(stored.grants.filter((g) => g.recipient !== o.ada.hex).some((g) => parseGrantHeader(g.grant).kept)).toBe(false);

    // Shared after the rotation, carol holds only generation 1 of story: the rotation link opens generation 0.
    expect(await cases.share(id, o.carol.hex, ['story'])).toEqual(['story']);
    expect(stored.grants.filter((g) => g.recipient === o.carol.hex).map((g) => g.generation)).toEqual([1]);
    const carol = await client(o.carol).cases.read(id);
    expect(carol.readable).toEqual(['story']);
    expect(carol.entries.filter((e) => e.compartment === 'story').map((e) => e.body)).toEqual([
      { kind: 'note', text: 'before' },
      { kind: 'note', text: 'after' },
    ]);
    // A fresh page of ada too (her own grants of generations 0 and 1).
    const ada = await client(o.ada).cases.read(id);
    expect(ada.entries[2]!.body).toEqual({ kind: 'note', text: 'after' });
    // Bob's page that had the old key: the keys moved, the case is folded again without story.
    const { cases: bobs } = await bob.list();
    expect(bobs[0]!.readable).toEqual(['summary']);
    expect(bobs[0]!.entries.filter((e) => e.compartment === 'story').map((e) => e.body)).toEqual([null, null]);
    // Unsharing what they no longer hold, or from oneself.
    expect(await cases.unshare(id, o.bob.hex, ['story'])).toEqual([]);
    await expect(failure(cases.unshare(id, o.ada.hex))).resolves.toMatchObject({ reason: 'refused' });
  });

  it('creates a safe house with its own compartments', async () => {
    const { o, server, client } = world();
    const { cases } = client(o.ada);
    const house = await cases.createObject(SAFE_HOUSE_COMPARTMENTS, [
      { compartment: 'summary', body: { kind: 'fields', fields: { kind: 'safehouse', alias: 'Birch', capacity: '12' } } },
      { compartment: 'address', body: { kind: 'fields', fields: { address: '1 Elm Road' } } },
    ]);
    const view = await cases.read(house);
    expect(view.readable).toEqual(['summary', 'address']);
    expect(view.listing).toMatchObject({ kind: 'safehouse', alias: 'Birch', stage: null });
    expect(view.entries[1]!.body).toEqual({ kind: 'fields', fields: { address: '1 Elm Road' } });
    // A case has no address compartment; field names are checked as the command line checks them.
    const id = await cases.createCase(SUMMARY);
    await expect(failure(cases.append(id, 'address', { kind: 'note', text: 'x' }))).resolves.toMatchObject({ reason: 'no_access' });
    await expect(failure(cases.append(id, 'summary', { kind: 'fields', fields: { 'bad name': 'x' } }))).resolves.toMatchObject({ reason: 'refused' });
    // Nothing the Rust client could not read back is written.
    const nowhere = { kind: 'event', event: { event: 'advance', to: 'nowhere' } } as unknown as RecordBody;
    await expect(failure(cases.append(id, 'summary', nowhere))).resolves.toMatchObject({ reason: 'refused' });
    expect(server.cases.get(id)!.len).toBe(1);
    // Only the first summary record says what an object is.
    await cases.append(id, 'summary', { kind: 'fields', fields: { kind: 'safehouse' } });
    expect((await cases.read(id)).listing.kind).toBe('case');
  });

  it('retries an append that lost a race, resealing on top of the other writer', async () => {
    const { o, server, client } = world();
    const { cases } = client(o.ada);
    const id = await cases.createCase(SUMMARY);
    await cases.share(id, o.bob.hex, ['summary']);
    const bob = client(o.bob).cases;
    let raced = false;
    server.beforeAppend = async (_case, caller) => {
      if (caller === o.ada && !raced) {
        raced = true;
        await bob.append(id, 'summary', { kind: 'note', text: 'bob first' });
      }
    };
    const before = server.calls('POST', `/api/cases/${id}/entries`).filter((r) => r.who === 'ada').length;
    expect(await cases.append(id, 'summary', { kind: 'note', text: 'ada second' })).toBe(2);
    expect(server.calls('POST', `/api/cases/${id}/entries`).filter((r) => r.who === 'ada').length - before).toBe(2);
    const view = await cases.read(id);
    expect(view.entries.slice(1).map((e) => [e.seq, e.authorName, e.body])).toEqual([
      [1, 'bob', { kind: 'note', text: 'bob first' }],
      [2, 'ada', { kind: 'note', text: 'ada second' }],
    ]);
  });

  it('gives up after five conflicts with the server’s conflict', async () => {
    const { o, server, client } = world();
    const { cases } = client(o.ada);
    const id = await cases.createCase(SUMMARY);
    await cases.share(id, o.bob.hex, ['summary']);
    const bob = client(o.bob).cases;
    server.beforeAppend = async (_case, caller) => {
      if (caller === o.ada) await bob.append(id, 'summary', { kind: 'note', text: 'always first' });
    };
    const before = server.calls('POST', `/api/cases/${id}/entries`).filter((r) => r.who === 'ada').length;
    const e = await cases.append(id, 'summary', { kind: 'note', text: 'never' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe('conflict');
    expect(server.calls('POST', `/api/cases/${id}/entries`).filter((r) => r.who === 'ada').length - before).toBe(5);
  });

  it('accepts what a former member wrote while a member', async () => {
    const { o, server, client } = world();
    const { cases } = client(o.ada);
    const id = await cases.createCase(SUMMARY);
    server.store(id, forge(server, id, o.erin), null);
    const view = await cases.read(id);
    expect(view.entries[1]).toMatchObject({ authorName: 'erin', body: null });
  });

  it('wipes keys and records on Lock and refuses to work afterwards; the head pins stay', async () => {
    const { o, client } = world();
    const { cases, session, pins } = client(o.ada);
    const id = await cases.createCase(SUMMARY);
    await cases.list();
    expect(pins.get(id)?.seq).toBe(0);
    await session.lock();
    await expect(failure(cases.list())).resolves.toMatchObject({ reason: 'locked' });
    expect(() => cases.listings()).toThrow(CaseError);
    expect(pins.get(id)?.seq).toBe(0);
  });
});

describe('CaseClient: a server that serves something wrong', () => {
  async function caseWithHistory() {
    const w = world();
    const { cases, pins } = w.client(w.o.ada);
    const id = await cases.createCase(SUMMARY);
    await cases.append(id, 'story', { kind: 'note', text: 'one' });
    await cases.append(id, 'story', { kind: 'note', text: 'two' });
    return { ...w, cases, pins, id };
  }

  /** The refusal a fresh page (new pins unless given) gets for the case. */
  async function refusalOf(w: Awaited<ReturnType<typeof caseWithHistory>>, pins = new HeadPins(), nothingShown = true): Promise<CaseError> {
    const { cases, refused } = await w.client(w.o.ada, pins).cases.list();
    expect(refused).toHaveLength(1);
    expect(refused[0]!.caseId).toBe(w.id);
    if (nothingShown) expect(cases.find((c) => c.caseId === w.id)).toBeUndefined();
    return refused[0]!;
  }

  it('refuses an entry altered after it was signed', async () => {
    const w = await caseWithHistory();
    const stored = w.server.cases.get(w.id)!.entries[1]!;
    stored.entry = stored.entry.slice();
    stored.entry[200]! ^= 1;
    const e = await refusalOf(w);
    // The hash chain breaks at the next entry before any signature is checked.
    expect(e.reason).toBe('tampered');
    expect(e.code).toBe('chain-broken-link');
    // The last entry altered: the links hold, the signature does not.
    const w2 = await caseWithHistory();
    const last = w2.server.cases.get(w2.id)!;
    last.entries[2]!.entry = last.entries[2]!.entry.slice();
    last.entries[2]!.entry[200]! ^= 1;
    const e2 = await refusalOf(w2);
    expect([e2.reason, e2.code, e2.seq]).toEqual(['tampered', 'signature', 2]);
    expect(e2.message).toMatch(/Entry 2 of this case does not verify/);
  });

  it('refuses an altered key wrap, and a dropped entry', async () => {
    const w = await caseWithHistory();
    const stored = w.server.cases.get(w.id)!.entries[1]!;
    stored.wrap = stored.wrap!.slice();
    stored.wrap[stored.wrap.length - 1]! ^= 1;
    expect(await refusalOf(w)).toMatchObject({ reason: 'tampered', code: 'decrypt', seq: 1 });

    const w2 = await caseWithHistory();
    w2.server.onSync = (r) => ({ cases: r.cases.map((b) => ({ ...b, entries: b.entries.filter((e) => e.seq !== 1) })) });
    expect(await refusalOf(w2)).toMatchObject({ reason: 'tampered', code: 'chain-gap' });
  });

  it('refuses a swapped grant: another compartment’s, or another member’s', async () => {
    const w = await caseWithHistory();
    const grants = w.server.cases.get(w.id)!.grants;
    const identity = grants.find((g) => g.compartment === COMPARTMENTS.identity)!;
    w.server.onSync = (r) => ({
      cases: r.cases.map((b) => ({
        ...b,
        grants: b.grants.map((g) => (g.compartment === COMPARTMENTS.story ? { ...g, grant: toBase64Url(identity.grant) } : g)),
      })),
    });
    expect(await refusalOf(w)).toMatchObject({ reason: 'tampered', code: 'context-mismatch' });

    const w2 = await caseWithHistory();
    await w2.cases.share(w2.id, w2.o.bob.hex, ['story']);
    const bobs = w2.server.cases.get(w2.id)!.grants.find((g) => g.recipient === w2.o.bob.hex)!;
    w2.server.onSync = (r, caller) =>
      caller === w2.o.ada
        ? { cases: r.cases.map((b) => ({ ...b, grants: b.grants.map((g) => (g.compartment === COMPARTMENTS.story ? { ...g, grant: toBase64Url(bobs.grant) } : g)) })) }
        : r;
    expect(await refusalOf(w2)).toMatchObject({ reason: 'tampered', code: 'not-recipient' });
  });

  it('refuses a grant from someone who was never a member', async () => {
    const w = await caseWithHistory();
    const target = { org: w.o.org, object: fromHex(w.id), compartment: COMPARTMENTS.story };
    const forged = await sealGrant(target, generateCompartmentKey(0), w.o.ada.pub, w.o.mallory.keys);
    w.server.onSync = (r) => ({
      cases: r.cases.map((b) => ({ ...b, grants: b.grants.map((g) => (g.compartment === COMPARTMENTS.story ? { ...g, grant: toBase64Url(forged) } : g)) })),
    });
    const e = await refusalOf(w);
    expect([e.reason, e.code]).toEqual(['server_changed', 'granter-not-member']);
    expect(e.message).toMatch(/never a member/);
  });

  it('refuses an entry signed by someone who was never a member', async () => {
    const w = await caseWithHistory();
    w.server.store(w.id, forge(w.server, w.id, w.o.mallory), null);
    expect(await refusalOf(w)).toMatchObject({ reason: 'server_changed', code: 'author-not-member', seq: 3 });
  });

  it('refuses a case rolled back below the head this page verified, even after Lock', async () => {
    const w = await caseWithHistory();
    await w.cases.list();
    const c = w.server.cases.get(w.id)!;
    c.entries.pop();
    c.len -= 1;
    c.headHash = entryHash(c.entries.at(-1)!.entry);
    const { cases: views, refused } = await w.cases.list();
    expect(refused.map((e) => [e.reason, e.caseId])).toEqual([['rollback', w.id]]);
    // The page still shows the case as last verified.
    expect(views.find((v) => v.caseId === w.id)?.head?.seq).toBe(2);
    await expect(failure(w.cases.append(w.id, 'story', { kind: 'note', text: 'x' }))).resolves.toMatchObject({ reason: 'rollback' });
    // A new page life after Lock keeps the pins, so the rolled-back chain is still caught.
    const e = await refusalOf(w, w.pins);
    expect(e.reason).toBe('rollback');
    expect(e.message).toMatch(/rolled this case back/);
    // A page that never saw the longer chain cannot know.
    expect((await w.client(w.o.ada).cases.list()).refused).toEqual([]);
  });

  it('refuses a forked case: another entry where this page verified one', async () => {
    const w = await caseWithHistory();
    await w.cases.list();
    // The server shows another history from entry 2 on, validly signed by ada on another device.
    const c = w.server.cases.get(w.id)!;
    c.entries.pop();
    c.len -= 1;
    c.headHash = entryHash(c.entries.at(-1)!.entry);
    await w.client(w.o.ada).cases.append(w.id, 'story', { kind: 'note', text: 'other' });
    const { refused } = await w.cases.list();
    expect(refused.map((e) => [e.reason, e.seq])).toEqual([['fork', 2]]);
    // After Lock, verified entry by entry against the pin.
    const e = await refusalOf(w, w.pins);
    expect([e.reason, e.seq]).toEqual(['fork', 2]);
    expect(e.message).toMatch(/forked/);
  });

  it('refuses a head that its entries do not lead to', async () => {
    const w = await caseWithHistory();
    w.server.onSync = (r) => ({ cases: r.cases.map((b) => ({ ...b, head: { ...b.head, head_hash: '00'.repeat(32) } })) });
    expect(await refusalOf(w)).toMatchObject({ reason: 'fork' });
  });

  it('refuses a page that names entries it never sends, without looping', async () => {
    const w = await caseWithHistory();
    w.server.onSync = (r) => ({ cases: r.cases.map((b) => ({ ...b, entries: [] })) });
    const before = w.server.calls('POST', '/api/cases/sync').length;
    // As in Rust, what did verify (here: nothing yet) is kept, and the case is reported.
    expect(await refusalOf(w, new HeadPins(), false)).toMatchObject({ reason: 'protocol' });
    expect(w.server.calls('POST', '/api/cases/sync').length - before).toBe(1);
  });

  it('refuses a record body the Rust client would not understand', async () => {
    const w = await caseWithHistory();
    // Ada's own well-signed entry whose plaintext is not a RecordBody: her keys are in the fake.
    const c = w.server.cases.get(w.id)!;
    const grant = c.grants.find((g) => g.compartment === COMPARTMENTS.summary && g.recipient === w.o.ada.hex)!;
    const ada = { ...w.o.ada.keys, keepKey: keepKeyFromRoot(w.o.ada.root) };
    const key = await openGrant(grant.grant, { org: w.o.org, object: fromHex(w.id), compartment: COMPARTMENTS.summary }, ada, w.o.ada.pub);
    const sealed = sealRecord({
      address: { org: w.o.org, case: fromHex(w.id), compartment: COMPARTMENTS.summary, record: randomBytes(16) },
      recordVersion: 1,
      position: { seq: BigInt(c.len), prevHash: c.headHash },
      key,
      author: w.o.ada.keys,
      plaintext: utf8.encode('{"kind":"fields","fields":{"alias":7}}'),
    });
    w.server.store(w.id, sealed.entry, sealed.wrap);
    expect(await refusalOf(w)).toMatchObject({ reason: 'protocol', caseId: w.id });
  });

  it('refuses answers of the wrong shape as a whole', async () => {
    const w = await caseWithHistory();
    w.server.onSync = () => ({ cases: [{ head: { case_id: w.id, len: 'three' } }] }) as never;
    await expect(failure(w.client(w.o.ada).cases.list())).resolves.toMatchObject({ reason: 'protocol' });
    w.server.onSync = (r) => ({ cases: [...r.cases, { ...r.cases[0]!, head: { ...r.cases[0]!.head, case_id: 'ab'.repeat(16) } }] });
    await expect(failure(w.client(w.o.ada).cases.list())).resolves.toMatchObject({ reason: 'protocol' });
    w.server.onSync = undefined;
    w.server.onList = (r) => ({ ...r, next: w.id });
    await expect(failure(w.client(w.o.ada).cases.list())).resolves.toMatchObject({ reason: 'protocol' });
  });
});
