/**
 * The case client of the web app: reading and writing end-to-end encrypted
 * cases as crates/northstar-client/src/cases.rs and sync.rs do, with every
 * check the Rust client makes. Framework-free; the server is reached only
 * through `session.api`.
 *
 * ```ts
 * const pins = new HeadPins();                      // once per page; survives Lock
 * const store = new IndexedDbCacheStore();          // optional: this browser's sealed copy
 * const cases = new CaseClient(session, orgView, pins, { store });
 * const first = await cases.cachedListings();       // what this browser verified before, no server
 * const { cases: views, refused, removed } = await cases.list();
 * await cases.forgetCache();                        // delete this browser's copy, keep none this session
 * const view = await cases.read(caseId);            // the whole chain again, from entry 0
 * cases.listings();                                 // the list page's summaries, from memory
 * const id = await cases.createCase({ alias: 'A', priority: 'normal', opened: '2025-01-31' });
 * const house = await cases.createObject(SAFE_HOUSE_COMPARTMENTS, [
 *   { compartment: 'summary', body: { kind: 'fields', fields: { kind: 'safehouse', alias: 'Birch', capacity: '12' } } },
 *   { compartment: 'address', body: { kind: 'fields', fields: { address: '…' } } },
 * ]);
 * const seq = await cases.append(id, 'story', { kind: 'note', text: '…' });
 * await cases.share(id, memberAccountHex, ['summary', 'logistics']);
 * await cases.unshare(id, memberAccountHex);        // rotates every compartment they held
 * cases.setOrg(newerOrgView);                       // after the membership chain was verified again
 * ```
 *
 * What is verified before anything is believed (docs/cases.md §Reading):
 * the chain links and sequence numbers of every entry; every entry's
 * signature, by a key that is or was in the verified membership chain
 * (`orgView.chain`); for each entry this member can read, the grant
 * (granter in the chain, signature, context, recipient), the rotation
 * links, the key generation, the wrap, the key commitment and the AEAD; that
 * the chain reaches the highest head this page ever verified for the case
 * with the same entry there; and that the head the server names is the one
 * the entries lead to.
 *
 * Failures: a case that fails is a `CaseError` (core/casesync.ts) with a
 * `reason` the UI words ('rollback', 'fork', 'tampered', 'server_changed',
 * 'protocol', 'no_access', 'refused', 'locked') and a plain-language message.
 * `list()` reports them per case and keeps the case as last verified;
 * `read()` and the writes throw them. What the server refuses (HTTP errors,
 * the network) comes through unchanged as `ApiError` (core/api.ts).
 *
 * Memory: opened keys and records live in this object and are wiped when
 * the session locks (after which every method throws 'locked'); the head
 * pins hold no secret and outlive it. Nothing is logged.
 *
 * Storage, only when a `store` is given (core/casecache.ts): the first sync
 * of a client opens this browser's sealed copy of the member's verified
 * cases (deleted first if it was not signed in to for CACHE_EXPIRY_DAYS),
 * raises the head pins from it, and then fetches only what moved; every
 * sync round writes the states it replaced back, sealed. Keys are never
 * written. Lock closes the database and leaves the sealed rows.
 *
 * Operations run one at a time, so a slow list cannot undo a later write.
 */
import {
  COMPARTMENTS,
  compartmentName,
  fromHex,
  generateCompartmentKey,
  isCompartment,
  randomBytes,
  sealGrant,
  sealKeptGrant,
  sealRecord,
  sealRotation,
  toBase64Url,
  toHex,
  type Compartment,
  type CompartmentKey,
  type CompartmentName,
  type CompartmentRef,
  type Keyring,
  type MemberPublicKeys,
} from '../../lib/crypto/index.js';
import type { RecordBody, VerifiedEntry } from '../../lib/domain/record.js';
import { ApiError, type CaseGrants, type CaseHead, type GrantUpload } from './api.js';
import {
  CaseError,
  checkCaseGrants,
  describeCryptoFailure,
  encodeRecordBody,
  ensureKey,
  HeadPins,
  parseRecordBody,
  headOf,
  isCaseId,
  KeyCache,
  listHeads,
  listingOf,
  lockedError,
  openMyGrant,
  rotationLinks,
  sync,
  type CaseListing,
  type CaseState,
  type Scope,
  type SyncReport,
  type Verifier,
} from './casesync.js';
import { CaseCache, forgetCache, type CacheStore } from './casecache.js';
import type { OrgView } from './org.js';
import type { SessionKeys, UnlockedSession } from './session.js';

