/**
 * Syncing and verifying cases, as crates/northstar-client/src/sync.rs does.
 * core/cases.ts is the public face; this module is its engine, and
 * core/casecache.ts keeps a sealed copy of its states in the browser.
 *
 * What is kept, and for how long:
 * - `HeadPins`: the highest verified head of every case, for the page's life
 *   (it survives Lock, like the organization pin in core/org.ts). Heads are
 *   no secret: the server knows them. The sealed cache carries them across
 *   page lives.
 * - `KeyCache`: opened compartment keys, keyed by (case, compartment,
 *   generation), so each grant costs its public-key work once. Wiped on Lock,
 *   and never written anywhere.
 * - `CaseState`s: each case's verified entries and opened records. Wiped on
 *   Lock; sealed into the browser cache after each sync round when the
 *   client has one (`sync`'s `persist`).
 */
import {
  ChainError,
  compartmentName,
  entryHash,
  fromBase64Url,
  fromHex,
  isCompartment,
  Keyring,
  MembershipState,
  NorthstarCryptoError,
  openGrant,
  openRecord,
  parseEntry,
  parseGrantHeader,
  roleName,
  toHex,
  verifyChain,
  verifyEntry,
  type Compartment,
  type CompartmentRef,
} from '../../lib/crypto/index.js';
import type { RecordBody, Stage, VerifiedEntry } from '../../lib/domain/record.js';
import { encodeRecordBody, parseRecordPlaintext } from '../../lib/domain/body.js';
import { type Api, type CaseBundle, type CaseGrants, type CaseHead, type CaseList, type Entry, type GrantInfo, type RotationInfo, type SyncResponse } from './api.js';
import type { SessionKeys } from './session.js';

/** Why a case was refused (i18n keys under `error.case.`). */
export type CaseFailure =
  /** The server served less of a case than this page already verified. */
  | 'rollback'
  /** The server served another entry where this page verified one, or a head its entries do not lead to. */
  | 'fork'
  /** An entry, a grant or a rotation link does not verify: altered, swapped, dropped, reordered or from elsewhere. */
  | 'tampered'
  /** Something is signed by a key that was never in the verified membership chain. */
  | 'server_changed'
  /** The server answered something malformed or contradictory (a page without progress among them). */
  | 'protocol'
  /** No such case, or no key for the compartment asked for. */
  | 'no_access'
  /** This client will not do what was asked (an unknown member, unsharing from oneself, a bad name). */
  | 'refused'
  /** The session was locked: every key and every opened record of this page are gone. */
  | 'locked';

/**
 * A case the client refuses to believe, or an operation it refuses. The
 * message is for people: it says what happened in plain words and never
 * holds a key or a case field. `code` is the crypto core's code when one
 * caused it (for logs and tests), `seq` the entry it names.
 */
export class CaseError extends Error {
  constructor(
    readonly reason: CaseFailure,
    message: string,
    readonly caseId?: string,
    readonly seq?: number,
    readonly code?: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'CaseError';
  }
}

function protocol(what: string, caseId?: string): CaseError {
  return new CaseError('protocol', `The server answered something this app does not understand: ${what}.`, caseId, undefined, 'protocol');
}

/**
 * A crypto failure as the person should hear it. Rollbacks and forks get
 * their own reasons; every other failure of an entry, grant or link means
 * the server handed over something that was altered or does not belong.
 */
