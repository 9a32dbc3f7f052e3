/**
 * Founding, inviting, joining, admitting and removing, against an in-process
 * fake of the server's API that keeps its state and makes the checks
 * crates/northstar-server/src/api.rs, cases.rs and intake.rs make (and no
 * more: it cannot check a join proof either). Real crypto throughout: real
 * OPAQUE on both sides (@serenity-kit/opaque's server half plays the Rust
 * server) with Northstar's fixed key stretching, and the real formats.
 */
import * as opaque from '@serenity-kit/opaque';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AuthorKey,
  bytesEqual,
  COMPARTMENTS,
  deriveIntakeKeyPair,
  derivePurposeKey,
  fromBase64Url,
  fromHex,
  keyId,
  memberFingerprint,
  MembershipState,
  openBlob,
  openForInvite,
  openGrant,
  orgFingerprint,
  parseGrantHeader,
  parseInviteCode,
  parseLink,
  randomBytes,
  SLOT_LEN,
  toBase64Url,
  toHex,
  unwrapOrgRoot,
  validName,
  verifyGrant,
  sig,
  type MemberPublicKeys,
} from '../../lib/crypto/index.js';
import {
  AccountError,
  adminUpkeep,
  approvePending,
  createInvite,
  joinWithInvite,
  keepIntakeDesk,
  pendingMembers,
  removeMember,
  setUpOrganization,
  type AppendLink,
  type CreateInvite,
  type IntakeDesk,
  type Invite,
  type JoinFinish,
  type JoinStart,
  type OrgInitFinish,
  type OrgInitStart,
  type OrganizationSetUp,
  type PendingMember,
} from './accounts.js';
import { Api, ApiError, type CaseGrants, type ChangeGrants, type CreateCase, type Fetch, type KeyMaterial, type OrgInfo } from './api.js';
import { serenityOpaque } from './opaque.js';
import { OrgError, OrgPin, verifyOrg } from './org.js';
import { SignInError, signIn, type UnlockedSession } from './session.js';

const PASSPHRASE = 'correct horse battery staple';
const ROLE_NAMES = new Set(['admin', 'approver', 'caseworker', 'intake', 'coordinator', 'partner', 'auditor']);
const DESK = COMPARTMENTS.messages;

let setup: string;
beforeAll(async () => {
  await opaque.ready;
  setup = opaque.server.createSetup();
});

interface Account {
  id: string;
  username: string;
  record: string;
  material: KeyMaterial;
  role: string | null;
  status: 'pending' | 'active' | 'removed';
  inviteId: string | null;
  proof: string | null;
  createdAt: number;
}

interface InviteRow extends Invite {
  usedAt: number | null;
}

interface GrantRow {
  compartment: number;
  generation: number;
  recipient: string;
  granted_by: string;
  grant: string;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

const refuse = (status: number, code: string): never => {
  throw new Refusal(status, code);
};

/** The server's API, kept in memory. */
class FakeServer {
  org: OrgInfo | undefined;
  links: Uint8Array[] = [];
  readonly accounts = new Map<string, Account>();
  readonly invites = new Map<string, InviteRow>();
  readonly inviteIntakeKeys = new Map<string, string>();
  readonly sessions = new Map<string, string>();
  readonly logins = new Map<string, { state: string; account: string | undefined }>();
  readonly cases = new Map<string, { grants: GrantRow[]; rotations: { compartment: number; new_generation: number; link: string }[] }>();
  desk: IntakeDesk | undefined;
  /** Unix seconds; tests move it. */
  clock = 1_800_000_000;
  readonly requests: { method: string; path: string; body: string | undefined }[] = [];
  /** Answer the next membership-link append with `conflict` this many times, as if another admin got there first. */
  conflicts = 0;

  readonly fetch: Fetch = async (path, init) => {
    const method = init.method ?? 'GET';
    const body = typeof init.body === 'string' ? init.body : undefined;
    this.requests.push({ method, path, body });
    const auth = (init.headers as Record<string, string>).authorization;
    try {
      const answer = await this.route(method, path, body === undefined ? undefined : JSON.parse(body), auth?.replace(/^Bearer /, ''));
      if (answer === undefined) return new Response(null, { status: 204 });
      return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      return new Response(JSON.stringify({ code: e.code, message: `refused: ${e.code}` }), { status: e.status, headers: { 'content-type': 'application/json' } });
    }
  };

  accountByName(name: string): Account | undefined {
    return [...this.accounts.values()].find((a) => a.username === name);
  }

  chain(): MembershipState {
    return MembershipState.verify(fromBase64Url(this.org!.root_public_key), this.links);
  }

  private session(account: string): { token: string; expires_at: number } {
    const token = toBase64Url(randomBytes(32));
    this.sessions.set(token, account);
    return { token, expires_at: this.clock + 3600 };
  }

