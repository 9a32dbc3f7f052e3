/**
 * A record's plaintext → `RecordBody`, accepting exactly what the Rust
 * client accepts (`serde_json::from_slice::<RecordBody>` in sync.rs) and
 * refusing the rest.
 *
 * Why not `JSON.parse` and a type check: a record the Rust client cannot
 * read makes it refuse the whole case ("holds a record this client does not
 * understand"), and one it can read folds into the stage everyone sees. A
 * browser that read a different set of records would see a different case.
 * `JSON.parse` differs from serde_json on invalid UTF-8, a byte-order mark,
 * lone surrogates, duplicate keys, `1.0` where an integer belongs, nesting
 * deeper than 127; and serde's derived code accepts more than the JSON the
 * command line writes: a tagged enum also reads from an array
 * (`["note","hi"]`), an inner tag also reads from a variant index
 * (`{"event":2}` is a sign-off), and a stage also reads from a one-key map
 * (`{"screening":null}`). Every such case is a frozen vector
 * (testdata/vectors/record.json) that the Rust suite checks too.
 *
 * Parsing goes in two steps, as in serde: JSON text → a tree like serde's
 * buffered `Content` (integers kept apart from floats, keys in order,
 * duplicates kept), then the derived rules for each type over that tree.
 *
 * Known limit: a `due` beyond 2^53 (Rust's i64 reads it exactly) is
 * rounded here.
 */
import type { HouseEvent, RecordBody, WorkflowEvent } from './record.js';
import { emptyRecord } from './rust.js';
import { FLAGS, STAGES, VERDICTS } from './workflow.js';

/** serde's `Content` for what JSON can produce. */
type Content =
  | { t: 'unit' }
  | { t: 'bool'; v: boolean }
  | { t: 'u64'; v: bigint }
  | { t: 'i64'; v: bigint }
  | { t: 'f64'; v: number }
  | { t: 'string'; v: string }
  | { t: 'seq'; v: Content[] }
  | { t: 'map'; v: [string, Content][] };

class Refused extends Error {}

function refuse(why: string): never {
  throw new Refused(why);
}

/** serde_json's nesting limit: 128 levels remaining, refused on reaching 0. */
const RECURSION_LIMIT = 128;
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I64_MAX = (1n << 63n) - 1n;

