/**
 * The intake queue, from the staff side, as crates/northstar-client/src/intake.rs
 * and the `northstar intake` commands (crates/northstar/src/commands.rs) work
 * it: list the queue, show a thread, reply, dismiss, make a referral code, and
 * open a case from a request. Framework-free; the server is reached only
 * through `session.api`.
 *
 * ```ts
 * const queue = await intakeQueue(session, orgView, { all: false });
 * const rows = listRows(queue.threads);             // `intake list --json` items
 * const thread = findThread(queue.threads, 'ab12'); // `intake show ab12 --json`
 * await replyTo(session, thread, 'We read you. …');
 * await dismiss(session, thread, 'duplicate of 9f3e…');
 * const code = await newReferral(session, 5);
 * const opened = await openCaseFrom(session, thread, { alias: 'Birch' }, { createCase, append });
 * ```
 *
 * What is checked before anything is believed (docs/intake.md, crypto §24):
 * - The desk keys: this member's grants of the desk's `messages` compartment,
 *   each signed by a key that is or was in the verified membership chain
 *   (`org.chain`), opened, and older generations reached through the
 *   rotation links.
 * - The published intake key: recomputed from the desk key of its
 *   generation; a differing one refuses the whole queue ('server_changed'),
 *   because a server that hands the public page another key reads every new
 *   request.
 * - Every message: its generation, for a staff note the author (a current or
 *   former member by key id) and the signature, then HPKE bound to the
 *   organization and the conversation. A message that fails is not shown; the
 *   thread lists it in `unreadable`, with why, as the Rust client does.
 *
 * Beyond the Rust client: a desk that has no grant for this member (the
 * server answers 404 for its grants) is "no keys yet", not a failure; a
 * published generation older than the newest desk key held is reported
 * (`keyBehind`); `openCaseFrom` refuses before creating a case when it could
 * not mark the request afterwards.
 *
 * Left out: the path of an intake officer still waiting for admission, whose
 * desk keys come sealed in their invitation (intake.rs `remember_invite`,
 * `/api/intake/invite-keys`): the web app does not keep the invitation it
 * joined with. The admins' upkeep (`keep_desk`: create the desk, grant it,
 * publish its key) is not here: core/accounts.ts `keepIntakeDesk` and every
 * admin command of the command line do it.
 *
 * Text from requesters stays text: fields are returned as strings and never
 * interpreted; `describeMessage` shows control characters as `\u{1b}`.
 * Keys live in memory only: the desk and intake private keys exist for the
 * length of one `intakeQueue` call; a thread carries only public values.
 */
import {
  COMPARTMENTS,
  deriveIntakeKeyPair,
  fromBase64Url,
  fromHex,
  Keyring,
  NorthstarCryptoError,
  newReferralCode,
  openGrant,
  openSealed,
  parseGrantHeader,
  parseSealedHeader,
  referralHash,
  sealReply,
  sealStaffNote,
  staffNoteAuthor,
  toBase64Url,
  toHex,
  type CompartmentName,
  type CompartmentRef,
  type IntakeKeyPair,
  type MembershipState,
} from '../../lib/crypto/index.js';
import { utf8 } from '../../lib/crypto/bytes.js';
import type { RecordBody } from '../../lib/domain/record.js';
import { charCount, compareRust, emptyRecord, rustTrim, utf8Length } from '../../lib/domain/rust.js';
import { formatUtc } from '../../lib/domain/time.js';
import { deadlineTasks, type Priority } from '../../lib/domain/workflow.js';
import { ApiError, type Api, type CaseGrants, type GrantInfo, type RotationInfo } from './api.js';
import type { OrgView } from './org.js';
import type { UnlockedSession } from './session.js';

// ---- Wire types (northstar-protocol, "Intake") ----

