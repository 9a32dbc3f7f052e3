/**
 * Founding an organization, inviting, joining and admitting members from the
 * browser, as the native client does it: crates/northstar-client/src/
 * account.rs (`org_init`, `join`), org.rs (`create_invite`, `approve_pending`,
 * `remove_member`) and intake.rs (`keep_desk`, `keys_for_invite`). The bytes
 * are the Rust client's, so an organization founded here is used by the CLI
 * and the other way round, and an invitation code from either works in both.
 *
 * Keys stay in this page's memory, as in core/session.ts: the new account's
 * root key and member keys go into the `UnlockedSession` returned; the OPAQUE
 * export key, the organization root key, invitation secrets and purpose keys
 * are overwritten with zeros as soon as they have been used.
 *
 * Admin actions verify the membership chain from the page's `OrgPin`
 * (core/org.ts) before they sign anything, and advance the pin past what they
 * append.
 */
import {
  checkJoinProof,
  COMPARTMENTS,
  derivePurposeKey,
  deriveIntakeKeyPair,
  formatInviteCode,
  foundOrganization,
  fromBase64Url,
  fromHex,
  generateCompartmentKey,
  generateMemberKeys,
  generateOrgRootSeed,
  generateRootKey,
  isRole,
  Keyring,
  memberFingerprint,
  memberPublicKeys,
  MembershipState,
  newInvite,
  NorthstarCryptoError,
  openBlob,
  openGrant,
  orgFingerprint,
  parseGrantHeader,
  parseInviteCode,
  proveJoin,
  randomBytes,
  roleName,
  ROLES,
  sealBlob,
  sealForInvite,
  sealGrant,
  sealKeptGrant,
  sealSlot,
  sig,
  signLink,
  toBase64Url,
  toHex,
  validName,
  wrapMemberKeys,
  wrapOrgRoot,
  type Invitation,
  type LinkAction,
  type MemberPublicKeys,
  type MemberSecretKeys,
  type Role,
  type RoleName,
} from '../../lib/crypto/index.js';
import { ApiError, type Api, type CaseGrants, type ChangeGrants, type CreateCase, type KeyMaterial, type OrgInfo, type PublicKeys, type Session } from './api.js';
import type { OpaqueClient } from './opaque.js';
import { OrgError, verifyOrg, type OrgPin } from './org.js';
import { UnlockedSession } from './session.js';

/*
 * Wire types (crates/northstar-protocol/src/lib.rs), as JSON. Ids are
 * lower-case hex, bytes base64url without padding, times Unix seconds.
 */

export interface RegisterStart {
  /** The new account's immutable random id: the OPAQUE credential identifier. */
  account_id: string;
  username: string;
  /** OPAQUE RegistrationRequest. */
  registration_request: string;
}
export interface RegisterStartResponse {
  /** OPAQUE RegistrationResponse. */
  registration_response: string;
}
export interface OrgInitStart {
  register: RegisterStart;
}
export interface OrgInitFinish {
  account_id: string;
  username: string;
  /** OPAQUE RegistrationUpload. */
  registration_upload: string;
  org: OrgInfo;
  /** The genesis link and the link adding the founder. */
  links: string[];
  material: KeyMaterial;
}
export interface JoinStart {
  invite_id: string;
  register: RegisterStart;
}
export interface JoinStartResponse {
  registration_response: string;
  org: OrgInfo;
}
export interface JoinFinish {
  invite_id: string;
  account_id: string;
  username: string;
  registration_upload: string;
  material: KeyMaterial;
  /** HMAC over the joiner's identity under a key only the invitation's secret half derives. */
  proof: string;
}
export interface AppendLink {
  /** The position the link takes; the server refuses with `conflict` if the chain moved. */
  seq: number;
  link: string;
}
export interface PendingMember {
  account_id: string;
  username: string;
  keys: PublicKeys;
  invite_id: string;
  proof: string;
  joined_at: number;
}
export interface CreateInvite {
  /** The half of the code the server sees. */
  invite_id: string;
  role: string;
  valid_for_seconds: number;
  /** The secret half and the role, sealed to the issuing admin. */
  sealed_secret: string;
  /** For an intake officer or an admin: the intake desk's keys sealed under the invitation's secret. */
  sealed_intake_keys: string | null;
}
export interface Invite {
  invite_id: string;
  role: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_by?: string | null;
  sealed_secret: string;
}
export interface IntakeDesk {
  /** A case whose `messages` keys derive the intake key. */
  desk_case_id: string;
  generation: number;
  public_key: string;
}
export interface InviteIntakeKeys {
  invite_id: string;
  sealed: string;
}

