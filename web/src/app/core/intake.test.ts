/**
 * The staff intake queue against an in-process fake of the intake API (the
 * server's checks on notes and referrals included), with the real crypto on
 * both sides: requests sealed with `sealRequest` as the public page seals
 * them, desk keys handed over with signed grants as the Rust client hands
 * them, replies opened with a real codename's keys.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  codenameKeys,
  COMPARTMENTS,
  deriveIntakeKeyPair,
  foundOrganization,
  fromBase64Url,
  generateCodename,
  generateCompartmentKey,
  generateMemberKeys,
  generateOrgRootSeed,
  keyId,
  memberPublicKeys,
  MembershipState,
  openSealed,
  parseSealedHeader,
  randomBytes,
  referralHash,
  ROLES,
  sealGrant,
  sealRequest,
  sealRotation,
  sealStaffNote,
  sig,
  signLink,
  toBase64Url,
  toHex,
  type CodenameKeys,
  type CompartmentKey,
  type CompartmentName,
  type MemberSecretKeys,
  type Role,
} from '../../lib/crypto/index.js';
import { utf8 } from '../../lib/crypto/bytes.js';
import type { RecordBody } from '../../lib/domain/record.js';
import { Api, type GrantInfo, type Me, type RotationInfo } from './api.js';
import {
  describeMessage,
  dismiss,
  findThread,
  intakeQueue,
  IntakeError,
  listRows,
  newReferral,
  openCaseFrom,
  plain,
  replyTo,
  threadState,
  type CaseWriter,
  type IntakeDesk,
  type IntakeItem,
  type IntakeStaffNote,
} from './intake.js';
import { OrgPin, verifyOrg, type OrgView } from './org.js';
import { UnlockedSession } from './session.js';

const T0 = 1_764_000_000; // 2025-11-24 16:00 UTC

interface Person {
  name: string;
  account: Uint8Array;
  keys: MemberSecretKeys;
}

function person(name: string): Person {
  return { name, account: randomBytes(16), keys: generateMemberKeys() };
}

/** An organization: ada (admin), ivan (intake officer), bob (caseworker); mallory is nobody's member. */
function organization() {
  const org = randomBytes(16);
  const rootSeed = generateOrgRootSeed();
  const ada = person('ada');
  const ivan = person('ivan');
  const bob = person('bob');
  const mallory = person('mallory');
  const links = foundOrganization(org, 'Test', rootSeed, BigInt(T0), { account: ada.account, name: 'ada', keys: memberPublicKeys(ada.keys) });
  const add = (p: Person, role: Role) => {
    const state = MembershipState.verify(sig.publicKey(rootSeed), links);
    links.push(signLink(state.nextLink(BigInt(T0), { type: 'add', account: p.account, name: p.name, role, keys: memberPublicKeys(p.keys) }), rootSeed));
  };
  add(ivan, ROLES.intake);
  add(bob, ROLES.caseworker);
  const served = () => ({
    org: { org_id: toHex(org), name: 'Test', root_public_key: toBase64Url(sig.publicKey(rootSeed)) },
    links: links.map((l) => toBase64Url(l)),
  });
  const view = (p: Person): OrgView => verifyOrg(served(), new OrgPin(), { accountId: p.account, keys: memberPublicKeys(p.keys) });
  const removeMember = (p: Person) => {
    const state = MembershipState.verify(sig.publicKey(rootSeed), links);
    links.push(signLink(state.nextLink(BigInt(T0 + 10), { type: 'remove', account: p.account }), rootSeed));
  };
  return { org, ada, ivan, bob, mallory, view, removeMember };
}

type Org = ReturnType<typeof organization>;

interface Conversation {
  item: IntakeItem;
  replies: string[];
}

/**
 * The server's side of the intake, in memory: the desk row, the desk's
 * grants and rotation links, the conversations, referral hashes. It checks
 * what the real server checks on a note (a staff-kind blob, a known status),
 * and serves the desk's grants only to a member who holds one (404 otherwise).
 */