export interface IntakeEntry {
  seq: number;
  /** Sealed to the intake key (`NSIN`): the requester's messages and staff notes. */
  sealed: string;
  at: number;
}
export interface IntakeItem {
  conversation_id: string;
  created_at: number;
  updated_at: number;
  /** `browser` (sealed in the page) or `server` (sealed by the server on receipt). */
  path: string;
  referred: boolean;
  /** `open`, `dismissed` or `opened` (a case was opened from it). */
  status: string;
  reply_public: string;
  entries: IntakeEntry[];
}
export interface IntakeDesk {
  /** The intake desk: a case of kind `intake-desk` whose `messages` keys derive the intake key. */
  desk_case_id: string;
  generation: number;
  public_key: string;
}
export interface IntakeItems {
  desk: IntakeDesk | null;
  items: IntakeItem[];
}
export interface IntakeStaffNote {
  /** Sealed to the intake key and signed by the author (`NSIN`, kind 2). */
  note: string;
  /** Sealed to the requester's reply key (`NSIR`), when the note is a reply. */
  reply?: string | null;
  /** `dismissed` or `opened`, when the note closes the conversation. */
  status?: string | null;
}
export interface CreateReferral {
  /** SHA-256("northstar/v1/intake/referral" ‖ code) (base64url): the server never sees the code until it is used. */
  code_hash: string;
  uses: number;
}

// ---- Endpoints ----

/** `GET /api/intake/items`: the desk and the 500 most recently active conversations. */
export async function fetchIntakeItems(api: Api): Promise<IntakeItems> {
  return checkIntakeItems(await api.call<unknown>('GET', '/api/intake/items'));
}

/** `POST /api/intake/items/{id}/notes`: a signed note, and optionally a reply and a new status. */
export function postIntakeNote(api: Api, conversationId: string, body: IntakeStaffNote): Promise<void> {
  return api.call('POST', `/api/intake/items/${encodeURIComponent(conversationId)}/notes`, body);
}

/** `POST /api/intake/referrals`: register the hash of a referral code. */
export function postReferral(api: Api, body: CreateReferral): Promise<void> {
  return api.call('POST', '/api/intake/referrals', body);
}

// ---- Errors ----

/** Why the queue or an action was refused (i18n keys under `error.intake.`). */
export type IntakeFailure =
  /** The server substituted the intake key, or names a key that was never a member's. */
  | 'server_changed'
  /** A desk grant or rotation link does not verify: altered, swapped or from elsewhere. */
  | 'tampered'
  /** The server answered something malformed. */
  | 'protocol'
  /** This member holds no key the action needs (the desk's published generation). */
  | 'no_keys'
  /** This client will not do what was asked (an empty reply, an unknown id, a case opened already). */
  | 'refused'
  /** The session was locked: its keys are gone. */
  | 'locked';

/**
 * A queue the client refuses to believe, or an action it refuses. The message
 * is for people and never holds a key or a requester's words. `code` is the
 * crypto core's code when one caused it. What the server refuses (HTTP
 * errors, the network) comes through unchanged as `ApiError`.
 */
export class IntakeError extends Error {
  constructor(
    readonly reason: IntakeFailure,
    message: string,
    readonly code?: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'IntakeError';
  }
}

function protocol(what: string): IntakeError {
  return new IntakeError('protocol', `The server answered something this app does not understand: ${what}.`, 'protocol');
}

function refused(message: string): IntakeError {
  return new IntakeError('refused', message);
}

function lockedError(): IntakeError {
  return new IntakeError('locked', 'The session is locked: sign in again to work the intake queue.');
}

function checkUnlocked(session: UnlockedSession): void {
  if (session.locked) throw lockedError();
}

// ---- Checking what the server sends (as serde does for the Rust client) ----

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Json, field: string, what: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw protocol(`${what}.${field} is not a string`);
  return v;
}

function u32(o: Json, field: string, what: string): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw protocol(`${what}.${field} is not a u32`);
  return v;
}

/** i64 on the wire; Unix seconds stay far below 2^53. */
function i64(o: Json, field: string, what: string): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw protocol(`${what}.${field} is not an integer`);
  return v;
}

function bool(o: Json, field: string, what: string): boolean {
  const v = o[field];
  if (typeof v !== 'boolean') throw protocol(`${what}.${field} is not a boolean`);
  return v;
}