/** Why an account or organization action failed (i18n keys under `error.account.`). */
export type AccountFailure =
  /** An organization or user name that is not 1 to 64 bytes, has control characters or surrounding spaces. */
  | 'invalid_name'
  /** Shorter than {@link MIN_PASSPHRASE_CHARS} characters. */
  | 'weak_passphrase'
  /** Not an invitation code at all (checked before anything is sent). */
  | 'invite_malformed'
  /** The server knows no invitation with this code. */
  | 'invite_invalid'
  | 'invite_used'
  | 'invite_expired'
  | 'username_taken'
  /** This server already has an organization. */
  | 'org_exists'
  /** No organization on this server yet. */
  | 'org_missing'
  /** Only an admin may do this. */
  | 'forbidden'
  /** The account waits for an admin to admit it. */
  | 'pending_approval'
  | 'member_removed'
  /** The session expired or was ended elsewhere. */
  | 'unauthorized'
  | 'rate_limited'
  | 'network'
  /** Other admins kept changing the membership chain: try again. */
  | 'conflict'
  /** The server refused a signed object. */
  | 'chain_rejected'
  /** This client will not do what was asked (no such member, the last admin, a role that does not exist). */
  | 'refused'
  /** What the server holds does not open, or does not match what it should. */
  | 'keys_refused'
  /** The server contradicts what this page knows (another organization, keys no member ever had). */
  | 'server_changed'
  /** The session was locked while the action ran: its keys are gone. */
  | 'locked'
  /** Anything else the server said or did wrong. */
  | 'server';