export function describeCryptoFailure(e: unknown, caseId: string, seq?: number): CaseError {
  if (e instanceof CaseError) return e;
  if (e instanceof ChainError) {
    const at = Number(e.seq);
    if (e.code === 'chain-rollback') {
      return new CaseError('rollback', `The server rolled this case back: ${e.message}. Nothing it sent was believed.`, caseId, at, e.code, e);
    }
    if (e.code === 'chain-fork') {
      return new CaseError('fork', `The server showed another version of this case than the one already checked here: ${e.message}.`, caseId, at, e.code, e);
    }
    return new CaseError('tampered', `The server sent this case's history altered: ${e.message}.`, caseId, at, e.code, e);
  }
  if (e instanceof NorthstarCryptoError) {
    const where = seq === undefined ? 'Part of this case' : `Entry ${seq} of this case`;
    return new CaseError('tampered', `${where} does not verify, so the server sent something altered or swapped: ${e.message}.`, caseId, seq, e.code, e);
  }
  // A bug of this client, not a verdict on the server: keep it loud.
  throw e;
}

/** The highest verified head of every case, for this page's life. Only ever moves up. */
export class HeadPins {
  private readonly heads = new Map<string, { seq: number; hash: string }>();

  get(caseId: string): { seq: number; hash: string } | undefined {
    return this.heads.get(caseId);
  }

  /** Remember `seq`/`hash` if it is higher than what was seen; a lower head is ignored here and refused by the sync. */
  raise(caseId: string, seq: number, hash: string): void {
    const known = this.heads.get(caseId);
    if (!known || seq > known.seq) this.heads.set(caseId, { seq, hash });
  }

  get size(): number {
    return this.heads.size;
  }
}

export function lockedError(): CaseError {
  return new CaseError('locked', 'This page is locked: sign in again to see cases.', undefined, undefined, 'locked');
}

/** Opened compartment keys, by case and compartment, each ring holding its generations. */
export class KeyCache {
  private readonly rings = new Map<string, Keyring>();
  private closed = false;

  private static slot(caseId: string, compartment: Compartment): string {
    return `${caseId}/${compartment}`;
  }

  ring(caseId: string, target: CompartmentRef): Keyring {
    // A grant opened after Lock must not land in a cache nobody will wipe again.
    if (this.closed) throw lockedError();
    const slot = KeyCache.slot(caseId, target.compartment);
    let ring = this.rings.get(slot);
    if (!ring) {
      ring = new Keyring(target);
      this.rings.set(slot, ring);
    }
    return ring;
  }

  peek(caseId: string, compartment: Compartment): Keyring | undefined {
    return this.rings.get(KeyCache.slot(caseId, compartment));
  }

  has(caseId: string, compartment: Compartment, generation: number): boolean {
    return this.peek(caseId, compartment)?.generations().includes(generation) ?? false;
  }

  /** Forget the keys of compartments the member no longer holds (sync.rs `rings.retain`). */
  retain(caseId: string, held: ReadonlySet<Compartment>): void {
    for (const code of [1, 2, 3, 4, 5, 6, 7, 8] as Compartment[]) {
      if (held.has(code)) continue;
      const slot = KeyCache.slot(caseId, code);
      const ring = this.rings.get(slot);
      if (ring) {
        wipe(ring);
        this.rings.delete(slot);
      }
    }
  }

  /** Overwrite every key with zeros and forget them all; with `close`, take no more. */
  clear(close = false): void {
    for (const ring of this.rings.values()) wipe(ring);
    this.rings.clear();
    if (close) this.closed = true;
  }

  get size(): number {
    return this.rings.size;
  }
}

function wipe(ring: Keyring): void {
  for (const g of ring.generations()) ring.get(g).key.fill(0);
}

/** What the case list shows of a case, folded cheaply as entries are verified. */
export interface CaseListing {
  caseId: string;
  /** A safe house says so in its first summary record (cases.rs SAFE_HOUSE_KIND). */
  kind: 'case' | 'safehouse';
  alias: string | null;
  priority: string | null;
  country: string | null;
  opened: string | null;
  /**
   * The `to` of the latest `advance` event in `summary`; `intake` when there
   * is none; null without access to `summary`, or for a safe house. This does
   * not judge the events: the full workflow fold (web/src/lib/domain) does,
   * and wins wherever the two differ.
   */
  stage: Stage | null;
  /** Entries in the verified chain. */
  entries: number;
  /** Every current summary field (the later entry wins). */
  summary: Record<string, string>;
}