function array(o: Json, field: string, what: string): unknown[] {
  const v = o[field];
  if (!Array.isArray(v)) throw protocol(`${what}.${field} is not a list`);
  return v;
}

function checkDesk(v: unknown): IntakeDesk {
  if (!isObject(v)) throw protocol('the desk is not an object');
  return { desk_case_id: str(v, 'desk_case_id', 'desk'), generation: u32(v, 'generation', 'desk'), public_key: str(v, 'public_key', 'desk') };
}

function checkItem(v: unknown): IntakeItem {
  if (!isObject(v)) throw protocol('an intake item is not an object');
  return {
    conversation_id: str(v, 'conversation_id', 'item'),
    created_at: i64(v, 'created_at', 'item'),
    updated_at: i64(v, 'updated_at', 'item'),
    path: str(v, 'path', 'item'),
    referred: bool(v, 'referred', 'item'),
    status: str(v, 'status', 'item'),
    reply_public: str(v, 'reply_public', 'item'),
    entries: array(v, 'entries', 'item').map((e) => {
      if (!isObject(e)) throw protocol('an intake entry is not an object');
      return { seq: u32(e, 'seq', 'entry'), sealed: str(e, 'sealed', 'entry'), at: i64(e, 'at', 'entry') };
    }),
  };
}

export function checkIntakeItems(v: unknown): IntakeItems {
  if (!isObject(v)) throw protocol('the intake queue is not an object');
  const desk = v.desk === null || v.desk === undefined ? null : checkDesk(v.desk);
  return { desk, items: array(v, 'items', 'queue').map(checkItem) };
}

function checkGrants(v: unknown): CaseGrants {
  if (!isObject(v)) throw protocol("the desk's grants are not an object");
  const grants: GrantInfo[] = array(v, 'grants', 'grants').map((g) => {
    if (!isObject(g)) throw protocol('a grant is not an object');
    return {
      compartment: u32(g, 'compartment', 'grant'),
      generation: u32(g, 'generation', 'grant'),
      recipient: str(g, 'recipient', 'grant'),
      granted_by: str(g, 'granted_by', 'grant'),
      grant: str(g, 'grant', 'grant'),
    };
  });
  const rotations: RotationInfo[] = array(v, 'rotations', 'grants').map((r) => {
    if (!isObject(r)) throw protocol('a rotation link is not an object');
    return { compartment: u32(r, 'compartment', 'rotation'), new_generation: u32(r, 'new_generation', 'rotation'), link: str(r, 'link', 'rotation') };
  });
  return { grants, rotations };
}

const HEX16 = /^[0-9a-fA-F]{32}$/;

/** intake.rs `unhex16`: 32 hex digits, either case. */
function id16(field: string, value: string): Uint8Array {
  if (!HEX16.test(value)) throw protocol(`${field} must be 32 hex digits`);
  return fromHex(value);
}

function unb64(field: string, value: string): Uint8Array {
  try {
    return fromBase64Url(value);
  } catch {
    throw protocol(`${field} is not base64url`);
  }
}

// ---- The desk keys ----

const MESSAGES = COMPARTMENTS.messages;

/**
 * Every desk key this member reaches by grant (intake.rs `desk_keyring`):
 * grants addressed to them, each signed by a key the chain knows, then the
 * rotation links down from the newest. A desk without a grant for this member
 * gives an empty ring: the server answers 404 for its grants then, and the
 * queue is "no keys yet", not a failure.
 */
