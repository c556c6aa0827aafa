import { selectMatch, type MatchCandidate } from './select-match.js';

/** One evaluated query: its nearest stored questions and which stored entry would be the right answer. */
export interface EvalQuery {
  question: string;
  /**
   * The nearest stored questions by cosine, with the entry each stands for and whether it has the question's unknown
   * text (`sameUnknownText`; absent: taken as the same).
   */
  candidates: ReadonlyArray<MatchCandidate & { entry: number; lexical: number; sameUnknown?: boolean }>;
  /** The right entry (a paraphrase's origin), or undefined for an unrelated query (any hit is wrong). */
  expected: number | undefined;
  /** Cross-validation fold. */
  fold: number;
}

export interface SelectionParams {
  lexicalWeight: number;
  minMargin: number;
  /** The number rule (`MatchSelectionOptions.numbers`); default true, as the cache decides. */
  numbers?: boolean;
  /** The negation rule (`MatchSelectionOptions.negation`); default true, as the cache decides. */
  negation?: boolean;
  /** The unknown-text rule (`MatchSelectionOptions.agrees` with `sameUnknownText`); default true, as the cache decides. */
  unknown?: boolean;
}

/** A query's decision under one rule: the chosen entry and its cosine, or undefined when ambiguous/empty. */
export interface QueryDecision {
  entry: number;
  cosine: number;
}

export interface RuleCounts {
  correct: number;
  wrong: number;
  /** Unrelated queries that hit something. */
  unrelatedWrong: number;
}

/**
 * Decides every query under (lexicalWeight, minMargin), with the same `selectMatch` the cache uses
 * (lexical similarity precomputed once per query and candidate, which is what `selectMatch` would compute).
 */
export function decideAll(queries: readonly EvalQuery[], params: SelectionParams): Array<QueryDecision | undefined> {
  const { unknown, ...rest } = params;
  const options = { scoring: 'hybrid', ...rest, ...(unknown !== false ? { agrees: (c: EvalQuery['candidates'][number]) => c.sameUnknown !== false } : {}) } as const;
  return queries.map((q) => {
    const sel = selectMatch(q.question, q.candidates, options);
    if (!sel || sel.ambiguous || sel.conflict) return undefined;
    return { entry: sel.best.candidate.entry, cosine: sel.best.cosine };
  });
}

/** Counts correct/wrong/unrelated hits among `queries` (optionally one subset) at a cosine threshold. */
export function countAt(queries: readonly EvalQuery[], decisions: ReadonlyArray<QueryDecision | undefined>, threshold: number, include?: (q: EvalQuery) => boolean): RuleCounts {
  const out: RuleCounts = { correct: 0, wrong: 0, unrelatedWrong: 0 };
  queries.forEach((q, i) => {
    if (include && !include(q)) return;
    const d = decisions[i];
    if (!d || d.cosine < threshold) return;
    if (q.expected === undefined) out.unrelatedWrong++;
    else if (d.entry === q.expected) out.correct++;
    else out.wrong++;
  });
  return out;
}

export interface CrossValidationRow {
  threshold: number;
  /** Held-out sums over all folds. */
  correct: number;
  wrong: number;
  misses: number;
  unrelatedWrong: number;
  /** The parameters chosen on the training folds, one per fold. */
  chosen: SelectionParams[];
}

export interface CrossValidationOptions {
  folds: number;
  /** Most (wrong + unrelated hits) per training paraphrase a parameter choice may make. */
  wrongBudget: number;
  lexicalWeights: readonly number[];
  minMargins: readonly number[];
  thresholds: readonly number[];
}

/**
 * k-fold cross-validation of choosing (lexicalWeight, minMargin) at each threshold: on the other folds, the
 * choice with the most correct hits whose wrong + unrelated hits stay within `wrongBudget` of the training
 * paraphrases (none within it: the fewest wrong hits); counted on the held-out fold only.
 */
export function crossValidate(queries: readonly EvalQuery[], options: CrossValidationOptions): CrossValidationRow[] {
  const grid: Array<{ params: SelectionParams; decisions: Array<QueryDecision | undefined> }> = [];
  for (const lexicalWeight of options.lexicalWeights) {
    for (const minMargin of options.minMargins) {
      const params = { lexicalWeight, minMargin };
      grid.push({ params, decisions: decideAll(queries, params) });
    }
  }
  return options.thresholds.map((threshold) => {
    const row: CrossValidationRow = { threshold, correct: 0, wrong: 0, misses: 0, unrelatedWrong: 0, chosen: [] };
    for (let f = 0; f < options.folds; f++) {
      const train = (q: EvalQuery) => q.fold !== f;
      const test = (q: EvalQuery) => q.fold === f;
      const trainPairs = queries.filter((q) => train(q) && q.expected !== undefined).length;
      let best: { g: (typeof grid)[number]; c: RuleCounts } | undefined;
      const better = (c: RuleCounts, b: RuleCounts | undefined): boolean => {
        if (!b) return true;
        const okC = c.wrong + c.unrelatedWrong <= options.wrongBudget * trainPairs;
        const okB = b.wrong + b.unrelatedWrong <= options.wrongBudget * trainPairs;
        if (okC !== okB) return okC;
        if (!okC) return c.wrong + c.unrelatedWrong < b.wrong + b.unrelatedWrong;
        return c.correct > b.correct || (c.correct === b.correct && c.wrong + c.unrelatedWrong < b.wrong + b.unrelatedWrong);
      };
      for (const g of grid) {
        const c = countAt(queries, g.decisions, threshold, train);
        if (better(c, best?.c)) best = { g, c };
      }
      const held = countAt(queries, best!.g.decisions, threshold, test);
      const testPairs = queries.filter((q) => test(q) && q.expected !== undefined).length;
      row.correct += held.correct;
      row.wrong += held.wrong;
      row.unrelatedWrong += held.unrelatedWrong;
      row.misses += testPairs - held.correct - held.wrong;
      row.chosen.push(best!.g.params);
    }
    return row;
  });
}

/** Deterministic fold of each group (e.g. each origin): a seeded shuffle, then round robin. */
export function foldsOf(groups: number, folds: number, seed = 7): number[] {
  const order = Array.from({ length: groups }, (_, i) => i);
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const fold = new Array<number>(groups);
  order.forEach((g, k) => (fold[g] = k % folds));
  return fold;
}