class FakeServer {
  desk: IntakeDesk | null = null;
  grants: GrantInfo[] = [];
  rotations: RotationInfo[] = [];
  readonly conversations = new Map<string, Conversation>();
  readonly referrals: { code_hash: string; uses: number }[] = [];
  readonly notes: IntakeStaffNote[] = [];
  clock = T0;

  fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const method = init.method ?? 'GET';
    const auth = new Headers(init.headers).get('authorization');
    const caller = auth?.replace(/^Bearer /, '') ?? '';
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const path = new URL(input, 'http://fake').pathname;
    if (method === 'GET' && path === '/api/intake/items') {
      const items = [...this.conversations.values()].map((c) => c.item).sort((a, b) => b.updated_at - a.updated_at);
      return json(200, { desk: this.desk, items });
    }
    const grants = /^\/api\/cases\/([0-9a-f]{32})\/grants$/.exec(path);
    if (method === 'GET' && grants) {
      const mine = this.desk?.desk_case_id === grants[1] && this.grants.some((g) => g.recipient === caller);
      if (!mine) return json(404, { code: 'not_found', message: 'no such case' });
      return json(200, { grants: this.grants, rotations: this.rotations });
    }
    const notes = /^\/api\/intake\/items\/([0-9a-f]{32})\/notes$/.exec(path);
    if (method === 'POST' && notes) {
      const c = this.conversations.get(notes[1]!);
      if (!c) return json(404, { code: 'not_found', message: 'no such conversation' });
      const req = body as IntakeStaffNote;
      const note = fromBase64Url(req.note);
      if (parseSealedHeader(note).by !== 'staff') return json(400, { code: 'bad_request', message: 'note: not a staff note, or too large' });
      if (req.status != null && !['open', 'dismissed', 'opened'].includes(req.status)) {
        return json(400, { code: 'bad_request', message: 'status: expected open, dismissed or opened' });
      }
      this.notes.push(req);
      this.clock += 60;
      c.item.entries.push({ seq: c.item.entries.length, sealed: req.note, at: this.clock });
      if (req.reply != null) c.replies.push(req.reply);
      if (req.status != null) c.item.status = req.status;
      c.item.updated_at = this.clock;
      return new Response(null, { status: 204 });
    }
    if (method === 'POST' && path === '/api/intake/referrals') {
      const req = body as { code_hash: string; uses: number };
      if (!(req.uses >= 1 && req.uses <= 10_000)) return json(400, { code: 'bad_request', message: 'uses: 1 to 10000' });
      if (fromBase64Url(req.code_hash).length !== 32) return json(400, { code: 'bad_request', message: 'code_hash' });
      this.referrals.push(req);
      return new Response(null, { status: 204 });
    }
    return json(404, { code: 'not_found', message: `no route ${method} ${path}` });
  };

  /** A conversation with its first, sealed message, as the public page stores it. */
  add(conversation: Uint8Array, sealed: Uint8Array, replyPublic: Uint8Array, extra: Partial<IntakeItem> = {}): string {
    this.clock += 60;
    const id = toHex(conversation);
    this.conversations.set(id, {
      item: {
        conversation_id: id,
        created_at: this.clock,
        updated_at: this.clock,
        path: 'browser',
        referred: false,
        status: 'open',
        reply_public: toBase64Url(replyPublic),
        entries: [{ seq: 0, sealed: toBase64Url(sealed), at: this.clock }],
        ...extra,
      },
      replies: [],
    });
    return id;
  }

  /** One more sealed message in a conversation (a requester's follow-up, or a note written around the client). */
  push(id: string, sealed: Uint8Array): void {
    const c = this.conversations.get(id)!;
    this.clock += 60;
    c.item.entries.push({ seq: c.item.entries.length, sealed: toBase64Url(sealed), at: this.clock });
    c.item.updated_at = this.clock;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function sessionFor(server: FakeServer, o: Org, p: Person, role: string): UnlockedSession {
  const api = new Api('', server.fetch);
  api.setToken(toHex(p.account));
  const me: Me = {
    account_id: toHex(p.account),
    username: p.name,
    role,
    status: 'active',
    org: { org_id: toHex(o.org), name: 'Test', root_public_key: '' },
  };
  // Copies: locking wipes the session's keys, and the person signs again in other tests.
  const keys = { signingSeed: p.keys.signingSeed.slice(), agreementSecret: p.keys.agreementSecret.slice() };
  return new UnlockedSession(api, p.account, p.name, me, memberPublicKeys(p.keys), randomBytes(32), keys, T0 + 3600, 'server-key');
}

/** The desk as `keep_desk` leaves it: generation 0 granted by ada to herself and to ivan, its key published. */
async function openDesk(server: FakeServer, o: Org, to: Person[] = [o.ada, o.ivan]) {
  const deskId = randomBytes(16);
  const target = { org: o.org, object: deskId, compartment: COMPARTMENTS.messages };
  const key = generateCompartmentKey(0);
  for (const p of to) await grant(server, target, key, p, o.ada);
  const pair = await deriveIntakeKeyPair(o.org, key);
  server.desk = { desk_case_id: toHex(deskId), generation: 0, public_key: toBase64Url(pair.publicKey) };
  return { deskId, target, key, pair };
}

async function grant(server: FakeServer, target: { org: Uint8Array; object: Uint8Array; compartment: typeof COMPARTMENTS.messages }, key: CompartmentKey, to: Person, by: Person) {
  const sealed = await sealGrant(target, key, memberPublicKeys(to.keys), by.keys);
  server.grants.push({ compartment: COMPARTMENTS.messages, generation: key.generation, recipient: toHex(to.account), granted_by: toHex(by.account), grant: toBase64Url(sealed) });
}

const REQUEST = {
  contact: 'Signal +7 900 000 00 00',
  when: 'evenings',
  where: 'Grozny',
  what: 'They came to my work <script>alert(1)</script>',
  urgency: 'emergency',
  lang: 'ru',
};

/** A request sealed in the page to the published intake key. */
async function submit(server: FakeServer, o: Org, fields: Record<string, string> = REQUEST, replyPublic?: Uint8Array, extra: Partial<IntakeItem> = {}) {
  const desk = server.desk!;
  const conversation = randomBytes(16);
  const sealed = await sealRequest(o.org, desk.generation, fromBase64Url(desk.public_key), conversation, utf8.encode(JSON.stringify(fields)));
  // Any valid X25519 key serves as the reply key when no test opens the reply.
  const reply = replyPublic ?? (await deriveIntakeKeyPair(o.org, generateCompartmentKey(0))).publicKey;
  return { conversation, id: server.add(conversation, sealed, reply, extra) };
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof IntakeError) return e.reason;
    throw e;
  }
  return 'ok';
}