/** Everything verified about one case so far; replaced whole only when a sync of it succeeds. */
export interface CaseState {
  caseId: string;
  /** Entries folded (0 ..= len - 1). */
  len: number;
  /** The hash of entry len - 1, hex. */
  headHash: string | undefined;
  keysVersion: number;
  /**
   * The member's own grants and the case's rotation links, as last served.
   * Empty in a state loaded from the browser cache (casecache.ts): they are
   * only read to open a key, which happens only while the case is fetched
   * (`applyBundle` replaces them first, and a write syncs its case before it
   * looks), so storing them would cost every load for nothing.
   */
  grants: GrantInfo[];
  rotations: RotationInfo[];
  readable: Set<Compartment>;
  entries: VerifiedEntry[];
  /** Folding state for the listing. */
  summaryFields: Map<string, string>;
  sawSummary: boolean;
  house: boolean;
  lastAdvance: Stage | null;
}

export function emptyState(caseId: string): CaseState {
  return {
    caseId,
    len: 0,
    headHash: undefined,
    keysVersion: 0,
    grants: [],
    rotations: [],
    readable: new Set(),
    entries: [],
    summaryFields: new Map(),
    sawSummary: false,
    house: false,
    lastAdvance: null,
  };
}

function copyState(s: CaseState): CaseState {
  return { ...s, readable: new Set(s.readable), entries: s.entries.slice(), summaryFields: new Map(s.summaryFields) };
}

export function listingOf(s: CaseState): CaseListing {
  const f = (name: string) => s.summaryFields.get(name) ?? null;
  return {
    caseId: s.caseId,
    kind: s.house ? 'safehouse' : 'case',
    alias: f('alias'),
    priority: f('priority'),
    country: f('country'),
    opened: f('opened'),
    stage: s.readable.has(1) && !s.house ? (s.lastAdvance ?? 'intake') : null,
    entries: s.len,
    summary: Object.fromEntries(s.summaryFields),
  };
}

/** The listing's share of cases.rs `CaseView::apply`: fields merge by chain order, the first summary record says what the object is. */
export function foldListing(s: CaseState, compartment: Compartment, body: RecordBody | null): void {
  if (compartment !== 1) return;
  const first = !s.sawSummary;
  s.sawSummary = true;
  if (!body) return;
  if (body.kind === 'fields') {
    if (first && body.fields.kind === SAFE_HOUSE_KIND) s.house = true;
    for (const [name, value] of Object.entries(body.fields)) s.summaryFields.set(name, value);
  } else if (body.kind === 'event' && body.event.event === 'advance') {
    s.lastAdvance = body.event.to;
  }
}

/** The `kind` field of a safe house's first summary record. */
export const SAFE_HOUSE_KIND = 'safehouse';

// ---- Record bodies: read by the domain twin's parser, strict as serde (web/src/lib/domain/body.ts) ----

/** A record's plaintext as a RecordBody, or undefined where the Rust client's serde would refuse it. */
export function parseRecordBody(plaintext: Uint8Array): RecordBody | undefined {
  const parsed = parseRecordPlaintext(plaintext);
  return parsed.ok ? parsed.body : undefined;
}

export { encodeRecordBody };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** serde's `Option<T>` with `#[serde(default)]`: absent or null is None. */
function optional<T>(v: unknown, check: (x: unknown) => x is T): T | undefined | false {
  if (v === undefined || v === null) return undefined;
  return check(v) ? v : false;
}

// ---- The shape of the server's answers (serde's job in the Rust client) ----

const HEX32 = /^[0-9a-f]{32}$/;

export function isCaseId(s: unknown): s is string {
  return typeof s === 'string' && HEX32.test(s);
}

