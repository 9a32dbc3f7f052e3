/**
 * Pathways and journey legs, read back from a case's `travel` fields
 * (northstar-core pathway.rs). They are plain fields, so they merge like
 * every other field (the later entry wins; the earlier value stays in the
 * history). The field scheme, which the command line writes and travel.ts
 * writes the same way:
 *
 * | `travel` field               | value                                                   |
 * |------------------------------|---------------------------------------------------------|
 * | `pathway.N.kind`             | a `PathwayKind` name (`humanitarian-visa`, …)           |
 * | `pathway.N.destination`      | a country, two letters, upper case (`CA`)               |
 * | `pathway.N.step.STEP`        | the day of a government step (`STEPS`), `YYYY-MM-DD`   |
 * | `leg.N.from`, `leg.N.to`     | places, 1 to 100 characters                             |
 * | `leg.N.depart`               | the departure, unix seconds in decimal                  |
 * | `leg.N.checkin_by`           | when the traveller must check in by, unix seconds       |
 * | `leg.N.checked_in`           | when the check-in was recorded, unix seconds            |
 *
 * N is a `u32` in decimal as Rust parses it: `pathway.01.kind` and
 * `pathway.+1.kind` both name pathway 1 (the later in byte order wins).
 * Unix seconds beyond 2^53 parse in Rust but come back rounded here; no real
 * time is near that.
 */
import { parseI64, parseU32, sortedKeys, splitOnce } from './rust.js';

/** `PathwayKind::ALL`: the legal routes out (brief §2). */
export const PATHWAY_KINDS = ['humanitarian-visa', 'temporary-resident-permit', 'unhcr-referral', 'sponsorship', 'visa-free', 'other'] as const;
export type PathwayKind = (typeof PATHWAY_KINDS)[number];

export function isPathwayKind(name: string): name is PathwayKind {
  return (PATHWAY_KINDS as readonly string[]).includes(name);
}

/** The government's steps, in order. */
export const STEPS = ['submitted', 'interview', 'security-check', 'medical-check', 'decision', 'issued', 'expiry'] as const;
export type Step = (typeof STEPS)[number];

export function isStep(name: string): name is Step {
  return (STEPS as readonly string[]).includes(name);
}

/** A pathway as its fields describe it. */
export interface Pathway {
  number: number;
  kind: string | null;
  destination: string | null;
  /** Step → day (`YYYY-MM-DD`), in the order of `STEPS`. */
  steps: [string, string][];
}

/** A leg of the journey as its fields describe it. */
export interface Leg {
  number: number;
  from: string | null;
  to: string | null;
  depart: number | null;
  checkin_by: number | null;
  checked_in: number | null;
}

/** `Leg::missed`: the check-in was due before `now` and has not come. */
export function legMissed(leg: Leg, now: number): boolean {
  return leg.checked_in === null && leg.checkin_by !== null && leg.checkin_by < now;
}

/** `prefix.N.rest` → [N, rest]. */
function splitNumbered(name: string, prefix: string): [number, string] | null {
  if (!name.startsWith(`${prefix}.`)) return null;
  const parts = splitOnce(name.slice(prefix.length + 1), '.');
  if (!parts) return null;
  const number = parseU32(parts[0]);
  return number === null ? null : [number, parts[1]];
}

/** Fields in `BTreeMap` order, which decides who wins when two names parse to one number. */
function* inOrder(fields: Readonly<Record<string, string>>): Generator<[string, string]> {
  for (const name of sortedKeys(fields)) yield [name, fields[name]!];
}

function byNumber<T extends { number: number }>(map: Map<number, T>): T[] {
  return [...map.values()].sort((a, b) => a.number - b.number);
}

/** The pathways in a case's `travel` fields, by number. */
export function pathways(fields: Readonly<Record<string, string>>): Pathway[] {
  const out = new Map<number, Pathway>();
  for (const [name, value] of inOrder(fields)) {
    const numbered = splitNumbered(name, 'pathway');
    if (!numbered) continue;
    const [number, rest] = numbered;
    let p = out.get(number);
    if (!p) out.set(number, (p = { number, kind: null, destination: null, steps: [] }));
    if (rest === 'kind') p.kind = value;
    else if (rest === 'destination') p.destination = value;
    else if (rest.startsWith('step.')) {
      const step = rest.slice('step.'.length);
      if (isStep(step) && value !== '') p.steps.push([step, value]);
    }
  }
  const list = byNumber(out);
  const position = (step: string) => STEPS.indexOf(step as Step);
  // Array.prototype.sort is stable, as Rust's sort_by_key is: a step named
  // twice (`pathway.1.…` and `pathway.01.…`) keeps its byte order.
  for (const p of list) p.steps.sort((a, b) => position(a[0]) - position(b[0]));
  return list;
}

/** The legs in a case's `travel` fields, by number. */
export function legs(fields: Readonly<Record<string, string>>): Leg[] {
  const out = new Map<number, Leg>();
  for (const [name, value] of inOrder(fields)) {
    const numbered = splitNumbered(name, 'leg');
    if (!numbered) continue;
    const [number, rest] = numbered;
    let leg = out.get(number);
    if (!leg) out.set(number, (leg = { number, from: null, to: null, depart: null, checkin_by: null, checked_in: null }));
    const time = parseI64(value);
    if (rest === 'from') leg.from = value;
    else if (rest === 'to') leg.to = value;
    else if (rest === 'depart') leg.depart = time;
    else if (rest === 'checkin_by') leg.checkin_by = time;
    else if (rest === 'checked_in') leg.checked_in = time;
  }
  return byNumber(out);
}

/**
 * `next_number`: the next free number among `prefix.N.*` fields. After
 * `prefix.4294967295.*` (only `case set` can write one) Rust wraps its `u32`
 * to 0 on purpose; this wraps too, so both write the same field.
 */
export function nextNumber(fields: Readonly<Record<string, string>>, prefix: string): number {
  let max: number | null = null;
  for (const name of Object.keys(fields)) {
    const numbered = splitNumbered(name, prefix);
    if (numbered && (max === null || numbered[0] > max)) max = numbered[0];
  }
  return max === null ? 1 : (max + 1) % 2 ** 32;
}