const NUMBER = /(-?)(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** JSON text → `Content`, by serde_json's rules. */
class JsonReader {
  private at = 0;
  private remainingDepth = RECURSION_LIMIT;

  constructor(private readonly text: string) {}

  document(): Content {
    const value = this.value();
    this.whitespace();
    if (this.at < this.text.length) refuse('trailing characters');
    return value;
  }

  private whitespace(): void {
    while (this.at < this.text.length) {
      const c = this.text[this.at];
      if (c !== ' ' && c !== '\n' && c !== '\t' && c !== '\r') return;
      this.at++;
    }
  }

  private value(): Content {
    this.whitespace();
    const c = this.text[this.at];
    switch (c) {
      case undefined:
        return refuse('EOF while parsing a value');
      case 'n':
        return this.literal('null', { t: 'unit' });
      case 't':
        return this.literal('true', { t: 'bool', v: true });
      case 'f':
        return this.literal('false', { t: 'bool', v: false });
      case '"':
        return { t: 'string', v: this.string() };
      case '[':
        return this.nested(() => this.array());
      case '{':
        return this.nested(() => this.object());
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.number();
        return refuse('expected value');
    }
  }

  private literal(word: string, value: Content): Content {
    if (this.text.slice(this.at, this.at + word.length) !== word) refuse('expected ident');
    this.at += word.length;
    return value;
  }

  private nested(read: () => Content): Content {
    if (--this.remainingDepth === 0) refuse('recursion limit exceeded');
    const value = read();
    this.remainingDepth++;
    return value;
  }

  private array(): Content {
    this.at++;
    const items: Content[] = [];
    this.whitespace();
    if (this.text[this.at] === ']') {
      this.at++;
      return { t: 'seq', v: items };
    }
    for (;;) {
      items.push(this.value());
      this.whitespace();
      const c = this.text[this.at++];
      if (c === ']') return { t: 'seq', v: items };
      if (c !== ',') refuse('expected `,` or `]`');
    }
  }

  private object(): Content {
    this.at++;
    const entries: [string, Content][] = [];
    this.whitespace();
    if (this.text[this.at] === '}') {
      this.at++;
      return { t: 'map', v: entries };
    }
    for (;;) {
      this.whitespace();
      if (this.text[this.at] !== '"') refuse('key must be a string');
      const key = this.string();
      this.whitespace();
      if (this.text[this.at++] !== ':') refuse('expected `:`');
      entries.push([key, this.value()]);
      this.whitespace();
      const c = this.text[this.at++];
      if (c === '}') return { t: 'map', v: entries };
      if (c !== ',') refuse('expected `,` or `}`');
    }
  }

  private number(): Content {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    // serde_json refuses `01`, `1.`, `1e` and `-` outright; the regex stops
    // short of them and the character after is then no valid continuation.
    if (!match) return refuse('invalid number');
    const next = this.text[this.at + match[0].length];
    if (next !== undefined && /[0-9.eE]/.test(next)) refuse('invalid number');
    this.at += match[0].length;
    const negative = match[1] === '-';
    if (match[3] === undefined && match[4] === undefined) {
      const significand = BigInt(match[2]!);
      if (!negative && significand <= U64_MAX) return { t: 'u64', v: significand };
      // A negative zero, and anything past i64::MIN, become floats in serde_json.
      if (negative && significand >= 1n && significand <= I64_MAX + 1n) return { t: 'i64', v: -significand };
    }
    const v = Number(match[0]);
    if (!Number.isFinite(v)) refuse('number out of range');
    return { t: 'f64', v };
  }

  private string(): string {
    this.at++;
    let out = '';
    for (;;) {
      const c = this.text[this.at++];
      if (c === undefined) refuse('EOF while parsing a string');
      if (c === '"') return out;
      if (c < ' ') refuse('control character while parsing a string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const escape = this.text[this.at++];
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          out += escape;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          out += this.unicodeEscape();
          break;
        default:
          refuse('invalid escape');
      }
    }
  }

  private hex4(): number {
    const digits = this.text.slice(this.at, this.at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) refuse('invalid \\u escape');
    this.at += 4;
    return parseInt(digits, 16);
  }

  /** Surrogates must pair, as serde_json requires of a string (not of bytes). */
  private unicodeEscape(): string {
    const first = this.hex4();
    if (first >= 0xdc00 && first <= 0xdfff) refuse('lone surrogate in \\u escape');
    if (first < 0xd800 || first > 0xdbff) return String.fromCharCode(first);
    if (this.text.slice(this.at, this.at + 2) !== '\\u') refuse('unexpected end of \\u escape');
    this.at += 2;
    const second = this.hex4();
    if (second < 0xdc00 || second > 0xdfff) refuse('lone surrogate in \\u escape');
    return String.fromCharCode(first, second);
  }
}

// ---- serde's derived rules over Content -------------------------------------

function typeName(c: Content): string {
  return c.t === 'seq' ? 'sequence' : c.t === 'map' ? 'map' : c.t;
}

/** `String` (and the key of a map). */
function string(c: Content, what: string): string {
  if (c.t !== 'string') refuse(`${what}: expected a string, found ${typeName(c)}`);
  return c.v;
}

function boolean(c: Content, what: string): boolean {
  if (c.t !== 'bool') refuse(`${what}: expected a boolean, found ${typeName(c)}`);
  return c.v;
}

/** `i64`: from either integer kind in range, never from a float. */
function i64(c: Content, what: string): number {
  if (c.t === 'i64') return Number(c.v);
  if (c.t === 'u64' && c.v <= I64_MAX) return Number(c.v);
  return refuse(`${what}: expected an i64, found ${typeName(c)}`);
}

/** `Option<T>`: null is none, anything else must be a T. */
function option<T>(c: Content | undefined, read: (c: Content) => T): T | undefined {
  return c === undefined || c.t === 'unit' ? undefined : read(c);
}

/**
 * A unit-only enum (Stage, Verdict, Flag): its name, or a map of its name
 * to null or to an empty map (serde's externally tagged form of a unit).
 */
function unitEnum<T extends string>(c: Content, names: readonly T[], what: string): T {
  let name: string;
  if (c.t === 'string') name = c.v;
  else if (c.t === 'map' && c.v.length === 1) {
    const [key, value] = c.v[0]!;
    name = key;
    if (!(value.t === 'unit' || (value.t === 'map' && value.v.length === 0))) refuse(`${what}: a unit variant carries nothing`);
  } else return refuse(`${what}: expected a string or a map with a single key`);
  if (!(names as readonly string[]).includes(name)) refuse(`${what}: unknown variant '${name}'`);
  return name as T;
}

/** `BTreeMap<String, String>`: later duplicates win. */
function stringMap(c: Content, what: string): Record<string, string> {
  if (c.t !== 'map') refuse(`${what}: expected a map, found ${typeName(c)}`);
  const out = emptyRecord<string>();
  for (const [key, value] of c.v) out[key] = string(value, `${what}.${key}`);
  return out;
}

/**
 * A struct's fields, from a map (by name; unknown names ignored; a known one
 * twice refused) or from a sequence (by position; exactly as many as there
 * are fields, less trailing ones that have a default).
 */
function structFields(c: Content, names: readonly string[], optional: readonly string[], what: string): Map<string, Content> {
  const found = new Map<string, Content>();
  if (c.t === 'map') {
    for (const [key, value] of c.v) {
      if (!names.includes(key)) continue;
      if (found.has(key)) refuse(`${what}: duplicate field \`${key}\``);
      found.set(key, value);
    }
  } else if (c.t === 'seq') {
    if (c.v.length > names.length) refuse(`${what}: invalid length ${c.v.length}`);
    names.forEach((name, i) => {
      if (i < c.v.length) found.set(name, c.v[i]!);
    });
  } else {
    refuse(`${what}: expected a map or a sequence, found ${typeName(c)}`);
  }
  for (const name of names) {
    if (!found.has(name) && !optional.includes(name)) refuse(`${what}: missing field \`${name}\``);
  }
  return found;
}

/**
 * An internally tagged enum: [variant, the rest]. The tag of the record
 * itself is read by serde_json (a name only); an inner tag is read from the
 * buffered content, which also takes a variant's index.
 */
function tagged(c: Content, tag: string, variants: readonly string[], inner: boolean, what: string): [string, Content] {
  const variant = (t: Content | undefined): string => {
    if (t === undefined) return refuse(`${what}: missing field \`${tag}\``);
    if (t.t === 'string') {
      if (!variants.includes(t.v)) refuse(`${what}: unknown variant '${t.v}'`);
      return t.v;
    }
    if (inner && t.t === 'u64') {
      if (t.v >= BigInt(variants.length)) refuse(`${what}: variant index out of range`);
      return variants[Number(t.v)]!;
    }
    return refuse(`${what}: expected a variant name, found ${typeName(t)}`);
  };
  if (c.t === 'seq') return [variant(c.v[0]), { t: 'seq', v: c.v.slice(1) }];
  if (c.t !== 'map') refuse(`${what}: expected internally tagged enum, found ${typeName(c)}`);
  let name: string | undefined;
  const rest: [string, Content][] = [];
  for (const [key, value] of c.v) {
    if (key !== tag) rest.push([key, value]);
    else if (name !== undefined) refuse(`${what}: duplicate field \`${tag}\``);
    else name = variant(value);
  }
  return [name ?? variant(undefined), { t: 'map', v: rest }];
}

/** A unit variant of a tagged enum: a map may carry anything more, a sequence nothing. */
function unitVariant(rest: Content, what: string): void {
  if (rest.t === 'seq' && rest.v.length > 0) refuse(`${what}: invalid length`);
}

const EVENT_VARIANTS = ['advance', 'verdict', 'sign_off', 'document', 'flag', 'task', 'task_done'] as const;

function workflowEvent(c: Content): WorkflowEvent {
  const [variant, rest] = tagged(c, 'event', EVENT_VARIANTS, true, 'event');
  const what = `event ${variant}`;
  switch (variant as (typeof EVENT_VARIANTS)[number]) {
    case 'advance': {
      const f = structFields(rest, ['to', 'reason', 'referral'], ['reason', 'referral'], what);
      const event: WorkflowEvent = { event: 'advance', to: unitEnum(f.get('to')!, STAGES, 'to') };
      const reason = option(f.get('reason'), (r) => string(r, 'reason'));
      const referral = option(f.get('referral'), (r) => string(r, 'referral'));
      if (reason !== undefined) event.reason = reason;
      if (referral !== undefined) event.referral = referral;
      return event;
    }
    case 'verdict': {
      const f = structFields(rest, ['result'], [], what);
      return { event: 'verdict', result: unitEnum(f.get('result')!, VERDICTS, 'result') };
    }
    case 'sign_off':
      unitVariant(rest, what);
      return { event: 'sign_off' };
    case 'document': {
      const f = structFields(rest, ['name', 'done'], [], what);
      return { event: 'document', name: string(f.get('name')!, 'name'), done: boolean(f.get('done')!, 'done') };
    }
    case 'flag': {
      const f = structFields(rest, ['flag', 'raised'], [], what);
      return { event: 'flag', flag: unitEnum(f.get('flag')!, FLAGS, 'flag'), raised: boolean(f.get('raised')!, 'raised') };
    }
    case 'task': {
      const f = structFields(rest, ['id', 'title', 'due', 'closes_at'], ['closes_at'], what);
      const event: WorkflowEvent = { event: 'task', id: string(f.get('id')!, 'id'), title: string(f.get('title')!, 'title'), due: i64(f.get('due')!, 'due') };
      const closesAt = option(f.get('closes_at'), (s) => unitEnum(s, STAGES, 'closes_at'));
      if (closesAt !== undefined) event.closes_at = closesAt;
      return event;
    }
    case 'task_done': {
      const f = structFields(rest, ['id'], [], what);
      return { event: 'task_done', id: string(f.get('id')!, 'id') };
    }
  }
}

const HOUSE_VARIANTS = ['place', 'release'] as const;

function houseEvent(c: Content): HouseEvent {
  const [variant, rest] = tagged(c, 'event', HOUSE_VARIANTS, true, 'house event');
  const f = structFields(rest, ['case'], [], `house event ${variant}`);
  return { event: variant as (typeof HOUSE_VARIANTS)[number], case: string(f.get('case')!, 'case') };
}

const BODY_VARIANTS = ['fields', 'note', 'event', 'house'] as const;

function recordBody(c: Content): RecordBody {
  const [variant, rest] = tagged(c, 'kind', BODY_VARIANTS, false, 'record');
  const what = `record ${variant}`;
  switch (variant as (typeof BODY_VARIANTS)[number]) {
    case 'fields':
      return { kind: 'fields', fields: stringMap(structFields(rest, ['fields'], [], what).get('fields')!, 'fields') };
    case 'note':
      return { kind: 'note', text: string(structFields(rest, ['text'], [], what).get('text')!, 'text') };
    case 'event':
      return { kind: 'event', event: workflowEvent(structFields(rest, ['event'], [], what).get('event')!) };
    case 'house':
      return { kind: 'house', event: houseEvent(structFields(rest, ['event'], [], what).get('event')!) };
  }
}

export type ParsedBody = { ok: true; body: RecordBody } | { ok: false; error: string };

/** A record's JSON text, as serde_json reads a `&str`. */
export function parseRecordText(text: string): ParsedBody {
  // A Rust string cannot hold one; text decoded from bytes never does.
  if (LONE_SURROGATE.test(text)) return { ok: false, error: 'invalid UTF-8' };
  try {
    return { ok: true, body: recordBody(new JsonReader(text).document()) };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, error: e.message };
    throw e;
  }
}

/**
 * A record's opened plaintext, as `serde_json::from_slice` reads it: the
 * bytes must be UTF-8 (a byte-order mark is not whitespace in JSON).
 */
export function parseRecordPlaintext(plaintext: Uint8Array): ParsedBody {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plaintext);
  } catch {
    return { ok: false, error: 'invalid UTF-8' };
  }
  return parseRecordText(text);
}

/** A RecordBody as cases.rs serializes it: the tag first, fields in name order (a BTreeMap). */
export function encodeRecordBody(body: RecordBody): Uint8Array {
  let value: unknown;
  switch (body.kind) {
    case 'fields': {
      const names = Object.keys(body.fields).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      value = { kind: 'fields', fields: Object.fromEntries(names.map((n) => [n, body.fields[n]])) };
      break;
    }
    case 'note':
      value = { kind: 'note', text: body.text };
      break;
    case 'event':
    case 'house':
      value = { kind: body.kind, event: body.event };
      break;
  }
  return new TextEncoder().encode(JSON.stringify(value));
}
