/**
 * Invitations and sealed blobs: the twins of invite.rs, localseal.rs and
 * intake.rs seal_for_invite / open_for_invite.
 *
 * No frozen vector covers these formats yet (testdata/vectors has none for
 * NSLS or the join proof). The known answers below were computed outside this
 * code base, with Python's hashlib/hmac (HKDF-SHA256 written out from RFC 5869)
 * and the `cryptography` package's ChaCha20-Poly1305 behind an HChaCha20
 * written from draft-irtf-cfrg-xchacha §2.2 (itself checked against the
 * draft's test vectors), from the layouts in docs/crypto.md §17, §18 and the
 * Rust source. Where a frozen vector does apply (the intake desk key of
 * intake.json), it is used.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from './bytes.js';
import { deriveIntakeKeyPair } from './intake.js';
import {
  checkJoinProof,
  formatInviteCode,
  newInvite,
  openForInvite,
  parseInviteCode,
  proveJoin,
  sealForInvite,
  type Invitation,
  type JoinClaim,
} from './invite.js';
import { randomBytes } from './kdf.js';
import { openBlob, sealBlob } from './localseal.js';
import { derivePurposeKey } from './slot.js';
import { codeOf, readVectors } from './testing.js';

const range = (from: number, to: number) => Uint8Array.from({ length: to - from }, (_, i) => from + i);

const SECRET = range(0x10, 0x20);
const INVITE_ID = range(0xa0, 0xb0);
const CLAIM: JoinClaim = {
  org: range(0x30, 0x40),
  invite: INVITE_ID,
  account: range(0x50, 0x60),
  keys: { signing: new Uint8Array(32).fill(7), agreement: new Uint8Array(32).fill(9) },
  name: 'Zoë Ösel',
};

describe('invitation codes', () => {
  it('round-trip, lower case, and parse as invite.rs parse_code does', () => {
    const invite = newInvite();
    const code = formatInviteCode(invite);
    expect(code).toMatch(/^[0-9a-f]{32}-[0-9a-f]{32}$/);
    const back = parseInviteCode(code);
    expect(toHex(back.id)).toBe(toHex(invite.id));
    expect(toHex(back.secret)).toBe(toHex(invite.secret));
    // Surrounding white space of any kind, and upper-case hex, are accepted.
    const loose = parseInviteCode(`\u00a0 ${code.toUpperCase()}\n\t`);
    expect(toHex(loose.secret)).toBe(toHex(invite.secret));
  });

  it('refuse anything else as malformed, without repeating the code', () => {
    const id = toHex(INVITE_ID);
    const secret = toHex(SECRET);
    for (const bad of [
      '',
      'nonsense',
      `${id}${secret}`,
      `${id}-${secret}-`,
      `${id}--${secret}`,
      `${id.slice(2)}-${secret}`,
      `${id}-${secret}00`,
      `${id}-${secret.slice(0, 31)}g`,
      `${id} -${secret}`,
      // U+FEFF is not White_Space: Rust's trim keeps it, so the code is malformed.
      `\ufeff${id}-${secret}`,
    ]) {
      expect(codeOf(() => parseInviteCode(bad)), bad).toBe('malformed');
      try {
        parseInviteCode(bad);
      } catch (e) {
        expect((e as Error).message).not.toContain(secret.slice(0, 8));
        expect((e as Error).message).not.toContain(id.slice(0, 8));
      }
    }
  });
});

describe('join proof', () => {
  it('matches an independently computed HMAC-SHA256 over org ‖ invite ‖ account ‖ keys ‖ name', () => {
    expect(toHex(proveJoin(SECRET, CLAIM))).toBe('3820a0e76fd00473daa0f379f121bd7be27e33084a120ece75f1f68f10c09fca');
  });

  it('binds every field of the claim and the secret', () => {
    const proof = proveJoin(SECRET, CLAIM);
    expect(checkJoinProof(SECRET.slice(), CLAIM, proof)).toBe(true);
    const flip = (b: Uint8Array) => {
      const c = b.slice();
      c[0]! ^= 1;
      return c;
    };
    const others: JoinClaim[] = [
      { ...CLAIM, org: flip(CLAIM.org) },
      { ...CLAIM, invite: flip(CLAIM.invite) },
      { ...CLAIM, account: flip(CLAIM.account) },
      { ...CLAIM, keys: { ...CLAIM.keys, signing: flip(CLAIM.keys.signing) } },
      { ...CLAIM, keys: { ...CLAIM.keys, agreement: flip(CLAIM.keys.agreement) } },
      { ...CLAIM, name: 'Zoe Osel' },
    ];
    for (const other of others) expect(checkJoinProof(SECRET, other, proof)).toBe(false);
    expect(checkJoinProof(flip(SECRET), CLAIM, proof)).toBe(false);
    expect(checkJoinProof(SECRET, CLAIM, proof.subarray(0, 31))).toBe(false);
  });
});

describe('sealed blobs (NSLS)', () => {
  it("seal an admin's invitation secret as org.rs create_invite does, byte for byte", () => {
    const purpose = derivePurposeKey(range(0xc0, 0xe0), 'invites');
    expect(toHex(purpose)).toBe('6d62bc03c402b23ff4283bffa722377ed04b533cac1e2e70cfbbe0e2ab3c9b47');
    const payload = Uint8Array.of(...SECRET, 4);
    const sealed = sealBlob(purpose, 'northstar/v1/client/invite-secret', payload, range(0x60, 0x78));
    expect(toHex(sealed)).toBe(
      '4e534c5301606162636465666768696a6b6c6d6e6f7071727374757677c95115e5bf7b378698d1a4c7fae2dd96404b1aecc3059140f5e5e7d0fdbd6bd6ea',
    );
    expect(toHex(openBlob(purpose, 'northstar/v1/client/invite-secret', sealed))).toBe(toHex(payload));
  });

  it('open only with their key and label, and refuse damage with the localseal.rs codes', () => {
    const key = randomBytes(32);
    const sealed = sealBlob(key, 'a', utf8.encode('secret'));
    expect(sealed.length).toBe(45 + 6);
    expect(utf8.decodeStrict(openBlob(key, 'a', sealed))).toBe('secret');
    expect(codeOf(() => openBlob(key, 'b', sealed))).toBe('decrypt');
    expect(codeOf(() => openBlob(randomBytes(32), 'a', sealed))).toBe('decrypt');
    expect(codeOf(() => openBlob(key, 'a', sealed.subarray(0, 44)))).toBe('malformed');
    const magic = sealed.slice();
    magic[0] = 0x58;
    expect(codeOf(() => openBlob(key, 'a', magic))).toBe('malformed');
    const version = sealed.slice();
    version[4] = 2;
    expect(codeOf(() => openBlob(key, 'a', version))).toBe('unsupported');
    const altered = sealed.slice();
    altered[altered.length - 1]! ^= 1;
    expect(codeOf(() => openBlob(key, 'a', altered))).toBe('decrypt');
  });
});

describe("an invitation's intake keys", () => {
  const invite: Invitation = { id: INVITE_ID, secret: SECRET };

  it('seal as intake.rs seal_for_invite does, byte for byte', () => {
    const sealed = sealForInvite(
      invite,
      [
        { generation: 0, key: new Uint8Array(32).fill(1) },
        { generation: 1, key: new Uint8Array(32).fill(2) },
      ],
      range(0x78, 0x90),
    );
    expect(toHex(sealed)).toBe(
      '4e534c530178797a7b7c7d7e7f808182838485868788898a8b8c8d8e8fa3aa7b138909579d724983e3b11a0cf28d597582e670bd827f448d3b15f33cb0b9ec95a3a354eb34f0c199683a4c2b5a0410ecfbdab29581d008545195b1594fa744d62ed05ba6c070bd3df79b96d3b3cb74e3ad4006b605',
    );
  });

  it('carry the frozen desk key of intake.json to a joiner, who derives the frozen intake key from it', async () => {
    const v = readVectors<{ org: string; desk_key: { generation: number; key: string }; intake_public: string }>('intake.json');
    const desk = { generation: v.desk_key.generation, key: fromHex(v.desk_key.key) };
    const fresh = newInvite();
    const opened = openForInvite(fresh, sealForInvite(fresh, [desk]));
    expect(opened).toHaveLength(1);
    expect(opened[0]!.generation).toBe(v.desk_key.generation);
    const pair = await deriveIntakeKeyPair(fromHex(v.org), opened[0]!);
    expect(toHex(pair.publicKey)).toBe(v.intake_public);
  });

  it('open only with the same invitation', () => {
    const sealed = sealForInvite(invite, [{ generation: 3, key: randomBytes(32) }]);
    expect(codeOf(() => openForInvite({ id: INVITE_ID, secret: randomBytes(16) }, sealed))).toBe('decrypt');
    expect(codeOf(() => openForInvite({ id: randomBytes(16), secret: SECRET }, sealed))).toBe('decrypt');
    expect(openForInvite(invite, sealForInvite(invite, []))).toEqual([]);
  });
});
