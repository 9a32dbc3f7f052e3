import { describe, expect, it } from 'vitest';
import { Api, ApiError, type Fetch } from './api.js';

function answering(status: number, body: string | null, seen: RequestInit[] = []): Fetch {
  return async (_input, init) => {
    seen.push(init);
    return new Response(body, { status, headers: { 'content-type': 'application/json' } });
  };
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

describe('Api', () => {
  it('maps the server error body to its code', async () => {
    const e = await failure(new Api('', answering(401, JSON.stringify({ code: 'login_failed', message: 'sign-in failed' }))).me());
    expect([e.code, e.status, e.message]).toEqual(['login_failed', 401, 'sign-in failed']);
  });

  it('does not trust a code outside the closed table, or an answer without JSON', async () => {
    expect((await failure(new Api('', answering(400, JSON.stringify({ code: 'surprise', message: 'x' }))).me())).code).toBe('bad_response');
    expect((await failure(new Api('', answering(502, 'Bad Gateway')).me())).code).toBe('internal');
    expect((await failure(new Api('', answering(200, 'not json')).me())).code).toBe('bad_response');
  });

  it('sends the token only once set, never cookies, and forgets it on request', async () => {
    const seen: RequestInit[] = [];
    const api = new Api('', answering(200, '{}', seen));
    await api.me();
    api.setToken('tok');
    await api.me();
    api.setToken(null);
    await api.me();
    const auth = seen.map((i) => (i.headers as Record<string, string>).authorization);
    expect(auth).toEqual([undefined, 'Bearer tok', undefined]);
    expect(seen.every((i) => i.credentials === 'omit' && i.cache === 'no-store')).toBe(true);
  });
});
