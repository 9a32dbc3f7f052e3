/**
 * The browser's sealed copy of the member's verified cases: the twin of the
 * command line's local cache (crates/northstar-client/src/sync.rs,
 * docs/cases.md §Local cache), kept in IndexedDB so that a second sign-in on
 * the same browser opens what it already verified (one AEAD open per case)
 * and then fetches only the cases whose head or keys version moved.
 *
 * One database per (organization, account), named by a hash of the two ids
 * (`cacheName`), so the name says neither. In it, one row per case (kept in
 * segments of many rows, see IndexedDbCacheStore) and two meta values:
 *
 * | what          | clear                                              | sealed (NSLS, docs/crypto.md §18)                      |
 * |---------------|----------------------------------------------------|--------------------------------------------------------|
 * | a case row    | case id, `len`, `head` (the server knows all three) | `sealed`: the case's state and highest verified head   |
 * | `last_unlock` | the time of the last sign-in (ms), so an expired copy is deleted without the key | —                  |
 * | `owner`       | —                                                  | organization id ‖ account id                           |
 *
 * Every blob is NSLS under `derivePurposeKey(root key, "web-cache")`. A case
 * row's label is `northstar/v1/client/web-cache/case/<org>/<account>/<case>`
 * (lowercase hex), so a row moved to another case, account or organization
 * does not open; the owner's is `northstar/v1/client/web-cache/owner`.
 *
 * Never written: compartment keys, grants (public-key ciphertexts the server
 * serves again whenever a key is needed), the root key. After a warm start,
 * a case whose entries moved opens its grant once, as on a first sync.
 *
 * What does not open (tampered, another account's, an older format) is
 * deleted and the case fetched afresh. A row older than a head this page
 * verified, or than the head sealed in the row itself, is not believed: the
 * case is fetched in full and checked against that head.
 */
import {
  bytesEqual,
  COMPARTMENTS,
  concat,
  derivePurposeKey,
  fromHex,
  isCompartment,
  labelledHash,
  openBlob,
  sealBlob,
  toHex,
  type Compartment,
  type CompartmentName,
} from '../../lib/crypto/index.js';
import { utf8 } from '../../lib/crypto/bytes.js';
import type { RecordBody, Role, VerifiedEntry } from '../../lib/domain/record.js';
import { emptyState, foldListing, type CaseState, type HeadPins } from './casesync.js';

/** Days without a sign-in after which this browser's copy is deleted (the command line's default). */
export const CACHE_EXPIRY_DAYS = 14;
const EXPIRY_MS = CACHE_EXPIRY_DAYS * 86_400_000;

/** The purpose key's name (docs/crypto.md §4, #4): apart from the command line's `cache`, whose rows are another format. */
export const CACHE_PURPOSE = 'web-cache';
const LABEL = 'northstar/v1/client/web-cache';
const OWNER_LABEL = `${LABEL}/owner`;
/** Every database of this cache starts so; the rest is a hash. */
export const CACHE_DB_PREFIX = 'northstar-cases-';
/** The first element of every sealed row: a row of another format is dropped and fetched again. */
const FORMAT = 1;
/** Rows opened between two yields to the event loop, so the page stays alive and the head list arrives meanwhile. */
const YIELD_EVERY = 1000;

// ---- Storage ----

/** One case as stored. Only `sealed` holds anything the server does not know. */
export interface CacheRow {
  caseId: string;
  /** Entries of the verified chain (for a row that holds only a head: that head's seq + 1). */
  len: number;
  /** Hex hash of entry len - 1; '' for a case without entries. */
  head: string;
  sealed: Uint8Array;
}

export interface CacheMeta {
  /** Milliseconds since the epoch, in the clear. */
  lastUnlock?: number;
  /** NSLS of org id ‖ account id. */
  owner?: Uint8Array;
}

/** One open database. */
export interface CacheDb {
  getAll(): Promise<CacheRow[]>;
  /**
   * In one transaction: write `rows` and delete `remove`. A row shorter than
   * the one stored does not replace it: another tab of this browser verified
   * further, and its longer row holds the higher head pin.
   */
  putMany(rows: readonly CacheRow[], remove?: readonly string[]): Promise<void>;
  delete(caseIds: readonly string[]): Promise<void>;
  /** Every row and the meta. */
  clear(): Promise<void>;
  meta(): Promise<CacheMeta>;
  setMeta(meta: CacheMeta): Promise<void>;
  close(): void;
}