let codename: CodenameKeys;
let codenameOrg: Org;

beforeAll(async () => {
  // One real codename (Argon2id, about a second): the organization salts it, so it is made for one organization.
  codenameOrg = organization();
  codename = await codenameKeys(generateCodename(), codenameOrg.org);
});

describe('intakeQueue', () => {
  it('opens a request sealed to the desk key, with its fields, as `intake show --json` prints it', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    const { id } = await submit(server, o, REQUEST, undefined, { referred: true });
    const session = sessionFor(server, o, o.ivan, 'intake');
    const queue = await intakeQueue(session, o.view(o.ivan));
    expect(queue).toMatchObject({ noDesk: false, noKeys: false, canWrite: true, keyBehind: false });
    expect(queue.threads).toHaveLength(1);
    const thread = queue.threads[0]!;
    const item = server.conversations.get(id)!.item;
    expect(JSON.parse(JSON.stringify(thread))).toEqual({
      id,
      created_at: item.created_at,
      updated_at: item.updated_at,
      path: 'browser',
      referred: true,
      status: 'open',
      messages: [{ seq: 0, at: item.entries[0]!.at, from: 'requester', fields: REQUEST }],
      unreadable: [],
    });
    // serde writes a BTreeMap: keys in order.
    expect(Object.keys(thread.messages[0]!.fields)).toEqual(['contact', 'lang', 'urgency', 'what', 'when', 'where']);
    expect(listRows(queue.threads)).toEqual([
      {
        id,
        status: 'open',
        path: 'browser',
        referred: true,
        created_at: item.created_at,
        updated_at: item.updated_at,
        urgency: 'emergency',
        where: 'Grozny',
        what: REQUEST.what,
        messages: 1,
        unreadable: [],
      },
    ]);
    expect(threadState(thread)).toBe('open');
    expect(findThread(queue.threads, id.slice(0, 4).toUpperCase())).toBe(thread);
  });

  it('keeps the text a requester wrote as text, and shows control characters instead of obeying them', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    const hostile = { what: 'line\u001b[2J\u0007 <b>bold</b>\nnext', where: '  ', urgency: 'normal', extra: 'x\u0000y' };
    await submit(server, o, hostile);
    // Not JSON at all: kept whole as the `what`.
    const conversation = randomBytes(16);
    const desk = server.desk!;
    server.add(conversation, await sealRequest(o.org, 0, fromBase64Url(desk.public_key), conversation, utf8.encode('just words {')), randomBytes(32));
    const queue = await intakeQueue(sessionFor(server, o, o.ivan, 'intake'), o.view(o.ivan));
    const [notJson, withFields] = queue.threads;
    expect(notJson!.messages[0]!.fields).toEqual({ what: 'just words {' });
    const m = withFields!.messages[0]!;
    expect(m.fields.what).toBe(hostile.what);
    expect(describeMessage(m)).toBe(
      '[2025-11-24 16:01 UTC] requester:\n  urgency: normal\n  what: line\\u{1b}[2J\\u{7} <b>bold</b>\n' + 'next\n  extra: x\\u{0}y',
    );
    expect(plain('\u009b')).toBe('\\u{9b}');
  });

  it('refuses the queue when the server publishes an intake key the desk keys do not derive', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    await submit(server, o);
    // The server's own key pair, which it could open every new request with.
    const substitute = await deriveIntakeKeyPair(o.org, generateCompartmentKey(0));
    server.desk = { ...server.desk!, public_key: toBase64Url(substitute.publicKey) };
    const session = sessionFor(server, o, o.ivan, 'intake');
    expect(await reason(intakeQueue(session, o.view(o.ivan)))).toBe('server_changed');
    expect(await reason(intakeQueue(session, o.view(o.ivan), { all: true }))).toBe('server_changed');
  });

  it('refuses a desk key handed over by someone who was never a member', async () => {
    const o = organization();
    const server = new FakeServer();
    const desk = await openDesk(server, o, [o.ada]);
    await grant(server, desk.target, desk.key, o.ivan, o.mallory);
    expect(await reason(intakeQueue(sessionFor(server, o, o.ivan, 'intake'), o.view(o.ivan)))).toBe('server_changed');
  });

  it('refuses a desk grant that was altered', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    const mine = server.grants.find((g) => g.recipient === toHex(o.ivan.account))!;
    const bytes = fromBase64Url(mine.grant);
    bytes[120]! ^= 1;
    mine.grant = toBase64Url(bytes);
    expect(await reason(intakeQueue(sessionFor(server, o, o.ivan, 'intake'), o.view(o.ivan)))).toBe('tampered');
  });

  it('does not show a staff note signed by a non-member, nor one whose signature was altered, and says why', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    const { id, conversation } = await submit(server, o);
    const desk = server.desk!;
    const note = (by: Person, text: string) =>
      sealStaffNote(o.org, 0, fromBase64Url(desk.public_key), conversation, utf8.encode(JSON.stringify({ kind: 'reply', text })), by.keys);
    server.push(id, await note(o.mallory, 'from a stranger'));
    const altered = await note(o.ada, 'from ada');
    altered[altered.length - 1]! ^= 1;
    server.push(id, altered);
    server.push(id, await note(o.ada, 'really from ada'));
    const queue = await intakeQueue(sessionFor(server, o, o.ivan, 'intake'), o.view(o.ivan));
    const thread = queue.threads[0]!;
    expect(thread.messages.map((m) => [m.seq, m.from, m.from === 'staff' ? m.name : null, m.fields.text ?? null])).toEqual([
      [0, 'requester', null, null],
      [3, 'staff', 'ada', 'really from ada'],
    ]);
    expect(thread.unreadable).toHaveLength(2);
    expect(thread.unreadable[0]).toBe(`message 1: a staff note signed by key ${toHex(keyId(memberPublicKeys(o.mallory.keys)))}, not a member's`);
    expect(thread.unreadable[1]).toMatch(/^message 2: .*signature/);
    expect(listRows(queue.threads)[0]).toMatchObject({ messages: 2, unreadable: thread.unreadable });
  });

  it("still shows a note by a member removed since, by the name the chain gave them", async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    const { id, conversation } = await submit(server, o);
    const desk = server.desk!;
    server.push(id, await sealStaffNote(o.org, 0, fromBase64Url(desk.public_key), conversation, utf8.encode('{"kind":"note","text":"called back"}'), o.bob.keys));
    o.removeMember(o.bob);
    const thread = (await intakeQueue(sessionFor(server, o, o.ivan, 'intake'), o.view(o.ivan))).threads[0]!;
    expect(thread.unreadable).toEqual([]);
    expect(describeMessage(thread.messages[1]!)).toBe('[2025-11-24 16:02 UTC] bob: called back');
  });

  it('reads requests sealed to an older generation through the rotation link, and writes to the published one', async () => {
    const o = organization();
    const server = new FakeServer();
    const desk = await openDesk(server, o, [o.ada]);
    const old = await submit(server, o, { ...REQUEST, what: 'before the rotation' });
    // The desk rotated away from a removed member: generation 1 for ivan, the link seals generation 0 under it.
    const next = generateCompartmentKey(1);
    server.rotations.push({ compartment: COMPARTMENTS.messages, new_generation: 1, link: toBase64Url(sealRotation(desk.target, desk.key, next)) });
    await grant(server, desk.target, next, o.ivan, o.ada);
    const pair1 = await deriveIntakeKeyPair(o.org, next);
    server.desk = { ...server.desk!, generation: 1, public_key: toBase64Url(pair1.publicKey) };
    await submit(server, o, { ...REQUEST, what: 'after the rotation' });
    const session = sessionFor(server, o, o.ivan, 'intake');
    const queue = await intakeQueue(session, o.view(o.ivan));
    expect(queue.threads.map((t) => [t.messages[0]?.fields.what, t.unreadable])).toEqual([
      ['after the rotation', []],
      ['before the rotation', []],
    ]);
    await dismiss(session, findThread(queue.threads, old.id), 'duplicate');
    expect(parseSealedHeader(fromBase64Url(server.notes[0]!.note))).toEqual({ by: 'staff', generation: 1 });
  });

  it('with no desk grant yet: nothing opens, and nothing can be written', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o, [o.ada]);
    await submit(server, o);
    const session = sessionFor(server, o, o.ivan, 'intake');
    const queue = await intakeQueue(session, o.view(o.ivan));
    expect(queue).toMatchObject({ noKeys: true, canWrite: false });
    expect(queue.threads[0]!.messages).toEqual([]);
    expect(queue.threads[0]!.unreadable).toEqual(['message 0: no desk key of generation 0']);
    expect(await reason(replyTo(session, queue.threads[0]!, 'hello'))).toBe('no_keys');
    expect(server.notes).toEqual([]);
  });

  it('without a desk: an empty queue', async () => {
    const o = organization();
    const server = new FakeServer();
    const queue = await intakeQueue(sessionFor(server, o, o.ivan, 'intake'), o.view(o.ivan));
    expect(queue).toEqual({ threads: [], noDesk: true, noKeys: false, canWrite: false, keyBehind: false });
  });

  it('says when the server publishes an older generation than the desk has reached', async () => {
    const o = organization();
    const server = new FakeServer();
    const desk = await openDesk(server, o);
    const next = generateCompartmentKey(1);
    server.rotations.push({ compartment: COMPARTMENTS.messages, new_generation: 1, link: toBase64Url(sealRotation(desk.target, desk.key, next)) });
    await grant(server, desk.target, next, o.ivan, o.ada);
    const queue = await intakeQueue(sessionFor(server, o, o.ivan, 'intake'), o.view(o.ivan));
    expect(queue).toMatchObject({ keyBehind: true, canWrite: true });
  });

  it("refuses another organization's chain than the session's", async () => {
    const o = organization();
    const other = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    expect(await reason(intakeQueue(sessionFor(server, o, o.ivan, 'intake'), other.view(other.ivan)))).toBe('refused');
  });

  it('refuses malformed answers as protocol errors', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    const { id } = await submit(server, o);
    server.conversations.get(id)!.item.entries[0]!.seq = -1;
    expect(await reason(intakeQueue(sessionFor(server, o, o.ivan, 'intake'), o.view(o.ivan)))).toBe('protocol');
  });
});