  /** extract.rs: any status but removed. */
  private anyStatus(token: string | undefined): Account {
    const id = token === undefined ? undefined : this.sessions.get(token);
    const account = id === undefined ? undefined : this.accounts.get(id);
    if (!account) return refuse(401, 'unauthorized');
    if (account.status === 'removed') refuse(403, 'member_removed');
    return account;
  }

  /** extract.rs `Authed`: an active member. */
  private authed(token: string | undefined): Account {
    const account = this.anyStatus(token);
    if (account.status === 'pending') refuse(403, 'pending_approval');
    return account;
  }

  private admin(token: string | undefined): Account {
    const account = this.authed(token);
    if (account.role !== 'admin') refuse(403, 'forbidden');
    return account;
  }

  private checkMaterial(m: KeyMaterial): MemberPublicKeys {
    const keys = { signing: fromBase64Url(m.keys.signing), agreement: fromBase64Url(m.keys.agreement) };
    if (keys.signing.length !== 32 || keys.agreement.length !== 32 || typeof AuthorKey.check(keys) === 'string') refuse(400, 'bad_request');
    if (fromBase64Url(m.slot).length !== SLOT_LEN || fromBase64Url(m.keybox).length > 512) refuse(400, 'bad_request');
    return keys;
  }

  private registrationResponse(register: { account_id: string; username: string; registration_request: string }): { registration_response: string } {
    if (!validName(register.username) || !/^[0-9a-f]{32}$/.test(register.account_id)) refuse(400, 'bad_request');
    const { registrationResponse } = opaque.server.createRegistrationResponse({
      serverSetup: setup,
      userIdentifier: register.account_id,
      registrationRequest: register.registration_request,
    });
    return { registration_response: registrationResponse };
  }

  /** store `check_invite`: unknown, used (even when expired too), expired. */
  private usableInvite(id: string): InviteRow {
    const invite = this.invites.get(id.toLowerCase()) ?? refuse(404, 'invite_invalid');
    if (invite.used_by) refuse(410, 'invite_used');
    if (invite.expires_at <= this.clock) refuse(410, 'invite_expired');
    return invite;
  }

  /** cases.rs `check_grants`: signed by the caller (either suite), for this case, to an active member's keys. */
  private checkGrants(caseId: string, granter: Account, uploads: { recipient: string; grant: string }[]): GrantRow[] {
    const granterKey = AuthorKey.from({ signing: fromBase64Url(granter.material.keys.signing), agreement: fromBase64Url(granter.material.keys.agreement) });
    return uploads.map((u) => {
      const bytes = fromBase64Url(u.grant);
      let header;
      try {
        header = verifyGrant(bytes, granterKey);
      } catch {
        return refuse(422, 'chain_rejected');
      }
      if (toHex(header.target.org) !== this.org!.org_id || toHex(header.target.object) !== caseId) refuse(422, 'chain_rejected');
      const recipient = this.accounts.get(u.recipient);
      if (!recipient || recipient.status !== 'active') return refuse(422, 'chain_rejected');
      const recipientKeys = { signing: fromBase64Url(recipient.material.keys.signing), agreement: fromBase64Url(recipient.material.keys.agreement) };
      if (!bytesEqual(keyId(recipientKeys), header.recipient)) refuse(422, 'chain_rejected');
      return { compartment: header.target.compartment, generation: header.generation, recipient: u.recipient, granted_by: granter.id, grant: u.grant };
    });
  }

  private heldBy(caseId: string, account: Account): number[] {
    const c = this.cases.get(caseId);
    const held = c?.grants.filter((g) => g.recipient === account.id).map((g) => g.compartment) ?? [];
    if (held.length === 0) refuse(404, 'not_found');
    return held;
  }

  /** intake.rs `require_intake`. */
  private intakeTeam(token: string | undefined): Account {
    const account = this.anyStatus(token);
    const works = (role: string | null | undefined) => role === 'admin' || role === 'intake';
    const allowed =
      account.status === 'active'
        ? works(account.role)
        : account.inviteId !== null && works(this.invites.get(account.inviteId)?.role);
    if (!allowed) refuse(403, 'forbidden');
    return account;
  }

