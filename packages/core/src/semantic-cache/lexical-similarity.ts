/**
 * Surface (lexical) similarity of two questions: the Dice coefficient of their character trigram sets,
 * after lower-casing and collapsing whitespace. It needs no corpus statistics (so it works the same in
 * every namespace and store), and it notices what a sentence embedding blurs: a different identifier
 * (`load_from_disk` vs `save_to_disk`), version, number or name in otherwise similar sentences.
 *
 * A lookup compares its question with several candidates, so this is written not to allocate per
 * candidate: the normalized text is never built as a string, each trigram is a number (three UTF-16 code
 * units packed into 48 bits, exact in a double), the normalized text and a candidate's trigrams go into
 * reused buffers (sorted and de-duplicated in place), and the Dice coefficient is one merge with the
 * question's.
 */

/** Distinct trigram codes of a text, ascending. */
export type TrigramSet = Float64Array;

/** The whitespace of `\s` in JavaScript regular expressions. */
function isSpace(c: number): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

const LOWER = new Map<number, number>();
/** Lower case of one UTF-16 code unit (a unit whose lower case is longer stays as it is). */
function lower(c: number): number {
  if (c < 128) return c >= 65 && c <= 90 ? c + 32 : c;
  let l = LOWER.get(c);
  if (l === undefined) {
    const s = String.fromCharCode(c).toLowerCase();
    l = s.length === 1 ? s.charCodeAt(0) : c;
    LOWER.set(c, l);
  }
  return l;
}

let units = new Uint16Array(512);

/**
 * Writes the normalized text into the reused `units` buffer (grown as needed) and returns its length:
 * one leading space, the code units lower-cased with every run of whitespace as one space and none at
 * either end, one trailing space.
 */
function normalizeInto(text: string): number {
  if (units.length < text.length + 2) units = new Uint16Array(Math.max(units.length * 2, text.length + 2));
  const out = units;
  let n = 0;
  out[n++] = 32;
  let started = false;
  let pendingSpace = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      if (started) pendingSpace = true;
      continue;
    }
    if (pendingSpace) {
      out[n++] = 32;
      pendingSpace = false;
    }
    out[n++] = lower(c);
    started = true;
  }
  out[n++] = 32;
  return n;
}

/** The normalized text as a string (for display and tests): lower-cased, whitespace collapsed, padded with one space. */
export function normalizeForLexical(text: string): string {
  const n = normalizeInto(text);
  let s = '';
  for (let i = 0; i < n; i += 4_096) s += String.fromCharCode(...units.subarray(i, Math.min(n, i + 4_096)));
  return s;
}

let scratch = new Float64Array(512);

/** Writes the distinct trigram codes of `text`, ascending, into `scratch` (grown as needed); returns how many. */
function fillTrigrams(text: string): number {
  const len = normalizeInto(text);
  if (scratch.length < len) scratch = new Float64Array(Math.max(scratch.length * 2, len));
  const buf = scratch;
  const u = units;
  let n = 0;
  for (let i = 0; i + 2 < len; i++) buf[n++] = (u[i]! * 65_536 + u[i + 1]!) * 65_536 + u[i + 2]!;
  buf.subarray(0, n).sort();
  let k = 0;
  for (let i = 0; i < n; i++) if (i === 0 || buf[i] !== buf[k - 1]) buf[k++] = buf[i]!;
  return k;
}

/** The distinct character trigrams of a text (after normalizing it), as a new array. */
export function trigrams(text: string): TrigramSet {
  const n = fillTrigrams(text); // first: it may replace the buffer
  return scratch.slice(0, n);
}

/** Dice coefficient of two trigram sets: 2 |A intersect B| / (|A|+|B|), in [0, 1]; 0 when either is empty. */
export function diceOf(a: TrigramSet, b: TrigramSet): number {
  return diceWith(a, b, b.length);
}

function diceWith(a: TrigramSet, b: Float64Array, bLength: number): number {
  if (a.length === 0 || bLength === 0) return 0;
  let i = 0;
  let j = 0;
  let shared = 0;
  while (i < a.length && j < bLength) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      shared++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return (2 * shared) / (a.length + bLength);
}

/** Dice of a prepared trigram set with a text, without allocating (the text's trigrams go to a reused buffer). */
export function diceWithText(a: TrigramSet, text: string): number {
  const n = fillTrigrams(text); // first: it may replace the buffer
  return diceWith(a, scratch, n);
}

/** Character-trigram Dice similarity of two texts, in [0, 1]. */
export function trigramDice(a: string, b: string): number {
  return diceWithText(trigrams(a), b);
}

/**
 * A fingerprint of the normalized text (FNV-1a of its code units and its length), without building it.
 * Equal texts up to case and whitespace have equal keys; unequal keys mean unequal texts.
 */
export function textKey(text: string): number {
  const n = normalizeInto(text);
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ units[i]!, 16777619);
  return (h >>> 0) * 1_048_576 + (n % 1_048_576);
}

/** Whether two texts are the same up to case and whitespace. */
export function sameText(a: string, b: string, keyA = textKey(a), keyB = textKey(b)): boolean {
  return keyA === keyB && normalizeForLexical(a) === normalizeForLexical(b);
}

/**
 * Whether two texts are the same up to whitespace (runs of it count as one space, none at either end), case kept:
 * "README.md" is not "readme.md" (tool arguments, file paths, ids and user names are case-sensitive).
 */
export function sameWording(a: string, b: string): boolean {
  if (a === b) return true;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && isSpace(a.charCodeAt(i))) i++;
    while (j < b.length && isSpace(b.charCodeAt(j))) j++;
    if (i === a.length || j === b.length) return i === a.length && j === b.length;
    // A word on each side: the same code units, then a space or the end on both.
    while (i < a.length && j < b.length && !isSpace(a.charCodeAt(i)) && a.charCodeAt(i) === b.charCodeAt(j)) {
      i++;
      j++;
    }
    const endA = i === a.length || isSpace(a.charCodeAt(i));
    const endB = j === b.length || isSpace(b.charCodeAt(j));
    if (!endA || !endB) return false;
  }
}