const isU64 = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isU32 = (v: unknown): v is number => isU64(v) && v <= 0xffffffff;
const isU8 = (v: unknown): v is number => isU64(v) && v <= 0xff;

function checkHead(h: unknown): CaseHead {
  if (!isObject(h) || !isString(h.case_id) || !isU64(h.len) || !isString(h.head_hash)) throw protocol('a case head is malformed');
  const keysVersion = h.keys_version ?? 0;
  if (!isU64(keysVersion)) throw protocol('a case head is malformed');
  return { case_id: h.case_id, len: h.len, head_hash: h.head_hash, keys_version: keysVersion };
}

function checkGrantInfo(g: unknown): GrantInfo {
  if (!isObject(g) || !isU8(g.compartment) || !isU32(g.generation) || !isString(g.recipient) || !isString(g.granted_by) || !isString(g.grant)) {
    throw protocol('a grant is malformed');
  }
  return { compartment: g.compartment, generation: g.generation, recipient: g.recipient, granted_by: g.granted_by, grant: g.grant };
}

function checkRotationInfo(r: unknown): RotationInfo {
  if (!isObject(r) || !isU8(r.compartment) || !isU32(r.new_generation) || !isString(r.link)) throw protocol('a rotation link is malformed');
  return { compartment: r.compartment, new_generation: r.new_generation, link: r.link };
}

function checkEntry(e: unknown): Entry {
  if (!isObject(e) || !isU64(e.seq) || !isString(e.entry)) throw protocol('an entry is malformed');
  const wrap = optional(e.wrap, isString);
  if (wrap === false) throw protocol('an entry is malformed');
  return { seq: e.seq, entry: e.entry, wrap: wrap ?? null };
}

function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw protocol(`${what} is not a list`);
  return v;
}

export function checkCaseList(v: unknown): CaseList {
  if (!isObject(v)) throw protocol('the list of cases is malformed');
  const next = optional(v.next, isString);
  if (next === false) throw protocol('the list of cases is malformed');
  return { cases: array(v.cases, 'the list of cases').map(checkHead), next: next ?? null };
}

export function checkSyncResponse(v: unknown): SyncResponse {
  if (!isObject(v)) throw protocol('a sync answer is malformed');
  return {
    cases: array(v.cases, 'a sync answer').map((b) => {
      if (!isObject(b)) throw protocol('a sync answer is malformed');
      return {
        head: checkHead(b.head),
        grants: array(b.grants, 'the grants of a case').map(checkGrantInfo),
        rotations: array(b.rotations, 'the rotation links of a case').map(checkRotationInfo),
        entries: array(b.entries, 'the entries of a case').map(checkEntry),
      };
    }),
  };
}

export function checkCaseGrants(v: unknown): CaseGrants {
  if (!isObject(v)) throw protocol('the grants of a case are malformed');
  return {
    grants: array(v.grants, 'the grants of a case').map(checkGrantInfo),
    rotations: array(v.rotations, 'the rotation links of a case').map(checkRotationInfo),
  };
}

export function unb64(field: string, value: string, caseId?: string): Uint8Array {
  try {
    return fromBase64Url(value);
  } catch {
    throw protocol(`${field} is not base64url`, caseId);
  }
}

// ---- Verifying ----

/**
 * What verifying needs: the organization (from the verified chain), the
 * member's keys (with the keep key, so its own kept grants open with one AEAD), the chain.
 */
export interface Verifier {
  org: Uint8Array;
  chain: MembershipState;
  keys: SessionKeys;
  keyCache: KeyCache;
}

function compartmentRef(v: Verifier, caseId: string, compartment: Compartment): CompartmentRef {
  return { org: v.org, object: fromHex(caseId), compartment };
}

/** Rotation links of one compartment by their new generation, as Keyring.unwind wants them. */
export function rotationLinks(rotations: readonly RotationInfo[], compartment: Compartment, caseId: string): Map<number, Uint8Array> {
  const links = new Map<number, Uint8Array>();
  for (const r of rotations) {
    if (r.compartment === compartment) links.set(r.new_generation, unb64('rotation', r.link, caseId));
  }
  return links;
}

