/**
 * Sign-in and unlock against an in-process fake of the server's API, with
 * real OPAQUE on both sides (@serenity-kit/opaque's server half plays the
 * Rust server) and Northstar's fixed key-stretching parameters.
 */
import * as opaque from '@serenity-kit/opaque';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bytesEqual,
  fromBase64Url,
  generateMemberKeys,
  generateOrgRootSeed,
  generateRootKey,
  memberPublicKeys,
  randomBytes,
  sealSlot,
  sig,
  toBase64Url,
  toHex,
  wrapMemberKeys,
  type MemberSecretKeys,
} from '../../lib/crypto/index.js';
import { Api, type Fetch } from './api.js';
import { KEY_STRETCHING, serenityOpaque } from './opaque.js';
import { IdleLock, SignInError, signIn, type Timers } from './session.js';

const PASSPHRASE = 'pass-ada-correct horse battery';

interface Account {
  accountId: Uint8Array;
  username: string;
  record: string;
  root: Uint8Array;
  keys: MemberSecretKeys;
  slot: Uint8Array;
  keybox: Uint8Array;
}

interface FakeServer {
  fetch: Fetch;
  requests: { method: string; path: string; auth: string | undefined }[];
  account: Account;
  tokens: Set<string>;
  /** Replace what /api/me/keys hands out. */
  tamper?: (m: { slot: string; keybox: string }) => { slot: string; keybox: string };
}

let setup: string;
let account: Account;
let orgId: Uint8Array;
let rootSeed: Uint8Array;

beforeAll(async () => {
  await opaque.ready;
  setup = opaque.server.createSetup();
  const accountId = randomBytes(16);
  const id = toHex(accountId);
  const started = opaque.client.startRegistration({ password: PASSPHRASE });
  const { registrationResponse } = opaque.server.createRegistrationResponse({
    serverSetup: setup,
    userIdentifier: id,
    registrationRequest: started.registrationRequest,
  });
  const finished = opaque.client.finishRegistration({
    password: PASSPHRASE,
    registrationResponse,
    clientRegistrationState: started.clientRegistrationState,
    keyStretching: KEY_STRETCHING,
  });
  const root = generateRootKey();
  const keys = generateMemberKeys();
  account = {
    accountId,
    username: 'ada',
    record: finished.registrationRecord,
    root: root.slice(),
    keys: { signingSeed: keys.signingSeed.slice(), agreementSecret: keys.agreementSecret.slice() },
    slot: sealSlot({ kind: 'password', unlockSecret: fromBase64Url(finished.exportKey), accountId, slotId: randomBytes(16), rootKey: root }),
    keybox: wrapMemberKeys(root, accountId, keys),
  };
  orgId = randomBytes(16);
  rootSeed = generateOrgRootSeed();
});