export { CaseError, HeadPins, SAFE_HOUSE_KIND, type CaseFailure, type CaseListing } from './casesync.js';
export { CACHE_EXPIRY_DAYS, expireCaches, forgetCache, IndexedDbCacheStore, type CacheStore } from './casecache.js';

export interface CaseClientOptions {
  /** Where to keep this browser's sealed copy of the member's cases; without one, nothing is stored. */
  store?: CacheStore;
  /** Milliseconds since the epoch, for the copy's expiry (tests move it). */
  now?: () => number;
}

/** The compartments of a case (compartment.rs OF_CASE), in code order. */
export const CASE_COMPARTMENTS: readonly CompartmentName[] = ['summary', 'identity', 'story', 'logistics', 'travel', 'finance', 'messages'];
/** The compartments of a safe house (OF_SAFE_HOUSE). */
export const SAFE_HOUSE_COMPARTMENTS: readonly CompartmentName[] = ['summary', 'address'];

/** Attempts at an append before a conflict is given up on (cases.rs `append`). */
export const APPEND_ATTEMPTS = 5;

/** One case as this member can read it, after every check. */
export interface CaseView {
  caseId: string;
  /** The verified head (null for a case with no entry yet). */
  head: { seq: number; hash: string } | null;
  /** The compartments this member holds a grant for, in code order. */
  readable: CompartmentName[];
  /** Every entry of the chain, in order; `body` is null where this member holds no key. */
  entries: VerifiedEntry[];
  listing: CaseListing;
}

export interface CaseListResult {
  /** Every case verified so far, in case id order; a refused case shows as last verified, if it ever was. */
  cases: CaseView[];
  /** Cases refused in this sync, with why. */
  refused: CaseError[];
  /** Cases the server no longer lists for this member (access lost). */
  removed: string[];
}

/** A first record of a new object. */
export interface FirstRecord {
  compartment: CompartmentName;
  body: RecordBody;
}

const HEX32 = /^[0-9a-f]{32}$/;
/**
 * Field names the client writes: `case set` takes letters, digits and
 * underscores (the form checks that), and the travel commands write dotted
 * names such as `pathway.1.kind` and `leg.2.checked_in`; nothing else.
 */
const FIELD_NAME = /^[A-Za-z0-9_]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$/;

function refused(message: string, caseId?: string): CaseError {
  return new CaseError('refused', message, caseId, undefined, 'refused');
}

function noSuchCase(caseId: string): CaseError {
  return new CaseError('no_access', 'There is no such case, or you hold no key for it.', caseId, undefined, 'no-such-case');
}

function checkCaseId(caseId: string): void {
  if (!isCaseId(caseId)) throw refused(`'${caseId}' is not a case id (32 hex digits).`);
}

function codeOf(name: string): Compartment {
  const code = (COMPARTMENTS as Record<string, number>)[name];
  if (code === undefined || !Object.hasOwn(COMPARTMENTS, name) || !isCompartment(code)) throw refused(`'${name}' is not a compartment.`);
  return code;
}

/**
 * The record as it will be written, or a refusal: a field name the command
 * line would refuse, or anything the Rust client could not read back (an
 * unknown stage, a value that is not text), never reaches the chain. The
 * result is rebuilt in serde's field order.
 */
function normalize(body: RecordBody): RecordBody {
  if (body.kind === 'fields') {
    for (const name of Object.keys(body.fields)) {
      if (!FIELD_NAME.test(name)) throw refused(`Field names are 1 to 64 letters, digits or underscores, or a travel field such as pathway.1.kind (got '${name}').`);
    }
  }
  const plaintext = encodeRecordBody(body);
  const checked = parseRecordBody(plaintext);
  plaintext.fill(0);
  if (!checked) throw refused('This record is not one the other Northstar clients could read, so it was not written.');
  return checked;
}

function byCode(a: Compartment, b: Compartment): number {
  return a - b;
}

function viewOf(s: CaseState): CaseView {
  return {
    caseId: s.caseId,
    head: headOf(s),
    readable: [...s.readable].sort(byCode).map(compartmentName),
    entries: s.entries.slice(),
    listing: listingOf(s),
  };
}

export class CaseClient {
  private org: OrgView;
  private readonly keyCache = new KeyCache();
  private readonly states = new Map<string, CaseState>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly store: CacheStore | undefined;
  private readonly now: () => number;
  /** The open sealed copy, once the first sync opened it. */
  private cache: CaseCache | undefined;
  /** Opened (or tried, or forgotten) already: once per client. */
  private cacheTried = false;
  private writes: Promise<void>[] = [];