async function deskKeyring(session: UnlockedSession, chain: MembershipState, target: CompartmentRef, deskId: string): Promise<Keyring> {
  const ring = new Keyring(target);
  let all: CaseGrants;
  try {
    all = checkGrants(await session.api.call<unknown>('GET', `/api/cases/${encodeURIComponent(deskId)}/grants`));
  } catch (e) {
    if (e instanceof ApiError && e.code === 'not_found') return ring;
    throw e;
  }
  const me = session.accountHex;
  try {
    checkUnlocked(session);
    for (const g of all.grants) {
      if (g.recipient !== me || g.compartment !== MESSAGES) continue;
      const bytes = unb64('grant', g.grant);
      const header = parseGrantHeader(bytes);
      const granter = chain.authorByKeyId(header.granter);
      if (!granter) {
        throw new IntakeError(
          'server_changed',
          `A key of the intake desk is handed over by key ${toHex(header.granter)}, which was never a member's: the server made it up, so the queue was not opened.`,
          'granter-not-member',
        );
      }
      ring.insert(await openGrant(bytes, target, session.keys(), granter.member.author));
    }
    const links = new Map<number, Uint8Array>();
    for (const r of all.rotations) if (r.compartment === MESSAGES) links.set(r.new_generation, unb64('rotation', r.link));
    ring.unwind(links);
  } catch (e) {
    wipe(ring);
    // Locking while grants open wipes the keys under them: that is no verdict on the server.
    if (session.locked) throw lockedError();
    if (e instanceof NorthstarCryptoError) {
      throw new IntakeError('tampered', `A key of the intake desk does not verify, so the server sent something altered or swapped: ${e.message}.`, e.code, e);
    }
    throw e;
  }
  return ring;
}

function wipe(ring: Keyring): void {
  for (const g of ring.generations()) ring.get(g).key.fill(0);
}

// ---- Opening the queue ----

/**
 * What requesters wrote (contact, when, where, what, urgency, lang) or a
 * staff note (kind: reply, dismissed, opened; text; case), in BTreeMap order.
 */
export type IntakeFields = Record<string, string>;

/** One message of a conversation, opened: `OpenedMessage` as serde writes it (author flattened under `from`). */
export type IntakeMessage =
  | { seq: number; at: number; from: 'requester'; fields: IntakeFields }
  | { seq: number; at: number; from: 'staff'; name: string; fields: IntakeFields };

/** Where a thread's notes go: public values only. */
interface DeskHandle {
  org: Uint8Array;
  generation: number;
  publicKey: Uint8Array;
}

/**
 * A conversation of the queue, with every message this member could open and,
 * for every one it could not, why. Its own properties are exactly what
 * `northstar intake show ID --json` prints; what writing needs (the
 * requester's reply key, the desk's current public key) is held privately,
 * so `JSON.stringify(thread)` is the Rust JSON.
 */
export class IntakeThread {
  readonly id: string;
  readonly created_at: number;
  readonly updated_at: number;
  readonly path: string;
  readonly referred: boolean;
  readonly status: string;
  readonly messages: readonly IntakeMessage[];
  readonly unreadable: readonly string[];
  readonly #replyPublic: string;
  readonly #desk: DeskHandle | null;

  constructor(item: IntakeItem, messages: IntakeMessage[], unreadable: string[], desk: DeskHandle | null) {
    this.id = item.conversation_id;
    this.created_at = item.created_at;
    this.updated_at = item.updated_at;
    this.path = item.path;
    this.referred = item.referred;
    this.status = item.status;
    this.messages = messages;
    this.unreadable = unreadable;
    this.#replyPublic = item.reply_public;
    this.#desk = desk;
  }

  /** The requester's public reply key (base64url), as the server keeps it. */
  get replyPublic(): string {
    return this.#replyPublic;
  }

  /** @internal The desk's current generation and public key, or null when this member does not hold it. */
  deskHandle(): DeskHandle | null {
    return this.#desk;
  }
}

/** The queue, opened. */
export interface IntakeQueue {
  /** Most recently active first (the server's order); only `open` ones unless `all`. */
  threads: IntakeThread[];
  /** No desk yet: no admin has opened it, so the public page takes no requests. */
  noDesk: boolean;
  /** The desk keys this member holds open nothing (not granted yet). Rust `no_keys`. */
  noKeys: boolean;
  /** Replying, dismissing and opening cases need the desk key of the published generation. */
  canWrite: boolean;
  /**
   * The server publishes an older generation than the newest desk key this
   * member holds: new requests are sealed to a key that a member removed since
   * may hold. An admin's next command publishes the newest one; say so.
   */
  keyBehind: boolean;
}