/** Where the databases live: IndexedDB in the app, memory in tests. */
export interface CacheStore {
  open(name: string): Promise<CacheDb>;
  /** The names of the existing databases of this cache (to expire them without a key); [] where the browser cannot list them. */
  names(): Promise<string[]>;
  /** Delete a whole database. */
  remove(name: string): Promise<void>;
}

/** The database of one account of one organization (both ids in hex). */
export function cacheName(orgIdHex: string, accountHex: string): string {
  return CACHE_DB_PREFIX + toHex(labelledHash(`${LABEL}/name`, fromHex(orgIdHex), fromHex(accountHex))).slice(0, 32);
}

/** Delete this browser's copy of an account's cases (the "forget this browser" button). Needs no key. */
export function forgetCache(store: CacheStore, orgIdHex: string, accountHex: string): Promise<void> {
  return store.remove(cacheName(orgIdHex, accountHex));
}

function expired(meta: CacheMeta, now: number): boolean {
  return meta.lastUnlock !== undefined && now - meta.lastUnlock > EXPIRY_MS;
}

/**
 * Delete every copy on this browser, of any account, not signed in to for
 * CACHE_EXPIRY_DAYS. Reads only the clear `last_unlock`. Returns the names deleted.
 */
export async function expireCaches(store: CacheStore, now: number = Date.now()): Promise<string[]> {
  const gone: string[] = [];
  for (const name of await store.names()) {
    const db = await store.open(name);
    let meta: CacheMeta;
    try {
      meta = await db.meta();
    } finally {
      db.close();
    }
    if (expired(meta, now)) {
      await store.remove(name);
      gone.push(name);
    }
  }
  return gone;
}

/** Databases in memory, for tests: rows are copied in and out, as IndexedDB's structured clone does. */
export class MemoryCacheStore implements CacheStore {
  readonly databases = new Map<string, { rows: Map<string, CacheRow>; meta: CacheMeta }>();
  /** How many `getAll` calls were made, to check that a load costs one. */
  getAllCalls = 0;

  async open(name: string): Promise<CacheDb> {
    let data = this.databases.get(name);
    if (!data) {
      data = { rows: new Map(), meta: {} };
      this.databases.set(name, data);
    }
    const store = this;
    let open = true;
    // A handle to a deleted database sees nothing, as IndexedDB closes it.
    const live = () => {
      if (!open || store.databases.get(name) !== data) throw new Error('the cache database is closed');
      return data;
    };
    const copy = (r: CacheRow): CacheRow => ({ ...r, sealed: r.sealed.slice() });
    return {
      async getAll() {
        store.getAllCalls += 1;
        return [...live().rows.values()].sort((a, b) => (a.caseId < b.caseId ? -1 : 1)).map(copy);
      },
      async putMany(rows, remove = []) {
        const d = live();
        for (const r of rows) {
          const old = d.rows.get(r.caseId);
          if (!old || old.len <= r.len) d.rows.set(r.caseId, copy(r));
        }
        for (const id of remove) d.rows.delete(id);
      },
      async delete(ids) {
        const d = live();
        for (const id of ids) d.rows.delete(id);
      },
      async clear() {
        const d = live();
        d.rows.clear();
        d.meta = {};
      },
      async meta() {
        const m = live().meta;
        return { ...m, ...(m.owner ? { owner: m.owner.slice() } : {}) };
      },
      async setMeta(m) {
        const d = live();
        if (m.lastUnlock !== undefined) d.meta.lastUnlock = m.lastUnlock;
        if (m.owner !== undefined) d.meta.owner = m.owner.slice();
      },
      close() {
        open = false;
      },
    };
  }

  async names(): Promise<string[]> {
    return [...this.databases.keys()];
  }

  async remove(name: string): Promise<void> {
    this.databases.delete(name);
  }
}

// ---- IndexedDB ----