  constructor(
    private readonly session: UnlockedSession,
    org: OrgView,
    /** The page's head pins: pass the same object to every client of this page. */
    readonly pins: HeadPins = new HeadPins(),
    options: CaseClientOptions = {},
  ) {
    if (session.locked) throw lockedError();
    this.org = org;
    this.store = options.store;
    this.now = options.now ?? Date.now;
    session.onLock(() => this.wipe());
  }

  /** Use a newer verification of the membership chain (a member added or removed since). */
  setOrg(org: OrgView): void {
    if (org.orgId !== this.org.orgId) throw refused('That is another organization.');
    this.org = org;
  }

  /** Sync every case this member holds a grant for (only what moved), and return them all. */
  list(): Promise<CaseListResult> {
    return this.exclusive(async () => {
      const report = await this.sync({ kind: 'all' });
      const ids = [...this.states.keys()].sort();
      return {
        cases: ids.map((id) => viewOf(this.states.get(id)!)),
        refused: [...report.refused.values()],
        removed: report.removed,
      };
    });
  }

  /** Fetch one case whole and verify it from its first entry, as `case show` does every time. */
  read(caseId: string): Promise<CaseView> {
    return this.exclusive(async () => {
      checkCaseId(caseId);
      const report = await this.sync({ kind: 'full', caseId });
      const refusal = report.refused.get(caseId);
      if (refusal) throw refusal;
      const state = this.states.get(caseId);
      if (!state) throw noSuchCase(caseId);
      return viewOf(state);
    });
  }

  /**
   * What this browser verified on earlier sign-ins, opened from its sealed
   * copy without asking the server (the first paint after sign-in); `list()`
   * then syncs on top. Without a store, or on a second call, what this page
   * holds.
   */
  cachedListings(): Promise<CaseListing[]> {
    return this.exclusive(async () => {
      await this.openCache();
      return this.listings();
    });
  }

  /**
   * Delete this browser's sealed copy of the member's cases, and keep none
   * for the rest of this client's life (the next sign-in starts a new one).
   * What this page holds in memory stays until Lock.
   */
  forgetCache(): Promise<void> {
    return this.exclusive(async () => {
      this.cacheTried = true;
      this.cache?.close();
      this.cache = undefined;
      await Promise.all(this.writes.splice(0));
      if (this.store) await forgetCache(this.store, toHex(this.org.chain.org), this.session.accountHex);
    });
  }

  /** What the list page shows, from what was verified so far (no server). */
  listings(): CaseListing[] {
    if (this.closed) throw lockedError();
    return [...this.states.keys()].sort().map((id) => listingOf(this.states.get(id)!));
  }

  /**
   * Open a case: a random key per case compartment, granted to this member,
   * and `summaryFields` as the first summary record. The caller supplies
   * what `case new` does (alias, priority, opened, country); the deadline
   * tasks a priority sets are workflow events, appended afterwards.
   */
  createCase(summaryFields: Record<string, string>): Promise<string> {
    return this.createObject(CASE_COMPARTMENTS, [{ compartment: 'summary', body: { kind: 'fields', fields: summaryFields } }]);
  }

  /** Create an object with compartments (a case or a safe house), then append its first records in order. Returns its id. */
  createObject(compartments: readonly CompartmentName[], first: readonly FirstRecord[]): Promise<string> {
    return this.exclusive(async () => {
      const codes = compartments.map(codeOf);
      if (codes.length === 0 || new Set(codes).size !== codes.length) throw refused('An object has each of its compartments once.');
      for (const r of first) {
        if (!codes.includes(codeOf(r.compartment))) throw refused(`The object has no ${r.compartment} compartment.`);
      }
      const records = first.map((r) => ({ code: codeOf(r.compartment), body: normalize(r.body) }));
      const objectId = toHex(randomBytes(16));
      const me = this.session.keys();
      const keys: CompartmentKey[] = [];
      const grants: GrantUpload[] = [];
      try {
        for (const code of codes) {
          const key = generateCompartmentKey(0);
          keys.push(key);
          const grant = sealKeptGrant(this.target(objectId, code), key, me);
          grants.push({ recipient: this.session.accountHex, grant: toBase64Url(grant) });
        }
        this.guard();
        await this.session.api.createCase({ case_id: objectId, grants });
        this.guard();
      } catch (e) {
        for (const k of keys) k.key.fill(0);
        throw e;
      }
      // The keys were made here: keep them, rather than open their grants again.
      codes.forEach((code, i) => this.keyCache.ring(objectId, this.target(objectId, code)).insert(keys[i]!));
      for (const r of records) await this.appendNow(objectId, r.code, r.body);
      return objectId;
    });
  }

