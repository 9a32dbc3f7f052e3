/**
 * The organization's membership chain (membership.rs): an append-only list of
 * links, each signed by the organization root key or by an admin who is a
 * member at that point, each naming the hash of the link before it.
 *
 * Link layout:
 * `"NSML" | 0x01 | org_id 16 | seq u64 | prev_hash 32 | issued_at u64 | action u8 |
 *  subject 16 | role u8 | signing pk 32 | agreement pk 32 | name_len u8 | name |
 *  signer pk 32 | signature 64`.
 * Fields an action does not use must be zero (or empty), so each link has one
 * encoding. The signature covers "northstar/v1/membership/sig" ‖ every byte
 * before it; the next link names SHA-256("northstar/v1/membership/link" ‖ link).
 */
import { ascii, bytesEqual, concat, toHex, utf8, Writer, Reader } from './bytes.js';
import { NorthstarCryptoError, type MembershipCode, type SignatureCode } from './errors.js';
import { AuthorKey, type MemberPublicKeys } from './identity.js';
import { labelledHash } from './kdf.js';
import { isRole, mayManageMembers, ROLES, type Role } from './codes.js';
import * as sig from './sig.js';

const MAGIC = 'NSML';
const VERSION = 1;
const FORMAT = 'membership link';
const SIG_LABEL = 'northstar/v1/membership/sig';
const HASH_LABEL = 'northstar/v1/membership/link';
export const MAX_NAME_LEN = 64;

const ZERO16 = new Uint8Array(16);
const ZERO32 = new Uint8Array(32);

export type LinkAction =
  /** The first link: the organization exists, under this name. */
  | { type: 'create'; orgName: string }
  /** A new member with their keys, name and role. */
  | { type: 'add'; account: Uint8Array; name: string; role: Role; keys: MemberPublicKeys }
  | { type: 'change-role'; account: Uint8Array; role: Role }
  | { type: 'remove'; account: Uint8Array };

const ACTION_CODE: Record<LinkAction['type'], number> = { create: 1, add: 2, 'change-role': 3, remove: 4 };

/** The signed content of a link. */
export interface LinkBody {
  org: Uint8Array;
  seq: bigint;
  prevHash: Uint8Array;
  /** Unix seconds, as claimed by the signer. */
  issuedAt: bigint;
  action: LinkAction;
}

export interface Link {
  body: LinkBody;
  signer: Uint8Array;
  signature: Uint8Array;
}

/** A membership error naming the link; `code` is the MembershipError code. */
export class MembershipError extends NorthstarCryptoError {
  constructor(
    code: MembershipCode,
    message: string,
    /** Position of the offending link in the chain (undefined for an empty chain or a bad genesis). */
    readonly seq?: bigint,
    sigCode?: SignatureCode,
  ) {
    super(code, message, sigCode);
    this.name = 'MembershipError';
  }
}

function malformedLink(seq: bigint, reason: string): MembershipError {
  return new MembershipError('membership-malformed', `membership link ${seq} is malformed: ${reason}`, seq);
}

/**
 * Whether a display name may appear in the chain: 1 to 64 UTF-8 bytes, no
 * control characters (Unicode Cc, Rust's `char::is_control`), no leading or
 * trailing White_Space (Rust's `str::trim`; not JS `trim`, which also strips
 * U+FEFF).
 */
export function validName(name: string): boolean {
  const len = utf8.encode(name).length;
  return len > 0 && len <= MAX_NAME_LEN && !/\p{Cc}/u.test(name) && !/^\p{White_Space}|\p{White_Space}$/u.test(name);
}

function encodeUnsigned(body: LinkBody, signer: Uint8Array): Uint8Array {
  let subject: Uint8Array = ZERO16;
  let role = 0;
  let signing: Uint8Array = ZERO32;
  let agreement: Uint8Array = ZERO32;
  let name = '';
  const a = body.action;
  switch (a.type) {
    case 'create':
      name = a.orgName;
      break;
    case 'add':
      [subject, role, signing, agreement, name] = [a.account, a.role, a.keys.signing, a.keys.agreement, a.name];
      break;
    case 'change-role':
      [subject, role] = [a.account, a.role];
      break;
    case 'remove':
      subject = a.account;
      break;
  }
  const nameBytes = utf8.encode(name);
  if (nameBytes.length > MAX_NAME_LEN) throw new RangeError('names are checked before signing');
  return new Writer()
    .bytes(ascii(MAGIC))
    .u8(VERSION)
    .bytes(fixed(body.org, 16))
    .u64(body.seq)
    .bytes(fixed(body.prevHash, 32))
    .u64(body.issuedAt)
    .u8(ACTION_CODE[a.type])
    .bytes(fixed(subject, 16))
    .u8(role)
    .bytes(fixed(signing, 32))
    .bytes(fixed(agreement, 32))
    .u8(nameBytes.length)
    .bytes(nameBytes)
    .bytes(fixed(signer, 32))
    .finish();
}

