/**
 * Byte-level helpers for the fixed layouts of the Rust core (wire.rs).
 * All integers are big-endian; u64 values are bigints so no sequence number
 * above 2^53 is silently rounded.
 */
import { malformed, unsupported } from './errors.js';

const HEX = '0123456789abcdef';

/** Lower-case hex, the form of the vectors, URLs and JSON. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

/** Parse hex (either case). Throws a TypeError on odd length or a bad digit: a programming or input error, not a format error. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new TypeError('hex string has odd length');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new TypeError('invalid hex digit');
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** ASCII text (magics, labels) as bytes. */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => {
    const code = c.charCodeAt(0);
    if (code > 0x7f) throw new RangeError('not ASCII');
    return code;
  });
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time-ish equality (no early exit); lengths are public. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export const utf8 = {
  encode(s: string): Uint8Array {
    return new TextEncoder().encode(s);
  },
  /**
   * Strict decoding like Rust's `std::str::from_utf8`: invalid sequences are
   * refused (`fatal`) and a leading U+FEFF is kept (`ignoreBOM`), so a name
   * with a byte-order mark is judged as Rust judges it.
   */
  decodeStrict(b: Uint8Array): string | undefined {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
    } catch {
      return undefined;
    }
  },
};

export function u8(v: number): Uint8Array {
  checkUint(v, 0xff, 'u8');
  return Uint8Array.of(v);
}

export function u16be(v: number): Uint8Array {
  checkUint(v, 0xffff, 'u16');
  return Uint8Array.of(v >>> 8, v & 0xff);
}

export function u32be(v: number): Uint8Array {
  checkUint(v, 0xffffffff, 'u32');
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

export function u64be(v: bigint): Uint8Array {
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError('u64 out of range');
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, false);
  return out;
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range`);
}

/** Builds a layout field by field, as wire.rs Writer does. */
export class Writer {
  private parts: Uint8Array[] = [];
  private n = 0;

  bytes(b: Uint8Array): this {
    this.parts.push(b);
    this.n += b.length;
    return this;
  }
  u8(v: number): this {
    return this.bytes(u8(v));
  }
  u16(v: number): this {
    return this.bytes(u16be(v));
  }
  u32(v: number): this {
    return this.bytes(u32be(v));
  }
  u64(v: bigint): this {
    return this.bytes(u64be(v));
  }
  get length(): number {
    return this.n;
  }
  finish(): Uint8Array {
    return concat(...this.parts);
  }
}

/**
 * Reads a layout field by field. Running out of bytes, or bytes left over at
 * `finish`, is 'malformed' for the named format, exactly as wire.rs Reader.
 */
export class Reader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    readonly format: string,
  ) {}

  take(n: number): Uint8Array {
    const end = this.pos + n;
    if (!Number.isSafeInteger(end) || end > this.buf.length) throw malformed(this.format, 'truncated');
    const s = this.buf.subarray(this.pos, end);
    this.pos = end;
    return s;
  }
  /** A copy, for values that outlive the input buffer (ids, keys, hashes). */
  array(n: number): Uint8Array {
    return this.take(n).slice();
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u16(): number {
    const b = this.take(2);
    return (b[0]! << 8) | b[1]!;
  }
  u32(): number {
    const b = this.take(4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }
  u64(): bigint {
    const b = this.take(8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
  }
  /** Magic first ('malformed' if wrong), then the version byte ('unsupported' if not ours). */
  expectMagic(magic: string, version: number): void {
    const m = this.take(4);
    for (let i = 0; i < 4; i++) {
      if (m[i] !== magic.charCodeAt(i)) throw malformed(this.format, 'wrong magic');
    }
    if (this.u8() !== version) throw unsupported(this.format);
  }
  get position(): number {
    return this.pos;
  }
  finish(): void {
    if (this.pos !== this.buf.length) throw malformed(this.format, 'trailing bytes');
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Base64url without padding (RFC 4648 §5), the form of bytes in the HTTP API.
 * Built on the platform's `btoa`, present in browsers and in Node.
 */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Parse base64url without padding. Throws a TypeError on padding, a character
 * outside the alphabet or an impossible length: an input error, not a format error.
 */
export function fromBase64Url(text: string): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new TypeError('not base64url without padding');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