/**
 * Open one of the member's grants, after checking that its granter is (or
 * was) in the verified membership chain. Throws `server_changed` for a
 * granter the chain never knew, and the crypto error otherwise.
 */
export async function openMyGrant(v: Verifier, caseId: string, compartment: Compartment, grant: string): Promise<{ generation: number; key: Uint8Array }> {
  const bytes = unb64('grant', grant, caseId);
  const header = parseGrantHeader(bytes);
  const granter = v.chain.authorByKeyId(header.granter);
  if (!granter) {
    throw new CaseError(
      'server_changed',
      `A key grant for the ${compartmentName(compartment)} compartment of this case is signed by a key that was never a member of the organization: the server made it up, so nothing of it was used.`,
      caseId,
      undefined,
      'granter-not-member',
    );
  }
  return openGrant(bytes, compartmentRef(v, caseId, compartment), v.keys, granter.member.author);
}

/**
 * Make sure the key cache holds `generation` of `compartment`: open the
 * member's grants of it, newest first, unwinding rotation links after each,
 * until it does (sync.rs `ensure_key`). Each grant is opened once per page.
 */
export async function ensureKey(v: Verifier, state: CaseState, compartment: Compartment, generation: number): Promise<boolean> {
  const caseId = state.caseId;
  if (v.keyCache.has(caseId, compartment, generation)) return true;
  const mine = state.grants.filter((g) => g.compartment === compartment && g.generation >= generation).sort((a, b) => b.generation - a.generation);
  const links = rotationLinks(state.rotations, compartment, caseId);
  const target = compartmentRef(v, caseId, compartment);
  // A key held already (made here by an unshare, or opened before the links
  // were served) may reach back through the links without any grant opened.
  const held = v.keyCache.peek(caseId, compartment);
  if (held) {
    held.unwind(links);
    if (held.generations().includes(generation)) return true;
  }
  for (const g of mine) {
    if (v.keyCache.has(caseId, compartment, g.generation)) continue;
    const key = await openMyGrant(v, caseId, compartment, g.grant);
    const ring = v.keyCache.ring(caseId, target);
    ring.insert(key);
    ring.unwind(links);
    if (ring.generations().includes(generation)) return true;
  }
  return false;
}

/** One case to bring up to date: what this page held and what the server sent. */
export interface Work {
  caseId: string;
  state: CaseState | undefined;
  /** Fold from scratch (the first sync, changed keys, or a full check). */
  rebuild: boolean;
  bundle: CaseBundle;
}

function headSeq(header: { seq: bigint }, caseId: string): number {
  if (header.seq > BigInt(Number.MAX_SAFE_INTEGER)) throw protocol('an entry sits beyond any chain this app can hold', caseId);
  return Number(header.seq);
}

/**
 * Verify and fold what the server sent for one case (sync.rs `Verifier::apply`).
 * Returns the new state; the old one is left untouched, so a refused case
 * stays as last verified.
 */
