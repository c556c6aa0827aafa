import { describe, expect, it } from 'vitest';
import { countAt, crossValidate, decideAll, foldsOf, type EvalQuery } from './paraphrase-cv.js';

/**
 * A synthetic evaluation set. "clear" queries: the right entry leads by 0.05 in cosine. "confusable"
 * queries: a wrong entry leads by 0.005 in cosine, the right one is worded like the question (lexical 0.9
 * against 0.3), so lexical weight flips them to correct. "twin" queries: two entries tie exactly
 * (only a margin rule avoids the wrong hit). Unrelated queries peak at cosine 0.6.
 */
/** `n` spelled in letters: the texts carry no digits, so the number rule (`sameNumbers`) leaves every choice alone. */
const w = (n: number) => String(n).replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!);

function dataset(): EvalQuery[] {
  const out: EvalQuery[] = [];
  let entry = 0;
  for (let i = 0; i < 40; i++) {
    const right = entry++;
    const other = entry++;
    const fold = i % 5;
    if (i % 4 === 0) {
      out.push({ question: `c${w(i)}`, expected: right, fold, candidates: [{ score: 0.905, prompt: `o${w(other)}`, entry: other, lexical: 0.3 }, { score: 0.9, prompt: `r${w(right)}`, entry: right, lexical: 0.9 }] });
    } else if (i % 4 === 1) {
      out.push({ question: `t${w(i)}`, expected: right, fold, candidates: [{ score: 0.9, prompt: `o${w(other)}`, entry: other, lexical: 0.5 }, { score: 0.9, prompt: `r${w(right)}`, entry: right, lexical: 0.5 }] });
    } else {
      out.push({ question: `k${w(i)}`, expected: right, fold, candidates: [{ score: 0.95, prompt: `r${w(right)}`, entry: right, lexical: 0.6 }, { score: 0.9, prompt: `o${w(other)}`, entry: other, lexical: 0.5 }] });
    }
  }
  for (let i = 0; i < 10; i++) out.push({ question: `u${w(i)}`, expected: undefined, fold: i % 5, candidates: [{ score: 0.6, prompt: 'x', entry: 0, lexical: 0.1 }, { score: 0.5, prompt: 'y', entry: 1, lexical: 0.1 }] });
  return out;
}

describe('paraphrase cross-validation', () => {
  it('decides with selectMatch: cosine alone takes the confusable wrong entry and the twin; lexical weight fixes one, the margin the other', () => {
    const q = dataset();
    const cosine = countAt(q, decideAll(q, { lexicalWeight: 0, minMargin: 0 }), 0.85);
    expect(cosine).toEqual({ correct: 20, wrong: 20, unrelatedWrong: 0 }); // ties keep the vector order: the twin's first entry is the wrong one
    const hybrid = countAt(q, decideAll(q, { lexicalWeight: 0.4, minMargin: 0 }), 0.85);
    expect(hybrid).toEqual({ correct: 30, wrong: 10, unrelatedWrong: 0 });
    const both = countAt(q, decideAll(q, { lexicalWeight: 0.4, minMargin: 0.01 }), 0.85);
    expect(both).toEqual({ correct: 30, wrong: 0, unrelatedWrong: 0 });
    expect(countAt(q, decideAll(q, { lexicalWeight: 0.4, minMargin: 0.01 }), 0.5).unrelatedWrong).toBe(10);
  });

  it('decides with the number rule: the best entry naming the same numbers; none naming them is no decision (a miss), unless the rule is off', () => {
    const q: EvalQuery[] = [{ question: 'Convert 12 miles', expected: 1, fold: 0, candidates: [{ score: 0.99, prompt: 'Convert 10 miles', entry: 0, lexical: 0.9 }, { score: 0.9, prompt: 'Convert 12 miles to km', entry: 1, lexical: 0.8 }] }];
    expect(decideAll(q, { lexicalWeight: 0.4, minMargin: 0 })).toEqual([{ entry: 1, cosine: 0.9 }]);
    expect(decideAll(q, { lexicalWeight: 0.4, minMargin: 0, numbers: false })).toEqual([{ entry: 0, cosine: 0.99 }]);
    const none: EvalQuery[] = [{ ...q[0]!, question: 'Convert 14 miles' }];
    expect(decideAll(none, { lexicalWeight: 0.4, minMargin: 0 })).toEqual([undefined]);
  });

  it('chooses on the training folds and counts the held-out fold only; every query is held out once', () => {
    const q = dataset();
    const [row] = crossValidate(q, { folds: 5, wrongBudget: 0, lexicalWeights: [0, 0.4], minMargins: [0, 0.01], thresholds: [0.85] });
    expect(row!.chosen).toHaveLength(5);
    for (const c of row!.chosen) expect(c).toEqual({ lexicalWeight: 0.4, minMargin: 0.01 });
    expect(row).toMatchObject({ threshold: 0.85, correct: 30, wrong: 0, misses: 10, unrelatedWrong: 0 });
  });

  it('without a choice inside the budget takes the fewest wrong hits', () => {
    const q = dataset();
    const [row] = crossValidate(q, { folds: 5, wrongBudget: 0, lexicalWeights: [0], minMargins: [0], thresholds: [0.85] });
    expect(row).toMatchObject({ correct: 20, wrong: 20, misses: 0 });
  });

  it('assigns folds deterministically and evenly', () => {
    const f = foldsOf(103, 10);
    expect(foldsOf(103, 10)).toEqual(f);
    const sizes = Array.from({ length: 10 }, (_, k) => f.filter((x) => x === k).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(f).not.toEqual(Array.from({ length: 103 }, (_, i) => i % 10)); // shuffled
  });
});
