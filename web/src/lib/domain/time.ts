/**
 * Calendar arithmetic on unix seconds, in UTC, without a clock (northstar-core
 * time.rs): due times given as `2026-12-01`, `2026-12-01T14:30`, `+2h` or
 * `+7d`, and printed back. The caller passes `now`, as in Rust, so both sides
 * turn the same text into the same second.
 */
import { parseI64, rustTrim, splitOnce, utf8Length } from './rust.js';

const HOUR = 3600;
const DAY = 86_400;
const MAX_RELATIVE = 3650;

/** Floor division, which is `div_euclid` for the positive divisors used here. */
function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.trunc((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.trunc(yoe / 4) - Math.trunc(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = floorDiv(z, 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.trunc((doe - Math.trunc(doe / 1460) + Math.trunc(doe / 36_524) - Math.trunc(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.trunc(yoe / 4) - Math.trunc(yoe / 100));
  const mp = Math.trunc((5 * doy + 2) / 153);
  const day = doy - Math.trunc((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return [year, month, day];
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month === 2) return leap ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * `parse_due`: `+Nh`, `+Nd` (N from 1 to 3650, from `now`), `YYYY-MM-DD`
 * (midnight UTC) or `YYYY-MM-DDTHH:MM` (UTC); null for anything else.
 *
 * Rust reads each number with `str::parse::<i64>`, which takes a `+`: so
 * `2026-+1-01` is 1 January 2026 there, and here. Rust panics on `+2é`
 * (it splits the unit off at a byte that is inside a character); that text
 * is refused here.
 */
export function parseDue(text: string, now: number): number | null {
  const trimmed = rustTrim(text);
  if (trimmed.startsWith('+')) {
    const rest = trimmed.slice(1);
    const last = [...rest].pop() ?? '';
    if (utf8Length(last) > 1) return null;
    const n = parseI64(rest.slice(0, rest.length - last.length));
    const seconds = last === 'h' ? HOUR : last === 'd' ? DAY : null;
    if (n === null || seconds === null || n < 1 || n > MAX_RELATIVE) return null;
    return now + n * seconds;
  }
  const split = splitOnce(trimmed, 'T');
  const [date, clock] = split ?? [trimmed, null];
  const parts = date.split('-');
  if (parts.length !== 3) return null;
  const [ys, ms, ds] = parts as [string, string, string];
  if (utf8Length(ys) !== 4 || utf8Length(ms) !== 2 || utf8Length(ds) !== 2) return null;
  const [y, m, d] = [parseI64(ys), parseI64(ms), parseI64(ds)];
  if (y === null || m === null || d === null) return null;
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  let seconds = daysFromCivil(y, m, d) * DAY;
  if (clock !== null) {
    const hm = splitOnce(clock, ':');
    if (!hm) return null;
    const [hs, mins] = hm;
    if (utf8Length(hs) !== 2 || utf8Length(mins) !== 2) return null;
    const [h, min] = [parseI64(hs), parseI64(mins)];
    if (h === null || min === null || h < 0 || h >= 24 || min < 0 || min >= 60) return null;
    seconds += h * HOUR + min * 60;
  }
  return seconds;
}

/** Rust's `{:0w}`: zero-padded to `width` characters, the sign counted. */
function padded(n: number, width: number): string {
  const digits = String(Math.abs(n));
  const sign = n < 0 ? '-' : '';
  return sign + digits.padStart(width - sign.length, '0');
}

/** `format_utc`: `YYYY-MM-DD HH:MM UTC`. */
export function formatUtc(seconds: number): string {
  const [y, m, d] = civilFromDays(floorDiv(seconds, DAY));
  const rest = seconds - floorDiv(seconds, DAY) * DAY;
  return `${padded(y, 4)}-${padded(m, 2)}-${padded(d, 2)} ${padded(Math.trunc(rest / HOUR), 2)}:${padded(Math.trunc((rest % HOUR) / 60), 2)} UTC`;
}