export async function applyBundle(v: Verifier, pins: HeadPins, work: Work): Promise<CaseState> {
  const { caseId, bundle } = work;
  const highest = pins.get(caseId);
  if (highest && bundle.head.len <= highest.seq) {
    throw new CaseError(
      'rollback',
      `The server rolled this case back: this page already verified entry ${highest.seq}, and the server now says the case ends ${bundle.head.len === 0 ? 'before its first entry' : `at entry ${bundle.head.len - 1}`}. Nothing it sent was believed.`,
      caseId,
      bundle.head.len === 0 ? 0 : bundle.head.len - 1,
      'chain-rollback',
    );
  }
  const held = new Set<Compartment>();
  for (const g of bundle.grants) if (isCompartment(g.compartment)) held.add(g.compartment);
  // Keys of compartments the member no longer holds are forgotten.
  v.keyCache.retain(caseId, held);
  const state = work.state && !work.rebuild ? copyState(work.state) : emptyState(caseId);
  state.keysVersion = bundle.head.keys_version;
  state.grants = bundle.grants;
  state.rotations = bundle.rotations;
  state.readable = held;

  const resume = state.len > 0 && state.headHash !== undefined ? { seq: BigInt(state.len - 1), hash: fromHex(state.headHash) } : undefined;
  // Links first, for the whole page (cheap hashes): a missing, moved or
  // reordered entry is named as such before any signature is checked.
  const raw = bundle.entries.map((e) => unb64('entry', e.entry, caseId));
  try {
    verifyChain(v.org, fromHex(caseId), resume, raw);
  } catch (e) {
    throw describeCryptoFailure(e, caseId);
  }
  for (let i = 0; i < raw.length; i++) {
    const entry = raw[i]!;
    const served = bundle.entries[i]!;
    let header;
    try {
      header = parseEntry(entry);
    } catch (e) {
      throw describeCryptoFailure(e, caseId);
    }
    const seq = headSeq(header, caseId);
    const hash = toHex(entryHash(entry));
    const author = v.chain.authorByKeyId(header.author);
    if (!author) {
      throw new CaseError(
        'server_changed',
        `Entry ${seq} of this case is signed by a key that was never a member of the organization: the server made it up, so nothing from it was believed.`,
        caseId,
        seq,
        'author-not-member',
      );
    }
    const compartment = header.address.compartment;
    const wrap = served.wrap == null ? undefined : unb64('wrap', served.wrap, caseId);
    let readable = false;
    if (wrap && state.readable.has(compartment)) {
      try {
        readable = await ensureKey(v, state, compartment, header.generation);
      } catch (e) {
        throw describeCryptoFailure(e, caseId);
      }
    }
    let body: RecordBody | null = null;
    try {
      if (readable && wrap) {
        const ring = v.keyCache.peek(caseId, compartment)!;
        const opened = openRecord(entry, wrap, { ...header.address, org: v.org, case: fromHex(caseId) }, ring, author.member.author);
        const parsed = parseRecordBody(opened.plaintext);
        opened.plaintext.fill(0);
        if (!parsed) throw protocol(`entry ${seq} holds a record this app does not understand`, caseId);
        body = parsed;
      } else {
        verifyEntry(entry, author.member.author);
      }
    } catch (e) {
      throw describeCryptoFailure(e, caseId, seq);
    }
    // Checked after the signature, so a damaged entry is named as such; a
    // well-signed different entry here is a fork.
    if (highest && seq === highest.seq && hash !== highest.hash) {
      throw new CaseError(
        'fork',
        `The server showed another entry ${seq} of this case than the one already verified on this page: it forked the case.`,
        caseId,
        seq,
        'chain-fork',
      );
    }
    const verified: VerifiedEntry = {
      seq,
      compartment: compartmentName(compartment),
      actor: { account: toHex(author.member.account), role: roleName(author.member.role) },
      authorName: author.member.name,
      body,
    };
    state.entries.push(verified);
    foldListing(state, compartment, body);
    state.len = seq + 1;
    state.headHash = hash;
  }
  const servedLen = bundle.head.len;
  if (state.len > servedLen) throw protocol('it sent entries beyond the head it names', caseId);
  if (state.len === servedLen) {
    const servedHash = servedLen === 0 ? undefined : bundle.head.head_hash;
    if (servedHash !== state.headHash) {
      const at = Math.max(servedLen - 1, 0);
      throw new CaseError(
        'fork',
        `The server names another head for this case (entry ${at}) than the one its entries lead to: it is showing two versions of the case.`,
        caseId,
        at,
        'chain-fork',
      );
    }
  }
  return state;
}

