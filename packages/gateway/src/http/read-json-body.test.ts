/**
 * `firstInvalidUtf8` (the one byte pass naming the first bad byte of a body that is not UTF-8) against TextDecoder's
 * fatal mode and against the binary search it replaced (the longest prefix a streaming fatal decoder accepts), on structured and random inputs: overlong forms,
 * encoded surrogates D800-DFFF, code points above U+10FFFF, sequences cut short at the end and mid-body, 0xC0/0xC1 and
 * 0xF5-0xFF, continuation bytes alone.
 */
import { seededRandom } from '@llmrr/core/test';
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8 } from './read-json-body.js';

/** The replaced implementation (8c46f85): binary search on the longest valid prefix in streaming mode. */
function oldSearch(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.byteLength;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

function decodes(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** What the fatal decoder says for `bytes`: the offset where a streaming decoder fails, or where a cut-short tail starts. */
function expected(bytes: Uint8Array): number {
  if (decodes(bytes)) return bytes.length;
  const prefix = oldSearch(bytes);
  if (prefix < bytes.length) return prefix;
  // The whole body decodes in streaming mode: it ends inside a sequence, whose lead byte is the answer.
  let i = bytes.length - 1;
  while (i > 0 && (bytes[i]! & 0xc0) === 0x80) i--;
  return i;
}

let checked = 0;

function check(bytes: Uint8Array): void {
  const got = firstInvalidUtf8(bytes);
  const valid = decodes(bytes);
  checked++;
  // (expect() on a mismatch only: a million matchers take seconds.)
  if (got !== expected(bytes) || (got === bytes.length) !== valid) expect({ hex: Buffer.from(bytes).toString('hex'), got, valid }).toEqual({ hex: Buffer.from(bytes).toString('hex'), got: expected(bytes), valid });
}

describe('firstInvalidUtf8 agrees with TextDecoder fatal', () => {
  it('every 1- to 3-byte sequence (all 2^24 would be slow: every lead with structured tails), after ASCII and before ASCII', { timeout: 120_000 }, () => {
    // (About 600 000 checks: seconds on a quiet machine, over 30 s on a loaded one; a bound on hangs, not on speed.)
    const tails = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    for (let lead = 0; lead < 256; lead++) {
      check(Uint8Array.of(lead));
      check(Uint8Array.of(0x41, lead));
      for (const a of tails) {
        check(Uint8Array.of(lead, a));
        check(Uint8Array.of(0x7b, lead, a, 0x7d));
        for (const b of tails) {
          check(Uint8Array.of(lead, a, b));
          check(Uint8Array.of(0x22, lead, a, b, 0x22));
          for (const c of [0x41, 0x80, 0xbf, 0xc0]) check(Uint8Array.of(lead, a, b, c));
        }
      }
    }
  });

  it('named edge cases: overlongs, surrogates, above U+10FFFF, 0xC0/0xC1, 0xF5-0xFF, truncated at the end', () => {
    const cases = [
      [0xc0, 0xaf], [0xc1, 0xbf], [0xe0, 0x80, 0xaf], [0xe0, 0x9f, 0xbf], [0xf0, 0x80, 0x80, 0xaf], [0xf0, 0x8f, 0xbf, 0xbf],
      [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xed, 0x9f, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf],
      [0xf5, 0x80, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80], [0xfe], [0xff],
      [0x41, 0xe2, 0x82], [0x41, 0xf0, 0x9f, 0x98], [0x41, 0xc3], [0xef, 0xbb, 0xbf, 0x41], [0xef, 0xbb], [0x80], [0x41, 0xbf, 0x41],
    ];
    for (const c of cases) check(Uint8Array.from(c));
  });

  it('random bodies: valid UTF-8 text with 0-3 bytes broken or cut (20 000 seeded cases)', () => {
    const rand = seededRandom(34_001);
    const pick = (n: number) => Math.floor(rand() * n);
    const alphabet = ['a', '{', '"', '\u00e9', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u6f22', '\ud800\udc00', '\ud83d\ude00', '\udbff\udfff'];
    for (let n = 0; n < 20_000; n++) {
      let s = '';
      const len = pick(12);
      for (let k = 0; k < len; k++) s += alphabet[pick(alphabet.length)];
      let bytes = Uint8Array.from(Buffer.from(s, 'utf8'));
      const edits = pick(4);
      for (let e = 0; e < edits && bytes.length > 0; e++) {
        const at = pick(bytes.length);
        const kind = pick(3);
        if (kind === 0) bytes[at] = pick(256);
        else if (kind === 1) bytes = bytes.slice(0, at);
        else bytes = Uint8Array.from([...bytes.slice(0, at), pick(256), ...bytes.slice(at)]);
      }
      check(bytes);
    }
  });

  it('random bytes (20 000 seeded cases, 0-8 bytes, biased to 0x80-0xFF)', () => {
    const rand = seededRandom(34_002);
    for (let n = 0; n < 20_000; n++) {
      const bytes = new Uint8Array(Math.floor(rand() * 9));
      for (let k = 0; k < bytes.length; k++) bytes[k] = rand() < 0.2 ? Math.floor(rand() * 128) : 0x80 + Math.floor(rand() * 128);
      check(bytes);
    }
    expect(checked).toBeGreaterThan(20_000);
  });
});