  /**
   * Seal a record into a compartment on top of the verified head and append
   * it; on `conflict` (another writer got there first), sync and reseal, up
   * to APPEND_ATTEMPTS times. Returns the entry's position.
   */
  append(caseId: string, compartment: CompartmentName, body: RecordBody): Promise<number> {
    return this.exclusive(async () => {
      checkCaseId(caseId);
      return this.appendNow(caseId, codeOf(compartment), normalize(body));
    });
  }

  /**
   * Grant compartments of a case to another current member: the newest key
   * of each (older generations come with it through the rotation links), as
   * cases.rs `share`. Compartments the member already holds at that
   * generation are skipped. Returns the compartments granted now.
   */
  share(caseId: string, memberAccountHex: string, compartments: readonly CompartmentName[]): Promise<CompartmentName[]> {
    return this.exclusive(async () => {
      checkCaseId(caseId);
      const codes = [...new Set(compartments.map(codeOf))];
      if (!HEX32.test(memberAccountHex)) throw refused(`'${memberAccountHex}' is not an account id (32 hex digits).`);
      const member = this.org.chain.member(fromHex(memberAccountHex));
      if (!member) throw refused('There is no current member with that account in the organization.', caseId);
      const all = await this.allGrants(caseId);
      const rings = await this.keyrings(caseId, all);
      const me = this.session.keys();
      const grants: GrantUpload[] = [];
      const granted: CompartmentName[] = [];
      for (const code of codes) {
        const key = rings.get(code)?.newest();
        if (!key) {
          throw new CaseError('no_access', `You hold no key for the ${compartmentName(code)} compartment of this case, so you cannot share it.`, caseId, undefined, 'no-key');
        }
        const already = all.grants.some((g) => g.recipient === memberAccountHex && g.compartment === code && g.generation === key.generation);
        if (already) continue;
        const grant = await this.grantTo(this.target(caseId, code), key, memberAccountHex, member.keys, me);
        grants.push({ recipient: memberAccountHex, grant: toBase64Url(grant) });
        granted.push(compartmentName(code));
      }
      this.guard();
      if (grants.length === 0) return [];
      await this.session.api.changeGrants(caseId, { grants, rotations: [], revoke: [] });
      return granted;
    });
  }

  /**
   * Take compartments away from a member (every one they hold, or `only`):
   * each is rotated to a new generation whose key seals the old one (a
   * rotation link), granted to every current member who keeps it, and the
   * member's grants are revoked, all in one request (cases.rs `rotate_away`).
   * The member may be current or already removed from the organization.
   * Returns the compartments rotated.
   */
  unshare(caseId: string, memberAccountHex: string, only?: readonly CompartmentName[]): Promise<CompartmentName[]> {
    return this.exclusive(async () => {
      checkCaseId(caseId);
      const onlyCodes = only?.map(codeOf);
      if (!HEX32.test(memberAccountHex)) throw refused(`'${memberAccountHex}' is not an account id (32 hex digits).`);
      if (memberAccountHex === this.session.accountHex) throw refused('You cannot unshare a case from yourself.', caseId);
      const leavingId = fromHex(memberAccountHex);
      if (!this.org.chain.member(leavingId) && !this.org.chain.wasRemoved(leavingId)) {
        throw refused('That account was never a member of the organization.', caseId);
      }
      const all = await this.allGrants(caseId);
      const rings = await this.keyrings(caseId, all);
      const held = [
        ...new Set(all.grants.filter((g) => g.recipient === memberAccountHex && isCompartment(g.compartment)).map((g) => g.compartment as Compartment)),
      ]
        .filter((c) => onlyCodes === undefined || onlyCodes.includes(c))
        .sort(byCode);
      if (held.length === 0) return [];
      const me = this.session.keys();
      const grants: GrantUpload[] = [];
      const rotations: string[] = [];
      const fresh: CompartmentKey[] = [];
      try {
        for (const code of held) {
          const newest = Math.max(0, ...all.grants.filter((g) => g.compartment === code).map((g) => g.generation));
          const ring = rings.get(code);
          if (!ring || !ring.generations().includes(newest)) {
            throw new CaseError(
              'no_access',
              `You do not hold the newest key of the ${compartmentName(code)} compartment of this case, so you cannot rotate it.`,
              caseId,
              undefined,
              'no-key',
            );
          }
          if (newest >= 0xffffffff) throw refused('This compartment cannot be rotated any further.', caseId);
          const target = this.target(caseId, code);
          const next = generateCompartmentKey(newest + 1);
          fresh.push(next);
          rotations.push(toBase64Url(sealRotation(target, ring.get(newest), next)));
          const staying = [...new Set(all.grants.filter((g) => g.compartment === code && g.recipient !== memberAccountHex).map((g) => g.recipient))].sort();
          for (const recipient of staying) {
            if (!HEX32.test(recipient)) continue;
            // Only current members get the new key.
            const member = this.org.chain.member(fromHex(recipient));
            if (!member) continue;
            grants.push({ recipient, grant: toBase64Url(await this.grantTo(target, next, recipient, member.keys, me)) });
          }
        }
        this.guard();
        await this.session.api.changeGrants(caseId, { grants, rotations, revoke: held.map((compartment) => ({ recipient: memberAccountHex, compartment })) });
        this.guard();
      } catch (e) {
        for (const k of fresh) k.key.fill(0);
        throw e;
      }
      held.forEach((code, i) => this.keyCache.ring(caseId, this.target(caseId, code)).insert(fresh[i]!));
      return held.map(compartmentName);
    });
  }