/** What a sync did. */
export interface SyncReport {
  /** Cases the member holds a grant for (as far as this sync looked). */
  cases: number;
  /** Cases fetched because something moved. */
  updated: number;
  /** Entries verified in this sync. */
  entries: number;
  /** Cases dropped because the member lost access. */
  removed: string[];
  /** Cases that failed verification, with why. They stay as last verified. */
  refused: Map<string, CaseError>;
}

/**
 * What to sync. `all` may carry the heads already being listed (`listHeads`),
 * so the list is in flight while the browser cache is opened.
 */
export type Scope = { kind: 'all'; heads?: Promise<CaseHead[]> } | { kind: 'one'; caseId: string } | { kind: 'full'; caseId: string };

/**
 * Told what a sync changed, as it goes: after the heads were compared
 * (`removed` only) and after each round (the states replaced in `states`,
 * and the cases the member lost access to).
 */
export type Persist = (changed: readonly string[], removed: readonly string[]) => void;

/** Every case the member holds a grant for, with its head (`GET /api/cases`, page by page). */
export async function listHeads(api: Api, guard: () => void = () => undefined): Promise<CaseHead[]> {
  const heads: CaseHead[] = [];
  let after: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const served = await api.cases(after);
    guard();
    const page = checkCaseList(served);
    heads.push(...page.cases);
    if (page.next == null) return heads;
    // A server that hands out the same page again would keep the page looping.
    if (seen.has(page.next) || page.cases.length === 0) throw protocol('the list of cases does not move forward');
    seen.add(page.next);
    after = page.next;
  }
}

/** Cases per sync request (the server's limit). */
export const BATCH = 256;

type Todo = { caseId: string; from: number; rebuild: boolean };

/**
 * Bring this page's copy of the member's cases up to date (sync.rs `sync`):
 * list the heads, fetch what moved, 256 cases a round, the next round in
 * flight while this one is verified; a case the server's page cut short goes
 * round again from where it stopped, and a round in which nothing moved is
 * refused, so a server cannot keep the page looping. Cases that fail are
 * reported and left as they were; the others replace their state.
 */