  private async route(method: string, path: string, body: unknown, token: string | undefined): Promise<unknown> {
    const caseGrants = /^\/api\/cases\/([0-9a-f]{32})\/grants$/.exec(path);
    if (caseGrants) return this.grants(method, caseGrants[1]!, body, token);
    switch (`${method} ${path}`) {
      case 'POST /api/org/init/start': {
        const req = body as OrgInitStart;
        if (this.org) refuse(409, 'org_exists');
        return this.registrationResponse(req.register);
      }
      case 'POST /api/org/init/finish': {
        const req = body as OrgInitFinish;
        if (this.org) refuse(409, 'org_exists');
        if (!validName(req.username)) refuse(400, 'bad_request');
        const keys = this.checkMaterial(req.material);
        if (!req.material.org_root_box) refuse(400, 'bad_request');
        if (req.links.length !== 2) refuse(400, 'bad_request');
        const links = req.links.map((l) => fromBase64Url(l));
        let chain: MembershipState;
        try {
          chain = MembershipState.verify(fromBase64Url(req.org.root_public_key), links);
        } catch {
          return refuse(422, 'chain_rejected');
        }
        const founder = chain.member(fromHex(req.account_id));
        if (
          !founder ||
          toHex(chain.org) !== req.org.org_id ||
          chain.orgName !== req.org.name ||
          founder.name !== req.username ||
          founder.role !== 1 ||
          !bytesEqual(founder.keys.signing, keys.signing) ||
          !bytesEqual(founder.keys.agreement, keys.agreement)
        ) {
          refuse(422, 'chain_rejected');
        }
        this.org = req.org;
        this.links = links;
        this.accounts.set(req.account_id, {
          id: req.account_id,
          username: req.username,
          record: req.registration_upload,
          material: req.material,
          role: 'admin',
          status: 'active',
          inviteId: null,
          proof: null,
          createdAt: this.clock,
        });
        return this.session(req.account_id);
      }
      case 'POST /api/join/start': {
        const req = body as JoinStart;
        if (!this.org) refuse(404, 'org_missing');
        this.usableInvite(req.invite_id);
        if (!validName(req.register.username)) refuse(400, 'bad_request');
        if (this.accountByName(req.register.username)) refuse(409, 'username_taken');
        return { ...this.registrationResponse(req.register), org: this.org };
      }
      case 'POST /api/join/finish': {
        const req = body as JoinFinish;
        if (!this.org) refuse(404, 'org_missing');
        if (!validName(req.username)) refuse(400, 'bad_request');
        this.checkMaterial(req.material);
        if (req.material.org_root_box != null) refuse(400, 'bad_request');
        if (fromBase64Url(req.proof).length !== 32) refuse(400, 'bad_request');
        const invite = this.usableInvite(req.invite_id);
        if (this.accountByName(req.username) || this.accounts.has(req.account_id)) refuse(409, 'username_taken');
        invite.used_by = req.account_id;
        invite.usedAt = this.clock;
        this.accounts.set(req.account_id, {
          id: req.account_id,
          username: req.username,
          record: req.registration_upload,
          material: req.material,
          role: null,
          status: 'pending',
          inviteId: invite.invite_id,
          proof: req.proof,
          createdAt: this.clock,
        });
        return this.session(req.account_id);
      }
      case 'POST /api/auth/login/start': {
        const req = body as { username: string; credential_request: string };
        const account = this.accountByName(req.username);
        const { serverLoginState, loginResponse } = opaque.server.startLogin({
          serverSetup: setup,
          registrationRecord: account?.record ?? null,
          startLoginRequest: req.credential_request,
          userIdentifier: account?.id ?? toHex(randomBytes(16)),
        });
        const loginId = toHex(randomBytes(16));
        this.logins.set(loginId, { state: serverLoginState, account: account?.id });
        return { login_id: loginId, credential_response: loginResponse };
      }
      case 'POST /api/auth/login/finish': {
        const req = body as { login_id: string; credential_finalization: string };
        const login = this.logins.get(req.login_id);
        this.logins.delete(req.login_id);
        if (!login?.account) return refuse(401, 'login_failed');
        try {
          opaque.server.finishLogin({ serverLoginState: login.state, finishLoginRequest: req.credential_finalization });
        } catch {
          refuse(401, 'login_failed');
        }
        if (this.accounts.get(login.account)!.status === 'removed') refuse(403, 'member_removed');
        return { account_id: login.account, session: this.session(login.account) };
      }
      case 'POST /api/auth/logout':
        if (token === undefined || !this.sessions.delete(token)) refuse(401, 'unauthorized');
        return undefined;
      case 'GET /api/me': {
        const a = this.anyStatus(token);
        return { account_id: a.id, username: a.username, role: a.role, status: a.status, org: this.org };
      }
      case 'GET /api/me/keys':
        return this.anyStatus(token).material;
      case 'GET /api/org':
        this.authed(token);
        return { org: this.org, links: this.links.map((l) => toBase64Url(l)) };
      case 'POST /api/org/links': {
        this.admin(token);
        const req = body as AppendLink;
        if (this.conflicts > 0) {
          this.conflicts--;
          refuse(409, 'conflict');
        }
        if (req.seq !== this.links.length) refuse(409, 'conflict');
        const link = fromBase64Url(req.link);
        const chain = this.chain();
        try {
          chain.apply(link);
        } catch {
          refuse(422, 'chain_rejected');
        }
        const action = parseLink(link, BigInt(req.seq)).body.action;
        if (action.type === 'add') {
          const pending = this.accounts.get(toHex(action.account));
          if (
            pending?.status !== 'pending' ||
            pending.username !== action.name ||
            pending.material.keys.signing !== toBase64Url(action.keys.signing) ||
            pending.material.keys.agreement !== toBase64Url(action.keys.agreement)
          ) {
            return refuse(422, 'chain_rejected');
          }
          pending.status = 'active';
          pending.role = [...ROLE_NAMES][action.role - 1]!;
        } else if (action.type === 'remove') {
          const gone = this.accounts.get(toHex(action.account))!;
          gone.status = 'removed';
          for (const [t, id] of this.sessions) if (id === gone.id) this.sessions.delete(t);
        } else if (action.type === 'change-role') {
          this.accounts.get(toHex(action.account))!.role = [...ROLE_NAMES][action.role - 1]!;
        }
        this.links.push(link);
        return undefined;
      }
      case 'GET /api/org/pending':
        this.admin(token);
        return [...this.accounts.values()]
          .filter((a) => a.status === 'pending')
          .map(
            (a): PendingMember => ({
              account_id: a.id,
              username: a.username,
              keys: a.material.keys,
              invite_id: a.inviteId ?? '',
              proof: a.proof ?? '',
              joined_at: a.createdAt,
            }),
          );
      case 'POST /api/invites': {
        const admin = this.admin(token);
        const req = body as CreateInvite;
        if (!ROLE_NAMES.has(req.role) || !(req.valid_for_seconds >= 1 && req.valid_for_seconds <= 30 * 24 * 3600)) refuse(400, 'bad_request');
        if (!/^[0-9a-f]{32}$/i.test(req.invite_id) || fromBase64Url(req.sealed_secret).length > 256) refuse(400, 'bad_request');
        const invite: InviteRow = {
          invite_id: req.invite_id.toLowerCase(),
          role: req.role,
          created_by: admin.id,
          created_at: this.clock,
          expires_at: this.clock + req.valid_for_seconds,
          used_by: null,
          usedAt: null,
          sealed_secret: req.sealed_secret,
        };
        this.invites.set(invite.invite_id, invite);
        if (req.sealed_intake_keys) this.inviteIntakeKeys.set(invite.invite_id, req.sealed_intake_keys);
        return invite;
      }
      case 'GET /api/invites':
        this.admin(token);
        return [...this.invites.values()];
      case 'POST /api/cases': {
        const creator = this.authed(token);
        const req = body as CreateCase;
        const grants = this.checkGrants(req.case_id, creator, req.grants);
        if (grants.some((g) => g.recipient !== creator.id || g.generation !== 0)) refuse(422, 'chain_rejected');
        if (this.cases.has(req.case_id)) refuse(409, 'conflict');
        this.cases.set(req.case_id, { grants, rotations: [] });
        return undefined;
      }
      case 'GET /api/intake/desk':
        this.intakeTeam(token);
        return this.desk ?? refuse(404, 'not_found');
      case 'PUT /api/intake/desk': {
        this.admin(token);
        const req = body as IntakeDesk;
        if (!this.cases.has(req.desk_case_id) || fromBase64Url(req.public_key).length !== 32) refuse(404, 'not_found');
        this.desk = req;
        return undefined;
      }
      case 'GET /api/intake/invite-keys': {
        const account = this.anyStatus(token);
        const sealed = account.inviteId === null ? undefined : this.inviteIntakeKeys.get(account.inviteId);
        return sealed === undefined ? refuse(404, 'not_found') : { invite_id: account.inviteId, sealed };
      }
      default:
        return refuse(404, 'not_found');
    }
  }