/*
 * Chromium's IndexedDB spends tens of microseconds on every record it reads,
 * whatever its size: 10,000 one-row records take longer to read back than
 * to open. So rows are kept in segments, one record per write (a sync
 * round, or a deletion), and `getAll` folds them in order: a later row
 * replaces an earlier one of its case unless it is shorter (another tab
 * verified further), and a deletion removes what came before it. The read
 * that finds too much superseded packs the survivors into full segments, in
 * the key range it read, so what other tabs wrote since still comes after.
 */

const IDB_VERSION = 1;
const SEGMENTS = 'segments';
const META = 'meta';
/** Rows per packed segment (a sync round's worth). */
const PACK = 256;

interface Segment {
  rows: CacheRow[];
  gone: string[];
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function finished(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('the cache transaction was aborted'));
  });
}

/** The rows that stand after every segment, in order, and how many rows were read to get them. */
export function foldSegments(segments: readonly Segment[]): { rows: Map<string, CacheRow>; read: number } {
  const rows = new Map<string, CacheRow>();
  let read = 0;
  for (const seg of segments) {
    for (const id of seg.gone) rows.delete(id);
    for (const row of seg.rows) {
      const was = rows.get(row.caseId);
      if (!was || was.len <= row.len) rows.set(row.caseId, row);
    }
    read += seg.rows.length + seg.gone.length;
  }
  return { rows, read };
}

class IdbCacheDb implements CacheDb {
  constructor(private readonly db: IDBDatabase) {}

  async getAll(): Promise<CacheRow[]> {
    const store = this.db.transaction(SEGMENTS, 'readonly').objectStore(SEGMENTS);
    const [keys, segments] = await Promise.all([request(store.getAllKeys()), request(store.getAll() as IDBRequest<Segment[]>)]);
    const { rows, read } = foldSegments(segments);
    const live = [...rows.values()];
    const packed = Math.ceil(live.length / PACK);
    if (segments.length > packed + 16 || read > live.length * 1.5 + PACK) {
      // Not awaited: the rows are good already. Created now, so it runs before any later write of this page.
      this.pack(keys as number[], live).catch(() => undefined);
    }
    return live;
  }

  private pack(keys: number[], live: CacheRow[]): Promise<void> {
    const tx = this.db.transaction(SEGMENTS, 'readwrite');
    const store = tx.objectStore(SEGMENTS);
    for (const key of keys) store.delete(key);
    // Keys are ascending integers, so the packed segments fit in the range read, before anything written since.
    for (let i = 0; i * PACK < live.length; i++) store.put({ rows: live.slice(i * PACK, (i + 1) * PACK), gone: [] } satisfies Segment, keys[0]! + i);
    return finished(tx);
  }

  async putMany(rows: readonly CacheRow[], remove: readonly string[] = []): Promise<void> {
    if (rows.length === 0 && remove.length === 0) return;
    // Relaxed: a crash loses the last writes, which the next sync fetches again (as sync.rs with synchronous = NORMAL).
    const tx = this.db.transaction(SEGMENTS, 'readwrite', { durability: 'relaxed' });
    tx.objectStore(SEGMENTS).add({ rows: [...rows], gone: [...remove] } satisfies Segment);
    return finished(tx);
  }

  delete(caseIds: readonly string[]): Promise<void> {
    return this.putMany([], caseIds);
  }

  async clear(): Promise<void> {
    const tx = this.db.transaction([SEGMENTS, META], 'readwrite');
    tx.objectStore(SEGMENTS).clear();
    tx.objectStore(META).clear();
    return finished(tx);
  }

  async meta(): Promise<CacheMeta> {
    const store = this.db.transaction(META, 'readonly').objectStore(META);
    const [lastUnlock, owner] = await Promise.all([request(store.get('last_unlock')), request(store.get('owner'))]);
    return {
      ...(typeof lastUnlock === 'number' ? { lastUnlock } : {}),
      ...(owner instanceof Uint8Array ? { owner } : {}),
    };
  }

  async setMeta(meta: CacheMeta): Promise<void> {
    const tx = this.db.transaction(META, 'readwrite');
    const store = tx.objectStore(META);
    if (meta.lastUnlock !== undefined) store.put(meta.lastUnlock, 'last_unlock');
    if (meta.owner !== undefined) store.put(meta.owner, 'owner');
    return finished(tx);
  }

  close(): void {
    this.db.close();
  }
}