export async function sync(
  api: Api,
  v: Verifier,
  pins: HeadPins,
  states: Map<string, CaseState>,
  scope: Scope,
  /** Throws once the session is locked: checked after every wait, so nothing opened lands after Lock. */
  guard: () => void = () => undefined,
  persist?: Persist,
): Promise<SyncReport> {
  const report: SyncReport = { cases: 0, updated: 0, entries: 0, removed: [], refused: new Map() };
  const todo: Todo[] = [];
  if (scope.kind === 'full') {
    todo.push({ caseId: scope.caseId, from: 0, rebuild: true });
    report.cases = 1;
  } else if (scope.kind === 'one') {
    const s = states.get(scope.caseId);
    todo.push(s ? { caseId: scope.caseId, from: s.len, rebuild: false } : { caseId: scope.caseId, from: 0, rebuild: true });
    report.cases = 1;
  } else {
    const heads = await (scope.heads ?? listHeads(api, guard));
    guard();
    report.cases = heads.length;
    const listed = new Set<string>();
    for (const h of heads) {
      if (!isCaseId(h.case_id)) throw protocol('a case id is not 32 hex digits');
      listed.add(h.case_id);
      const s = states.get(h.case_id);
      if (!s || s.keysVersion !== h.keys_version) todo.push({ caseId: h.case_id, from: 0, rebuild: true });
      else if (s.len < h.len) todo.push({ caseId: h.case_id, from: s.len, rebuild: false });
      else if (s.len > h.len) {
        report.refused.set(
          h.case_id,
          new CaseError(
            'rollback',
            `The server rolled this case back: this page already verified ${s.len} entries, and the server now lists ${h.len}.`,
            h.case_id,
            Math.max(h.len - 1, 0),
            'chain-rollback',
          ),
        );
      } else if (s.len > 0 && s.headHash !== h.head_hash) {
        report.refused.set(
          h.case_id,
          new CaseError(
            'fork',
            `The server lists another last entry for this case than the one verified on this page: it is showing two versions of the case.`,
            h.case_id,
            s.len - 1,
            'chain-fork',
          ),
        );
      }
    }
    // The member lost access to what the server no longer lists.
    for (const id of [...states.keys()]) {
      if (!listed.has(id)) {
        states.delete(id);
        report.removed.push(id);
      }
    }
    if (report.removed.length > 0) persist?.([], report.removed);
  }

  const startRound = (): { round: Todo[]; fetch: Promise<SyncResponse> } | undefined => {
    if (todo.length === 0) return undefined;
    const round = todo.splice(0, BATCH);
    const fetch = api.syncCases({ cases: round.map((t) => ({ case_id: t.caseId, from: t.from })) }).then(checkSyncResponse);
    // Settled later; never an unhandled rejection if verification throws first.
    fetch.catch(() => undefined);
    return { round, fetch };
  };

  let next = startRound();
  while (next) {
    const { round, fetch } = next;
    const response = await fetch;
    guard();
    next = startRound();
    const asked = new Map(round.map((t) => [t.caseId, t]));
    const works: Work[] = [];
    const returned = new Set<string>();
    for (const bundle of response.cases) {
      const want = asked.get(bundle.head.case_id);
      if (!want || returned.has(want.caseId)) throw protocol('it sent a case that was not asked for');
      returned.add(want.caseId);
      const state = states.get(want.caseId);
      // The keys changed since: fold the whole case again with them.
      if (!want.rebuild && state && state.keysVersion !== bundle.head.keys_version) {
        todo.push({ caseId: want.caseId, from: 0, rebuild: true });
        continue;
      }
      works.push({ caseId: want.caseId, state, rebuild: want.rebuild, bundle });
    }
    // Asked but not returned: the member holds no grant (any more).
    const lost: string[] = [];
    for (const t of round) {
      if (!returned.has(t.caseId) && !todo.some((x) => x.caseId === t.caseId) && states.delete(t.caseId)) lost.push(t.caseId);
    }
    report.removed.push(...lost);
    const outcomes: { work: Work; state?: CaseState; error?: CaseError }[] = [];
    for (const work of works) {
      try {
        outcomes.push({ work, state: await applyBundle(v, pins, work) });
      } catch (e) {
        guard();
        outcomes.push({ work, error: e instanceof CaseError ? e : describeCryptoFailure(e, work.caseId) });
      }
      guard();
    }
    const progress = outcomes.some((o) => o.state && o.work.bundle.entries.length > 0);
    const changed: string[] = [];
    for (const o of outcomes) {
      const id = o.work.caseId;
      if (!o.state) {
        report.refused.set(id, o.error!);
        continue;
      }
      const s = o.state;
      if (s.headHash !== undefined) pins.raise(id, s.len - 1, s.headHash);
      report.entries += o.work.bundle.entries.length;
      report.updated += 1;
      states.set(id, s);
      changed.push(id);
      report.refused.delete(id);
      const complete = s.len >= o.work.bundle.head.len;
      if (!complete && progress) todo.push({ caseId: id, from: s.len, rebuild: false });
      else if (!complete) {
        // A page that sends nothing at all would loop forever.
        report.refused.set(id, protocol('it names entries of this case it does not send', id));
      }
    }
    // Saved round by round, as sync.rs does, so a long first sync cut short keeps what it verified.
    if (changed.length > 0 || lost.length > 0) persist?.(changed, lost);
    if (!next) next = startRound();
  }
  return report;
}

/** The verified head of a state, as the UI shows it. */
export function headOf(s: CaseState): { seq: number; hash: string } | null {
  return s.len > 0 && s.headHash !== undefined ? { seq: s.len - 1, hash: s.headHash } : null;
}
