const CJK_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x3040, 0x30ff], // Hiragana, Katakana
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff], // CJK ideographs
  [0xac00, 0xd7af], // Hangul
  [0xf900, 0xfaff],
];
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

export function isCjk(c: number): boolean {
  for (const [a, b] of CJK_RANGES) if (c >= a && c <= b) return true;
  return false;
}

/** ASCII letters/digits/underscore fast path; other characters through a Unicode property test. */
function isWordChar(text: string, i: number, c: number): boolean {
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90);
  return LETTER_OR_DIGIT.test(text[i]!);
}

/**
 * Lower-cased word tokens for hashing features: runs of letters/digits/underscore, single punctuation
 * marks, and single characters for CJK text (which has no spaces). Numbers longer than 3 digits
 * collapse to `#num`. At most `maxTokens` tokens (a hand-written scanner: the decision path is hot).
 */
export function tokenize(text: string, maxTokens = 512): string[] {
  const out: string[] = [];
  const n = text.length;
  let i = 0;
  while (i < n && out.length < maxTokens) {
    const c = text.charCodeAt(i);
    if (c <= 32) {
      i++;
      continue;
    }
    if (c >= 0x3040 && isCjk(c)) {
      out.push(text[i]!);
      i++;
      continue;
    }
    if (!isWordChar(text, i, c)) {
      // Skip lone surrogates; keep visible punctuation as a token.
      if (c < 0xd800 || c > 0xdfff) out.push(text[i]!);
      i++;
      continue;
    }
    let j = i + 1;
    let digits = c >= 48 && c <= 57;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d <= 32 || (d >= 0x3040 && isCjk(d)) || !isWordChar(text, j, d)) break;
      if (!(d >= 48 && d <= 57)) digits = false;
      j++;
    }
    out.push(digits && j - i >= 4 ? '#num' : text.slice(i, j).toLowerCase());
    i = j;
  }
  return out;
}