/** The app's store: one IndexedDB database per account and organization. */
export class IndexedDbCacheStore implements CacheStore {
  constructor(private readonly factory: IDBFactory = indexedDB) {}

  async open(name: string): Promise<CacheDb> {
    const r = this.factory.open(name, IDB_VERSION);
    r.onupgradeneeded = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains(SEGMENTS)) db.createObjectStore(SEGMENTS, { autoIncrement: true });
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    const db = await request(r);
    // Another tab deleting the database (forget, expiry) must not wait on this one.
    db.onversionchange = () => db.close();
    return new IdbCacheDb(db);
  }

  async names(): Promise<string[]> {
    if (typeof this.factory.databases !== 'function') return [];
    const all = await this.factory.databases();
    return all.map((d) => d.name).filter((n): n is string => typeof n === 'string' && n.startsWith(CACHE_DB_PREFIX));
  }

  async remove(name: string): Promise<void> {
    await request(this.factory.deleteDatabase(name));
  }
}

// ---- Rows: what is sealed ----

/*
 * A row's plaintext is compact JSON, parsed once per case by the engine's
 * native parser (cheaper in a browser than any decoder written in JS):
 *
 *   [FORMAT, caseId, highest, state]
 *   highest = [seq, hash] | null                the highest head ever verified
 *   state   = [len, headHash | null, keysVersion, readable, authors, entries] | null
 *   authors = [[account, role, name], …]        each author once per case
 *   entries = [[author index, compartment code, body | null], …]   entry i has seq i
 *
 * A state is null for a case the member lost access to: its head is kept,
 * so a rolled-back chain is caught if access comes back. Bodies are the
 * RecordBody objects the sync parsed. The listing fold is not stored; it is
 * folded again from the entries, so it always agrees with them.
 */

type Head = { seq: number; hash: string };

const HEX64 = /^[0-9a-f]{64}$/;
const ROLES: ReadonlySet<string> = new Set<Role>(['admin', 'approver', 'caseworker', 'intake', 'coordinator', 'partner', 'auditor']);
const BODY_KINDS: ReadonlySet<string> = new Set(['fields', 'note', 'event', 'house']);
const decoder = new TextDecoder();

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isHash = (v: unknown): v is string => typeof v === 'string' && HEX64.test(v);

function isHead(v: unknown): v is [number, string] {
  return Array.isArray(v) && v.length === 2 && isCount(v[0]) && isHash(v[1]);
}

/** The shape of a body, cheaply: the sync checked it strictly before it was sealed, and the seal proves it was. */
function isBody(v: unknown): v is RecordBody {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const b = v as { kind?: unknown; fields?: unknown; text?: unknown; event?: unknown };
  if (typeof b.kind !== 'string' || !BODY_KINDS.has(b.kind)) return false;
  if (b.kind === 'note') return typeof b.text === 'string';
  if (b.kind === 'fields') {
    if (typeof b.fields !== 'object' || b.fields === null || Array.isArray(b.fields)) return false;
    for (const value of Object.values(b.fields)) if (typeof value !== 'string') return false;
    return true;
  }
  return typeof b.event === 'object' && b.event !== null && typeof (b.event as { event?: unknown }).event === 'string';
}

function encodeState(s: CaseState): unknown[] {
  const authors: [string, string, string][] = [];
  const index = new Map<string, number>();
  const entries = s.entries.map((e) => {
    const who = `${e.actor.account}\n${e.actor.role}\n${e.authorName}`;
    let at = index.get(who);
    if (at === undefined) {
      at = authors.length;
      authors.push([e.actor.account, e.actor.role, e.authorName]);
      index.set(who, at);
    }
    return [at, codeOfName(e.compartment), e.body];
  });
  return [s.len, s.headHash ?? null, s.keysVersion, [...s.readable], authors, entries];
}

// Looked up once per entry of every case loaded: a plain array, not codes.ts's search.
const NAMES: CompartmentName[] = [];
for (const [name, code] of Object.entries(COMPARTMENTS)) NAMES[code] = name as CompartmentName;
const isCode = (v: unknown): v is Compartment => typeof v === 'number' && isCompartment(v);

function codeOfName(name: CompartmentName): Compartment {
  return COMPARTMENTS[name];
}

