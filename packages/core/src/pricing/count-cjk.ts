/**
 * Counting Han, Hiragana, Katakana and Hangul characters (the scripts `estimateTokens` counts as ~1 token
 * each) cheaply, with the numbers of the plain definition (a `/[\p{Script=Han}...]/gu` match count):
 * - No character of those scripts is below U+1100 (the exhaustive code-point test in
 *   estimate-tokens.equivalence.test.ts fails on a runtime where that no longer holds), so a text without a
 *   code unit >= U+1100 has none; `MAYBE_CJK` (a plain, non-Unicode regex) finds the first such unit, and on a
 *   Latin-1 string V8 answers without a scan.
 * - From there, one pass over the code units classifies each code point by a table, built lazily per block
 *   of 256 code points from the Unicode-property regex itself (so it follows the runtime's Unicode version).
 */
const CJK_CHAR = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]$/u;
/** The lowest code point of those scripts (U+1100, Hangul Jamo); every one is at or above it. */
export const FIRST_CJK = 0x1100;
/** A code unit at or above U+1100 (surrogates included): the only place a script character can start. */
export const MAYBE_CJK = /[\u1100-\uffff]/;

/** Per block of 256 code points: 0 not classified yet, 1 no script character, 2 all, 3 some (`someBits`). */
const blockKind = new Uint8Array(0x110000 >>> 8);
/** For a block of kind 3: one bit per code point. */
const someBits: (Uint32Array | undefined)[] = [];

function classifyBlock(block: number): number {
  const bits = new Uint32Array(8);
  let count = 0;
  for (let k = 0; k < 256; k++) {
    if (CJK_CHAR.test(String.fromCodePoint((block << 8) | k))) {
      bits[k >>> 5]! |= 1 << (k & 31);
      count++;
    }
  }
  const kind = count === 0 ? 1 : count === 256 ? 2 : 3;
  if (kind === 3) someBits[block] = bits;
  blockKind[block] = kind;
  return kind;
}

export function isCjk(cp: number): boolean {
  const block = cp >>> 8;
  let kind = blockKind[block]!;
  if (kind === 0) kind = classifyBlock(block);
  return kind === 2 || (kind === 3 && (someBits[block]![(cp & 255) >>> 5]! & (1 << (cp & 31))) !== 0);
}

/**
 * Script characters in `text` from index `from` on, counted per code point as the `u` regex walks the text:
 * a high surrogate followed by a low one is one code point; a lone surrogate is none of those scripts.
 */
export function countCjk(text: string, from: number): number {
  let cjk = 0;
  const n = text.length;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < FIRST_CJK) continue;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        if (isCjk(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000)) cjk++;
        continue;
      }
    }
    if (isCjk(c)) cjk++;
  }
  return cjk;
}
