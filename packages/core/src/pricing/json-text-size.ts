import { FIRST_CJK, isCjk } from './count-cjk.js';

/**
 * The length of the JSON text `JSON.stringify` would produce for a value, and the script characters in its
 * strings (see count-cjk.ts), measured by a walk without building the text. Only plain JSON data is
 * measured; anything else (a `toJSON` anywhere on the way, a class instance, a boxed primitive, a bigint, a
 * value nested 64 deep or a cycle, an array of over 100 000 items, a text over 64 MiB) is left to the caller's
 * `JSON.stringify`, so it gives the same number or throws the same error.
 */
/** Deeper values, longer arrays and longer texts than these go to `JSON.stringify` (cycles end there too). */
const MAX_DEPTH = 64;
const MAX_ARRAY = 100_000;
export const MAX_LENGTH = 1 << 26;

/** The running length and script characters of the JSON text a walk measures. */
export interface JsonSize {
  length: number;
  cjk: number;
}

/**
 * What makes a string's JSON form longer than its quotes and units (an escape) or may hold a script
 * character: the units a plain regex scan skips, faster than a loop on long strings.
 */
const SPECIAL_IN_JSON = /["\\\u0000-\u001f\u1100-\uffff]/;
/** Strings at least this long are scanned by `SPECIAL_IN_JSON` first (on shorter ones the call costs more). */
const SCAN_FROM = 32;

/** Adds a string's JSON form (quotes and escapes as `JSON.stringify` writes them) to `size`. */
function addString(size: JsonSize, s: string): void {
  const n = s.length;
  let length = n + 2;
  let cjk = 0;
  let i = 0;
  if (n >= SCAN_FROM) {
    i = s.search(SPECIAL_IN_JSON);
    if (i < 0) {
      size.length += length;
      return;
    }
  }
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < FIRST_CJK) {
      if (c === 0x22 || c === 0x5c) length++; // \" and \\
      continue;
    }
    if (c < 0x20) {
      // \b \t \n \f \r, else \u00XX
      length += c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 1 : 5;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = c <= 0xdbff && i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        if (isCjk(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000)) cjk++;
      } else length += 5; // a lone surrogate: \uXXXX
    } else if (isCjk(c)) cjk++;
  }
  size.length += length;
  size.cjk += cjk;
}

function numberLength(x: number): number {
  if (x === (x | 0)) {
    // Integers of 32 bits (and -0, written "0") without making the string.
    let v = x < 0 ? -x : x;
    let digits = 1;
    while (v >= 10) {
      v = Math.floor(v / 10);
      digits++;
    }
    return x < 0 ? digits + 1 : digits;
  }
  return Number.isFinite(x) ? String(x).length : 4; // NaN and infinities are written null
}

/** A value `JSON.stringify` leaves out of an object (and writes as null in an array), with no `toJSON` to call. */
export function isSkipped(value: unknown): boolean {
  return value === undefined || typeof value === 'symbol' || (typeof value === 'function' && (value as { toJSON?: unknown }).toJSON === undefined);
}

/**
 * Adds the JSON text of `value` (not skipped) to `size`; false where the walk cannot be sure it matches
 * `JSON.stringify` (the caller then stringifies).
 */
export function addValue(size: JsonSize, value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      addString(size, value);
      return true;
    case 'number':
      size.length += numberLength(value);
      return true;
    case 'boolean':
      size.length += value ? 4 : 5;
      return true;
    case 'object':
      break;
    default:
      return false; // bigint (throws, or has a toJSON), a function with a toJSON
  }
  if (value === null) {
    size.length += 4;
    return true;
  }
  if (depth >= MAX_DEPTH || (value as { toJSON?: unknown }).toJSON !== undefined) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (proto !== Array.prototype || value.length > MAX_ARRAY) return false;
    const n = value.length;
    size.length += n === 0 ? 2 : n + 1; // brackets and commas
    for (let i = 0; i < n; i++) {
      const item: unknown = value[i];
      if (isSkipped(item)) size.length += 4;
      else if (!addValue(size, item, depth + 1)) return false;
    }
  } else {
    if (proto !== Object.prototype && proto !== null) return false; // Date, Map, boxed primitives, classes
    const record = value as Record<string, unknown>;
    let members = 0;
    for (const key of Object.keys(record)) {
      const item = record[key];
      if (isSkipped(item)) continue;
      addString(size, key);
      size.length++; // :
      members++;
      if (!addValue(size, item, depth + 1)) return false;
    }
    size.length += members === 0 ? 2 : members + 1; // braces and commas
  }
  return true;
}
