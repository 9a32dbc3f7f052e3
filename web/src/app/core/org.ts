/**
 * The organization as this member can verify it, as
 * crates/northstar-client/src/org.rs `verified_chain`: the membership chain
 * verified link by link from the pinned organization root, and no rollback or
 * fork of the chain seen before.
 *
 * The pin lives in memory only, for the life of this page (it survives Lock,
 * not a reload): the first organization seen after the page loads is
 * pinned on sight. A persistent pin (IndexedDB, or served with the app) is
 * left for a later slice; until then, compare the organization's fingerprint
 * words on every sign-in.
 */
import {
  bytesEqual,
  fromBase64Url,
  fromHex,
  linkHash,
  memberFingerprint,
  MembershipState,
  orgFingerprint,
  roleName,
  toHex,
  type MemberPublicKeys,
  type RoleName,
} from '../../lib/crypto/index.js';
import type { OrgChain, OrgInfo } from './api.js';

/** Why the organization was refused (i18n keys under `error.org.`). */
export type OrgFailure =
  /** Another organization or root key than the one pinned. */
  | 'pin_mismatch'
  /** The chain does not verify from the pinned root. */
  | 'chain_invalid'
  /** Shorter than, or different from, the chain seen before. */
  | 'rollback'
  /** The chain does not list this member with the keys their key box holds. */
  | 'not_in_chain';

export class OrgError extends Error {
  constructor(
    readonly reason: OrgFailure,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'OrgError';
  }
}

/** What this page trusts about the organization: its pinned root, and the longest chain seen. */
export class OrgPin {
  private orgId: string | undefined;
  private rootKey: string | undefined;
  private seen: { len: bigint; head: string } | undefined;

  get pinned(): boolean {
    return this.orgId !== undefined;
  }

  /** Pin on first sight; refuse another organization or root key afterwards. Returns whether this was first sight. */
  check(org: OrgInfo): boolean {
    if (this.orgId === undefined || this.rootKey === undefined) {
      this.orgId = org.org_id;
      this.rootKey = org.root_public_key;
      return true;
    }
    if (this.orgId !== org.org_id || this.rootKey !== org.root_public_key) {
      throw new OrgError('pin_mismatch', 'the server presents another organization or root key than the one pinned');
    }
    return false;
  }

  get rootPublicKey(): Uint8Array {
    if (this.rootKey === undefined) throw new Error('no organization pinned');
    return fromBase64Url(this.rootKey);
  }

  /** Refuse a chain shorter than the one seen before, or one that differs where they overlap; then remember it. */
  advance(links: readonly Uint8Array[], state: MembershipState): void {
    if (this.seen) {
      if (state.len < this.seen.len) {
        throw new OrgError('rollback', `the membership chain went back from ${this.seen.len} to ${state.len} links: the server rolled it back`);
      }
      const at = links[Number(this.seen.len) - 1];
      if (!at || toHex(linkHash(at)) !== this.seen.head) {
        throw new OrgError('rollback', `membership link ${this.seen.len - 1n} differs from the one seen before: the server forked the chain`);
      }
    }
    this.seen = { len: state.len, head: toHex(state.head) };
  }
}

export interface MemberView {
  accountId: string;
  name: string;
  role: RoleName;
  fingerprint: string[];
  isMe: boolean;
}

export interface OrgView {
  orgId: string;
  name: string;
  fingerprint: string[];
  /** True when the root was pinned on this sign-in: the words must be compared now. */
  firstSight: boolean;
  members: MemberView[];
  chainLength: bigint;
  /**
   * The verified chain itself: who wrote what, with which keys, including
   * former members (their keys still verify what they signed while members).
   * The case client checks every entry's author and every grant's granter
   * against it (core/cases.ts).
   */
  chain: MembershipState;
}

/**
 * Verify a served chain for the member `me` (account id and the public keys
 * of their unlocked key box) against `pin`. The pin is updated only if every
 * check passes.
 */
export function verifyOrg(served: OrgChain, pin: OrgPin, me: { accountId: Uint8Array; keys: MemberPublicKeys }): OrgView {
  const scratch = new OrgPin();
  // Check against the existing pin without changing it, or pin a copy for first sight.
  const firstSight = !pin.pinned;
  if (!firstSight) pin.check(served.org);
  else scratch.check(served.org);
  const root = (firstSight ? scratch : pin).rootPublicKey;

  let links: Uint8Array[];
  let state: MembershipState;
  try {
    if (root.length !== 32) throw new RangeError('the root public key is not 32 bytes');
    links = served.links.map((l) => fromBase64Url(l));
    state = MembershipState.verify(root, links);
  } catch (e) {
    throw new OrgError('chain_invalid', `the membership chain does not verify from the organization root: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (!bytesEqual(state.org, fromHex(served.org.org_id))) {
    throw new OrgError('chain_invalid', 'the chain belongs to another organization');
  }
  const self = state.member(me.accountId);
  if (!self || !bytesEqual(self.keys.signing, me.keys.signing) || !bytesEqual(self.keys.agreement, me.keys.agreement)) {
    throw new OrgError('not_in_chain', 'the membership chain does not list this account with the keys it unlocked');
  }
  if (firstSight) pin.check(served.org);
  pin.advance(links, state);
  return {
    orgId: toHex(state.org),
    name: state.orgName,
    fingerprint: orgFingerprint(root),
    firstSight,
    chainLength: state.len,
    members: state.members().map((m) => ({
      accountId: toHex(m.account),
      name: m.name,
      role: roleName(m.role),
      fingerprint: memberFingerprint(m.keys),
      isMe: bytesEqual(m.account, me.accountId),
    })),
    chain: state,
  };
}