/** `fields_of`: a JSON object's values as text (non-strings as their JSON); anything else is the `what`, as text. */
function fieldsOf(plaintext: Uint8Array): IntakeFields {
  // serde_json refuses invalid UTF-8 inside the JSON too: both fall back to the text.
  const text = utf8.decodeStrict(plaintext);
  let parsed: unknown;
  try {
    parsed = text === undefined ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const fields = emptyRecord<string>();
  if (!isObject(parsed)) {
    fields.what = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(plaintext);
    return fields;
  }
  for (const key of Object.keys(parsed).sort(compareRust)) {
    const v = parsed[key];
    fields[key] = typeof v === 'string' ? v : rustJson(v);
  }
  return fields;
}

/** serde_json's compact text of a value: object keys in BTreeMap order. */
function rustJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(rustJson).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort(compareRust)
      .map((k) => `${JSON.stringify(k)}:${rustJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function describeError(e: unknown): string {
  if (e instanceof NorthstarCryptoError || e instanceof IntakeError) return e.message;
  if (e instanceof TypeError || e instanceof RangeError) return e.message;
  throw e;
}

async function openThread(
  org: Uint8Array,
  chain: MembershipState,
  pairs: ReadonlyMap<number, IntakeKeyPair>,
  item: IntakeItem,
  desk: DeskHandle | null,
): Promise<IntakeThread> {
  const conversation = id16('conversation_id', item.conversation_id);
  const messages: IntakeMessage[] = [];
  const unreadable: string[] = [];
  for (const entry of item.entries) {
    const sealed = unb64('sealed', entry.sealed);
    try {
      const header = parseSealedHeader(sealed);
      const pair = pairs.get(header.generation);
      if (!pair) throw new IntakeError('no_keys', `no desk key of generation ${header.generation}`);
      if (header.by === 'requester') {
        const opened = await openSealed(org, conversation, pair, sealed);
        messages.push({ seq: entry.seq, at: entry.at, from: 'requester', fields: fieldsOf(opened.plaintext) });
      } else {
        const keyId = staffNoteAuthor(sealed);
        const author = chain.authorByKeyId(keyId);
        if (!author) throw new IntakeError('server_changed', `a staff note signed by key ${toHex(keyId)}, not a member's`);
        const opened = await openSealed(org, conversation, pair, sealed, author.member.author);
        messages.push({ seq: entry.seq, at: entry.at, from: 'staff', name: author.member.name, fields: fieldsOf(opened.plaintext) });
      }
    } catch (e) {
      unreadable.push(`message ${entry.seq}: ${describeError(e)}`);
    }
  }
  return new IntakeThread(item, messages, unreadable, desk);
}

/**
 * Fetch and open the queue (intake.rs `queue`), keeping the open threads, or
 * every thread with `all` (`intake list [--all]`; `intake show` looks among
 * all of them). `org` is a fresh verification of the membership chain
 * (core/org.ts): staff notes are checked against it, so a note by a member
 * added after it was verified shows as unreadable until it is verified again.
 */