  private grants(method: string, caseId: string, body: unknown, token: string | undefined): unknown {
    const caller = this.authed(token);
    const held = this.heldBy(caseId, caller);
    const c = this.cases.get(caseId)!;
    if (method === 'GET') return { grants: c.grants, rotations: c.rotations } satisfies CaseGrants;
    const req = body as ChangeGrants;
    const grants = this.checkGrants(caseId, caller, req.grants);
    if (grants.some((g) => !held.includes(g.compartment))) refuse(403, 'forbidden');
    if (req.rotations.length > 0 || req.revoke.length > 0) throw new Error('the fake does not rotate: no test here needs it');
    c.grants.push(...grants);
    return undefined;
  }
}

/** The failure of a promise, which must be an AccountError (or an OrgError, passed on as it is). */
async function failureOf(p: Promise<unknown>): Promise<AccountError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AccountError);
  return e as AccountError;
}

/** What the member opens of their own grants of the desk: the server's desk key must be derived from it. */
async function deskKeyOf(server: FakeServer, session: UnlockedSession): Promise<{ generation: number; key: Uint8Array }> {
  const desk = server.desk!;
  const chain = server.chain();
  const mine = server.cases.get(desk.desk_case_id)!.grants.find((g) => g.recipient === session.accountHex && g.compartment === DESK)!;
  const bytes = fromBase64Url(mine.grant);
  const granter = chain.authorByKeyId(parseGrantHeader(bytes).granter)!;
  return openGrant(bytes, { org: chain.org, object: fromHex(desk.desk_case_id), compartment: DESK }, session.keys(), granter.member.author);
}

