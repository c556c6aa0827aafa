import { diceWithText, sameText, sameWording, textKey, trigrams } from './lexical-similarity.js';
import { differsInNegation } from './negation-tokens.js';
import { numbersOf, sameNumberList } from './number-tokens.js';

/** How a stored question is chosen among the nearest candidates (see `cache.semantic.scoring`). */
export type SemanticScoring = 'hybrid' | 'cosine';

export interface MatchSelectionOptions<T extends MatchCandidate = MatchCandidate> {
  scoring: SemanticScoring;
  /** Weight of the lexical similarity in the `hybrid` ranking score, 0-1. */
  lexicalWeight: number;
  /** The chosen candidate must beat the runner-up with a different text by this much, else it is ambiguous. */
  minMargin: number;
  /**
   * Whether a chosen question naming other numbers than the question (`sameNumbers`) is a `conflict`. Default
   * true (what the cache does); false only to measure the rule (the eval's plain-cosine baseline).
   */
  numbers?: boolean;
  /**
   * Whether a chosen question that differs from the question in negation (`differsInNegation`) is a `conflict`.
   * Default true (what the cache does); false only to measure the rule (the eval's plain-cosine baseline).
   */
  negation?: boolean;
  /**
   * A rule a candidate must pass besides the number rule, applied as it is: one failing it is never chosen while
   * another passes, is no rival, and is chosen as a `conflict` when none passes. The semantic cache's for a question
   * with text outside its embedder's vocabulary: the same unknown text (`sameUnknownText`). Absent: every one passes.
   */
  agrees?: (candidate: T) => boolean;
}

/** A candidate from the vector search: its cosine similarity and the stored question. */
export interface MatchCandidate {
  score: number;
  prompt: string;
  /** Its lexical similarity to the question, when already known (evaluation); else computed here. */
  lexical?: number;
}

export interface RankedMatch<T extends MatchCandidate> {
  candidate: T;
  /** Cosine similarity (the candidate's own score). */
  cosine: number;
  /** Character-trigram Dice with the question (`hybrid` only). */
  lexical?: number;
  /** The ranking score: cosine, or the weighted mix for `hybrid`. */
  rank: number;
}

export interface MatchSelection<T extends MatchCandidate> {
  best: RankedMatch<T>;
  /**
   * The chosen candidate's ranking score minus the runner-up's (the best other candidate whose text differs and, with
   * the number rule, that names the question's numbers); Infinity without one.
   */
  margin: number;
  /** `margin < minMargin`: two different stored questions fit about equally well. */
  ambiguous: boolean;
  /**
   * The chosen question names other numbers than the question ("12 miles" for "10 miles", "2+3" for "2+2"), fails
   * `agrees` (other text outside the embedder's vocabulary: U+2265 for U+2264), or differs from it in negation ("Is it not safe to ..." for "Is it safe to ..."): a close match whose answer is the
   * other question's. Not served unguarded (the guard decides, a miss by default).
   */
  conflict: boolean;
  /** Every candidate, best ranking score first (`best` is not the first when the number rule passed over others). */
  ranked: Array<RankedMatch<T>>;
}

/**
 * Chooses the stored question that answers `question` among the nearest candidates, and says whether the
 * choice is ambiguous. `cosine` keeps the vector order; `hybrid` re-ranks by a mix of cosine and character
 * trigram Dice, which separates stored questions the embedding finds nearly equal but whose wording
 * (identifiers, numbers, names) tells apart. Exact repeats of the chosen question (same text after
 * lower-casing and whitespace) are not rivals: they are the same question stored twice. With the number rule the
 * best-ranked candidate naming the question's numbers is chosen; when none does, the top one is, as a `conflict`.
 * A candidate naming other numbers is no rival (never served for it). With the negation rule a chosen question that
 * differs from the question in negation is a `conflict` too (no other candidate is chosen in its place: on the
 * paraphrase pairs, passing over it to the next one served more wrong answers than it saved).
 */
export function selectMatch<T extends MatchCandidate>(
  question: string,
  candidates: readonly T[],
  options: MatchSelectionOptions<T>,
): MatchSelection<T> | undefined {
  if (candidates.length === 0) return undefined;
  const hybrid = options.scoring === 'hybrid' && options.lexicalWeight > 0;
  const w = options.lexicalWeight;
  const q = hybrid && candidates.some((c) => c.lexical === undefined) ? trigrams(question) : undefined;
  const ranked = candidates.map((candidate): RankedMatch<T> => {
    if (!hybrid) return { candidate, cosine: candidate.score, rank: candidate.score };
    const lexical = candidate.lexical ?? diceWithText(q!, candidate.prompt);
    return { candidate, cosine: candidate.score, lexical, rank: (1 - w) * candidate.score + w * lexical };
  });
  // Stable: equal ranking scores keep the vector order, after the stored question worded exactly as asked (case kept:
  // the embedding and the trigrams are case-blind, so "Open README.md" and "open readme.md" tie).
  const order = ranked
    .map((_, i) => i)
    .sort((a, b) => ranked[b]!.rank - ranked[a]!.rank || exactWording(question, candidates, b) - exactWording(question, candidates, a) || a - b);
  // With the number rule, a stored question naming other numbers than the question is never served for it: the
  // best-ranked one naming the same numbers is chosen ("Convert 12 meters into feet" over a closer "Convert 10 meters
  // to feet" for "Convert 12 meters to feet"), and one naming others is no rival ("Convert 10 miles" does not make
  // "Convert 12 miles" ambiguous). Only when none names the same numbers is the top one chosen, as a conflict.
  const numbers = options.numbers !== false ? numbersOf(question) : undefined;
  const rule = options.agrees;
  const agrees =
    numbers === undefined && rule === undefined
      ? undefined
      : order.map((i) => (numbers === undefined || sameNumberList(numbers, numbersOf(candidates[i]!.prompt))) && (rule === undefined || rule(candidates[i]!)));
  const at = agrees ? Math.max(0, agrees.indexOf(true)) : 0;
  const top = order[at]!;
  const topText = candidates[top]!.prompt;
  const topKey = textKey(topText);
  const conflict = (agrees !== undefined && !agrees[at]!) || (options.negation !== false && differsInNegation(question, topText));
  const rivalAt = order.findIndex((i, k) => i !== top && !sameText(candidates[i]!.prompt, topText, textKey(candidates[i]!.prompt), topKey) && (agrees === undefined || agrees[k]!));
  const best = ranked[top]!;
  const margin = rivalAt >= 0 ? best.rank - ranked[order[rivalAt]!]!.rank : Infinity;
  return { best, margin, ambiguous: margin < options.minMargin, conflict, ranked: order.map((i) => ranked[i]!) };
}

/** 1 when candidate `i`'s stored question is `question` worded exactly (whitespace aside, case kept), else 0: a tie-break. */
function exactWording(question: string, candidates: readonly MatchCandidate[], i: number): number {
  return sameWording(question, candidates[i]!.prompt) ? 1 : 0;
}
