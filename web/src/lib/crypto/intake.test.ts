/**
 * Round trips of the intake formats sealed and opened here (the frozen
 * vectors in vectors.test.ts hold them to the Rust bytes), and the paths the
 * vectors do not reach: every refusal code, codename reading, referral
 * normalisation, the solver's progress and the base64url of the HTTP API.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { fromBase64Url, toBase64Url, toHex, utf8 } from './bytes.js';
import { generateCompartmentKey } from './grant.js';
import { generateMemberKeys, keyId, memberPublicKeys } from './identity.js';
import {
  accessHash,
  CODENAME_WORDS,
  codenameKeys,
  deriveIntakeKeyPair,
  generateCodename,
  leadingZeroBits,
  newReferralCode,
  openSealed,
  parseCodename,
  parseSealedHeader,
  powHash,
  powSolve,
  REFERRAL_ALPHABET,
  referralHash,
  sealReply,
  sealRequest,
  sealStaffNote,
} from './intake.js';
import { randomBytes } from './kdf.js';
import { codeOf, codeOfAsync } from './testing.js';
import { EFF_LARGE_WORDLIST } from './wordlist.js';

const org = randomBytes(16);
const conversation = randomBytes(16);
const otherConversation = randomBytes(16);

describe('intake: sealed to the intake team', () => {
  it('a request opens only in its conversation and with its generation', async () => {
    const keys = await deriveIntakeKeyPair(org, generateCompartmentKey(3));
    const sealed = await sealRequest(org, 3, keys.publicKey, conversation, utf8.encode('help'));
    expect(parseSealedHeader(sealed)).toEqual({ by: 'requester', generation: 3 });
    const opened = await openSealed(org, conversation, keys, sealed);
    expect(utf8.decodeStrict(opened.plaintext)).toBe('help');
    expect(opened.by).toBe('requester');
    expect(await codeOfAsync(() => openSealed(org, otherConversation, keys, sealed))).toBe('decrypt');
    expect(await codeOfAsync(() => openSealed(randomBytes(16), conversation, keys, sealed))).toBe('decrypt');
    const nextGeneration = await deriveIntakeKeyPair(org, generateCompartmentKey(4));
    expect(await codeOfAsync(() => openSealed(org, conversation, nextGeneration, sealed))).toBe('unknown-generation');
    // The generation is bound in `info`: rewriting it in the header does not open with the other key.
    const relabelled = sealed.slice();
    relabelled[9] = 4;
    expect(await codeOfAsync(() => openSealed(org, conversation, nextGeneration, relabelled))).toBe('decrypt');
  });

  it('the same desk key derives the same intake key; another does not', async () => {
    const desk = generateCompartmentKey(1);
    const a = await deriveIntakeKeyPair(org, desk);
    const b = await deriveIntakeKeyPair(org, { generation: 1, key: desk.key.slice() });
    const otherOrg = await deriveIntakeKeyPair(randomBytes(16), desk);
    expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
    expect(toHex(a.publicKey)).not.toBe(toHex(otherOrg.publicKey));
  });

  it("a staff note needs its author's key and signature", async () => {
    const keys = await deriveIntakeKeyPair(org, generateCompartmentKey(1));
    const author = generateMemberKeys();
    const stranger = generateMemberKeys();
    const sealed = await sealStaffNote(org, 1, keys.publicKey, conversation, utf8.encode('ok'), author);
    expect(parseSealedHeader(sealed).by).toBe('staff');
    const opened = await openSealed(org, conversation, keys, sealed, memberPublicKeys(author));
    expect(utf8.decodeStrict(opened.plaintext)).toBe('ok');
    expect(toHex(opened.author!)).toBe(toHex(keyId(memberPublicKeys(author))));
    expect(await codeOfAsync(() => openSealed(org, conversation, keys, sealed, memberPublicKeys(stranger)))).toBe('unexpected-signer');
    expect(await codeOfAsync(() => openSealed(org, conversation, keys, sealed))).toBe('unexpected-signer');
    const flipped = sealed.slice();
    flipped[20]! ^= 1;
    expect(await codeOfAsync(() => openSealed(org, conversation, keys, flipped, memberPublicKeys(author)))).toBe('signature');
    // The signature covers the conversation too.
    expect(await codeOfAsync(() => openSealed(org, otherConversation, keys, sealed, memberPublicKeys(author)))).toBe('signature');
  });

  it('refuses broken headers by name, as the Rust reader does', async () => {
    const keys = await deriveIntakeKeyPair(org, generateCompartmentKey(2));
    const sealed = await sealRequest(org, 2, keys.publicKey, conversation, utf8.encode('x'));
    const withByte = (at: number, value: number) => {
      const b = sealed.slice();
      b[at] = value;
      return b;
    };
    expect(codeOf(() => parseSealedHeader(withByte(0, 0x41)))).toBe('malformed');
    expect(codeOf(() => parseSealedHeader(withByte(4, 2)))).toBe('unsupported');
    expect(codeOf(() => parseSealedHeader(withByte(5, 3)))).toBe('malformed');
    expect(codeOf(() => parseSealedHeader(sealed.subarray(0, 7)))).toBe('malformed');
    expect(codeOf(() => parseSealedHeader(sealed.subarray(0, 10 + 47)))).toBe('malformed');
    // A requester message relabelled as a staff note is too short to carry a key id and signature.
    expect(codeOf(() => parseSealedHeader(withByte(5, 2)))).toBe('malformed');
    expect(await codeOfAsync(() => sealRequest(org, 2, new Uint8Array(31), conversation, new Uint8Array(0)))).toBe('malformed');
    expect(await codeOfAsync(() => sealRequest(org, 2, new Uint8Array(32), conversation, new Uint8Array(0)))).toBe('malformed');
  });
});

describe('intake: codenames', () => {
  it('are eight list words, and read back however they are typed', () => {
    const codename = generateCodename();
    const words = codename.split(' ');
    expect(words.length).toBe(CODENAME_WORDS);
    expect(words.every((w) => EFF_LARGE_WORDLIST.includes(w))).toBe(true);
    expect(parseCodename(codename.toUpperCase().replaceAll(' ', ' - '))).toBe(codename);
    expect(parseCodename(`  ${words.join(',\u00a0')}. `)).toBe(codename);
    expect(parseCodename(words.join('\n'))).toBe(codename);
    // Seven words are accepted (the brief allows 7–8); six and nine are not.
    expect(parseCodename(words.slice(0, 7).join(' '))).toBe(words.slice(0, 7).join(' '));
    expect(codeOf(() => parseCodename(words.slice(0, 6).join(' ')))).toBe('malformed');
    expect(codeOf(() => parseCodename(`${codename} ${words[0]}`))).toBe('malformed');
    expect(codeOf(() => parseCodename('not real words at all here friend'))).toBe('malformed');
    expect(codeOf(() => parseCodename(''))).toBe('malformed');
    expect(codeOf(() => parseCodename(codename.replace(' ', '_')))).toBe('malformed');
  });

  it('draw every word of the list, not a biased part of it', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4000; i++) for (const w of generateCodename().split(' ')) seen.add(w);
    // 32,000 uniform draws from 7,776 words miss about 1.6 % of them; a generator stuck on part of the list misses far more.
    expect(seen.size).toBeGreaterThan(7500);
  });

  it('derive keys that open their replies, and only theirs', async () => {
    const codename = generateCodename();
    const keys = await codenameKeys(codename, org);
    const again = await codenameKeys(parseCodename(codename.toUpperCase()), org);
    expect(toHex(again.access)).toBe(toHex(keys.access));
    expect(toHex(again.replyPublic)).toBe(toHex(keys.replyPublic));
    expect(accessHash(keys.access).length).toBe(32);
    const reply = await sealReply(org, conversation, keys.replyPublic, utf8.encode('we read you'));
    expect(utf8.decodeStrict(await keys.openReply(org, conversation, reply))).toBe('we read you');
    expect(await codeOfAsync(() => keys.openReply(org, otherConversation, reply))).toBe('decrypt');
    const stranger = await codenameKeys(generateCodename(), org);
    expect(await codeOfAsync(() => stranger.openReply(org, conversation, reply))).toBe('decrypt');
    expect(toHex(stranger.access)).not.toBe(toHex(keys.access));
    const otherOrg = await codenameKeys(codename, randomBytes(16));
    expect(toHex(otherOrg.access)).not.toBe(toHex(keys.access));
    const wrongMagic = reply.slice();
    wrongMagic[3] = 0x4e;
    expect(await codeOfAsync(() => keys.openReply(org, conversation, wrongMagic))).toBe('malformed');
    expect(await codeOfAsync(() => keys.openReply(org, conversation, reply.subarray(0, 20)))).toBe('malformed');
    expect(await codeOfAsync(() => keys.openReply(org, conversation, reply.subarray(0, 40)))).toBe('decrypt');
  });

  it('report the progress of the slow hash', async () => {
    const seen: number[] = [];
    await codenameKeys(generateCodename(), org, (f) => seen.push(f));
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThanOrEqual(1);
  });
});

describe('intake: proof of work', () => {
  it('counts leading zero bits', () => {
    const hash = new Uint8Array(32);
    expect(leadingZeroBits(hash)).toBe(256);
    hash[0] = 0x80;
    expect(leadingZeroBits(hash)).toBe(0);
    hash[0] = 0;
    hash[1] = 0x01;
    expect(leadingZeroBits(hash)).toBe(15);
  });

  it('solves with the smallest nonce, in slices, reporting progress', async () => {
    const challenge = randomBytes(40);
    const progress: number[] = [];
    const nonce = await powSolve(challenge, 14, { sliceMs: 1, onProgress: (f) => progress.push(f) });
    expect(leadingZeroBits(powHash(challenge, nonce))).toBeGreaterThanOrEqual(14);
    for (let n = 0; n < nonce; n++) expect(leadingZeroBits(powHash(challenge, n))).toBeLessThan(14);
    expect(progress.every((f, i) => f >= 0 && f < 1 && (i === 0 || f >= progress[i - 1]!))).toBe(true);
    expect(powHash(challenge, nonce)).toEqual(powHash(challenge, BigInt(nonce)));
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(powSolve(randomBytes(40), 64, { sliceMs: 1, signal: controller.signal })).rejects.toThrow();
  });
});

describe('intake: referral codes and the API encoding', () => {
  it('hash the same however a referral code is typed', () => {
    const expected = createHash('sha256').update('northstar/v1/intake/referral0ABC1DEF2GHJ').digest('hex');
    expect(toHex(referralHash('REF-0ABC-1DEF-2GHJ'))).toBe(expected);
    expect(toHex(referralHash('ref 0abc 1def 2ghj'))).toBe(expected);
    expect(toHex(referralHash('0ABC-1DEF-2GHJ'))).toBe(expected);
    expect(toHex(referralHash(' r e f-0abc\t1def\u20032ghj '))).toBe(expected);
    expect(toHex(referralHash('REF-0000-0000-0000'))).not.toBe(expected);
  });

  it('make referral codes as intake.rs new_referral_code: the low 5 bits of each draw, in Crockford base 32', () => {
    expect(REFERRAL_ALPHABET).toBe('0123456789ABCDEFGHJKMNPQRSTVWXYZ');
    expect(newReferralCode(Uint32Array.from({ length: 12 }, (_, i) => i))).toBe('REF-0123-4567-89AB');
    // High bits are dropped, as `next_u32() & 31` drops them.
    expect(newReferralCode(Uint32Array.of(31, 0xffffffff, 32, 0x12345678, 0xdeadbeef, 17, 18, 19, 20, 26, 27, 30))).toBe('REF-ZZ0R-FHJK-MTVY');
    expect(() => newReferralCode(new Uint32Array(11))).toThrow(RangeError);
    const code = newReferralCode();
    expect(code).toMatch(/^REF-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(toHex(referralHash(code.toLowerCase().replace(/-/g, ' ')))).toBe(toHex(referralHash(code)));
  });

  it('base64url without padding round-trips and refuses other forms', () => {
    for (let n = 0; n < 40; n++) {
      const b = randomBytes(n);
      const text = toBase64Url(b);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(fromBase64Url(text)).toEqual(b);
    }
    expect(toBase64Url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(() => fromBase64Url('-_8=')).toThrow(TypeError);
    expect(() => fromBase64Url('+/8')).toThrow(TypeError);
    expect(() => fromBase64Url('abcde')).toThrow(TypeError);
  });
});