describe('replyTo, dismiss, newReferral', () => {
  it('a reply opens only with the codename, and the queue shows who replied', async () => {
    const o = codenameOrg;
    const server = new FakeServer();
    const desk = await openDesk(server, o);
    const { id, conversation } = await submit(server, o, REQUEST, codename.replyPublic);
    const session = sessionFor(server, o, o.ivan, 'intake');
    const thread = (await intakeQueue(session, o.view(o.ivan))).threads[0]!;
    await replyTo(session, thread, 'We read you. Write to us tonight.');

    const stored = server.conversations.get(id)!;
    expect(stored.replies).toHaveLength(1);
    const reply = await codename.openReply(o.org, conversation, fromBase64Url(stored.replies[0]!));
    expect(utf8.decodeStrict(reply)).toBe('We read you. Write to us tonight.');
    // Bound to its conversation.
    await expect(codename.openReply(o.org, randomBytes(16), fromBase64Url(stored.replies[0]!))).rejects.toThrow();

    // The note itself: signed by ivan, sealed to the desk, `{"kind","text"}` in serde's order.
    const note = fromBase64Url(server.notes[0]!.note);
    const opened = await openSealed(o.org, conversation, desk.pair, note, memberPublicKeys(o.ivan.keys));
    expect(utf8.decodeStrict(opened.plaintext)).toBe('{"kind":"reply","text":"We read you. Write to us tonight."}');
    expect(server.notes[0]!.status).toBeNull();

    const again = (await intakeQueue(session, o.view(o.ivan))).threads[0]!;
    expect(again.status).toBe('open');
    expect(threadState(again)).toBe('replied');
    expect(again.messages[1]).toMatchObject({ from: 'staff', name: 'ivan', fields: { kind: 'reply', text: 'We read you. Write to us tonight.' } });
    expect(describeMessage(again.messages[1]!)).toMatch(/^\[2025-11-24 \d\d:\d\d UTC\] ivan replied: We read you\. Write to us tonight\.$/);

    // A follow-up from the requester puts it back in the open queue's attention.
    server.push(id, await sealRequest(o.org, 0, desk.pair.publicKey, conversation, utf8.encode('{"what":"thank you"}')));
    expect(threadState((await intakeQueue(session, o.view(o.ivan))).threads[0]!)).toBe('open');
  });

  it('refuses an empty or overlong reply before sending anything', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    await submit(server, o);
    const session = sessionFor(server, o, o.ivan, 'intake');
    const thread = (await intakeQueue(session, o.view(o.ivan))).threads[0]!;
    expect(await reason(replyTo(session, thread, ' \n\u3000'))).toBe('refused');
    expect(await reason(replyTo(session, thread, 'x'.repeat(10_001)))).toBe('refused');
    // 10,000 characters, each two UTF-16 units: Rust counts characters.
    expect(await reason(replyTo(session, thread, '😀'.repeat(10_000)))).toBe('ok');
    expect(server.notes).toHaveLength(1);
  });

  it('dismiss: a signed note with the reason; the request leaves the open queue and stays in --all', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    const { id } = await submit(server, o);
    const session = sessionFor(server, o, o.ada, 'admin');
    const thread = (await intakeQueue(session, o.view(o.ada))).threads[0]!;
    expect(await reason(dismiss(session, thread, '   '))).toBe('refused');
    await dismiss(session, thread, 'a probe: the number is a police line');
    expect(server.notes[0]).toMatchObject({ status: 'dismissed', reply: null });
    expect((await intakeQueue(session, o.view(o.ada))).threads).toEqual([]);
    const all = (await intakeQueue(session, o.view(o.ada), { all: true })).threads;
    expect(all.map((t) => [t.id, t.status, threadState(t)])).toEqual([[id, 'dismissed', 'dismissed']]);
    expect(describeMessage(all[0]!.messages[1]!)).toMatch(/ada dismissed it: a probe: the number is a police line$/);
  });

  it('a referral code: the server gets its hash and the number of uses, never the code', async () => {
    const o = organization();
    const server = new FakeServer();
    const session = sessionFor(server, o, o.ivan, 'intake');
    const { code, uses } = await newReferral(session, 25);
    expect(code).toMatch(/^REF-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(uses).toBe(25);
    expect(server.referrals).toEqual([{ code_hash: toBase64Url(referralHash(code)), uses: 25 }]);
    expect(JSON.stringify(server.referrals)).not.toContain(code.slice(4, 8));
    expect(await reason(newReferral(session, 0))).toBe('refused');
    expect(await reason(newReferral(session, 10_001))).toBe('refused');
    expect(await reason(newReferral(session, 1.5))).toBe('refused');
    expect(server.referrals).toHaveLength(1);
  });

  it('refuses to work once the session is locked', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    await submit(server, o);
    const session = sessionFor(server, o, o.ivan, 'intake');
    const thread = (await intakeQueue(session, o.view(o.ivan))).threads[0]!;
    await session.lock();
    expect(await reason(intakeQueue(session, o.view(o.ivan)))).toBe('locked');
    expect(await reason(replyTo(session, thread, 'hello'))).toBe('locked');
    expect(server.notes).toEqual([]);
  });
});