export async function intakeQueue(session: UnlockedSession, org: OrgView, options: { all?: boolean } = {}): Promise<IntakeQueue> {
  checkUnlocked(session);
  if (org.orgId !== session.me.org.org_id) throw refused('That is the membership chain of another organization than the one signed in to.');
  const orgId = fromHex(org.orgId);
  const served = await fetchIntakeItems(session.api);
  if (!served.desk) return { threads: [], noDesk: true, noKeys: false, canWrite: false, keyBehind: false };
  const desk = served.desk;
  const target: CompartmentRef = { org: orgId, object: id16('desk_case_id', desk.desk_case_id), compartment: MESSAGES };
  checkUnlocked(session);
  const ring = await deskKeyring(session, org.chain, target, desk.desk_case_id);
  const pairs = new Map<number, IntakeKeyPair>();
  try {
    for (const g of ring.generations()) pairs.set(g, await deriveIntakeKeyPair(orgId, ring.get(g)));
  } finally {
    // The intake key pairs are all this call needs; the desk keys go now.
    wipe(ring);
  }
  const current = pairs.get(desk.generation);
  // A server that hands the public page another key would read every new request.
  if (current && toBase64Url(current.publicKey) !== desk.public_key) {
    throw new IntakeError(
      'server_changed',
      `The server publishes an intake key for generation ${desk.generation} that the desk keys do not derive: new requests may be readable by someone else. Tell an admin.`,
      'intake-key-substituted',
    );
  }
  const handle: DeskHandle | null = current ? { org: orgId, generation: desk.generation, publicKey: current.publicKey } : null;
  const newest = Math.max(-1, ...pairs.keys());
  const threads: IntakeThread[] = [];
  for (const item of served.items) {
    if (!options.all && item.status !== 'open') continue;
    threads.push(await openThread(orgId, org.chain, pairs, item, handle));
  }
  return { threads, noDesk: false, noKeys: pairs.size === 0, canWrite: handle !== null, keyBehind: newest > desk.generation };
}