function fakeServer(): FakeServer {
  const logins = new Map<string, string>();
  const server: FakeServer = { requests: [], account, tokens: new Set(), fetch: async () => new Response() };
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const error = (code: string, status: number) => json({ code, message: code }, status);
  server.fetch = async (input, init) => {
    const path = input;
    const method = init.method ?? 'GET';
    const headers = init.headers as Record<string, string>;
    const auth = headers.authorization;
    server.requests.push({ method, path, auth });
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as Record<string, string>) : {};
    const authed = auth !== undefined && server.tokens.has(auth.replace(/^Bearer /, ''));
    switch (`${method} ${path}`) {
      case 'POST /api/auth/login/start': {
        const known = body.username === account.username;
        const { serverLoginState, loginResponse } = opaque.server.startLogin({
          serverSetup: setup,
          registrationRecord: known ? account.record : null,
          startLoginRequest: body.credential_request!,
          userIdentifier: known ? toHex(account.accountId) : 'dummy',
        });
        const loginId = toHex(randomBytes(16));
        logins.set(loginId, serverLoginState);
        return json({ login_id: loginId, credential_response: loginResponse });
      }
      case 'POST /api/auth/login/finish': {
        const state = logins.get(body.login_id!);
        if (!state) return error('login_failed', 401);
        try {
          opaque.server.finishLogin({ serverLoginState: state, finishLoginRequest: body.credential_finalization! });
        } catch {
          return error('login_failed', 401);
        }
        const token = toBase64Url(randomBytes(32));
        server.tokens.add(token);
        return json({ account_id: toHex(account.accountId), session: { token, expires_at: 2_000_000_000 } });
      }
      case 'POST /api/auth/logout':
        if (!authed) return error('unauthorized', 401);
        server.tokens.delete(auth!.replace(/^Bearer /, ''));
        return new Response(null, { status: 204 });
      case 'GET /api/me/keys': {
        if (!authed) return error('unauthorized', 401);
        const pub = memberPublicKeys(account.keys);
        let sealed = { slot: toBase64Url(account.slot), keybox: toBase64Url(account.keybox) };
        if (server.tamper) sealed = server.tamper(sealed);
        return json({ keys: { signing: toBase64Url(pub.signing), agreement: toBase64Url(pub.agreement) }, ...sealed, org_root_box: null });
      }
      case 'GET /api/me':
        if (!authed) return error('unauthorized', 401);
        return json({
          account_id: toHex(account.accountId),
          username: 'ada',
          role: 'admin',
          status: 'active',
          org: { org_id: toHex(orgId), name: 'Test', root_public_key: toBase64Url(sig.publicKey(rootSeed)) },
        });
      default:
        return error('not_found', 404);
    }
  };
  return server;
}

describe('signIn', () => {
  it('opens the password slot and the key box with the OPAQUE export key, and holds the token in memory', async () => {
    const server = fakeServer();
    const api = new Api('', server.fetch);
    const session = await signIn(api, serenityOpaque, 'ada', PASSPHRASE);
    expect(bytesEqual(session.accountId, account.accountId)).toBe(true);
    expect(bytesEqual(session.root(), account.root)).toBe(true);
    expect(bytesEqual(session.keys().signingSeed, account.keys.signingSeed)).toBe(true);
    expect(bytesEqual(session.keys().agreementSecret, account.keys.agreementSecret)).toBe(true);
    expect(session.me.org.org_id).toBe(toHex(orgId));
    expect(api.hasToken).toBe(true);
    // Authenticated calls carry the session token; the OPAQUE calls do not.
    const keysCall = server.requests.find((r) => r.path === '/api/me/keys');
    expect(keysCall?.auth).toMatch(/^Bearer /);
    expect(server.requests.find((r) => r.path === '/api/auth/login/start')?.auth).toBeUndefined();
    expect(server.tokens.size).toBe(1);
  }, 120_000);

  it('drops every key and the token on lock, and ends the session on the server', async () => {
    const server = fakeServer();
    const api = new Api('', server.fetch);
    const session = await signIn(api, serenityOpaque, 'ada', PASSPHRASE);
    const root = session.root();
    const keys = session.keys();
    let notified = 0;
    session.onLock(() => notified++);
    await session.lock();
    expect(session.locked).toBe(true);
    expect(notified).toBe(1);
    expect(root.every((b) => b === 0)).toBe(true);
    expect(keys.signingSeed.every((b) => b === 0)).toBe(true);
    expect(keys.agreementSecret.every((b) => b === 0)).toBe(true);
    expect(keys.keepKey.every((b) => b === 0)).toBe(true);
    expect(() => session.keys()).toThrow();
    expect(() => session.root()).toThrow();
    expect(api.hasToken).toBe(false);
    expect(server.tokens.size).toBe(0);
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/auth/logout' });
    await session.lock(); // twice is harmless
    expect(notified).toBe(1);
  }, 120_000);

  it('refuses a wrong passphrase before sending anything back, and an unknown name the same way', async () => {
    for (const [name, pass] of [
      ['ada', 'wrong passphrase'],
      ['nobody', PASSPHRASE],
    ] as const) {
      const server = fakeServer();
      const api = new Api('', server.fetch);
      const failure = await signIn(api, serenityOpaque, name, pass).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SignInError);
      expect((failure as SignInError).reason).toBe('login_failed');
      expect(server.requests.map((r) => r.path)).toEqual(['/api/auth/login/start']);
      expect(api.hasToken).toBe(false);
    }
  }, 120_000);

  it('refuses key material that does not open, and ends the session it was given', async () => {
    const server = fakeServer();
    server.tamper = ({ slot, keybox }) => {
      const bytes = fromBase64Url(keybox);
      bytes[bytes.length - 1]! ^= 1;
      return { slot, keybox: toBase64Url(bytes) };
    };
    const api = new Api('', server.fetch);
    const failure = await signIn(api, serenityOpaque, 'ada', PASSPHRASE).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SignInError);
    expect((failure as SignInError).reason).toBe('keys_refused');
    expect(api.hasToken).toBe(false);
    expect(server.tokens.size).toBe(0);
  }, 120_000);

  it("refuses a server whose OPAQUE key differs from the one pinned, before finishing the login", async () => {
    const server = fakeServer();
    const first = await signIn(new Api('', server.fetch), serenityOpaque, 'ada', PASSPHRASE);
    expect(first.serverKey).toBe(opaque.server.getPublicKey(setup));
    await first.lock();
    const again = await signIn(new Api('', server.fetch), serenityOpaque, 'ada', PASSPHRASE, first.serverKey);
    await again.lock();
    const other = fakeServer();
    const before = other.requests.length;
    const failure = await signIn(new Api('', other.fetch), serenityOpaque, 'ada', PASSPHRASE, toBase64Url(randomBytes(32))).catch((e: unknown) => e);
    expect((failure as SignInError).reason).toBe('server_changed');
    expect(other.requests.slice(before).map((r) => r.path)).toEqual(['/api/auth/login/start']);
  }, 120_000);

  it('reports the server being unreachable as a network failure', async () => {
    const api = new Api('', async () => {
      throw new TypeError('fetch failed');
    });
    const failure = await signIn(api, serenityOpaque, 'ada', PASSPHRASE).catch((e: unknown) => e);
    expect((failure as SignInError).reason).toBe('network');
  });
});