  // ---- inside ----

  private exclusive<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      this.guard();
      return op();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private guard(): void {
    if (this.closed || this.session.locked) throw lockedError();
  }

  private wipe(): void {
    this.closed = true;
    this.keyCache.clear(true);
    this.states.clear();
    // Writes already sealed still land (IndexedDB finishes them before closing); nothing new is sealed.
    this.cache?.close();
    this.cache = undefined;
  }

  private verifier(): Verifier {
    return { org: this.org.chain.org, chain: this.org.chain, keys: this.session.keys(), keyCache: this.keyCache };
  }

  /**
   * Seal `key` for a member (cases.rs `grant_to`): kept under my keep key when
   * the member is me, so that none of my devices needs public-key work to open
   * it; sealed to their agreement key otherwise.
   */
  private async grantTo(target: CompartmentRef, key: CompartmentKey, recipientHex: string, recipientKeys: MemberPublicKeys, me: SessionKeys): Promise<Uint8Array> {
    return recipientHex === this.session.accountHex ? sealKeptGrant(target, key, me) : sealGrant(target, key, recipientKeys, me);
  }

  private target(caseId: string, compartment: Compartment): CompartmentRef {
    return { org: this.org.chain.org, object: fromHex(caseId), compartment };
  }

  private async sync(scope: Scope): Promise<SyncReport> {
    if (this.store && !this.cacheTried && scope.kind === 'all') {
      // The head list travels while the copy is opened.
      const early = listHeads(this.session.api, () => this.guard());
      early.catch(() => undefined);
      await this.openCache();
      // Another tab may have saved a newer verified head after this list was taken: a copy ahead
      // of it is no rollback until a fresh list says so.
      const heads = early.then((listed) => (this.aheadOf(listed) ? listHeads(this.session.api, () => this.guard()) : listed));
      heads.catch(() => undefined);
      scope = { kind: 'all', heads };
    } else {
      // Before any sync, even of one case: the copy's head pins must be known.
      await this.openCache();
    }
    const persist = this.cache ? (changed: readonly string[], removed: readonly string[]) => this.persist(changed, removed) : undefined;
    try {
      const report = await sync(this.session.api, this.verifier(), this.pins, this.states, scope, () => this.guard(), persist);
      this.guard();
      return report;
    } finally {
      await Promise.all(this.writes.splice(0));
    }
  }

  /**
   * Open this browser's copy, once per client: the states in it become this
   * page's (the sync then fetches only what moved) and its heads raise the
   * pins. A copy that cannot be used (no IndexedDB, a full disk) leaves the
   * client working from memory, as without a store.
   */
  private async openCache(): Promise<void> {
    if (!this.store || this.cacheTried) return;
    this.cacheTried = true;
    let cache: CaseCache;
    try {
      cache = await CaseCache.open(this.store, this.session.root(), toHex(this.org.chain.org), this.session.accountHex, this.now(), () => this.guard());
    } catch {
      this.guard();
      return;
    }
    if (this.closed) {
      cache.close();
      throw lockedError();
    }
    this.cache = cache;
    let states: Map<string, CaseState>;
    try {
      ({ states } = await cache.load(this.pins, () => this.guard()));
    } catch {
      this.guard();
      return;
    }
    this.guard();
    for (const [id, s] of states) if (!this.states.has(id)) this.states.set(id, s);
  }