/** The state a row holds, or undefined where anything in it is not what this format writes. */
function decodeState(caseId: string, v: unknown, row: CacheRow): CaseState | undefined {
  if (!Array.isArray(v) || v.length !== 6) return undefined;
  const [len, headHash, keysVersion, readable, authors, entries] = v as unknown[];
  if (!isCount(len) || len !== row.len || !isCount(keysVersion)) return undefined;
  if (len === 0 ? headHash !== null || row.head !== '' : !isHash(headHash) || headHash !== row.head) return undefined;
  if (!Array.isArray(readable) || !Array.isArray(authors) || !Array.isArray(entries) || entries.length !== len) return undefined;
  const s = emptyState(caseId);
  s.len = len;
  s.headHash = len === 0 ? undefined : (headHash as string);
  s.keysVersion = keysVersion;
  for (const c of readable) {
    if (!isCode(c)) return undefined;
    s.readable.add(c);
  }
  for (const a of authors) {
    if (!Array.isArray(a) || a.length !== 3 || typeof a[0] !== 'string' || typeof a[1] !== 'string' || !ROLES.has(a[1]) || typeof a[2] !== 'string') return undefined;
  }
  const list = authors as [string, Role, string][];
  for (let seq = 0; seq < entries.length; seq++) {
    const e = entries[seq] as unknown;
    if (!Array.isArray(e) || e.length !== 3) return undefined;
    const [at, code, body] = e as [unknown, unknown, unknown];
    const author = typeof at === 'number' ? list[at] : undefined;
    if (!author || !isCode(code) || (body !== null && !isBody(body))) return undefined;
    const entry: VerifiedEntry = { seq, compartment: NAMES[code]!, actor: { account: author[0], role: author[1] }, authorName: author[2], body };
    s.entries.push(entry);
    foldListing(s, code, body);
  }
  return s;
}