class FakeTimers implements Timers {
  time = 0;
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at);
      const first = this.pending[0];
      if (!first || first.at > end) break;
      this.pending.shift();
      this.time = first.at;
      first.fn();
    }
    this.time = end;
  }
}

describe('IdleLock', () => {
  it('locks after the timeout without activity', () => {
    const timers = new FakeTimers();
    let fired = 0;
    new IdleLock(10_000, () => fired++, Infinity, timers);
    timers.advance(9_999);
    expect(fired).toBe(0);
    timers.advance(1);
    expect(fired).toBe(1);
    timers.advance(100_000);
    expect(fired).toBe(1);
  });

  it('counts from the last activity', () => {
    const timers = new FakeTimers();
    let fired = 0;
    const idle = new IdleLock(10_000, () => fired++, Infinity, timers);
    timers.advance(8_000);
    idle.activity();
    timers.advance(8_000);
    expect(fired).toBe(0);
    timers.advance(2_000);
    expect(fired).toBe(1);
  });

  it('locks at the session deadline even while active, and never after stop()', () => {
    const timers = new FakeTimers();
    let fired = 0;
    const idle = new IdleLock(10_000, () => fired++, 15_000, timers);
    for (let i = 0; i < 14; i++) {
      timers.advance(1_000);
      idle.activity();
    }
    expect(fired).toBe(0);
    timers.advance(1_000);
    expect(fired).toBe(1);

    const stopped = new IdleLock(10_000, () => fired++, Infinity, timers);
    stopped.stop();
    timers.advance(60_000);
    expect(fired).toBe(1);
  });
});
