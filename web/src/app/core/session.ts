/**
 * Signing in and unlocking, as crates/northstar-client/src/account.rs `login`:
 * OPAQUE start/finish; the export key opens the password slot, which holds
 * the account root key; the root key opens the key box with the member's
 * private keys. Everything stays in this page's memory: the keys, and the
 * session token (in the Api object). `lock()` wipes the keys, forgets the
 * token and ends the session on the server.
 *
 * Not unlocked in this slice: an admin's organization root key box (kept
 * closed until a feature needs it, so it is not in memory for nothing).
 */
import {
  bytesEqual,
  fromBase64Url,
  fromHex,
  keepKeyFromRoot,
  memberPublicKeys,
  NorthstarCryptoError,
  openSlot,
  toHex,
  unwrapMemberKeys,
  type MemberPublicKeys,
  type MemberSecretKeys,
} from '../../lib/crypto/index.js';
import { Api, ApiError, type Me } from './api.js';
import type { OpaqueClient } from './opaque.js';

/** Why sign-in or unlocking failed, as the UI words it (i18n keys under `error.`). */
export type SignInFailure =
  /** Unknown name or wrong passphrase: indistinguishable on purpose. */
  | 'login_failed'
  | 'rate_limited'
  | 'member_removed'
  | 'network'
  /** The server answered, but what it holds for this account does not open or does not match. */
  | 'keys_refused'
  /** The server's OPAQUE key differs from the one pinned earlier in this page. */
  | 'server_changed'
  /** Anything else the server said. */
  | 'server';