function fixed(b: Uint8Array, n: number): Uint8Array {
  if (b.length !== n) throw new RangeError(`expected ${n} bytes`);
  return b;
}

/** Sign a link with a 32-byte Ed25519 seed. Throws on an invalid name: check with `validName` first. */
export function signLink(body: LinkBody, signerSeed: Uint8Array): Uint8Array {
  const a = body.action;
  const nameOk = a.type === 'create' ? validName(a.orgName) : a.type === 'add' ? validName(a.name) : true;
  if (!nameOk) throw new RangeError('link names are validated before signing');
  const unsigned = encodeUnsigned(body, sig.publicKey(signerSeed));
  return concat(unsigned, sig.sign(signerSeed, concat(ascii(SIG_LABEL), unsigned)));
}

/** The bytes of a parsed link: parsing then encoding gives back the input, as each link has one encoding. */
export function encodeLink(link: Link): Uint8Array {
  return concat(encodeUnsigned(link.body, link.signer), link.signature);
}

/** The hash the next link names as `prevHash`. */
export function linkHash(linkBytes: Uint8Array): Uint8Array {
  return labelledHash(HASH_LABEL, linkBytes);
}

/** Parse a link without judging it. `position` is where it sits in the chain, for errors. */
export function parseLink(bytes: Uint8Array, position: bigint): Link {
  const r = new Reader(bytes, FORMAT);
  let fields;
  try {
    r.expectMagic(MAGIC, VERSION);
    fields = {
      org: r.array(16),
      seq: r.u64(),
      prevHash: r.array(32),
      issuedAt: r.u64(),
      action: r.u8(),
      subject: r.array(16),
      roleCode: r.u8(),
      signing: r.array(32),
      agreement: r.array(32),
      nameBytes: r.take(r.u8()),
      signer: r.array(32),
      signature: r.array(64),
    };
    r.finish();
  } catch (e) {
    if (e instanceof NorthstarCryptoError && e.code === 'unsupported') throw malformedLink(position, 'unsupported version');
    throw malformedLink(position, 'truncated or wrong magic');
  }
  const name = utf8.decodeStrict(fields.nameBytes);
  if (name === undefined) throw malformedLink(position, 'name is not UTF-8');
  const role = (): Role => {
    if (!isRole(fields.roleCode)) throw malformedLink(position, 'unknown role');
    return fields.roleCode;
  };
  const zeroSubject = bytesEqual(fields.subject, ZERO16);
  const zeroKeys = bytesEqual(fields.signing, ZERO32) && bytesEqual(fields.agreement, ZERO32);
  let action: LinkAction;
  switch (fields.action) {
    case 1:
      if (!zeroSubject || fields.roleCode !== 0 || !zeroKeys) throw malformedLink(position, 'create link carries member fields');
      if (!validName(name)) throw malformedLink(position, 'invalid organization name');
      action = { type: 'create', orgName: name };
      break;
    case 2:
      if (!validName(name)) throw malformedLink(position, 'invalid member name');
      action = { type: 'add', account: fields.subject, name, role: role(), keys: { signing: fields.signing, agreement: fields.agreement } };
      break;
    case 3:
      if (!zeroKeys || name !== '') throw malformedLink(position, 'role change carries keys or a name');
      action = { type: 'change-role', account: fields.subject, role: role() };
      break;
    case 4:
      if (!zeroKeys || name !== '' || fields.roleCode !== 0) throw malformedLink(position, 'removal carries keys, a name or a role');
      action = { type: 'remove', account: fields.subject };
      break;
    default:
      throw malformedLink(position, 'unknown action');
  }
  return {
    body: { org: fields.org, seq: fields.seq, prevHash: fields.prevHash, issuedAt: fields.issuedAt, action },
    signer: fields.signer,
    signature: fields.signature,
  };
}

/** A member as the chain establishes them. */
export interface Member {
  account: Uint8Array;
  name: string;
  role: Role;
  keys: MemberPublicKeys;
  /** The position of the link that added the member. */
  addedAt: bigint;
  /** The member's checked keys, for verifying what they signed. */
  author: AuthorKey;
}

function verifyLinkSignature(bytes: Uint8Array, link: Link, seq: bigint): void {
  const code = sig.verifyCode(link.signer, concat(ascii(SIG_LABEL), bytes.subarray(0, bytes.length - 64)), link.signature);
  if (code) {
    throw new MembershipError('membership-bad-signature', `membership link ${seq} has a bad signature: ${code}`, seq, code);
  }
}