/** Hand control back to the event loop (a task, not a microtask), so responses and paints get their turn. */
function nextTask(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** What a load found. */
export interface CacheLoad {
  states: Map<string, CaseState>;
  /** Rows that did not open (deleted) and rows not believed because a higher head is known (to be fetched whole). */
  dropped: number;
  stale: number;
  /** Whether the copy was deleted first: expired, or sealed under another key. */
  reset: 'expired' | 'not-mine' | null;
}

/**
 * One account's open cache: the key, the database, and the rules. Made by
 * `CaseCache.open` at the first sync of a CaseClient; closed (the key wiped)
 * on Lock. The rows stay.
 */
export class CaseCache {
  private closed = false;

  private constructor(
    private readonly db: CacheDb,
    private readonly key: Uint8Array,
    private readonly prefix: string,
    readonly reset: CacheLoad['reset'],
  ) {}

  /**
   * Open the copy of `accountHex` in `orgIdHex`: delete it first if it was
   * not signed in to for CACHE_EXPIRY_DAYS (other accounts' expired copies
   * too, where the browser can list them), or if it was sealed under another
   * key; then record this sign-in.
   */
  static async open(store: CacheStore, root: Uint8Array, orgIdHex: string, accountHex: string, now: number, guard: () => void): Promise<CaseCache> {
    // Before any wait: Lock zeroes the root, and a key derived from zeros would take this copy for another's and delete it.
    const key = derivePurposeKey(root, CACHE_PURPOSE);
    const me = concat(fromHex(orgIdHex), fromHex(accountHex));
    let db: CacheDb | undefined;
    try {
      try {
        await expireCaches(store, now);
      } catch {
        // Another account's copy that cannot be read now is no reason to go without this one.
      }
      guard();
      db = await store.open(cacheName(orgIdHex, accountHex));
      guard();
      const meta = await db.meta();
      guard();
      let reset: CacheLoad['reset'] = null;
      // Checked before anything is opened: an expired copy is never read.
      if (expired(meta, now)) reset = 'expired';
      else if (meta.owner && !ownedBy(key, meta.owner, me)) reset = 'not-mine';
      if (reset) await db.clear();
      await db.setMeta({ lastUnlock: now, ...(meta.owner && !reset ? {} : { owner: sealBlob(key, OWNER_LABEL, me) }) });
      guard();
      return new CaseCache(db, key, `${LABEL}/case/${orgIdHex}/${accountHex}/`, reset);
    } catch (e) {
      key.fill(0);
      db?.close();
      throw e;
    }
  }

  /**
   * Every case this browser holds, opened and checked; the heads sealed in
   * the rows raise `pins`. Rows that do not open are deleted. A state below
   * the pin of its case (this page's or its own row's) is left out, so the
   * case is fetched whole and checked against that pin. `guard` throws to
   * stop (Lock), and is called between batches.
   */
  async load(pins: HeadPins, guard: () => void): Promise<CacheLoad> {
    const rows = await this.db.getAll();
    guard();
    const states = new Map<string, CaseState>();
    const bad: string[] = [];
    let stale = 0;
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && i % YIELD_EVERY === 0) {
        await nextTask();
        guard();
      }
      const row = rows[i]!;
      const opened = this.openRow(row);
      if (!opened) {
        bad.push(row.caseId);
        continue;
      }
      const { highest, state } = opened;
      if (highest) pins.raise(row.caseId, highest.seq, highest.hash);
      if (!state) continue;
      const pin = pins.get(row.caseId);
      const seq = state.len - 1;
      if (pin && (seq < pin.seq || (seq === pin.seq && state.headHash !== pin.hash))) {
        // Kept on disk (its head still counts) until the full fetch replaces it.
        stale += 1;
        continue;
      }
      states.set(row.caseId, state);
    }
    if (bad.length > 0 && !this.closed) await this.db.delete(bad);
    return { states, dropped: bad.length, stale, reset: this.reset };
  }

  /**
   * Seal and write, in one transaction, the states of `changed` (with the
   * case's pin) and, for `removed`, the pin alone, so a case that comes back
   * is still checked against it.
   */
  save(states: ReadonlyMap<string, CaseState>, pins: HeadPins, changed: readonly string[], removed: readonly string[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    const rows: CacheRow[] = [];
    const gone: string[] = [];
    for (const id of changed) {
      const s = states.get(id);
      if (s) rows.push(this.sealRow(id, pins.get(id), s));
    }
    for (const id of removed) {
      const pin = pins.get(id);
      if (pin) rows.push(this.sealRow(id, pin, undefined));
      else gone.push(id);
    }
    return this.db.putMany(rows, gone);
  }

  /** Close the database and wipe the key. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.key.fill(0);
    this.db.close();
  }

  private label(caseId: string): string {
    return this.prefix + caseId;
  }

  private sealRow(caseId: string, highest: Head | undefined, state: CaseState | undefined): CacheRow {
    const value = [FORMAT, caseId, highest ? [highest.seq, highest.hash] : null, state ? encodeState(state) : null];
    const plaintext = utf8.encode(JSON.stringify(value));
    try {
      const len = state ? state.len : highest!.seq + 1;
      const head = state ? (state.headHash ?? '') : highest!.hash;
      return { caseId, len, head, sealed: sealBlob(this.key, this.label(caseId), plaintext) };
    } finally {
      plaintext.fill(0);
    }
  }

  private openRow(row: CacheRow): { highest: Head | undefined; state: CaseState | undefined } | undefined {
    if (this.closed) return undefined;
    let plaintext: Uint8Array;
    try {
      plaintext = openBlob(this.key, this.label(row.caseId), row.sealed);
    } catch {
      return undefined;
    }
    let v: unknown;
    try {
      v = JSON.parse(decoder.decode(plaintext));
    } catch {
      return undefined;
    } finally {
      plaintext.fill(0);
    }
    if (!Array.isArray(v) || v.length !== 4 || v[0] !== FORMAT || v[1] !== row.caseId) return undefined;
    const [, , h, st] = v as [number, string, unknown, unknown];
    if (h !== null && !isHead(h)) return undefined;
    const highest = h === null ? undefined : { seq: h[0], hash: h[1] };
    if (st === null) {
      // A head alone: its clear columns must name that head.
      if (!highest || row.len !== highest.seq + 1 || row.head !== highest.hash) return undefined;
      return { highest, state: undefined };
    }
    const state = decodeState(row.caseId, st, row);
    return state ? { highest, state } : undefined;
  }
}

function ownedBy(key: Uint8Array, owner: Uint8Array, me: Uint8Array): boolean {
  try {
    return bytesEqual(openBlob(key, OWNER_LABEL, owner), me);
  } catch {
    return false;
  }
}