describe('openCaseFrom', () => {
  function recorder(caseId = toHex(randomBytes(16))) {
    const calls: { summary?: Record<string, string>; appended: [string, CompartmentName, RecordBody][] } = { appended: [] };
    const writer: CaseWriter = {
      createCase: async (_session, summary) => {
        calls.summary = { ...summary };
        return caseId;
      },
      append: async (_session, id, compartment, body) => {
        calls.appended.push([id, compartment, body]);
        return calls.appended.length;
      },
      now: () => T0 + 3600,
    };
    return { caseId, calls, writer };
  }

  it('creates the case as `intake open-case` does: summary, deadline tasks, every message, then the signed note', async () => {
    const o = organization();
    const server = new FakeServer();
    const desk = await openDesk(server, o);
    const { id, conversation } = await submit(server, o);
    const session = sessionFor(server, o, o.ivan, 'intake');
    let thread = (await intakeQueue(session, o.view(o.ivan))).threads[0]!;
    await replyTo(session, thread, 'We read you.');
    thread = (await intakeQueue(session, o.view(o.ivan))).threads[0]!;
    const { caseId, calls, writer } = recorder();

    const opened = await openCaseFrom(session, thread, { country: 'ru' }, writer);
    expect(opened).toEqual({ id, case_id: caseId, alias: `Intake ${id.slice(0, 8)}` });
    expect(calls.summary).toEqual({ alias: `Intake ${id.slice(0, 8)}`, priority: 'emergency', opened: '2025-11-24', country: 'RU' });
    expect(calls.appended).toEqual([
      [caseId, 'summary', { kind: 'event', event: { event: 'task', id: 'acknowledge', title: 'Acknowledge the request', due: T0 + 3600 + 7200, closes_at: 'screening' } }],
      [caseId, 'summary', { kind: 'event', event: { event: 'task', id: 'depart', title: 'Emergency: depart within 7 days', due: T0 + 3600 + 7 * 86_400, closes_at: 'departure' } }],
      [caseId, 'messages', { kind: 'note', text: describeMessage(thread.messages[0]!) }],
      [caseId, 'messages', { kind: 'note', text: describeMessage(thread.messages[1]!) }],
    ]);
    expect(describeMessage(thread.messages[0]!)).toContain('  contact: Signal +7 900 000 00 00');

    const note = server.notes[1]!;
    expect(note.status).toBe('opened');
    const plaintext = (await openSealed(o.org, conversation, desk.pair, fromBase64Url(note.note), memberPublicKeys(o.ivan.keys))).plaintext;
    expect(utf8.decodeStrict(plaintext)).toBe(`{"case":"${caseId}","kind":"opened"}`);

    const after = (await intakeQueue(session, o.view(o.ivan), { all: true })).threads[0]!;
    expect(after.status).toBe('opened');
    expect(describeMessage(after.messages[2]!)).toMatch(new RegExp(`ivan opened case ${caseId}$`));
    expect(await reason(openCaseFrom(session, after, {}, recorder().writer))).toBe('refused');
  });

  it('sets the priority from the stated urgency, normal when it is anything else', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o);
    await submit(server, o, { ...REQUEST, urgency: 'urgent' });
    await submit(server, o, { ...REQUEST, urgency: 'tomorrow please' });
    const session = sessionFor(server, o, o.ivan, 'intake');
    const [odd, urgent] = (await intakeQueue(session, o.view(o.ivan))).threads;
    const a = recorder();
    await openCaseFrom(session, urgent!, { alias: 'Birch' }, a.writer);
    expect(a.calls.summary).toMatchObject({ alias: 'Birch', priority: 'urgent' });
    expect(a.calls.summary).not.toHaveProperty('country');
    expect(a.calls.appended.filter(([, c]) => c === 'summary')).toHaveLength(1);
    const b = recorder();
    await openCaseFrom(session, odd!, {}, b.writer);
    expect(b.calls.summary).toMatchObject({ priority: 'normal' });
  });

  it('refuses a bad alias or country, or a member who could not mark the request, before creating anything', async () => {
    const o = organization();
    const server = new FakeServer();
    await openDesk(server, o, [o.ada]);
    await submit(server, o);
    const ada = sessionFor(server, o, o.ada, 'admin');
    const thread = (await intakeQueue(ada, o.view(o.ada))).threads[0]!;
    const r = recorder();
    expect(await reason(openCaseFrom(ada, thread, { alias: ' ' }, r.writer))).toBe('refused');
    expect(await reason(openCaseFrom(ada, thread, { alias: 'é'.repeat(101) }, r.writer))).toBe('refused');
    expect(await reason(openCaseFrom(ada, thread, { country: 'RUS' }, r.writer))).toBe('refused');
    expect(await reason(openCaseFrom(ada, thread, { country: 'R1' }, r.writer))).toBe('refused');
    const ivan = sessionFor(server, o, o.ivan, 'intake');
    const ungranted = (await intakeQueue(ivan, o.view(o.ivan))).threads[0]!;
    expect(await reason(openCaseFrom(ivan, ungranted, {}, r.writer))).toBe('no_keys');
    expect(r.calls).toEqual({ appended: [] });
    expect(server.notes).toEqual([]);
  });
});
