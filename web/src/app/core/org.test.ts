import { describe, expect, it } from 'vitest';
import {
  foundOrganization,
  generateMemberKeys,
  generateOrgRootSeed,
  linkHash,
  memberFingerprint,
  memberPublicKeys,
  orgFingerprint,
  randomBytes,
  ROLES,
  sig,
  signLink,
  toBase64Url,
  toHex,
  MembershipState,
} from '../../lib/crypto/index.js';
import type { OrgChain } from './api.js';
import { OrgError, OrgPin, verifyOrg } from './org.js';

function organization() {
  const org = randomBytes(16);
  const rootSeed = generateOrgRootSeed();
  const ada = { account: randomBytes(16), keys: memberPublicKeys(generateMemberKeys()) };
  const bob = { account: randomBytes(16), keys: memberPublicKeys(generateMemberKeys()) };
  const links = foundOrganization(org, 'Test', rootSeed, 1_700_000_000n, { account: ada.account, name: 'ada', keys: ada.keys });
  const state = MembershipState.verify(sig.publicKey(rootSeed), links);
  links.push(signLink(state.nextLink(1_700_000_100n, { type: 'add', account: bob.account, name: 'bob', role: ROLES.caseworker, keys: bob.keys }), rootSeed));
  const served = (l: Uint8Array[] = links, seed = rootSeed): OrgChain => ({
    org: { org_id: toHex(org), name: 'Test', root_public_key: toBase64Url(sig.publicKey(seed)) },
    links: l.map((x) => toBase64Url(x)),
  });
  return { org, rootSeed, ada, bob, links, served };
}

function reason(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof OrgError) return e.reason;
    throw e;
  }
  return undefined;
}

describe('verifyOrg', () => {
  it('pins the root on first sight and lists members with roles and fingerprint words', () => {
    const o = organization();
    const pin = new OrgPin();
    const view = verifyOrg(o.served(), pin, { accountId: o.ada.account, keys: o.ada.keys });
    expect(view.firstSight).toBe(true);
    expect(pin.pinned).toBe(true);
    expect(view.name).toBe('Test');
    expect(view.fingerprint).toEqual(orgFingerprint(sig.publicKey(o.rootSeed)));
    expect(view.chainLength).toBe(3n);
    const byName = Object.fromEntries(view.members.map((m) => [m.name, m]));
    expect(byName.ada).toMatchObject({ role: 'admin', isMe: true, fingerprint: memberFingerprint(o.ada.keys) });
    expect(byName.bob).toMatchObject({ role: 'caseworker', isMe: false, fingerprint: memberFingerprint(o.bob.keys) });

    const again = verifyOrg(o.served(), pin, { accountId: o.bob.account, keys: o.bob.keys });
    expect(again.firstSight).toBe(false);
  });

  it('refuses another root once pinned, and leaves the pin alone', () => {
    const o = organization();
    const other = organization();
    const pin = new OrgPin();
    verifyOrg(o.served(), pin, { accountId: o.ada.account, keys: o.ada.keys });
    expect(reason(() => verifyOrg(other.served(), pin, { accountId: other.ada.account, keys: other.ada.keys }))).toBe('pin_mismatch');
    expect(verifyOrg(o.served(), pin, { accountId: o.ada.account, keys: o.ada.keys }).firstSight).toBe(false);
  });

  it('does not pin a chain that fails to verify', () => {
    const o = organization();
    const pin = new OrgPin();
    const bad = o.links.map((l) => l.slice());
    bad[2]![bad[2]!.length - 1]! ^= 1;
    expect(reason(() => verifyOrg(o.served(bad), pin, { accountId: o.ada.account, keys: o.ada.keys }))).toBe('chain_invalid');
    expect(pin.pinned).toBe(false);
    // A chain signed by another root than the one the server names.
    expect(reason(() => verifyOrg(o.served(o.links, generateOrgRootSeed()), pin, { accountId: o.ada.account, keys: o.ada.keys }))).toBe('chain_invalid');
    expect(pin.pinned).toBe(false);
  });

  it('refuses a chain that goes back or forks', () => {
    const o = organization();
    const pin = new OrgPin();
    verifyOrg(o.served(), pin, { accountId: o.ada.account, keys: o.ada.keys });
    expect(reason(() => verifyOrg(o.served(o.links.slice(0, 2)), pin, { accountId: o.ada.account, keys: o.ada.keys }))).toBe('rollback');
    // Same length, another third link (carol instead of bob), validly signed by the root.
    const state = MembershipState.verify(sig.publicKey(o.rootSeed), o.links.slice(0, 2));
    const fork = [
      ...o.links.slice(0, 2),
      signLink(
        state.nextLink(1_700_000_100n, { type: 'add', account: randomBytes(16), name: 'carol', role: ROLES.caseworker, keys: memberPublicKeys(generateMemberKeys()) }),
        o.rootSeed,
      ),
    ];
    expect(toHex(linkHash(fork[2]!))).not.toBe(toHex(linkHash(o.links[2]!)));
    expect(reason(() => verifyOrg(o.served(fork), pin, { accountId: o.ada.account, keys: o.ada.keys }))).toBe('rollback');
  });

  it('refuses a chain that does not list this member with the keys they unlocked', () => {
    const o = organization();
    const stranger = memberPublicKeys(generateMemberKeys());
    expect(reason(() => verifyOrg(o.served(), new OrgPin(), { accountId: o.ada.account, keys: stranger }))).toBe('not_in_chain');
    expect(reason(() => verifyOrg(o.served(), new OrgPin(), { accountId: randomBytes(16), keys: o.ada.keys }))).toBe('not_in_chain');
  });
});