/** `Queue::find`: a thread by its id or a unique prefix of four or more hex digits. */
export function findThread(threads: readonly IntakeThread[], id: string): IntakeThread {
  const wanted = rustTrim(id).toLowerCase();
  const matches = wanted.length >= 4 ? threads.filter((t) => t.id.startsWith(wanted)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw refused(`There is no intake request '${id}'.`);
  throw refused(`'${id}' names several intake requests: give more of the id.`);
}

// ---- Views ----

/** `IntakeItem::first`: what the requester first said in a field (for lists). */
export function firstField(thread: IntakeThread, field: string): string | null {
  const m = thread.messages.find((x) => x.from === 'requester');
  return m !== undefined && Object.hasOwn(m.fields, field) ? m.fields[field]! : null;
}

/** One row of `northstar intake list --json` (`{"items": [row, …]}`). */
export interface IntakeListRow {
  id: string;
  status: string;
  path: string;
  referred: boolean;
  created_at: number;
  updated_at: number;
  urgency: string | null;
  where: string | null;
  what: string | null;
  /** How many messages this member could open. */
  messages: number;
  unreadable: readonly string[];
}

export function listRow(thread: IntakeThread): IntakeListRow {
  return {
    id: thread.id,
    status: thread.status,
    path: thread.path,
    referred: thread.referred,
    created_at: thread.created_at,
    updated_at: thread.updated_at,
    urgency: firstField(thread, 'urgency'),
    where: firstField(thread, 'where'),
    what: firstField(thread, 'what'),
    messages: thread.messages.length,
    unreadable: thread.unreadable,
  };
}

export function listRows(threads: readonly IntakeThread[]): IntakeListRow[] {
  return threads.map(listRow);
}

/** Where a thread stands for the people working it. The server's status has no "replied"; it is read from the notes. */
export type ThreadState = 'open' | 'replied' | 'dismissed' | 'opened';

/** 'replied' while the last message is a staff reply (waiting for the requester); a requester's message after it makes it 'open' again. */
export function threadState(thread: IntakeThread): ThreadState {
  if (thread.status === 'dismissed' || thread.status === 'opened') return thread.status;
  const last = thread.messages[thread.messages.length - 1];
  return last?.from === 'staff' && last.fields.kind === 'reply' ? 'replied' : 'open';
}

/**
 * commands.rs `plain`: text from outside made safe to show. Control
 * characters (escape sequences among them) are shown as `\u{1b}`, not obeyed;
 * newlines and tabs stay.
 */
export function plain(text: string): string {
  return text.replace(/[\p{Cc}]/gu, (c) => (c === '\n' || c === '\t' ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`));
}

const REQUESTER_KEYS = ['urgency', 'contact', 'when', 'where', 'what'] as const;

/**
 * A message as `intake show` prints it, and as `open-case` copies it into the
 * case's `messages` compartment: `[2025-11-24 16:00 UTC] requester:` and the
 * fields, or `[…] ada replied: …`.
 */
export function describeMessage(m: IntakeMessage): string {
  const when = formatUtc(m.at);
  if (m.from === 'requester') {
    const lines = [`[${when}] requester:`];
    for (const key of REQUESTER_KEYS) {
      const v = Object.hasOwn(m.fields, key) ? m.fields[key]! : undefined;
      if (v !== undefined && rustTrim(v) !== '') lines.push(`  ${key}: ${plain(v)}`);
    }
    for (const key of Object.keys(m.fields).sort(compareRust)) {
      if ((REQUESTER_KEYS as readonly string[]).includes(key) || key === 'lang') continue;
      lines.push(`  ${plain(key)}: ${plain(m.fields[key]!)}`);
    }
    return lines.join('\n');
  }
  const field = (k: string): string | undefined => (Object.hasOwn(m.fields, k) ? m.fields[k] : undefined);
  const kind = field('kind') ?? 'note';
  const text = plain(field('text') ?? '');
  switch (kind) {
    case 'reply':
      return `[${when}] ${m.name} replied: ${text}`;
    case 'dismissed':
      return `[${when}] ${m.name} dismissed it: ${text}`;
    case 'opened':
      return `[${when}] ${m.name} opened case ${plain(field('case') ?? '')}`;
    default:
      return `[${when}] ${m.name}: ${text}`;
  }
}

// ---- Writing ----

/** serde_json of a `BTreeMap<&str, String>`: keys in order, compact. */
function noteJson(fields: Record<string, string>): Uint8Array {
  return utf8.encode(rustJson(fields));
}

/** intake.rs `add_note`: a signed staff note sealed to the desk's current key, and for a reply the reply sealed to the requester. */
async function addNote(session: UnlockedSession, thread: IntakeThread, fields: Record<string, string>, replyText: string | null, status: string | null): Promise<void> {
  checkUnlocked(session);
  const desk = thread.deskHandle();
  if (!desk) throw new IntakeError('no_keys', "You hold no key of the intake desk's newest generation yet: an admin's next command grants it.", 'no-desk-key');
  const conversation = id16('conversation_id', thread.id);
  const note = await sealStaffNote(desk.org, desk.generation, desk.publicKey, conversation, noteJson(fields), session.keys());
  let reply: string | null = null;
  if (replyText !== null) {
    const replyPublic = unb64('reply_public', thread.replyPublic);
    if (replyPublic.length !== 32) throw protocol('reply_public is not 32 bytes');
    try {
      reply = toBase64Url(await sealReply(desk.org, conversation, replyPublic, utf8.encode(replyText)));
    } catch (e) {
      if (e instanceof NorthstarCryptoError) throw protocol(`the requester's reply key is unusable (${e.message})`);
      throw e;
    }
  }
  checkUnlocked(session);
  await postIntakeNote(session.api, thread.id, { note: toBase64Url(note), reply, status });
}

/** `intake reply`: a reply only the requester's codename opens, and a signed note saying who replied. 1 to 10,000 characters. */
export async function replyTo(session: UnlockedSession, thread: IntakeThread, text: string): Promise<void> {
  if (rustTrim(text) === '' || charCount(text) > 10_000) throw refused('A reply is 1 to 10,000 characters.');
  await addNote(session, thread, { kind: 'reply', text }, text, null);
}

/** `intake dismiss --reason`: a signed note with the reason; the request leaves the open queue. */
export async function dismiss(session: UnlockedSession, thread: IntakeThread, reason: string): Promise<void> {
  if (rustTrim(reason) === '') throw refused('Say why the request is dismissed.');
  await addNote(session, thread, { kind: 'dismissed', text: reason }, null, 'dismissed');
}

/** `intake referral --uses N`: a code for a partner to hand out; the server keeps only its hash. */
export async function newReferral(session: UnlockedSession, uses: number): Promise<{ code: string; uses: number }> {
  checkUnlocked(session);
  if (!Number.isInteger(uses) || uses < 1 || uses > 10_000) throw refused('A referral code is good for 1 to 10,000 requests.');
  const code = newReferralCode();
  await postReferral(session.api, { code_hash: toBase64Url(referralHash(code)), uses });
  return { code, uses };
}

// ---- Opening a case from a request ----

/**
 * What `openCaseFrom` needs of the case client (core/cases.ts), injected.
 * `CaseClient` methods are bound to their session: pass
 * `{ createCase: (_, f) => cases.createCase(f), append: (_, id, c, b) => cases.append(id, c, b) }`.
 */
export interface CaseWriter {
  /** Create a case (every case compartment, granted to this member) with `summaryFields` as its first summary record; its id (hex). */
  createCase(session: UnlockedSession, summaryFields: Record<string, string>): Promise<string>;
  /** Append a record to a compartment of a case. */
  append(session: UnlockedSession, caseId: string, compartment: CompartmentName, body: RecordBody): Promise<unknown>;
  /** Unix seconds; for tests. */
  now?: () => number;
}

export interface OpenedCase {
  /** The request's id. */
  id: string;
  case_id: string;
  alias: string;
}

/** `open-case`: the priority is the stated urgency when it is emergency or urgent, else normal. */
export function priorityOf(thread: IntakeThread): Priority {
  const u = firstField(thread, 'urgency');
  return u === 'emergency' || u === 'urgent' ? u : 'normal';
}

/**
 * `intake open-case ID [--alias A] [--country CC]` (commands.rs `new_case`
 * and `IntakeCommand::OpenCase`). What it writes, in order:
 * 1. `createCase` with the summary fields `alias` (default `Intake ` and the
 *    first 8 hex digits of the request id; 1 to 200 bytes, not blank),
 *    `priority` (`priorityOf`), `opened` (today, `YYYY-MM-DD` UTC) and, when
 *    given, `country` (two ASCII letters, upper-cased);
 * 2. the priority's deadline tasks as workflow events in `summary`
 *    (acknowledge within 2 hours; an emergency also departs within 7 days);
 * 3. every message this member could open, as a `note` record in `messages`
 *    whose text is `describeMessage` (what `intake show` prints);
 * 4. a signed staff note `{"case": id, "kind": "opened"}` on the request,
 *    with status `opened`.
 * Refused before anything is written when a case was opened from it already,
 * or this member could not write the final note (the Rust client finds that
 * out after creating the case).
 */
export async function openCaseFrom(
  session: UnlockedSession,
  thread: IntakeThread,
  options: { alias?: string; country?: string },
  cases: CaseWriter,
): Promise<OpenedCase> {
  checkUnlocked(session);
  if (thread.status === 'opened') throw refused(`A case was opened from ${thread.id} already.`);
  if (!thread.deskHandle()) {
    throw new IntakeError('no_keys', "You hold no key of the intake desk's newest generation yet, so the request could not be marked: no case was opened.", 'no-desk-key');
  }
  const priority = priorityOf(thread);
  const alias = options.alias ?? `Intake ${thread.id.slice(0, 8)}`;
  if (rustTrim(alias) === '' || utf8Length(alias) > 200) throw refused('An alias is 1 to 200 characters.');
  const summary = emptyRecord<string>();
  const now = (cases.now ?? (() => Math.floor(Date.now() / 1000)))();
  summary.alias = alias;
  summary.priority = priority;
  summary.opened = formatUtc(now).slice(0, 10);
  if (options.country !== undefined) {
    if (!/^[A-Za-z]{2}$/.test(options.country)) throw refused('A country is a two-letter code such as RU or CA.');
    summary.country = options.country.toUpperCase();
  }
  const caseId = await cases.createCase(session, summary);
  if (!HEX16.test(caseId)) throw protocol('the new case has no 32-hex-digit id');
  for (const event of deadlineTasks(priority, now)) await cases.append(session, caseId, 'summary', { kind: 'event', event });
  for (const m of thread.messages) await cases.append(session, caseId, 'messages', { kind: 'note', text: describeMessage(m) });
  await addNote(session, thread, { case: caseId, kind: 'opened' }, null, 'opened');
  return { id: thread.id, case_id: caseId, alias };
}
