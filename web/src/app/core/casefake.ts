/**
 * Test support, never part of the app: an in-memory organization and a fake
 * of the server's case API that checks what crates/northstar-server/src/cases.rs
 * checks (grants signed by the caller and sealed to active members, entries
 * signed by the caller at the next chain position, sharing only what the
 * caller holds) with the real crypto, plus hooks that let a test play a lying
 * server. Sessions are made directly, without OPAQUE (session.test.ts covers it).
 */
import {
  bytesEqual,
  entryHash,
  foundOrganization,
  fromBase64Url,
  generateMemberKeys,
  generateOrgRootSeed,
  keyId,
  memberPublicKeys,
  MembershipState,
  parseEntry,
  randomBytes,
  ROLES,
  sig,
  signLink,
  toBase64Url,
  toHex,
  verifyEntry,
  verifyGrant,
  type MemberPublicKeys,
  type MemberSecretKeys,
  type Role,
} from '../../lib/crypto/index.js';
import { Api, type CaseBundle, type CaseList, type Fetch, type GrantInfo, type SyncResponse } from './api.js';
import { OrgPin, verifyOrg, type OrgView } from './org.js';
import { UnlockedSession } from './session.js';

export interface Person {
  name: string;
  account: Uint8Array;
  hex: string;
  role: Role;
  keys: MemberSecretKeys;
  pub: MemberPublicKeys;
  /** The account root key: the same at every sign-in, as a real account's (the browser cache is sealed under it). */
  root: Uint8Array;
}

function person(name: string, role: Role): Person {
  const account = randomBytes(16);
  const keys = generateMemberKeys();
  return { name, account, hex: toHex(account), role, keys, pub: memberPublicKeys(keys), root: randomBytes(32) };
}

export interface StoredEntry {
  seq: number;
  compartment: number;
  entry: Uint8Array;
  wrap: Uint8Array | null;
}
export interface StoredGrant {
  compartment: number;
  generation: number;
  recipient: string;
  grantedBy: string;
  grant: Uint8Array;
}
export interface StoredCase {
  len: number;
  headHash: Uint8Array;
  keysVersion: number;
  entries: StoredEntry[];
  grants: StoredGrant[];
  rotations: { compartment: number; newGeneration: number; link: Uint8Array }[];
}

/** The organization: ada (admin, founder), bob and carol (caseworkers), erin (added, then removed); mallory is in no chain. */
export class Organization {
  readonly org = randomBytes(16);
  readonly rootSeed = generateOrgRootSeed();
  readonly ada = person('ada', ROLES.admin);
  readonly bob = person('bob', ROLES.caseworker);
  readonly carol = person('carol', ROLES.caseworker);
  readonly erin = person('erin', ROLES.caseworker);
  readonly mallory = person('mallory', ROLES.caseworker);
  readonly links: Uint8Array[];
  readonly chain: MembershipState;

  constructor() {
    this.links = foundOrganization(this.org, 'Test', this.rootSeed, 1_700_000_000n, { account: this.ada.account, name: 'ada', keys: this.ada.pub });
    const state = MembershipState.verify(sig.publicKey(this.rootSeed), this.links);
    for (const p of [this.bob, this.carol, this.erin]) {
      const link = signLink(state.nextLink(1_700_000_100n, { type: 'add', account: p.account, name: p.name, role: p.role, keys: p.pub }), this.rootSeed);
      state.apply(link);
      this.links.push(link);
    }
    const removal = signLink(state.nextLink(1_700_000_200n, { type: 'remove', account: this.erin.account }), this.rootSeed);
    state.apply(removal);
    this.links.push(removal);
    this.chain = state;
  }

  /** The membership chain as this member's page verifies it. */
  orgView(p: Person): OrgView {
    return verifyOrg(
      { org: { org_id: toHex(this.org), name: 'Test', root_public_key: toBase64Url(sig.publicKey(this.rootSeed)) }, links: this.links.map((l) => toBase64Url(l)) },
      new OrgPin(),
      { accountId: p.account, keys: p.pub },
    );
  }
}

