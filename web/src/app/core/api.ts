/**
 * The server's HTTP API as the web app uses it (crates/northstar-protocol):
 * JSON bodies, errors as `{"code","message"}`, the session token in
 * `Authorization: Bearer …`. Framework-free; `fetch` is injected for tests.
 *
 * The token lives in this object only, in memory: never in localStorage,
 * sessionStorage or a cookie (requests are sent with `credentials: 'omit'`).
 */

/** The closed table of error codes (ErrorCode in northstar-protocol), plus what the client itself reports. */
export type ApiErrorCode =
  | 'bad_request'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'login_failed'
  | 'member_removed'
  | 'pending_approval'
  | 'not_found'
  | 'org_exists'
  | 'org_missing'
  | 'username_taken'
  | 'invite_invalid'
  | 'invite_used'
  | 'invite_expired'
  | 'conflict'
  | 'chain_rejected'
  | 'rate_limited'
  | 'internal'
  /** Not from the server: the network failed or the answer was not the API's. */
  | 'network'
  | 'bad_response';

const SERVER_CODES = new Set<string>([
  'bad_request',
  'payload_too_large',
  'unauthorized',
  'forbidden',
  'login_failed',
  'member_removed',
  'pending_approval',
  'not_found',
  'org_exists',
  'org_missing',
  'username_taken',
  'invite_invalid',
  'invite_used',
  'invite_expired',
  'conflict',
  'chain_rejected',
  'rate_limited',
  'internal',
]);

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Session {
  token: string;
  expires_at: number;
}
export interface PublicKeys {
  signing: string;
  agreement: string;
}
export interface OrgInfo {
  org_id: string;
  name: string;
  root_public_key: string;
}
export interface OrgChain {
  org: OrgInfo;
  links: string[];
}
export interface LoginStartResponse {
  login_id: string;
  credential_response: string;
}
export interface LoginFinishResponse {
  account_id: string;
  session: Session;
}
export interface KeyMaterial {
  keys: PublicKeys;
  slot: string;
  keybox: string;
  org_root_box?: string | null;
}
export interface Me {
  account_id: string;
  username: string;
  role: string | null;
  status: 'pending' | 'active' | 'removed';
  org: OrgInfo;
}

/*
 * Cases (northstar-protocol CaseHead … SyncResponse). Ids are lower-case hex;
 * sealed bytes are base64url without padding. Counts and positions are u64
 * on the wire and JSON numbers here: exact up to 2^53, far beyond any chain.
 * Nothing here is trusted as it arrives: core/casesync.ts checks the shape of
 * every answer before using it, as serde does for the Rust client.
 */

