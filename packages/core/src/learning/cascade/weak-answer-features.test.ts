import { describe, expect, it } from 'vitest';
import { finalAnswer, numbersIn, ruleEscalationScore, weakAnswerFeatures, WEAK_ANSWER_FEATURES } from './weak-answer-features.js';

const PROMPT = "Janet's ducks lay 16 eggs per day. She eats three for breakfast and bakes muffins with four. She sells the rest for $2 per egg. How much does she make every day?";
const GOOD = 'She has 16 - 3 = <<16-3=13>>13 eggs left.\nShe uses 4, so 13 - 4 = <<13-4=9>>9 eggs.\nShe sells them for 9 * $2 = $<<9*2=18>>18.\n#### 18';
const BAD_ARITH = 'She has 16 - 3 = 13 eggs left.\nShe uses 4, so 13 - 4 = 8 eggs.\nShe sells them for 8 * $2 = $16.\n#### 16';
const CUT = 'She has 16 - 3 = <<16-3=13>>13 eggs left, then 13 - 4 = $<<13-4';

describe('weakAnswerFeatures', () => {
  it('gives every feature a finite number', () => {
    for (const a of [GOOD, BAD_ARITH, CUT, '', 'I am not sure.']) {
      const f = weakAnswerFeatures(PROMPT, a);
      expect(Object.keys(f).sort()).toEqual([...WEAK_ANSWER_FEATURES].sort());
      for (const k of WEAK_ANSWER_FEATURES) expect(Number.isFinite(f[k]), `${k} of ${JSON.stringify(a)}`).toBe(true);
    }
  });

  it('a clean, derived answer raises no flag', () => {
    const f = weakAnswerFeatures(PROMPT, GOOD);
    expect(f).toMatchObject({ arith_checked: 6, arith_wrong: 0, arith_any_wrong: 0, has_marker: 1, has_final: 1, final_derived: 1, final_non_integer: 0, truncated: 0, conflicting_answers: 0, prompt_unused_share: 0 });
    expect(f.prompt_numbers).toBe(4); // 16, three, four, 2
  });

  it('wrong arithmetic, a cut-off answer and a non-integer answer are flagged', () => {
    expect(weakAnswerFeatures(PROMPT, BAD_ARITH)).toMatchObject({ arith_checked: 3, arith_wrong: 1, arith_any_wrong: 1 });
    expect(weakAnswerFeatures(PROMPT, CUT)).toMatchObject({ truncated: 1, has_marker: 0 });
    expect(weakAnswerFeatures(PROMPT, 'She makes 18 / 4 = 4.5 dollars.\n#### 4.5')).toMatchObject({ final_non_integer: 1, arith_any_wrong: 0 });
    // No marker and no closing punctuation: looks cut off.
    expect(weakAnswerFeatures(PROMPT, 'The value is 80,000 + 50,000 = 130,00').truncated).toBe(1);
  });

  it('hedging, answers stated before the work, and conflicting answers', () => {
    const f = weakAnswerFeatures(PROMPT, "She makes $20.\nActually, 16 - 3 - 4 = 9 eggs, and 9 * 2 = 18. However, I'm not sure.\n#### 20");
    expect(f.hedges).toBe(2);
    expect(f.answer_first).toBe(1);
    expect(f.conflicting_answers).toBe(1); // the marker says 20, the last result is 18
    expect(f.final_derived).toBe(0);
    expect(f.final_in_prompt).toBe(0);
  });

  it('numbers not in the prompt and not computed count as unexplained', () => {
    const f = weakAnswerFeatures(PROMPT, 'She sells 37 eggs for 37 * 2 = 74 dollars, plus 45 from muffins.\n#### 74');
    // 37 (twice) and 45 come from nowhere; 2 is the prompt's, 74 the statement's result.
    expect(f.unexplained_share).toBeCloseTo(3 / 5, 6);
    // Of the prompt's 16, three, four and 2, only 2 is used.
    expect(f.prompt_unused_share).toBeCloseTo(3 / 4, 6);
  });

  it('reads the final answer after ####, signs and commas included, else the last number', () => {
    expect(finalAnswer('so it is 5\n#### -1,250')).toEqual({ value: -1250, fromMarker: true });
    expect(finalAnswer('#### $3.50 per day')).toEqual({ value: 3.5, fromMarker: true });
    expect(finalAnswer('So 12 + 6 = 18 apples')).toEqual({ value: 18, fromMarker: false });
    expect(finalAnswer('no numbers')).toBeUndefined();
    expect(numbersIn('a dozen and three, 1,000 and 2.5', true).sort((a, b) => a - b)).toEqual([2.5, 3, 12, 1000]);
  });

  it('reads no number from words named like Object.prototype members ("constructor")', () => {
    expect(numbersIn('the constructor takes two', true)).toEqual([2]);
  });

  it('the rule score orders clean < flagged answers', () => {
    const clean = ruleEscalationScore(weakAnswerFeatures(PROMPT, GOOD));
    expect(ruleEscalationScore(weakAnswerFeatures(PROMPT, BAD_ARITH))).toBeGreaterThan(clean + 2);
    expect(ruleEscalationScore(weakAnswerFeatures(PROMPT, CUT))).toBeGreaterThan(clean + 2);
  });
});
