/**
 * The pieces of the case engine that need no server: record bodies read and
 * written exactly as serde reads and writes cases.rs `RecordBody`, head pins
 * that only move up, and a key cache that wipes what it held.
 */
import { describe, expect, it } from 'vitest';
import { COMPARTMENTS, generateCompartmentKey, randomBytes } from '../../lib/crypto/index.js';
import { utf8 } from '../../lib/crypto/bytes.js';
import { CaseError, encodeRecordBody, HeadPins, KeyCache, parseRecordBody } from './casesync.js';

const parse = (text: string) => parseRecordBody(utf8.encode(text));
const encode = (body: Parameters<typeof encodeRecordBody>[0]) => new TextDecoder().decode(encodeRecordBody(body));

describe('record bodies', () => {
  // Each line as serde_json writes the Rust value: reading and writing it back gives the same bytes.
  const serde = [
    '{"kind":"fields","fields":{"alias":"Sparrow","opened":"2025-01-31","priority":"urgent"}}',
    '{"kind":"note","text":"met at the border \\"north\\" ✓"}',
    '{"kind":"event","event":{"event":"advance","to":"screening"}}',
    '{"kind":"event","event":{"event":"advance","to":"declined","reason":"outside mandate","referral":"UNHCR"}}',
    '{"kind":"event","event":{"event":"verdict","result":"not-credible"}}',
    '{"kind":"event","event":{"event":"sign_off"}}',
    '{"kind":"event","event":{"event":"document","name":"passport","done":false}}',
    '{"kind":"event","event":{"event":"flag","flag":"threat-reported","raised":true}}',
    '{"kind":"event","event":{"event":"task","id":"ack","title":"Acknowledge","due":1700000000,"closes_at":"screening"}}',
    '{"kind":"event","event":{"event":"task","id":"t","title":"T","due":-5}}',
    '{"kind":"event","event":{"event":"task_done","id":"ack"}}',
    '{"kind":"house","event":{"event":"place","case":"00112233445566778899aabbccddeeff"}}',
    '{"kind":"house","event":{"event":"release","case":"00112233445566778899aabbccddeeff"}}',
  ];

  it('reads what the Rust client writes and writes it back byte for byte', () => {
    for (const line of serde) {
      const body = parse(line);
      expect(body, line).toBeDefined();
      expect(encode(body!)).toBe(line);
    }
  });

  it('writes fields in name order, as a BTreeMap serializes', () => {
    expect(encode({ kind: 'fields', fields: { priority: 'normal', alias: 'Wren', Zeta: 'z' } })).toBe(
      '{"kind":"fields","fields":{"Zeta":"z","alias":"Wren","priority":"normal"}}',
    );
  });

  it('reads as leniently as serde and no more: extra keys ignored, null options absent', () => {
    expect(parse('{"kind":"note","text":"x","extra":[1]}')).toEqual({ kind: 'note', text: 'x' });
    expect(parse('{"kind":"event","event":{"event":"advance","to":"closed","reason":null}}')).toEqual({
      kind: 'event',
      event: { event: 'advance', to: 'closed' },
    });
    const fields = parse('{"kind":"fields","fields":{"__proto__":"x"}}');
    expect(fields?.kind).toBe('fields');
    const map = (fields as { fields: Record<string, string> }).fields;
    expect(Object.hasOwn(map, '__proto__')).toBe(true);
    // A record without a prototype: nothing a field is named can reach Object.prototype.
    expect(Object.getPrototypeOf(map)).toBeNull();
  });

  it('refuses what serde refuses', () => {
    for (const bad of [
      'null',
      '[]',
      '{"kind":"fields","fields":{"alias":7}}',
      '{"kind":"fields"}',
      '{"kind":"note"}',
      '{"kind":"memo","text":"x"}',
      '{"kind":"event","event":{"event":"advance","to":"nowhere"}}',
      '{"kind":"event","event":{"event":"advance"}}',
      '{"kind":"event","event":{"event":"advance","to":"closed","reason":3}}',
      '{"kind":"event","event":{"event":"verdict","result":"maybe"}}',
      '{"kind":"event","event":{"event":"document","name":"p","done":"yes"}}',
      '{"kind":"event","event":{"event":"flag","flag":"lost_contact","raised":true}}',
      '{"kind":"event","event":{"event":"task","id":"t","title":"T","due":1.5}}',
      '{"kind":"event","event":{"event":"task","id":"t","title":"T","due":1,"closes_at":"later"}}',
      '{"kind":"event","event":{"event":"launch"}}',
      '{"kind":"house","event":{"event":"evict","case":"x"}}',
      '{"kind":"note","text":"x"',
    ]) {
      expect(parse(bad), bad).toBeUndefined();
    }
    // Not UTF-8, or a byte-order mark in front: serde_json refuses both.
    expect(parseRecordBody(new Uint8Array([0x7b, 0xff, 0x7d]))).toBeUndefined();
    expect(parse('\uFEFF{"kind":"note","text":"x"}')).toBeUndefined();
  });
});

describe('HeadPins', () => {
  it('only moves up', () => {
    const pins = new HeadPins();
    pins.raise('c', 3, 'aa');
    pins.raise('c', 2, 'bb');
    pins.raise('c', 3, 'cc');
    expect(pins.get('c')).toEqual({ seq: 3, hash: 'aa' });
    pins.raise('c', 4, 'dd');
    expect(pins.get('c')).toEqual({ seq: 4, hash: 'dd' });
    expect(pins.get('other')).toBeUndefined();
  });
});

describe('KeyCache', () => {
  const target = (compartment: 1 | 3) => ({ org: randomBytes(16), object: randomBytes(16), compartment });

  it('forgets the compartments no longer held, and wipes every key on clear', () => {
    const cache = new KeyCache();
    const summary = generateCompartmentKey(0);
    const story = generateCompartmentKey(2);
    cache.ring('c', target(COMPARTMENTS.summary)).insert(summary);
    cache.ring('c', target(COMPARTMENTS.story)).insert(story);
    expect(cache.has('c', COMPARTMENTS.story, 2)).toBe(true);
    expect(cache.has('c', COMPARTMENTS.story, 1)).toBe(false);
    cache.retain('c', new Set([COMPARTMENTS.summary]));
    expect(cache.has('c', COMPARTMENTS.story, 2)).toBe(false);
    expect(story.key.every((b) => b === 0)).toBe(true);
    expect(summary.key.some((b) => b !== 0)).toBe(true);
    cache.clear(true);
    expect(cache.size).toBe(0);
    expect(summary.key.every((b) => b === 0)).toBe(true);
    expect(() => cache.ring('c', target(COMPARTMENTS.summary))).toThrow(CaseError);
  });
});