type Json = Record<string, unknown>;

export class FakeServer {
  readonly cases = new Map<string, StoredCase>();
  readonly tokens = new Map<string, Person>();
  readonly requests: { method: string; path: string; body: Json | undefined; who: string | undefined }[] = [];
  /** Page sizes, small in tests so that paging is exercised. */
  listLimit = 1000;
  syncEntryLimit = 2000;
  /** A lying server: rewrite what a member is sent. */
  onSync?: (response: SyncResponse, caller: Person) => SyncResponse;
  onList?: (response: CaseList, caller: Person) => CaseList;
  /** Runs before an append is judged (another writer can get there first). */
  beforeAppend?: (caseId: string, caller: Person) => Promise<void> | void;

  constructor(readonly o: Organization) {}

  /** Active members, as the server's accounts table knows them. */
  private active(hex: string): Person | undefined {
    return [this.o.ada, this.o.bob, this.o.carol].find((p) => p.hex === hex);
  }

  /** A signed-in session of `p`, its keys unlocked (copies: Lock zeroes them); `root` plays an account whose root key changed. */
  session(p: Person, root: Uint8Array = p.root): UnlockedSession {
    const token = toBase64Url(randomBytes(32));
    this.tokens.set(token, p);
    const api = new Api('', this.fetch);
    api.setToken(token);
    const me = {
      account_id: p.hex,
      username: p.name,
      role: null,
      status: 'active' as const,
      org: { org_id: toHex(this.o.org), name: 'Test', root_public_key: toBase64Url(sig.publicKey(this.o.rootSeed)) },
    };
    const keys = { signingSeed: p.keys.signingSeed.slice(), agreementSecret: p.keys.agreementSecret.slice() };
    return new UnlockedSession(api, p.account.slice(), p.name, me, p.pub, root.slice(), keys, 2_000_000_000, 'server-key');
  }