interface Founded {
  server: FakeServer;
  pin: OrgPin;
  setUp: OrganizationSetUp;
  admin: UnlockedSession;
}

async function found(orgName = 'Northstar Test', username = 'ada'): Promise<Founded> {
  const server = new FakeServer();
  const pin = new OrgPin();
  const setUp = await setUpOrganization(new Api('', server.fetch), serenityOpaque, { orgName, username, passphrase: PASSPHRASE }, pin);
  return { server, pin, setUp, admin: setUp.session };
}

async function join(server: FakeServer, inviteCode: string, username: string) {
  const pin = new OrgPin();
  const joined = await joinWithInvite(new Api('', server.fetch), serenityOpaque, { inviteCode, username, passphrase: PASSPHRASE }, pin);
  return { ...joined, pin };
}

describe('setUpOrganization', () => {
  it('founds the organization as org_init does, and a later sign-in opens the same keys', async () => {
    const { server, pin, setUp, admin } = await found('Northstar Test', 'ada');
    expect(server.org?.name).toBe('Northstar Test');
    const root = fromBase64Url(server.org!.root_public_key);
    expect(setUp.fingerprint).toEqual(orgFingerprint(root));
    expect(setUp.fingerprint).toHaveLength(8);
    expect(setUp.orgId).toBe(server.org!.org_id);
    // Two links, both signed by the organization root; the founder an admin with the keys in the session.
    expect(server.links).toHaveLength(2);
    expect(server.links.every((l) => bytesEqual(parseLink(l, 0n).signer, root))).toBe(true);
    const founder = server.chain().member(admin.accountId)!;
    expect(founder).toMatchObject({ name: 'ada', role: 1 });
    expect(bytesEqual(founder.keys.signing, admin.publicKeys.signing) && bytesEqual(founder.keys.agreement, admin.publicKeys.agreement)).toBe(true);
    expect(admin.me).toMatchObject({ role: 'admin', status: 'active', username: 'ada' });
    expect(admin.api.hasToken).toBe(true);
    expect(pin.pinned).toBe(true);
    // The organization root key is kept only in the founder's key box, which their root key opens.
    const material = server.accounts.get(admin.accountHex)!.material;
    const orgRoot = unwrapOrgRoot(fromBase64Url(material.org_root_box!), admin.root(), admin.accountId, fromHex(setUp.orgId));
    expect(bytesEqual(sig.publicKey(orgRoot), root)).toBe(true);

    // The help desk is open: created, granted to the founder, and its public key derived from that grant.
    expect(setUp.desk).toEqual({ ok: true, upkeep: { created: true, granted: [], publishedGeneration: 0 } });
    const deskKey = await deskKeyOf(server, admin);
    expect(deskKey.generation).toBe(0);
    expect(server.desk!.public_key).toBe(toBase64Url((await deriveIntakeKeyPair(fromHex(setUp.orgId), deskKey)).publicKey));
    // Kept in order already: a second run changes nothing.
    expect(await keepIntakeDesk(admin, pin)).toEqual({ created: false, granted: [], publishedGeneration: undefined });

    // Signing in from scratch (another page) opens the very same keys.
    const again = await signIn(new Api('', server.fetch), serenityOpaque, 'ada', PASSPHRASE, admin.serverKey);
    expect(bytesEqual(again.accountId, admin.accountId)).toBe(true);
    expect(bytesEqual(again.root(), admin.root())).toBe(true);
    expect(bytesEqual(again.keys().signingSeed, admin.keys().signingSeed)).toBe(true);
    expect(bytesEqual(again.keys().agreementSecret, admin.keys().agreementSecret)).toBe(true);
    const view = verifyOrg(await again.api.org(), new OrgPin(), { accountId: again.accountId, keys: again.publicKeys });
    expect(view.fingerprint).toEqual(setUp.fingerprint);
    expect(view.members.map((m) => [m.name, m.role])).toEqual([['ada', 'admin']]);
    // Nothing the server saw holds the passphrase.
    expect(server.requests.some((r) => r.body?.includes(PASSPHRASE))).toBe(false);
  }, 120_000);

  it('refuses bad names and short passphrases before sending anything', async () => {
    const server = new FakeServer();
    const api = new Api('', server.fetch);
    const cases: [Parameters<typeof setUpOrganization>[2], string][] = [
      [{ orgName: '', username: 'ada', passphrase: PASSPHRASE }, 'invalid_name'],
      [{ orgName: ' Padded', username: 'ada', passphrase: PASSPHRASE }, 'invalid_name'],
      [{ orgName: 'Org', username: 'a\u0007da', passphrase: PASSPHRASE }, 'invalid_name'],
      [{ orgName: 'Org', username: 'x'.repeat(65), passphrase: PASSPHRASE }, 'invalid_name'],
      [{ orgName: 'Org', username: 'ada', passphrase: 'eleven char' }, 'weak_passphrase'],
    ];
    for (const [form, reason] of cases) {
      expect((await failureOf(setUpOrganization(api, serenityOpaque, form, new OrgPin()))).reason).toBe(reason);
    }
    // Twelve characters, counted as people count them (é is one), are enough to get as far as the server.
    const e = await failureOf(setUpOrganization(new Api('', async () => Promise.reject(new TypeError('offline'))), serenityOpaque, { orgName: 'Org', username: 'ada', passphrase: 'éééééééééééé' }, new OrgPin()));
    expect(e.reason).toBe('network');
    expect(server.requests).toEqual([]);
  });

  it('refuses a second organization on the same server, and keeps nothing of the attempt', async () => {
    const { server } = await found();
    const api = new Api('', server.fetch);
    const e = await failureOf(setUpOrganization(api, serenityOpaque, { orgName: 'Another', username: 'zed', passphrase: PASSPHRASE }, new OrgPin()));
    expect(e.reason).toBe('org_exists');
    expect(api.hasToken).toBe(false);
    expect(server.accountByName('zed')).toBeUndefined();
  }, 120_000);
});

