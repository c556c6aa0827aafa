/**
 * A word, with an inner apostrophe kept: "doesn't", "can\u2019t". An apostrophe as typed is ASCII ', U+2019, U+2018
 * (some smart-quote input), U+00B4 (the acute accent of European keyboards), U+02BC (the modifier letter, a letter to
 * \p{L}: taken out of the letters here), U+FF07 (full-width) or a backtick. (A letter is `(?!\u02bc)\p{L}`.)
 */
const WORD = /(?:(?!\u02bc)\p{L})+(?:['`\u00b4\u2018\u2019\u02bc\uff07](?:(?!\u02bc)\p{L})+)*/gu;
/** The apostrophes `WORD` joins other than ASCII ': read as it. */
const OTHER_APOSTROPHE = /[`\u00b4\u2018\u2019\u02bc\uff07]/g;
/** A negated contraction, with a further one after it ("shouldn't've"): its stem is what comes before "n't". */
const NT_CONTRACTION = /n't(?:'\p{L}+)?$/u;
/** Words that negate what they stand in (contractions in "n't" are found by their ending). */
const NEGATIONS: ReadonlySet<string> = new Set(['not', 'no', 'never', 'none', 'nothing', 'nobody', 'nowhere', 'neither', 'nor', 'cannot', 'without']);
/** Negated contractions typed without the apostrophe ("dont", "doesnt"). */
const BARE_CONTRACTIONS: ReadonlySet<string> = new Set([
  'dont', 'doesnt', 'didnt', 'isnt', 'arent', 'wasnt', 'werent', 'cant', 'couldnt', 'shouldnt', 'wouldnt', 'wont', 'hasnt', 'havent', 'hadnt', 'mustnt', 'neednt', 'aint',
]);
/** The verb of a negated contraction whose stem is not the verb ("can't" is "can", "won't" is "will"). */
const IRREGULAR_STEMS: Readonly<Record<string, string>> = { ca: 'can', wo: 'will', sha: 'shall', ai: 'is' };
/** "No" answering a yes/no question ("No, it doesn't ..."): an interjection, not a negation of what follows. */
const LEADING_NO = /^\s*no\s*[,.!;:]/iu;

/** What the negation rule compares of a question: how many negations it holds, and its other words. */
export interface NegationProfile {
  negations: number;
  /** The question's words, lower-cased, negations left out and negated contractions as their verb ("doesn't" is "does"). */
  words: Set<string>;
}

/**
 * The negations of a text and its other words. A negation is a word of `NEGATIONS` ("not", "no", "never", "none",
 * "nothing", "nobody", "nowhere", "neither", "nor", "cannot", "without") or a contraction in "n't" (with or without its
 * apostrophe, in any of `WORD`'s: "doesn't", "doesnt", "can\u2019t", "doesn\u00b4t"; a further contraction after it:
 * "shouldn't've"), lower-cased; a leading "No," (an answer's interjection) is not one. English words only.
 */
export function negationProfile(text: string): NegationProfile {
  const words = new Set<string>();
  let negations = 0;
  let first = true;
  for (const m of text.matchAll(WORD)) {
    const w = m[0].toLowerCase().replaceAll(OTHER_APOSTROPHE, "'");
    const leading = first;
    first = false;
    if (leading && w === 'no' && LEADING_NO.test(text)) continue;
    let stem: string | undefined;
    const nt = w.includes("n't") ? NT_CONTRACTION.exec(w) : null;
    if (nt) stem = w.slice(0, nt.index);
    else if (BARE_CONTRACTIONS.has(w)) stem = w.slice(0, -2);
    else if (w === 'cannot') stem = 'can';
    else if (NEGATIONS.has(w)) {
      negations++;
      continue;
    }
    if (stem === undefined) {
      words.add(w);
      continue;
    }
    negations++;
    words.add(IRREGULAR_STEMS[stem] ?? stem);
  }
  return { negations, words };
}

/** Of the smaller word set, the share also in the other one (1 when one is empty). */
function containment(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  if (small.size === 0) return 1;
  let shared = 0;
  for (const w of small) if (large.has(w)) shared++;
  return shared / small.size;
}

/**
 * The share of the shorter question's other words (`NegationProfile.words`) that the other question must have for a
 * different number of negations to be a flip (3/4): "Is it safe to eat raw eggs?" against "Is eating raw eggs not
 * safe?" (4 of 5), "Which foods don't contain gluten?" against "What foods contain gluten?" (3 of 4). A paraphrase that
 * says the same in other words ("optional" for "not mandatory", "without copying" for "zero-copy") changes more of
 * them. Chosen on the GPTCache paraphrase pairs (docs/caching.md).
 */
export const NEGATION_FLIP_OVERLAP = 0.75;

/**
 * Whether two questions differ in negation: a different number of negations (`negationProfile`) while the shorter one's
 * other words are mostly in the other one (`NEGATION_FLIP_OVERLAP`). "Is it not safe to ..." against "Is it safe to
 * ..." (cosine 0.977 with USE lite) asks the opposite: the answer to one is wrong for the other. The number, not its
 * parity: "is it never not safe" is not a rewording of "is it safe".
 */
export function differsInNegation(a: string | NegationProfile, b: string | NegationProfile): boolean {
  const pa = typeof a === 'string' ? negationProfile(a) : a;
  const pb = typeof b === 'string' ? negationProfile(b) : b;
  return pa.negations !== pb.negations && containment(pa.words, pb.words) >= NEGATION_FLIP_OVERLAP;
}
