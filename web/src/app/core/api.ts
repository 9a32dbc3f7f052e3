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

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, keepalive = false): Promise<T> {
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