describe('invitations, joining and admission', () => {
  let org: Founded;
  beforeAll(async () => {
    org = await found();
  }, 120_000);

  it('makes a code as `northstar invite` prints it; the server sees only its first half, the role sealed to the issuing admin', async () => {
    const issued = await createInvite(org.admin, org.pin, 'caseworker');
    expect(issued.code).toMatch(/^[0-9a-f]{32}-[0-9a-f]{32}$/);
    const [id, secret] = issued.code.split('-') as [string, string];
    const stored = org.server.invites.get(id)!;
    expect(stored).toMatchObject({ role: 'caseworker', expires_at: org.server.clock + 72 * 3600, created_by: org.admin.accountHex });
    expect(issued).toMatchObject({ role: 'caseworker', validForSeconds: 72 * 3600, expiresAt: stored.expires_at, carriesIntakeKeys: false });
    const opened = openBlob(derivePurposeKey(org.admin.root(), 'invites'), 'northstar/v1/client/invite-secret', fromBase64Url(stored.sealed_secret));
    expect(toHex(opened)).toBe(`${secret}03`);
    expect(org.server.requests.some((r) => r.body?.includes(secret))).toBe(false);
    expect(org.server.inviteIntakeKeys.has(id)).toBe(false);

    const e = await failureOf(createInvite(org.admin, org.pin, 'janitor' as 'admin'));
    expect(e.reason).toBe('refused');
    expect((await failureOf(createInvite(org.admin, org.pin, 'intake', 30 * 24 * 3600 + 1))).reason).toBe('refused');
  });

  it('lets a joiner in as pending, then an admin admits them with the role sealed in the invitation', async () => {
    const issued = await createInvite(org.admin, org.pin, 'caseworker');
    // A server listing another role changes nothing: the admin takes the one they sealed.
    org.server.invites.get(issued.code.slice(0, 32))!.role = 'admin';
    const bob = await join(org.server, issued.code, 'bob');
    expect(bob.fingerprint).toEqual(org.setUp.fingerprint);
    expect(bob.orgName).toBe('Northstar Test');
    expect(bob.session.me.status).toBe('pending');
    expect(bob.pin.pinned).toBe(true);
    const waiting = await bob.session.api.org().catch((e: unknown) => e);
    expect((waiting as ApiError).code).toBe('pending_approval');

    const pending = await pendingMembers(org.admin, org.pin);
    expect(pending).toEqual([
      {
        accountId: bob.accountId,
        username: 'bob',
        joinedAt: org.server.clock,
        fingerprint: memberFingerprint(bob.session.publicKeys),
        inviteId: issued.code.slice(0, 32),
        role: 'caseworker',
        verdict: 'admissible',
      },
    ]);
    const before = org.server.links.length;
    expect(await approvePending(org.admin, org.pin)).toEqual({ admitted: ['bob'], refused: [] });
    expect(org.server.links).toHaveLength(before + 1);
    expect(await pendingMembers(org.admin, org.pin)).toEqual([]);
    expect(await approvePending(org.admin, org.pin)).toEqual({ admitted: [], refused: [] });

    // Bob signs in again: an active caseworker, in the chain with the keys his key box holds.
    const back = await signIn(new Api('', org.server.fetch), serenityOpaque, 'bob', PASSPHRASE);
    expect(back.me).toMatchObject({ status: 'active', role: 'caseworker' });
    const view = verifyOrg(await back.api.org(), bob.pin, { accountId: back.accountId, keys: back.publicKeys });
    expect(view.members.find((m) => m.isMe)).toMatchObject({ name: 'bob', role: 'caseworker' });
    // Not an admin: nothing to admit, no desk to keep.
    expect(await adminUpkeep(back, bob.pin)).toBeUndefined();
    expect((await failureOf(keepIntakeDesk(back, bob.pin))).reason).toBe('forbidden');
    expect((await failureOf(removeMember(back, bob.pin, org.admin.accountHex))).reason).toBe('forbidden');
  }, 120_000);

  it('hands an intake officer the desk keys with the invitation, and the desk itself by grant once admitted', async () => {
    const issued = await createInvite(org.admin, org.pin, 'intake');
    expect(issued.carriesIntakeKeys).toBe(true);
    const carol = await join(org.server, issued.code, 'carol');
    // Still pending, the new officer opens the desk keys the invitation carries: the key the public page seals to.
    const carried = await carol.session.api.call<{ sealed: string }>('GET', '/api/intake/invite-keys');
    const keys = openForInvite(parseInviteCode(issued.code), fromBase64Url(carried.sealed));
    expect(keys.map((k) => k.generation)).toEqual([0]);
    const pair = await deriveIntakeKeyPair(fromHex(org.setUp.orgId), keys[0]!);
    expect(toBase64Url(pair.publicKey)).toBe(org.server.desk!.public_key);

    const upkeep = await adminUpkeep(org.admin, org.pin);
    expect(upkeep).toEqual({ approvals: { admitted: ['carol'], refused: [] }, desk: { ok: true, upkeep: { created: false, granted: ['carol'], publishedGeneration: undefined } } });
    const back = await signIn(new Api('', org.server.fetch), serenityOpaque, 'carol', PASSPHRASE);
    const granted = await deskKeyOf(org.server, back);
    expect(toHex(granted.key)).toBe(toHex(keys[0]!.key));
  }, 120_000);

  it('never admits a join that does not prove knowledge of the code, nor one whose name or keys the server swapped', async () => {
    const before = org.server.links.length;
    // Someone who learned only the first half of a code uses it up with a false proof.
    const first = await createInvite(org.admin, org.pin, 'caseworker');
    const guessed = `${first.code.slice(0, 32)}-${toHex(randomBytes(16))}`;
    await join(org.server, guessed, 'mallory');
    // A real joiner whose name the server changes after the fact.
    const second = await createInvite(org.admin, org.pin, 'caseworker');
    const dan = await join(org.server, second.code, 'dan');
    org.server.accounts.get(dan.accountId)!.username = 'dan2';

    const pending = await pendingMembers(org.admin, org.pin);
    expect(pending.map((p) => [p.username, p.verdict]).sort()).toEqual([
      ['dan2', 'refused'],
      ['mallory', 'refused'],
    ]);
    const approvals = await approvePending(org.admin, org.pin);
    expect(approvals.admitted).toEqual([]);
    expect(approvals.refused.sort()).toEqual(['dan2', 'mallory']);
    expect(org.server.links).toHaveLength(before);
    // The real code is now used up: a denial of service, not an entry.
    const e = await failureOf(join(org.server, first.code, 'mallory-victim'));
    expect(e.reason).toBe('invite_used');
  }, 120_000);

  it('refuses bad invitation codes with a clear error, never repeating the code', async () => {
    const requests = org.server.requests.length;
    for (const code of ['', 'hello', `${'a'.repeat(32)}`, `${'a'.repeat(32)}-${'b'.repeat(31)}`, `${'g'.repeat(32)}-${'b'.repeat(32)}`]) {
      const e = await failureOf(join(org.server, code, 'nobody'));
      expect(e.reason).toBe('invite_malformed');
      if (code.length > 4) expect(e.message).not.toContain(code.slice(0, 16));
    }
    expect(org.server.requests).toHaveLength(requests);

    expect((await failureOf(join(org.server, `${toHex(randomBytes(16))}-${toHex(randomBytes(16))}`, 'nobody'))).reason).toBe('invite_invalid');
    const short = await createInvite(org.admin, org.pin, 'caseworker', 60);
    org.server.clock += 61;
    expect((await failureOf(join(org.server, short.code, 'late'))).reason).toBe('invite_expired');
    const used = await createInvite(org.admin, org.pin, 'caseworker');
    org.server.invites.get(used.code.slice(0, 32))!.used_by = toHex(randomBytes(16));
    expect((await failureOf(join(org.server, used.code, 'second'))).reason).toBe('invite_used');
    // A taken name, and a name the chain could not carry.
    const fresh = await createInvite(org.admin, org.pin, 'caseworker');
    expect((await failureOf(join(org.server, fresh.code, 'ada'))).reason).toBe('username_taken');
    expect((await failureOf(join(org.server, fresh.code, 'ada '))).reason).toBe('invalid_name');
    // An upper-case code with white space around it is the same code (as parse_code reads it).
    const upper = await join(org.server, `  ${fresh.code.toUpperCase()}\n`, 'erin');
    expect(upper.session.me.status).toBe('pending');
  }, 120_000);

  it('leaves accounts another admin invited to that admin, who admits them without the organization root key', async () => {
    const adminInvite = await createInvite(org.admin, org.pin, 'admin');
    expect(adminInvite.carriesIntakeKeys).toBe(true);
    const frank = await join(org.server, adminInvite.code, 'frank');
    await approvePending(org.admin, org.pin);
    expect(org.server.accounts.get(frank.accountId)).toMatchObject({ status: 'active', role: 'admin' });
    // Frank has no organization root key box at all: links are signed with an admin's member key.
    expect(org.server.accounts.get(frank.accountId)!.material.org_root_box).toBeNull();

    const theirs = await createInvite(frank.session, frank.pin, 'auditor');
    const gina = await join(org.server, theirs.code, 'gina');
    const seenByAda = (await pendingMembers(org.admin, org.pin)).find((p) => p.username === 'gina');
    expect(seenByAda).toMatchObject({ verdict: 'not_mine', role: null });
    expect((await approvePending(org.admin, org.pin)).admitted).not.toContain('gina');
    expect((await approvePending(frank.session, frank.pin)).admitted).toEqual(['gina']);
    expect(org.server.accounts.get(gina.accountId)).toMatchObject({ status: 'active', role: 'auditor' });
    // Ada's page moves on with the chain Frank extended.
    expect(verifyOrg(await org.admin.api.org(), org.pin, { accountId: org.admin.accountId, keys: org.admin.publicKeys }).members.map((m) => m.name)).toContain('gina');
  }, 120_000);

  it('signs again on top of the new head when another admin appended first', async () => {
    const issued = await createInvite(org.admin, org.pin, 'partner');
    await join(org.server, issued.code, 'hana');
    org.server.conflicts = 1;
    expect((await approvePending(org.admin, org.pin)).admitted).toEqual(['hana']);
    expect(org.server.conflicts).toBe(0);
    const again = await createInvite(org.admin, org.pin, 'partner');
    await join(org.server, again.code, 'ivan');
    org.server.conflicts = 3;
    expect((await failureOf(approvePending(org.admin, org.pin))).reason).toBe('conflict');
  }, 120_000);

  it('removes a member: the removal link is signed, their sessions end, and they can no longer sign in', async () => {
    const issued = await createInvite(org.admin, org.pin, 'coordinator');
    const jo = await join(org.server, issued.code, 'jo');
    await approvePending(org.admin, org.pin);
    const removal = await removeMember(org.admin, org.pin, jo.accountId);
    expect(removal).toEqual({ name: 'jo', keysRotated: false });
    expect(org.server.chain().member(fromHex(jo.accountId))).toBeUndefined();
    expect(org.server.chain().wasRemoved(fromHex(jo.accountId))).toBe(true);
    expect([...org.server.sessions.values()]).not.toContain(jo.accountId);
    const e = await signIn(new Api('', org.server.fetch), serenityOpaque, 'jo', PASSPHRASE).catch((x: unknown) => x);
    expect((e as SignInError).reason).toBe('member_removed');

    expect((await failureOf(removeMember(org.admin, org.pin, jo.accountId))).reason).toBe('refused');
    expect((await failureOf(removeMember(org.admin, org.pin, 'not an id'))).reason).toBe('refused');
  }, 120_000);

  it('refuses to act on a chain that does not extend the one this page verified', async () => {
    const saved = org.server.links.slice();
    org.server.links = saved.slice(0, saved.length - 1);
    const e = await createInvite(org.admin, org.pin, 'intake').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OrgError);
    expect((e as OrgError).reason).toBe('rollback');
    org.server.links = saved;
  });

  it('reports a locked session plainly, and uses none of its keys', async () => {
    const issued = await createInvite(org.admin, org.pin, 'caseworker');
    const kim = await join(org.server, issued.code, 'kim');
    await kim.session.lock();
    expect((await failureOf(createInvite(kim.session, kim.pin, 'caseworker'))).reason).toBe('locked');
  }, 120_000);
});

describe('joinWithInvite', () => {
  it('refuses an organization other than the one this page pinned, before uploading anything', async () => {
    const a = await found('Alpha', 'ada');
    const b = await found('Beta', 'bea');
    const issued = await createInvite(b.admin, b.pin, 'caseworker');
    const before = b.server.requests.length;
    const e = await joinWithInvite(new Api('', b.server.fetch), serenityOpaque, { inviteCode: issued.code, username: 'lee', passphrase: PASSPHRASE }, a.pin).catch(
      (x: unknown) => x,
    );
    expect((e as OrgError).reason).toBe('pin_mismatch');
    expect(b.server.requests.slice(before).map((r) => r.path)).toEqual(['/api/join/start']);
    expect(b.server.invites.get(issued.code.slice(0, 32))!.used_by).toBeNull();
  }, 120_000);
});