/** A grant and the account it is for. */
export interface GrantUpload {
  recipient: string;
  /** The sealed, signed grant (NSGR). */
  grant: string;
}
export interface CreateCase {
  case_id: string;
  /** The creator's grants of every compartment, generation 0. */
  grants: GrantUpload[];
}
/** A case as the server knows it: its id and chain head. */
export interface CaseHead {
  case_id: string;
  len: number;
  /** Hash of the last entry, hex (zeros while empty). */
  head_hash: string;
  /** Moves whenever the case's grants or rotation links change. */
  keys_version: number;
}
export interface CaseList {
  cases: CaseHead[];
  /** Pass as `after` for the next page; absent (or null) on the last page. */
  next?: string | null;
}
export interface AppendEntry {
  /** The sealed, signed entry (NSRE). */
  entry: string;
  /** The wrap of its data key (NSKW). */
  wrap: string;
}
export interface Entry {
  seq: number;
  entry: string;
  /** Absent when the caller holds no grant for the entry's compartment, or the record was shredded. */
  wrap?: string | null;
}
export interface EntryPage {
  entries: Entry[];
  head: CaseHead;
}
export interface GrantInfo {
  compartment: number;
  generation: number;
  recipient: string;
  granted_by: string;
  grant: string;
}
export interface RotationInfo {
  compartment: number;
  new_generation: number;
  /** The rotation link (NSRT). */
  link: string;
}
export interface CaseGrants {
  grants: GrantInfo[];
  rotations: RotationInfo[];
}
export interface Revoke {
  recipient: string;
  compartment: number;
}
/** A share (grants only) or an unshare (new grants, rotation links, revocations), applied all or nothing. */
export interface ChangeGrants {
  grants: GrantUpload[];
  rotations: string[];
  revoke: Revoke[];
}
/** One case to sync, from the first entry the caller does not have yet. */
export interface SyncWant {
  case_id: string;
  from: number;
}
/** Up to 256 cases, each once. */
export interface SyncRequest {
  cases: SyncWant[];
}
/** What the caller may sync of one case; `entries` may stop short of `head.len`. */
export interface CaseBundle {
  head: CaseHead;
  /** The caller's own grants. */
  grants: GrantInfo[];
  rotations: RotationInfo[];
  entries: Entry[];
}
export interface SyncResponse {
  cases: CaseBundle[];
}

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export class Api {
  private token: string | null = null;

  constructor(
    /** Where /api lives: '' for the page's own origin. */
    private readonly base: string = '',
    private readonly fetchFn: Fetch = (input, init) => globalThis.fetch(input, init),
  ) {}

  setToken(token: string | null): void {
    this.token = token;
  }

  get hasToken(): boolean {
    return this.token !== null;
  }

  loginStart(username: string, credentialRequest: string): Promise<LoginStartResponse> {
    return this.call('POST', '/api/auth/login/start', { username, credential_request: credentialRequest });
  }

  loginFinish(loginId: string, credentialFinalization: string): Promise<LoginFinishResponse> {
    return this.call('POST', '/api/auth/login/finish', { login_id: loginId, credential_finalization: credentialFinalization });
  }

  /** keepalive: the request still goes out when the page is being closed (Lock on pagehide). */
  logout(): Promise<void> {
    return this.call('POST', '/api/auth/logout', undefined, true);
  }

  me(): Promise<Me> {
    return this.call('GET', '/api/me');
  }

  meKeys(): Promise<KeyMaterial> {
    return this.call('GET', '/api/me/keys');
  }

  org(): Promise<OrgChain> {
    return this.call('GET', '/api/org');
  }

  /** One page of the caller's cases with their heads, in case id order. */
  cases(after?: string): Promise<CaseList> {
    return this.call('GET', after === undefined ? '/api/cases' : `/api/cases?after=${encodeURIComponent(after)}`);
  }

  createCase(body: CreateCase): Promise<void> {
    return this.call('POST', '/api/cases', body);
  }

  /** Refused with `conflict` when the chain moved on: fetch, reseal, retry. */
  appendEntry(caseId: string, body: AppendEntry): Promise<void> {
    return this.call('POST', `/api/cases/${encodeURIComponent(caseId)}/entries`, body);
  }

  caseEntries(caseId: string, from: number, limit: number): Promise<EntryPage> {
    return this.call('GET', `/api/cases/${encodeURIComponent(caseId)}/entries?from=${from}&limit=${limit}`);
  }

  syncCases(body: SyncRequest): Promise<SyncResponse> {
    return this.call('POST', '/api/cases/sync', body);
  }

  /** Every grant (all members, all generations) and rotation link of a case. */
  caseGrants(caseId: string): Promise<CaseGrants> {
    return this.call('GET', `/api/cases/${encodeURIComponent(caseId)}/grants`);
  }

  changeGrants(caseId: string, body: ChangeGrants): Promise<void> {
    return this.call('POST', `/api/cases/${encodeURIComponent(caseId)}/grants`, body);
  }

  /** One request; feature modules (core/accounts.ts, core/intake.ts) wrap their endpoints with it. */
  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, keepalive = false): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers,
        credentials: 'omit',
        cache: 'no-store',
        redirect: 'error',
        keepalive,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw new ApiError('network', `the server could not be reached (${e instanceof Error ? e.message : String(e)})`, 0);
    }
    if (response.status === 204) return undefined as T;
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch {
      throw new ApiError(response.ok ? 'bad_response' : 'internal', `the server answered HTTP ${response.status} without JSON`, response.status);
    }
    if (!response.ok) {
      const err = parsed as { code?: unknown; message?: unknown };
      const code = typeof err.code === 'string' && SERVER_CODES.has(err.code) ? (err.code as ApiErrorCode) : 'bad_response';
      const message = typeof err.message === 'string' ? err.message : `HTTP ${response.status}`;
      throw new ApiError(code, message, response.status);
    }
    return parsed as T;
  }
}
