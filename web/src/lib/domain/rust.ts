/**
 * The few standard-library behaviours of Rust that the domain rules lean on,
 * reproduced exactly, because JavaScript's nearest equivalents differ at the
 * edges and an edge is all a hostile record needs to make two clients fold a
 * case differently:
 *
 * - `str::trim` strips Unicode White_Space; `String.prototype.trim` also
 *   strips U+FEFF and keeps U+0085.
 * - `chars().count()` counts code points; `.length` counts UTF-16 units.
 * - `BTreeMap<String, _>` orders keys by their UTF-8 bytes; `Array.sort`
 *   compares UTF-16 units, which disagrees once a key holds a character
 *   above U+FFFF next to one in U+E000..U+FFFF. Plain objects put
 *   integer-like keys first whatever the order.
 * - `str::parse::<u32 | u64 | i64>` takes an optional `+` (and `-` when
 *   signed), then ASCII digits only, and refuses what does not fit.
 */

const RUST_WHITESPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_WHITESPACE = new RegExp(`^[${RUST_WHITESPACE}]+`);
const TRAILING_WHITESPACE = new RegExp(`[${RUST_WHITESPACE}]+$`);

/** `str::trim`. */
export function rustTrim(text: string): string {
  return text.replace(LEADING_WHITESPACE, '').replace(TRAILING_WHITESPACE, '');
}

/** `str::chars().count()`. */
export function charCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** `str::len()`: the length in UTF-8 bytes. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const c of text) {
    const code = c.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** `Ord for str`: by UTF-8 bytes, which is by code points. */
export function compareRust(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** The keys of a string-keyed record in `BTreeMap` order. */
export function sortedKeys(record: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(record).sort(compareRust);
}

/**
 * An empty record with no prototype, so that a key such as `__proto__` (a
 * document may be called anything) is an ordinary entry, as in a `BTreeMap`.
 */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

const U32_MAX = 0xffff_ffffn;
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function parseInteger(text: string, signed: boolean, min: bigint, max: bigint): bigint | null {
  const match = (signed ? /^([+-]?)([0-9]+)$/ : /^(\+?)([0-9]+)$/).exec(text);
  if (!match) return null;
  const magnitude = BigInt(match[2]!);
  const value = match[1] === '-' ? -magnitude : magnitude;
  return value < min || value > max ? null : value;
}

/** `text.parse::<u32>().ok()`. */
export function parseU32(text: string): number | null {
  const value = parseInteger(text, false, 0n, U32_MAX);
  return value === null ? null : Number(value);
}

/**
 * `text.parse::<u64>().ok()`. Values above 2^53 keep their exact bigint
 * here; callers that need a number must say what they do with them.
 */
export function parseU64(text: string): bigint | null {
  return parseInteger(text, false, 0n, U64_MAX);
}

/**
 * `text.parse::<i64>().ok()`, as a number. Unix seconds are far below 2^53;
 * a value beyond that parses in Rust but cannot be held exactly here, so it
 * comes back rounded (documented where it matters: pathway.ts).
 */
export function parseI64(text: string): number | null {
  const value = parseInteger(text, true, I64_MIN, I64_MAX);
  return value === null ? null : Number(value);
}

/** `str::split_once`. */
export function splitOnce(text: string, separator: string): [string, string] | null {
  const at = text.indexOf(separator);
  return at < 0 ? null : [text.slice(0, at), text.slice(at + separator.length)];
}

/** `str::get(..n)`: the first `n` UTF-8 bytes, or null when `n` is past the end or inside a character. */
export function utf8Prefix(text: string, n: number): string | null {
  let bytes = 0;
  let units = 0;
  for (const c of text) {
    if (bytes === n) return text.slice(0, units);
    if (bytes > n) return null;
    const code = c.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    units += c.length;
  }
  return bytes === n ? text : null;
}