export class SignInError extends Error {
  constructor(
    readonly reason: SignInFailure,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

function failure(e: unknown): SignInError {
  if (e instanceof SignInError) return e;
  if (e instanceof ApiError) {
    switch (e.code) {
      case 'login_failed':
      case 'rate_limited':
      case 'member_removed':
      case 'network':
        return new SignInError(e.code, e.message, e);
      default:
        return new SignInError('server', e.message, e);
    }
  }
  if (e instanceof NorthstarCryptoError || e instanceof RangeError) {
    return new SignInError('keys_refused', `the keys the server holds for this account do not open: ${e.message}`, e);
  }
  return new SignInError('server', e instanceof Error ? e.message : String(e), e);
}

/**
 * The member's private keys and its keep key (from the root key), which
 * seals and opens the grants the member keeps for itself (grant suite 2).
 */
export type SessionKeys = MemberSecretKeys & { keepKey: Uint8Array };

/** A signed-in member with their keys unlocked in memory. */
export class UnlockedSession {
  private rootKey: Uint8Array | null;
  private secret: SessionKeys | null;
  private lockedFlag = false;
  private readonly lockListeners = new Set<() => void>();

  constructor(
    readonly api: Api,
    readonly accountId: Uint8Array,
    readonly username: string,
    readonly me: Me,
    readonly publicKeys: MemberPublicKeys,
    rootKey: Uint8Array,
    keys: MemberSecretKeys,
    /** Unix seconds: the server ends the session then. */
    readonly expiresAt: number,
    /** The server's OPAQUE static public key (base64url), for the caller to pin. */
    readonly serverKey: string,
  ) {
    this.rootKey = rootKey;
    this.secret = { ...keys, keepKey: keepKeyFromRoot(rootKey) };
  }

  get locked(): boolean {
    return this.lockedFlag;
  }

  get accountHex(): string {
    return toHex(this.accountId);
  }

  /** The member's private keys and keep key; throws once locked. */
  keys(): SessionKeys {
    if (!this.secret) throw new Error('the session is locked');
    return this.secret;
  }

  /** The account root key; throws once locked. */
  root(): Uint8Array {
    if (!this.rootKey) throw new Error('the session is locked');
    return this.rootKey;
  }

  onLock(listener: () => void): () => void {
    this.lockListeners.add(listener);
    return () => this.lockListeners.delete(listener);
  }

  /**
   * Drop every key and the token. The keys are overwritten with zeros (as far
   * as JavaScript allows: copies the engine made are beyond reach) and the
   * server is asked to end the session; the token is forgotten first, so a
   * failed logout request leaves nothing behind here.
   */
  async lock(): Promise<void> {
    if (this.lockedFlag) return;
    this.lockedFlag = true;
    this.rootKey?.fill(0);
    this.secret?.signingSeed.fill(0);
    this.secret?.agreementSecret.fill(0);
    this.secret?.keepKey.fill(0);
    this.rootKey = null;
    this.secret = null;
    const hadToken = this.api.hasToken;
    const ending = hadToken ? this.api.logout().catch(() => undefined) : Promise.resolve();
    this.api.setToken(null);
    for (const listener of [...this.lockListeners]) listener();
    this.lockListeners.clear();
    await ending;
  }
}

/**
 * Sign in as `username` and unlock the account's keys. On any failure after
 * the server issued a session, the session is ended and nothing is kept.
 * With `pinnedServerKey` (the server's OPAQUE key seen at an earlier sign-in
 * in this page), a server presenting another key is refused before the login
 * is finished, as the Rust client does with the key its profile pinned.
 */
export async function signIn(
  api: Api,
  opaque: OpaqueClient,
  username: string,
  passphrase: string,
  pinnedServerKey?: string,
): Promise<UnlockedSession> {
  let exportKey: Uint8Array | undefined;
  let root: Uint8Array | undefined;
  let keys: MemberSecretKeys | undefined;
  try {
    const started = await opaque.startLogin(passphrase);
    const response = await api.loginStart(username, started.request);
    const finished = await opaque.finishLogin(started.state, response.credential_response, passphrase);
    // A wrong passphrase or an unknown name fails here, before anything is sent back.
    if (!finished) throw new SignInError('login_failed', 'sign-in failed: unknown name or wrong passphrase');
    exportKey = fromBase64Url(finished.exportKey);
    if (pinnedServerKey !== undefined && pinnedServerKey !== finished.serverStaticPublicKey) {
      throw new SignInError('server_changed', "the server's sign-in key differs from the one seen earlier in this page");
    }
    const done = await api.loginFinish(response.login_id, finished.finalization);
    api.setToken(done.session.token);
    const account = fromHex(done.account_id);
    if (account.length !== 16) throw new SignInError('server', 'the server named an account id that is not 16 bytes');
    const material = await api.meKeys();
    root = openSlot(fromBase64Url(material.slot), 'password', exportKey, account);
    keys = unwrapMemberKeys(fromBase64Url(material.keybox), root, account);
    const publicKeys = memberPublicKeys(keys);
    if (!bytesEqual(publicKeys.signing, fromBase64Url(material.keys.signing)) || !bytesEqual(publicKeys.agreement, fromBase64Url(material.keys.agreement))) {
      throw new SignInError('keys_refused', 'the key box does not hold the keys the server registered for this account');
    }
    const me = await api.me();
    if (me.account_id !== done.account_id) throw new SignInError('server', 'the server says this session belongs to another account');
    return new UnlockedSession(api, account, username, me, publicKeys, root, keys, done.session.expires_at, finished.serverStaticPublicKey);
  } catch (e) {
    root?.fill(0);
    keys?.signingSeed.fill(0);
    keys?.agreementSecret.fill(0);
    if (api.hasToken) {
      await api.logout().catch(() => undefined);
      api.setToken(null);
    }
    throw failure(e);
  } finally {
    exportKey?.fill(0);
  }
}

/** Injected timers, so tests need not wait. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

export const IDLE_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Locks after `timeoutMs` without activity, and in any case at `deadline`
 * (ms since the epoch: when the server ends the session). `activity()`
 * restarts the idle count; `stop()` cancels both.
 */
export class IdleLock {
  private handle: unknown = undefined;
  private lastActivity: number;
  private fired = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly onIdle: () => void,
    private readonly deadline: number = Number.POSITIVE_INFINITY,
    private readonly timers: Timers = realTimers,
  ) {
    this.lastActivity = timers.now();
    this.arm();
  }

  activity(): void {
    if (this.fired) return;
    this.lastActivity = this.timers.now();
    // Re-arming on every key press would churn timers; the check below re-arms when it fires early.
  }

  stop(): void {
    this.fired = true;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private arm(): void {
    const now = this.timers.now();
    const due = Math.min(this.lastActivity + this.timeoutMs, this.deadline);
    if (now >= due) {
      this.stop();
      this.onIdle();
      return;
    }
    this.handle = this.timers.setTimeout(() => this.arm(), due - now);
  }
}