  /** Requests to one endpoint, for assertions. */
  calls(method: string, prefix: string) {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(prefix));
  }

  /** Append as `p` without any client: what another writer or a test's forger does. */
  store(caseId: string, entry: Uint8Array, wrap: Uint8Array | null): void {
    const c = this.cases.get(caseId)!;
    const compartment = parseEntry(entry).address.compartment;
    c.entries.push({ seq: c.len, compartment, entry, wrap });
    c.len += 1;
    c.headHash = entryHash(entry);
  }

  readonly fetch: Fetch = async (input, init) => {
    const url = new URL(input, 'http://server');
    const method = init.method ?? 'GET';
    const auth = (init.headers as Record<string, string>).authorization;
    const caller = auth === undefined ? undefined : this.tokens.get(auth.replace(/^Bearer /, ''));
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as Json) : undefined;
    this.requests.push({ method, path: url.pathname + url.search, body, who: caller?.name });
    if (!caller) return error('unauthorized', 401);
    try {
      return await this.route(method, url, body, caller);
    } catch (e) {
      if (e instanceof Refusal) return error(e.code, e.status, e.message);
      throw e;
    }
  };

  private async route(method: string, url: URL, body: Json | undefined, caller: Person): Promise<Response> {
    const path = url.pathname;
    if (path === '/api/cases' && method === 'GET') return json(this.list(caller, url.searchParams.get('after')));
    if (path === '/api/cases' && method === 'POST') return this.create(caller, body!);
    if (path === '/api/cases/sync' && method === 'POST') return json(this.sync(caller, body!));
    const m = /^\/api\/cases\/([0-9a-f]{32})\/(entries|grants)$/.exec(path);
    if (m) {
      const [, caseId, what] = m as unknown as [string, string, string];
      if (what === 'entries' && method === 'POST') return this.append(caller, caseId, body!);
      if (what === 'grants' && method === 'GET') return json(this.allGrants(caller, caseId));
      if (what === 'grants' && method === 'POST') return this.changeGrants(caller, caseId, body!);
    }
    return error('not_found', 404);
  }

  private granted(caseId: string, caller: Person): number[] {
    const c = this.cases.get(caseId);
    const mine = c ? [...new Set(c.grants.filter((g) => g.recipient === caller.hex).map((g) => g.compartment))] : [];
    if (mine.length === 0) throw new Refusal('not_found', 404, 'no such case');
    return mine;
  }

  private list(caller: Person, after: string | null): CaseList {
    const ids = [...this.cases.keys()].filter((id) => this.cases.get(id)!.grants.some((g) => g.recipient === caller.hex)).sort();
    const page = ids.filter((id) => after === null || id > after).slice(0, this.listLimit);
    const response: CaseList = {
      cases: page.map((id) => this.head(id)),
      next: page.length === this.listLimit ? (page[page.length - 1] ?? null) : null,
    };
    return this.onList ? this.onList(response, caller) : response;
  }

  private head(id: string) {
    const c = this.cases.get(id)!;
    return { case_id: id, len: c.len, head_hash: toHex(c.headHash), keys_version: c.keysVersion };
  }

  /** cases.rs check_grants: signed by the caller (either suite), naming this case, sealed to an active member's keys. */
  private checkGrants(caseId: string, caller: Person, uploads: unknown): StoredGrant[] {
    return (uploads as { recipient: string; grant: string }[]).map((u) => {
      const bytes = fromBase64Url(u.grant);
      let header;
      try {
        header = verifyGrant(bytes, caller.pub);
      } catch {
        throw new Refusal('chain_rejected', 422, 'a grant is refused: bad signature');
      }
      if (!bytesEqual(header.target.org, this.o.org) || toHex(header.target.object) !== caseId) throw new Refusal('chain_rejected', 422, 'a grant names another case');
      const recipient = this.active(u.recipient);
      if (!recipient) throw new Refusal('chain_rejected', 422, 'its recipient is not an active member');
      if (!bytesEqual(keyId(recipient.pub), header.recipient)) throw new Refusal('chain_rejected', 422, 'sealed to other keys');
      return { compartment: header.target.compartment, generation: header.generation, recipient: u.recipient, grantedBy: caller.hex, grant: bytes };
    });
  }

  private create(caller: Person, body: Json): Response {
    const caseId = body.case_id as string;
    const grants = this.checkGrants(caseId, caller, body.grants);
    if (grants.some((g) => g.recipient !== caller.hex || g.generation !== 0)) throw new Refusal('chain_rejected', 422, 'first grants are the creator’s');
    if (this.cases.has(caseId)) throw new Refusal('conflict', 409, 'exists');
    this.cases.set(caseId, { len: 0, headHash: new Uint8Array(32), keysVersion: 0, entries: [], grants, rotations: [] });
    return new Response(null, { status: 204 });
  }

  private async append(caller: Person, caseId: string, body: Json): Promise<Response> {
    const granted = this.granted(caseId, caller);
    if (this.beforeAppend) await this.beforeAppend(caseId, caller);
    const entry = fromBase64Url(body.entry as string);
    const wrap = fromBase64Url(body.wrap as string);
    let header;
    try {
      header = verifyEntry(entry, caller.pub);
    } catch {
      throw new Refusal('chain_rejected', 422, 'the entry is refused');
    }
    if (!bytesEqual(header.address.org, this.o.org) || toHex(header.address.case) !== caseId) throw new Refusal('chain_rejected', 422, 'another case');
    if (!granted.includes(header.address.compartment)) throw new Refusal('forbidden', 403, 'no grant for that compartment');
    const c = this.cases.get(caseId)!;
    if (Number(header.seq) !== c.len || !bytesEqual(header.prevHash, c.headHash)) throw new Refusal('conflict', 409, 'moved on');
    this.store(caseId, entry, wrap);
    return new Response(null, { status: 204 });
  }

  private sync(caller: Person, body: Json): SyncResponse {
    const wanted = body.cases as { case_id: string; from: number }[];
    if (wanted.length > 256 || new Set(wanted.map((w) => w.case_id)).size !== wanted.length) throw new Refusal('bad_request', 400, 'bad sync request');
    let budget = this.syncEntryLimit;
    const cases: CaseBundle[] = [];
    for (const w of [...wanted].sort((a, b) => (a.case_id < b.case_id ? -1 : 1))) {
      const c = this.cases.get(w.case_id);
      if (!c) continue;
      const grants = c.grants.filter((g) => g.recipient === caller.hex);
      if (grants.length === 0) continue;
      const granted = grants.map((g) => g.compartment);
      const entries = c.entries.filter((e) => e.seq >= w.from).slice(0, Math.max(budget, 0));
      budget -= entries.length;
      cases.push({
        head: this.head(w.case_id),
        grants: grants.map(grantInfo),
        rotations: c.rotations.map((r) => ({ compartment: r.compartment, new_generation: r.newGeneration, link: toBase64Url(r.link) })),
        entries: entries.map((e) => ({ seq: e.seq, entry: toBase64Url(e.entry), wrap: e.wrap && granted.includes(e.compartment) ? toBase64Url(e.wrap) : null })),
      });
    }
    const response = { cases };
    return this.onSync ? this.onSync(response, caller) : response;
  }

  private allGrants(caller: Person, caseId: string) {
    this.granted(caseId, caller);
    const c = this.cases.get(caseId)!;
    return {
      grants: c.grants.map(grantInfo),
      rotations: c.rotations.map((r) => ({ compartment: r.compartment, new_generation: r.newGeneration, link: toBase64Url(r.link) })),
    };
  }

  private changeGrants(caller: Person, caseId: string, body: Json): Response {
    const granted = this.granted(caseId, caller);
    const c = this.cases.get(caseId)!;
    const grants = this.checkGrants(caseId, caller, body.grants);
    if (grants.some((g) => !granted.includes(g.compartment))) throw new Refusal('forbidden', 403, 'you can only share compartments you hold');
    const rotations = ((body.rotations ?? []) as string[]).map((l) => {
      const link = fromBase64Url(l);
      const org = link.subarray(5, 21);
      const object = toHex(link.subarray(21, 37));
      const compartment = link[37]!;
      const newGeneration = new DataView(link.buffer, link.byteOffset + 42, 4).getUint32(0);
      if (!bytesEqual(org, this.o.org) || object !== caseId || !granted.includes(compartment)) throw new Refusal('chain_rejected', 422, 'a rotation link is refused');
      return { compartment, newGeneration, link };
    });
    const revoke = (body.revoke ?? []) as { recipient: string; compartment: number }[];
    if (revoke.some((r) => !granted.includes(r.compartment))) throw new Refusal('bad_request', 400, 'you can only revoke compartments you hold');
    const duplicate =
      grants.some((g) => c.grants.some((x) => x.compartment === g.compartment && x.generation === g.generation && x.recipient === g.recipient)) ||
      rotations.some((r) => c.rotations.some((x) => x.compartment === r.compartment && x.newGeneration === r.newGeneration));
    if (duplicate) throw new Refusal('conflict', 409, 'duplicate');
    c.keysVersion += 1;
    c.grants.push(...grants);
    c.rotations.push(...rotations);
    c.grants = c.grants.filter((g) => !revoke.some((r) => r.recipient === g.recipient && r.compartment === g.compartment));
    return new Response(null, { status: 204 });
  }
}

class Refusal extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function grantInfo(g: StoredGrant): GrantInfo {
  return { compartment: g.compartment, generation: g.generation, recipient: g.recipient, granted_by: g.grantedBy, grant: toBase64Url(g.grant) };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function error(code: string, status: number, message = code): Response {
  return json({ code, message }, status);
}