  /** Whether this page holds a case further than (or other than at) the head `listed` names for it. */
  private aheadOf(listed: readonly CaseHead[]): boolean {
    return listed.some((h) => {
      const s = this.states.get(h.case_id);
      return s !== undefined && (s.len > h.len || (s.len === h.len && s.len > 0 && s.headHash !== h.head_hash));
    });
  }

  /** Seal what a sync round replaced and start writing it; `sync` waits for the writes before it returns. */
  private persist(changed: readonly string[], removed: readonly string[]): void {
    const cache = this.cache;
    if (!cache) return;
    try {
      // A write that fails (quota, a closed database) costs the next sign-in a fetch, nothing more.
      this.writes.push(cache.save(this.states, this.pins, changed, removed).catch(() => undefined));
    } catch {
      // as above
    }
  }

  private async appendNow(caseId: string, compartment: Compartment, body: RecordBody): Promise<number> {
    const plaintext = encodeRecordBody(body);
    try {
      for (let attempt = 0; ; attempt++) {
        const report = await this.sync({ kind: 'one', caseId });
        const refusal = report.refused.get(caseId);
        if (refusal) throw refusal;
        const state = this.states.get(caseId);
        if (!state) throw noSuchCase(caseId);
        const generations = state.grants.filter((g) => g.compartment === compartment).map((g) => g.generation);
        const noKey = () =>
          new CaseError('no_access', `You hold no key for the ${compartmentName(compartment)} compartment of this case.`, caseId, undefined, 'no-key');
        if (generations.length === 0) throw noKey();
        const generation = Math.max(...generations);
        let ok: boolean;
        try {
          ok = await ensureKey(this.verifier(), state, compartment, generation);
        } catch (e) {
          throw describeCryptoFailure(e, caseId);
        }
        this.guard();
        if (!ok) throw noKey();
        const key = this.keyCache.peek(caseId, compartment)!.get(generation);
        const seq = state.len;
        const sealed = sealRecord({
          address: { org: this.org.chain.org, case: fromHex(caseId), compartment, record: randomBytes(16) },
          recordVersion: 1,
          position: { seq: BigInt(seq), prevHash: state.headHash === undefined ? new Uint8Array(32) : fromHex(state.headHash) },
          key,
          author: this.session.keys(),
          plaintext,
        });
        try {
          await this.session.api.appendEntry(caseId, { entry: toBase64Url(sealed.entry), wrap: toBase64Url(sealed.wrap) });
          return seq;
        } catch (e) {
          if (e instanceof ApiError && e.code === 'conflict' && attempt < APPEND_ATTEMPTS - 1) continue;
          throw e;
        }
      }
    } finally {
      plaintext.fill(0);
    }
  }

  private async allGrants(caseId: string): Promise<CaseGrants> {
    const served = await this.session.api.caseGrants(caseId);
    this.guard();
    return checkCaseGrants(served);
  }

  /**
   * Every compartment key this member can reach in a case: their own grants
   * opened (each once per page; granter checked against the chain), then the
   * rotation links walked down (cases.rs `keyrings`).
   */
  private async keyrings(caseId: string, all: CaseGrants): Promise<Map<Compartment, Keyring>> {
    const v = this.verifier();
    const mine = all.grants.filter((g) => g.recipient === this.session.accountHex);
    const rings = new Map<Compartment, Keyring>();
    try {
      for (const g of mine) {
        if (!isCompartment(g.compartment)) {
          throw new CaseError('protocol', 'The server answered something this app does not understand: a grant names an unknown compartment.', caseId);
        }
        const ring = this.keyCache.ring(caseId, this.target(caseId, g.compartment));
        rings.set(g.compartment, ring);
        if (ring.generations().includes(g.generation)) continue;
        const key = await openMyGrant(v, caseId, g.compartment, g.grant);
        this.guard();
        ring.insert(key);
      }
      for (const [code, ring] of rings) ring.unwind(rotationLinks(all.rotations, code, caseId));
    } catch (e) {
      throw describeCryptoFailure(e, caseId);
    }
    return rings;
  }
}