function byAccount<T>(map: Map<string, T>): T[] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/**
 * The organization as a verified chain describes it. Members are kept keyed by
 * account id hex and always listed in account-id byte order, the order of
 * Rust's BTreeMap, so that lookups that take "the first match" agree.
 */
export class MembershipState {
  private readonly membersById = new Map<string, Member>();
  /** Removed members with the link that removed them: their keys still verify what they wrote while members. */
  private readonly former = new Map<string, { member: Member; removedAt: bigint }>();
  private readonly everAdded = new Set<string>();
  /** Every signing and agreement key ever registered, and the root key: a key is registered once. */
  private readonly usedKeys = new Set<string>();
  private headHash: Uint8Array;
  private length: bigint;

  private constructor(
    readonly org: Uint8Array,
    readonly orgName: string,
    readonly rootPublicKey: Uint8Array,
    head: Uint8Array,
  ) {
    this.headHash = head;
    this.length = 1n;
    this.usedKeys.add(toHex(rootPublicKey));
  }

  /** Verify a whole chain, link by link, from the pinned root public key. */
  static verify(rootPublicKey: Uint8Array, links: readonly Uint8Array[]): MembershipState {
    const first = links[0];
    if (first === undefined) throw new MembershipError('membership-empty', 'membership chain is empty');
    const genesis = parseLink(first, 0n);
    const badGenesis = () =>
      new MembershipError('membership-bad-genesis', 'the first membership link must create the organization, signed by the pinned root key');
    if (genesis.body.action.type !== 'create') throw badGenesis();
    if (genesis.body.seq !== 0n || !bytesEqual(genesis.body.prevHash, ZERO32) || !bytesEqual(genesis.signer, rootPublicKey)) {
      throw badGenesis();
    }
    verifyLinkSignature(first, genesis, 0n);
    const state = new MembershipState(genesis.body.org, genesis.body.action.orgName, rootPublicKey.slice(), linkHash(first));
    for (const link of links.slice(1)) state.apply(link);
    return state;
  }

  /** Verify and apply one more link; on error the state is unchanged (every check comes before any change). */
  apply(bytes: Uint8Array): void {
    const seq = this.length;
    const link = parseLink(bytes, seq);
    if (!bytesEqual(link.body.org, this.org)) {
      throw new MembershipError('membership-foreign-org', `membership link ${seq} belongs to another organization`, seq);
    }
    if (link.body.seq !== seq) {
      throw new MembershipError('membership-out-of-sequence', `membership link ${seq} has sequence number ${link.body.seq}`, seq);
    }
    if (!bytesEqual(link.body.prevHash, this.headHash)) {
      throw new MembershipError('membership-broken-link', `membership link ${seq} does not link to the link before it`, seq);
    }
    verifyLinkSignature(bytes, link, seq);
    this.checkSignerAuthority(link.signer, seq);

    const a = link.body.action;
    switch (a.type) {
      case 'create':
        throw malformedLink(seq, 'second create link');
      case 'add': {
        const id = toHex(a.account);
        if (this.everAdded.has(id)) {
          throw new MembershipError('membership-already-member', `membership link ${seq} adds an account that is or was already a member`, seq);
        }
        if (this.members().some((m) => m.name === a.name)) {
          throw new MembershipError('membership-name-taken', `membership link ${seq} adds a member whose name is already in use`, seq);
        }
        const author = AuthorKey.check(a.keys);
        if (typeof author === 'string') {
          throw new MembershipError('membership-weak-key', `membership link ${seq} registers a public key that fails the key policy: ${author}`, seq, author);
        }
        const signingHex = toHex(a.keys.signing);
        const agreementHex = toHex(a.keys.agreement);
        if (signingHex === agreementHex || this.usedKeys.has(signingHex) || this.usedKeys.has(agreementHex)) {
          throw new MembershipError('membership-key-reused', `membership link ${seq} registers a key that another member or the root already used`, seq);
        }
        this.usedKeys.add(signingHex);
        this.usedKeys.add(agreementHex);
        this.everAdded.add(id);
        this.membersById.set(id, { account: a.account, name: a.name, role: a.role, keys: a.keys, addedAt: seq, author });
        break;
      }
      case 'change-role': {
        const member = this.membersById.get(toHex(a.account));
        if (!member) throw notMember(seq);
        if (member.role === ROLES.admin && a.role !== ROLES.admin && this.adminCount() === 1) throw lastAdmin(seq);
        this.membersById.set(toHex(a.account), { ...member, role: a.role });
        break;
      }
      case 'remove': {
        const id = toHex(a.account);
        const member = this.membersById.get(id);
        if (!member) throw notMember(seq);
        if (member.role === ROLES.admin && this.adminCount() === 1) throw lastAdmin(seq);
        this.membersById.delete(id);
        this.former.set(id, { member, removedAt: seq });
        break;
      }
    }
    this.headHash = linkHash(bytes);
    this.length += 1n;
  }

