const WORD = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}]/gu;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * Lower-cased word tokens for hashing features: runs of letters/digits, single punctuation marks,
 * and single characters for CJK text (which has no spaces). Numbers longer than 3 digits collapse to `#num`.
 */
export function tokenize(text: string, maxTokens = 512): string[] {
  const out: string[] = [];
  WORD.lastIndex = 0;
  for (const m of text.toLowerCase().matchAll(WORD)) {
    const t = m[0];
    if (CJK_CHAR.test(t)) {
      for (const ch of t) out.push(ch);
    } else out.push(/^\d{4,}$/.test(t) ? '#num' : t);
    if (out.length >= maxTokens) break;
  }
  return out;
}