export class AccountError extends Error {
  constructor(
    readonly reason: AccountFailure,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

const PASSED_THROUGH = new Set<string>([
  'invite_invalid',
  'invite_used',
  'invite_expired',
  'username_taken',
  'org_exists',
  'org_missing',
  'forbidden',
  'pending_approval',
  'member_removed',
  'unauthorized',
  'rate_limited',
  'network',
  'conflict',
  'chain_rejected',
]);

/**
 * One error type for the UI, except `OrgError` (core/org.ts), which is passed
 * on as it is: the UI already words its reasons.
 */
function failure(e: unknown, session?: UnlockedSession): AccountError | OrgError {
  if (e instanceof AccountError || e instanceof OrgError) return e;
  if (session?.locked) return new AccountError('locked', 'the session was locked: sign in again', e);
  if (e instanceof ApiError) {
    return new AccountError(PASSED_THROUGH.has(e.code) ? (e.code as AccountFailure) : 'server', e.message, e);
  }
  if (e instanceof NorthstarCryptoError) {
    return new AccountError('keys_refused', `what the server holds does not open or does not match: ${e.message}`, e);
  }
  return new AccountError('server', e instanceof Error ? e.message : String(e), e);
}

/** As the CLI's `new_passphrase`: counted in characters (code points), not bytes. */
export const MIN_PASSPHRASE_CHARS = 12;
/** As `northstar invite` without `--valid-for-hours`. */
export const DEFAULT_INVITE_SECONDS = 72 * 3600;
/** The server refuses longer (northstar-server MAX_INVITE_SECONDS). */
export const MAX_INVITE_SECONDS = 30 * 24 * 3600;

const INVITE_PURPOSE = 'invites';
/** org.rs INVITE_LABEL. docs/crypto.md §18 writes it without the prefix; the code is the reference. */
const INVITE_LABEL = 'northstar/v1/client/invite-secret';
const DESK_COMPARTMENT = COMPARTMENTS.messages;

function checkName(what: 'organization name' | 'user name', name: string): void {
  if (!validName(name)) {
    throw new AccountError('invalid_name', `the ${what} must be 1 to 64 bytes, without control characters or surrounding spaces`);
  }
}

function checkPassphrase(passphrase: string): void {
  if ([...passphrase].length < MIN_PASSPHRASE_CHARS) {
    throw new AccountError(
      'weak_passphrase',
      `choose a passphrase of at least ${MIN_PASSPHRASE_CHARS} characters (several words are easiest to remember)`,
    );
  }
}

function nowSeconds(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

/** A 16-byte id the server sent, as hex. */
function serverId(field: string, value: unknown): Uint8Array {
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{32}$/.test(value)) throw new AccountError('server', `the server sent a malformed ${field}`);
  return fromHex(value);
}

/** Bytes the server sent, as base64url, optionally of a fixed length. */
function serverBytes(field: string, value: unknown, length?: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    if (typeof value !== 'string') throw new TypeError('not a string');
    bytes = fromBase64Url(value);
  } catch {
    throw new AccountError('server', `the server sent a malformed ${field}`);
  }
  if (length !== undefined && bytes.length !== length) throw new AccountError('server', `the server sent a ${field} of the wrong length`);
  return bytes;
}

function wirePublicKeys(keys: MemberPublicKeys): PublicKeys {
  return { signing: toBase64Url(keys.signing), agreement: toBase64Url(keys.agreement) };
}

function wipeKeys(keys: MemberSecretKeys): void {
  keys.signingSeed.fill(0);
  keys.agreementSecret.fill(0);
}

/** The password slot and the key box, as account.rs `seal_account`. */
function sealAccount(account: Uint8Array, exportKey: Uint8Array, root: Uint8Array, keys: MemberSecretKeys): { slot: string; keybox: string } {
  const slot = sealSlot({ kind: 'password', unlockSecret: exportKey, accountId: account, slotId: randomBytes(16), rootKey: root });
  return { slot: toBase64Url(slot), keybox: toBase64Url(wrapMemberKeys(root, account, keys)) };
}

/** The OPAQUE export key, checked: it is what the password slot is sealed under. */
function exportKeyBytes(exportKey: string): Uint8Array {
  const bytes = fromBase64Url(exportKey);
  if (bytes.length !== 64) throw new AccountError('server', 'OPAQUE gave an export key that is not 64 bytes');
  return bytes;
}

/** After the server issued a session, the session is the caller's, or it is ended here. */
async function endSession(api: Api): Promise<void> {
  if (!api.hasToken) return;
  await api.logout().catch(() => undefined);
  api.setToken(null);
}

// ---- Founding an organization ----

export interface NewOrganization {
  orgName: string;
  username: string;
  passphrase: string;
}

/** What became of the intake desk: opening it may fail without undoing the organization. */
export type DeskOutcome = { ok: true; upkeep: DeskUpkeep } | { ok: false; error: AccountError | OrgError };

export interface OrganizationSetUp {
  /** The founder, signed in and unlocked. */
  session: UnlockedSession;
  orgId: string;
  orgName: string;
  accountId: string;
  /** The organization's fingerprint, 8 words, as `northstar org init --json` prints `fingerprint`. */
  fingerprint: string[];
  /** The help desk, opened at once so the public page takes requests from the start (as the CLI does). */
  desk: DeskOutcome;
}

/**
 * Found an organization on a server that has none (account.rs `org_init`):
 * the first admin's account (OPAQUE registration, root key, member keys,
 * password slot, key box), the organization root key in a key box of kind 2,
 * and the first two membership links signed by it. Then the intake desk, as
 * `northstar org init` does; a desk failure is reported in `desk`, not thrown.
 *
 * Rust makes no recovery secret and neither does this: the account has a
 * password slot only. The organization is pinned in `pin`.
 */
export async function setUpOrganization(api: Api, opaque: OpaqueClient, form: NewOrganization, pin: OrgPin): Promise<OrganizationSetUp> {
  checkName('organization name', form.orgName);
  checkName('user name', form.username);
  checkPassphrase(form.passphrase);
  if (pin.pinned) {
    throw new AccountError('refused', 'this page already trusts an organization; reload the page to found a new one');
  }
  const account = randomBytes(16);
  const org = randomBytes(16);
  const root = generateRootKey();
  const keys = generateMemberKeys();
  const orgRootSeed = generateOrgRootSeed();
  let exportKey: Uint8Array | undefined;
  let session: UnlockedSession | undefined;
  try {
    const started = await opaque.startRegistration(form.passphrase);
    const register: RegisterStart = { account_id: toHex(account), username: form.username, registration_request: started.request };
    const response = await api.call<RegisterStartResponse>('POST', '/api/org/init/start', { register } satisfies OrgInitStart);
    const finished = await opaque.finishRegistration(started.state, response.registration_response, form.passphrase);
    exportKey = exportKeyBytes(finished.exportKey);
    const publicKeys = memberPublicKeys(keys);
    const links = foundOrganization(org, form.orgName, orgRootSeed, nowSeconds(), { account, name: form.username, keys: publicKeys });
    const rootPublicKey = sig.publicKey(orgRootSeed);
    const orgRootBox = wrapOrgRoot(root, account, org, orgRootSeed);
    // Signed and sealed: the organization root key is not needed in this page again.
    orgRootSeed.fill(0);
    const info: OrgInfo = { org_id: toHex(org), name: form.orgName, root_public_key: toBase64Url(rootPublicKey) };
    const issued = await api.call<Session>('POST', '/api/org/init/finish', {
      account_id: toHex(account),
      username: form.username,
      registration_upload: finished.upload,
      org: info,
      links: links.map((l) => toBase64Url(l)),
      material: { keys: wirePublicKeys(publicKeys), ...sealAccount(account, exportKey, root, keys), org_root_box: toBase64Url(orgRootBox) },
    } satisfies OrgInitFinish);
    api.setToken(issued.token);
    const me = await api.me();
    if (me.account_id !== toHex(account)) throw new AccountError('server', 'the server says this session belongs to another account');
    if (me.org.org_id !== info.org_id || me.org.root_public_key !== info.root_public_key) {
      throw new AccountError('server_changed', 'the server presents another organization than the one just founded');
    }
    pin.check(info);
    session = new UnlockedSession(api, account, form.username, me, publicKeys, root, keys, issued.expires_at, finished.serverStaticPublicKey);
  } catch (e) {
    root.fill(0);
    wipeKeys(keys);
    await endSession(api);
    throw failure(e);
  } finally {
    exportKey?.fill(0);
    orgRootSeed.fill(0);
  }
  const desk = await keepIntakeDesk(session, pin).then(
    (upkeep): DeskOutcome => ({ ok: true, upkeep }),
    (e: unknown): DeskOutcome => ({ ok: false, error: failure(e, session) }),
  );
  return {
    session,
    orgId: toHex(org),
    orgName: form.orgName,
    accountId: toHex(account),
    fingerprint: orgFingerprint(pin.rootPublicKey),
    desk,
  };
}

// ---- Joining ----

export interface JoinForm {
  inviteCode: string;
  username: string;
  passphrase: string;
}

export interface Joined {
  /** The new member, signed in and unlocked, waiting to be admitted. */
  session: UnlockedSession;
  orgId: string;
  orgName: string;
  accountId: string;
  /** The organization's fingerprint, to compare with the admin in person or on video (`org_fingerprint` of `northstar join --json`). */
  fingerprint: string[];
}

/**
 * Join with an invitation code (account.rs `join`): register, seal the new
 * account's keys, and prove knowing the code's secret half to the admin who
 * issued it. The account is pending until that admin's client admits it.
 *
 * The organization the server names is pinned in `pin` (or must match it),
 * before anything about the new account is uploaded.
 */
export async function joinWithInvite(api: Api, opaque: OpaqueClient, form: JoinForm, pin: OrgPin): Promise<Joined> {
  checkName('user name', form.username);
  checkPassphrase(form.passphrase);
  let invite: Invitation;
  try {
    invite = parseInviteCode(form.inviteCode);
  } catch (e) {
    throw new AccountError(
      'invite_malformed',
      'this is not an invitation code (two groups of 32 hex digits joined by "-"): check it with whoever gave it to you',
      e,
    );
  }
  const account = randomBytes(16);
  const root = generateRootKey();
  const keys = generateMemberKeys();
  let exportKey: Uint8Array | undefined;
  try {
    const started = await opaque.startRegistration(form.passphrase);
    const register: RegisterStart = { account_id: toHex(account), username: form.username, registration_request: started.request };
    const response = await api.call<JoinStartResponse>('POST', '/api/join/start', { invite_id: toHex(invite.id), register } satisfies JoinStart);
    const org = serverId('organization id', response.org?.org_id);
    const rootPublicKey = serverBytes('organization root key', response.org?.root_public_key, 32);
    if (typeof response.org.name !== 'string') throw new AccountError('server', 'the server sent no organization name');
    pin.check(response.org);
    const finished = await opaque.finishRegistration(started.state, response.registration_response, form.passphrase);
    exportKey = exportKeyBytes(finished.exportKey);
    const publicKeys = memberPublicKeys(keys);
    const proof = proveJoin(invite.secret, { org, invite: invite.id, account, keys: publicKeys, name: form.username });
    const issued = await api.call<Session>('POST', '/api/join/finish', {
      invite_id: toHex(invite.id),
      account_id: toHex(account),
      username: form.username,
      registration_upload: finished.upload,
      material: { keys: wirePublicKeys(publicKeys), ...sealAccount(account, exportKey, root, keys), org_root_box: null },
      proof: toBase64Url(proof),
    } satisfies JoinFinish);
    api.setToken(issued.token);
    const me = await api.me();
    if (me.account_id !== toHex(account)) throw new AccountError('server', 'the server says this session belongs to another account');
    pin.check(me.org);
    return {
      session: new UnlockedSession(api, account, form.username, me, publicKeys, root, keys, issued.expires_at, finished.serverStaticPublicKey),
      orgId: toHex(org),
      orgName: response.org.name,
      accountId: toHex(account),
      fingerprint: orgFingerprint(rootPublicKey),
    };
  } catch (e) {
    root.fill(0);
    wipeKeys(keys);
    await endSession(api);
    throw failure(e);
  } finally {
    exportKey?.fill(0);
    invite.secret.fill(0);
  }
}

// ---- The membership chain, as an admin changes it ----

interface Verified {
  chain: MembershipState;
  links: Uint8Array[];
}

/** org.rs `verified_chain`: from the pinned root, no rollback, no fork; and this member in it with their keys. */
async function verifiedChain(session: UnlockedSession, pin: OrgPin): Promise<Verified> {
  const served = await session.api.org();
  const view = verifyOrg(served, pin, { accountId: session.accountId, keys: session.publicKeys });
  return { chain: view.chain, links: served.links.map((l) => fromBase64Url(l)) };
}

function requireAdmin(session: UnlockedSession, chain: MembershipState, what: string): void {
  const me = chain.member(session.accountId);
  if (!me) throw new AccountError('refused', 'you are not a member of the organization');
  if (me.role !== ROLES.admin) throw new AccountError('forbidden', `only an admin can ${what}`);
}

/**
 * Sign one membership link with this admin's member key and append it
 * (org.rs `append`), signing again on top of the new head if another admin
 * got there first. The link is checked against the verified chain before it
 * is sent; the pin advances past it once the server took it.
 */
async function appendLink(session: UnlockedSession, pin: OrgPin, action: LinkAction): Promise<MembershipState> {
  for (let attempt = 0; ; attempt++) {
    const { chain, links } = await verifiedChain(session, pin);
    const body = chain.nextLink(nowSeconds(), action);
    const link = signLink(body, session.keys().signingSeed);
    try {
      chain.apply(link);
    } catch (e) {
      throw new AccountError('refused', `refused before sending: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    try {
      await session.api.call<void>('POST', '/api/org/links', { seq: Number(body.seq), link: toBase64Url(link) } satisfies AppendLink);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'conflict' && attempt < 2) continue;
      throw e;
    }
    pin.advance([...links, link], chain);
    return chain;
  }
}

// ---- Invitations ----

export interface IssuedInvite {
  /** Exactly as `northstar invite` prints it: pass it on in person or over a safe channel. */
  code: string;
  role: RoleName;
  validForSeconds: number;
  /** Unix seconds, as the server set it. */
  expiresAt: number;
  /** An intake or admin invitation carries the intake desk's keys, so the queue opens from the moment they join. */
  carriesIntakeKeys: boolean;
}

/**
 * Make an invitation for `role` (org.rs `create_invite`). The secret half and
 * the role are sealed under this admin's root key, so only this admin's
 * client can admit whoever joins with it; the server stores the seal and the
 * id half only.
 */
export async function createInvite(
  session: UnlockedSession,
  pin: OrgPin,
  role: RoleName,
  validForSeconds: number = DEFAULT_INVITE_SECONDS,
): Promise<IssuedInvite> {
  if (!Object.hasOwn(ROLES, role)) throw new AccountError('refused', `there is no role '${role}'`);
  if (!Number.isInteger(validForSeconds) || validForSeconds < 1 || validForSeconds > MAX_INVITE_SECONDS) {
    throw new AccountError('refused', 'an invitation is valid for 1 second to 30 days');
  }
  const invite = newInvite();
  const payload = Uint8Array.of(...invite.secret, ROLES[role]);
  let key: Uint8Array | undefined;
  try {
    key = derivePurposeKey(session.root(), INVITE_PURPOSE);
    const sealedSecret = sealBlob(key, INVITE_LABEL, payload);
    const sealedIntakeKeys = await keysForInvite(session, pin, ROLES[role], invite);
    const created = await session.api.call<Invite>('POST', '/api/invites', {
      invite_id: toHex(invite.id),
      role,
      valid_for_seconds: validForSeconds,
      sealed_secret: toBase64Url(sealedSecret),
      sealed_intake_keys: sealedIntakeKeys ?? null,
    } satisfies CreateInvite);
    return {
      code: formatInviteCode(invite),
      role,
      validForSeconds,
      expiresAt: created.expires_at,
      carriesIntakeKeys: sealedIntakeKeys !== undefined,
    };
  } catch (e) {
    throw failure(e, session);
  } finally {
    key?.fill(0);
    payload.fill(0);
    invite.secret.fill(0);
  }
}

/** Whether a pending account may be admitted by this admin, and why not. */
export type PendingVerdict =
  /** Joined with an invitation this admin issued and proved knowing its code: `approvePending` admits them. */
  | 'admissible'
  /** Joined with this admin's invitation without proving knowledge of its code: never admitted. */
  | 'refused'
  /** Joined with an invitation another admin issued: theirs to admit. */
  | 'not_mine';

export interface PendingView {
  accountId: string;
  username: string;
  /** Unix seconds. */
  joinedAt: number;
  /** The keys the account registered, as words to compare with the person. */
  fingerprint: string[];
  inviteId: string;
  /** The role this admin sealed into the invitation; null when it is not this admin's. */
  role: RoleName | null;
  verdict: PendingVerdict;
}

interface Assessed {
  view: PendingView;
  add?: { account: Uint8Array; keys: MemberPublicKeys; role: Role };
}

/** approve_pending's checks for one account: is the invitation this admin's, and does the proof hold? */
function assess(waiting: PendingMember, invites: readonly Invite[], inviteKey: Uint8Array, org: Uint8Array): Assessed {
  const account = serverId('pending account id', waiting.account_id);
  const keys: MemberPublicKeys = {
    signing: serverBytes('pending signing key', waiting.keys?.signing, 32),
    agreement: serverBytes('pending agreement key', waiting.keys?.agreement, 32),
  };
  if (typeof waiting.username !== 'string') throw new AccountError('server', 'the server sent a pending account without a name');
  const view: PendingView = {
    accountId: toHex(account),
    username: waiting.username,
    joinedAt: waiting.joined_at,
    fingerprint: memberFingerprint(keys),
    inviteId: waiting.invite_id,
    role: null,
    verdict: 'not_mine',
  };
  const invite = invites.find((i) => i.invite_id === waiting.invite_id);
  if (!invite) return { view };
  let opened: Uint8Array;
  try {
    opened = openBlob(inviteKey, INVITE_LABEL, serverBytes('sealed invitation secret', invite.sealed_secret));
  } catch (e) {
    // Another admin's invitation does not open with this admin's key.
    if (e instanceof NorthstarCryptoError) return { view };
    throw e;
  }
  try {
    if (opened.length !== 17) return { view };
    const role = opened[16]!;
    if (!isRole(role)) throw new AccountError('refused', 'an invitation you issued names a role that does not exist');
    view.role = roleName(role);
    const claim = { org, invite: serverId('invitation id', waiting.invite_id), account, keys, name: waiting.username };
    const proved = checkJoinProof(opened.subarray(0, 16), claim, serverBytes('join proof', waiting.proof));
    // A name the chain cannot carry could never be admitted either.
    if (!proved || !validName(waiting.username)) {
      view.verdict = 'refused';
      return { view };
    }
    view.verdict = 'admissible';
    return { view, add: { account, keys, role } };
  } finally {
    opened.fill(0);
  }
}

async function assessAll(session: UnlockedSession, pin: OrgPin): Promise<Assessed[]> {
  const pending = await session.api.call<PendingMember[]>('GET', '/api/org/pending');
  if (!Array.isArray(pending)) throw new AccountError('server', 'the server sent no list of pending accounts');
  if (pending.length === 0) return [];
  const { chain } = await verifiedChain(session, pin);
  const invites = await session.api.call<Invite[]>('GET', '/api/invites');
  if (!Array.isArray(invites)) throw new AccountError('server', 'the server sent no list of invitations');
  const key = derivePurposeKey(session.root(), INVITE_PURPOSE);
  try {
    return pending.map((waiting) => assess(waiting, invites, key, chain.org));
  } finally {
    key.fill(0);
  }
}

/** The accounts waiting to join, each with whether this admin can admit them (admins only). */
export async function pendingMembers(session: UnlockedSession, pin: OrgPin): Promise<PendingView[]> {
  try {
    return (await assessAll(session, pin)).map((a) => a.view);
  } catch (e) {
    throw failure(e, session);
  }
}

export interface Approvals {
  /** Names now in the membership chain. */
  admitted: string[];
  /** Names whose join does not prove knowledge of the invitation code: someone may be impersonating them, or the server is lying. */
  refused: string[];
}

/**
 * Admit every account that joined with an invitation this admin issued and
 * proved it knows the code's secret half (org.rs `approve_pending`), by
 * signing a membership link with this admin's member key and the role sealed
 * in the invitation, not the one the server lists. No organization root key
 * is needed: any current admin signs links (docs/crypto.md §8).
 */
export async function approvePending(session: UnlockedSession, pin: OrgPin): Promise<Approvals> {
  const outcome: Approvals = { admitted: [], refused: [] };
  try {
    for (const { view, add } of await assessAll(session, pin)) {
      if (view.verdict === 'refused') outcome.refused.push(view.username);
      if (!add) continue;
      await appendLink(session, pin, { type: 'add', account: add.account, name: view.username, role: add.role, keys: add.keys });
      outcome.admitted.push(view.username);
    }
    return outcome;
  } catch (e) {
    throw failure(e, session);
  }
}

export interface Removal {
  name: string;
  /**
   * Always false here: the Rust client also rotates every case key the member
   * held (and the intake desk's), which this page does not do yet.
   */
  keysRotated: false;
}

/**
 * Remove a member by account id (org.rs `remove_member`): sign the removal
 * link; the server ends their sessions at once. The case keys they held are
 * NOT rotated here (see {@link Removal.keysRotated}).
 */
export async function removeMember(session: UnlockedSession, pin: OrgPin, accountId: string): Promise<Removal> {
  try {
    const { chain } = await verifiedChain(session, pin);
    requireAdmin(session, chain, 'remove members');
    const member = /^[0-9a-fA-F]{32}$/.test(accountId) ? chain.member(fromHex(accountId)) : undefined;
    if (!member) throw new AccountError('refused', 'there is no such member');
    await appendLink(session, pin, { type: 'remove', account: member.account });
    return { name: member.name, keysRotated: false };
  } catch (e) {
    throw failure(e, session);
  }
}

// ---- The intake desk ----

export interface DeskUpkeep {
  /** The desk did not exist and was created now: the public page takes requests from here on. */
  created: boolean;
  /** Intake officers and admins who were given the desk's key now. */
  granted: string[];
  /** The intake key generation published now, if it changed. */
  publishedGeneration: number | undefined;
}

function worksTheIntake(role: Role): boolean {
  return role === ROLES.admin || role === ROLES.intake;
}

async function servedDesk(api: Api): Promise<IntakeDesk | undefined> {
  try {
    return await api.call<IntakeDesk>('GET', '/api/intake/desk');
  } catch (e) {
    if (e instanceof ApiError && e.code === 'not_found') return undefined;
    throw e;
  }
}

async function deskGrants(api: Api, desk: Uint8Array): Promise<CaseGrants> {
  const all = await api.call<CaseGrants>('GET', `/api/cases/${toHex(desk)}/grants`);
  if (!Array.isArray(all?.grants) || !Array.isArray(all?.rotations)) throw new AccountError('server', 'the server sent a malformed list of grants');
  return all;
}

/**
 * Every desk key this member holds by grant, through the rotation links
 * (cases.rs `keyrings` for the one compartment), into `ring`, which the
 * caller wipes. Each grant's granter must be in the verified chain.
 */
async function fillDeskKeyring(session: UnlockedSession, chain: MembershipState, ring: Keyring, all: CaseGrants): Promise<void> {
  for (const g of all.grants) {
    if (g.recipient !== session.accountHex || g.compartment !== DESK_COMPARTMENT) continue;
    const bytes = serverBytes('grant', g.grant);
    const granter = chain.authorByKeyId(parseGrantHeader(bytes).granter);
    if (!granter) throw new AccountError('server_changed', 'a grant of the intake desk is signed by a key that was never a member');
    ring.insert(await openGrant(bytes, ring.target, session.keys(), granter.member.author));
  }
  const links = new Map<number, Uint8Array>();
  for (const r of all.rotations) {
    if (r.compartment === DESK_COMPARTMENT) links.set(r.new_generation, serverBytes('rotation link', r.link));
  }
  ring.unwind(links);
}

function deskRing(org: Uint8Array, desk: Uint8Array): Keyring {
  return new Keyring({ org, object: desk, compartment: DESK_COMPARTMENT });
}

function wipeRing(ring: Keyring): void {
  for (const g of ring.generations()) ring.get(g).key.fill(0);
}

/**
 * For an intake or admin invitation: every desk key this admin holds, sealed
 * under the invitation's secret (intake.rs `keys_for_invite`). Undefined for
 * other roles, without a desk, or without a key of it.
 */
async function keysForInvite(session: UnlockedSession, pin: OrgPin, role: Role, invite: Invitation): Promise<string | undefined> {
  if (!worksTheIntake(role)) return undefined;
  let served: IntakeDesk | undefined;
  try {
    served = await servedDesk(session.api);
  } catch (e) {
    // Not on the intake team, so not an admin either: the server refuses the invitation itself, in its own words.
    if (e instanceof ApiError && e.code === 'forbidden') return undefined;
    throw e;
  }
  if (!served) return undefined;
  const desk = serverId('desk case id', served.desk_case_id);
  const { chain } = await verifiedChain(session, pin);
  const ring = deskRing(chain.org, desk);
  try {
    await fillDeskKeyring(session, chain, ring, await deskGrants(session.api, desk));
    const keys = ring.generations().map((g) => ring.get(g));
    return keys.length === 0 ? undefined : toBase64Url(sealForInvite(invite, keys));
  } finally {
    wipeRing(ring);
  }
}

/**
 * Keep the organization's intake desk in order (intake.rs `keep_desk`):
 * create it if there is none, give its key to every intake officer and admin
 * who lacks it, and publish the newest intake key. Admins only; the CLI runs
 * it at `org init` and whenever an admin unlocks.
 */
export async function keepIntakeDesk(session: UnlockedSession, pin: OrgPin): Promise<DeskUpkeep> {
  const upkeep: DeskUpkeep = { created: false, granted: [], publishedGeneration: undefined };
  let ring: Keyring | undefined;
  try {
    const { chain } = await verifiedChain(session, pin);
    requireAdmin(session, chain, 'keep the intake desk');
    const served = await servedDesk(session.api);
    let desk: Uint8Array;
    if (served) {
      desk = serverId('desk case id', served.desk_case_id);
    } else {
      desk = await createDesk(session, chain.org);
      upkeep.created = true;
    }
    const all = await deskGrants(session.api, desk);
    ring = deskRing(chain.org, desk);
    await fillDeskKeyring(session, chain, ring, all);
    for (const member of chain.members()) {
      const holds = all.grants.some((g) => g.recipient === toHex(member.account) && g.compartment === DESK_COMPARTMENT);
      if (!worksTheIntake(member.role) || holds) continue;
      const newest = ring.newest();
      if (!newest) throw new AccountError('refused', 'you hold no key of the intake desk, so you cannot give it to anyone');
      const grant = await sealGrant(ring.target, newest, member.keys, session.keys());
      await session.api.call<void>('POST', `/api/cases/${toHex(desk)}/grants`, {
        grants: [{ recipient: toHex(member.account), grant: toBase64Url(grant) }],
        rotations: [],
        revoke: [],
      } satisfies ChangeGrants);
      upkeep.granted.push(member.name);
    }
    const granted = all.grants.filter((g) => g.compartment === DESK_COMPARTMENT).map((g) => g.generation);
    const newestGranted = granted.length === 0 ? undefined : Math.max(...granted);
    // Published already; every staff client checks the key against its own.
    if (newestGranted !== undefined && served?.generation === newestGranted) return upkeep;
    const newest = ring.newest();
    if (!newest) throw new AccountError('refused', 'this admin holds no key of the intake desk');
    const publicKey = toBase64Url((await deriveIntakeKeyPair(chain.org, newest)).publicKey);
    if (served?.generation !== newest.generation || served.public_key !== publicKey) {
      await session.api.call<void>('PUT', '/api/intake/desk', {
        desk_case_id: toHex(desk),
        generation: newest.generation,
        public_key: publicKey,
      } satisfies IntakeDesk);
      upkeep.publishedGeneration = newest.generation;
    }
    return upkeep;
  } catch (e) {
    throw failure(e, session);
  } finally {
    if (ring) wipeRing(ring);
  }
}

/** The desk is an object with one compartment, `messages`, kept by its creator (a kept grant, as cases.rs `create_object`). */
async function createDesk(session: UnlockedSession, org: Uint8Array): Promise<Uint8Array> {
  const desk = randomBytes(16);
  const key = generateCompartmentKey(0);
  try {
    const grant = sealKeptGrant({ org, object: desk, compartment: DESK_COMPARTMENT }, key, session.keys());
    await session.api.call<void>('POST', '/api/cases', {
      case_id: toHex(desk),
      grants: [{ recipient: session.accountHex, grant: toBase64Url(grant) }],
    } satisfies CreateCase);
    return desk;
  } finally {
    key.key.fill(0);
  }
}

// ---- What an admin's client does on every sign-in ----

export interface AdminUpkeep {
  approvals: Approvals;
  desk: DeskOutcome;
}

/**
 * What the CLI does whenever an admin unlocks: admit whoever joined with
 * this admin's invitations, then keep the intake desk in order. Undefined for
 * a member who is not an active admin (nobody to admit).
 */
export async function adminUpkeep(session: UnlockedSession, pin: OrgPin): Promise<AdminUpkeep | undefined> {
  if (session.me.status !== 'active' || session.me.role !== 'admin') return undefined;
  const approvals = await approvePending(session, pin);
  const desk = await keepIntakeDesk(session, pin).then(
    (upkeep): DeskOutcome => ({ ok: true, upkeep }),
    (e: unknown): DeskOutcome => ({ ok: false, error: failure(e, session) }),
  );
  return { approvals, desk };
}