  private adminCount(): number {
    return this.members().filter((m) => m.role === ROLES.admin).length;
  }

  private checkSignerAuthority(signer: Uint8Array, seq: bigint): void {
    if (bytesEqual(signer, this.rootPublicKey)) return;
    const m = this.members().find((x) => bytesEqual(x.keys.signing, signer));
    if (m) {
      if (mayManageMembers(m.role)) return;
      throw new MembershipError('membership-signer-not-admin', `membership link ${seq} is signed by a member who is not an admin`, seq);
    }
    if ([...this.former.values()].some(({ member }) => bytesEqual(member.keys.signing, signer))) {
      throw new MembershipError('membership-signer-removed', `membership link ${seq} is signed by a member who was removed`, seq);
    }
    throw new MembershipError('membership-signer-unknown', `membership link ${seq} is signed by a key that was never a member`, seq);
  }

  /** The body of the next link, ready to sign. */
  nextLink(issuedAt: bigint, action: LinkAction): LinkBody {
    return { org: this.org, seq: this.length, prevHash: this.headHash, issuedAt, action };
  }

  get len(): bigint {
    return this.length;
  }
  get head(): Uint8Array {
    return this.headHash;
  }
  /** Current members in account-id order. */
  members(): Member[] {
    return byAccount(this.membersById);
  }
  member(account: Uint8Array): Member | undefined {
    return this.membersById.get(toHex(account));
  }
  memberByName(name: string): Member | undefined {
    return this.members().find((m) => m.name === name);
  }
  /** A current member by key id: how records, grants and links name their author. */
  memberByKeyId(id: Uint8Array): Member | undefined {
    return this.members().find((m) => bytesEqual(m.author.keyId, id));
  }
  /**
   * A current or former member by key id, with the link that removed them if
   * they were removed: for verifying history written while they were members.
   */
  authorByKeyId(id: Uint8Array): { member: Member; removedAt: bigint | undefined } | undefined {
    const current = this.memberByKeyId(id);
    if (current) return { member: current, removedAt: undefined };
    const former = byAccount(this.former).find(({ member }) => bytesEqual(member.author.keyId, id));
    return former ? { member: former.member, removedAt: former.removedAt } : undefined;
  }
  wasRemoved(account: Uint8Array): boolean {
    const id = toHex(account);
    return this.everAdded.has(id) && !this.membersById.has(id);
  }
}

function notMember(seq: bigint): MembershipError {
  return new MembershipError('membership-not-member', `membership link ${seq} names an account that is not a member`, seq);
}

function lastAdmin(seq: bigint): MembershipError {
  return new MembershipError('membership-last-admin', `membership link ${seq} would leave the organization without an admin`, seq);
}

/** What a verified chain says, as plain data (for the UI and the vectors). */
export interface MembershipSummary {
  org: Uint8Array;
  orgName: string;
  members: Member[];
  head: Uint8Array;
  len: bigint;
}

/** Verify a whole chain from the pinned root; returns the state's summary. */
export function verifyMembershipChain(rootPublicKey: Uint8Array, links: readonly Uint8Array[]): MembershipSummary & { state: MembershipState } {
  const state = MembershipState.verify(rootPublicKey, links);
  return { org: state.org, orgName: state.orgName, members: state.members(), head: state.head, len: state.len, state };
}

/**
 * Create a new organization: its genesis link and the link that adds the first
 * admin, both signed by the organization root key (a 32-byte seed).
 */
export function foundOrganization(
  org: Uint8Array,
  orgName: string,
  rootSeed: Uint8Array,
  issuedAt: bigint,
  firstAdmin: { account: Uint8Array; name: string; keys: MemberPublicKeys },
): Uint8Array[] {
  if (!validName(orgName)) throw malformedLink(0n, 'invalid organization name');
  if (!validName(firstAdmin.name)) throw malformedLink(1n, 'invalid member name');
  const genesis = signLink({ org, seq: 0n, prevHash: ZERO32, issuedAt, action: { type: 'create', orgName } }, rootSeed);
  const add = signLink(
    {
      org,
      seq: 1n,
      prevHash: linkHash(genesis),
      issuedAt,
      action: { type: 'add', account: firstAdmin.account, name: firstAdmin.name, role: ROLES.admin, keys: firstAdmin.keys },
    },
    rootSeed,
  );
  const links = [genesis, add];
  MembershipState.verify(sig.publicKey(rootSeed), links);
  return links;
}
