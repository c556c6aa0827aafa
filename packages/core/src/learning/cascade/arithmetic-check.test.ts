import { describe, expect, it } from 'vitest';
import { checkArithmetic, valuesAgree } from './arithmetic-check.js';

const texts = (answer: string) => checkArithmetic(answer).statements.map((s) => [s.text, s.ok] as const);

describe('checkArithmetic', () => {
  it('checks simple statements, right and wrong', () => {
    const c = checkArithmetic('She has 16 - 3 = 13 eggs left.\nThen 13 - 4 = 8 eggs.');
    expect(c.checked).toBe(2);
    expect(c.wrong).toBe(1);
    expect(texts('She has 16 - 3 = 13 eggs left.\nThen 13 - 4 = 8 eggs.')).toEqual([
      ['16 - 3 = 13', true],
      ['13 - 4 = 8', false],
    ]);
  });

  it('reads thousands commas and dollar signs', () => {
    expect(texts('The value is $80,000 + $50,000 = $130,000.')).toEqual([['80,000 + 50,000 = 130,000', true]]);
    expect(texts('So 1,250 * 4 = 5,000,000')).toEqual([['1,250 * 4 = 5,000,000', false]]);
    // A list comma is not a thousands separator: `3, 4 + 5 = 9` checks only `4 + 5`.
    expect(texts('numbers 3, 4 + 5 = 9')).toEqual([['4 + 5 = 9', true]]);
  });

  it('reads percentages either as written or as fractions', () => {
    expect(texts('(12 / 20) x 100 = 55%')).toEqual([['( 12 / 20 ) * 100 = 55%', false]]);
    expect(texts('(12 / 20) x 100 = 60%')).toEqual([['( 12 / 20 ) * 100 = 60%', true]]);
    expect(texts('That is 25% * 16 = 4 students')).toEqual([['25% * 16 = 4', true]]);
    expect(texts('and 25% of 16 = 4 students')).toEqual([['25% * 16 = 4', true]]);
    expect(texts('100% - 20% = 80% are left')).toEqual([['100% - 20% = 80%', true]]);
  });

  it('accepts a result rounded to the decimals it shows, and nothing looser', () => {
    expect(texts('100 / 3 = 33.33 per person')).toEqual([['100 / 3 = 33.33', true]]);
    expect(texts('100 / 3 = 33.3')).toEqual([['100 / 3 = 33.3', true]]);
    expect(texts('100 / 3 = 33 each')).toEqual([['100 / 3 = 33', false]]);
    expect(texts('7 * 1.5 = 10.5 and 82.5 / 3 = 27.5')).toEqual([
      ['7 * 1.5 = 10.5', true],
      ['82.5 / 3 = 27.5', true],
    ]);
    // A rounded decimal input carries its rounding (0.5% slack), an integer one does not.
    expect(texts('20 * 13.33 = 266.66')).toEqual([['20 * 13.33 = 266.66', true]]);
    expect(texts('7 * 1.5 = 10.6')).toEqual([['7 * 1.5 = 10.6', false]]);
    expect(texts('2100 * 52 = 110,400')).toEqual([['2100 * 52 = 110,400', false]]);
    expect(texts('6.50 + 2.00 + 1.00 + 1.00 + 0.50 + 3.00 = 13.50')).toEqual([['6.50 + 2.00 + 1.00 + 1.00 + 0.50 + 3.00 = 13.50', false]]);
    expect(valuesAgree(2.675, 2.68, 2)).toBe(true);
    expect(valuesAgree(2.675, 2.7, 2)).toBe(false);
  });

  it('checks chains: a + b + c = d, a = b = c, and a running chain', () => {
    expect(texts('60 + 180 + 126 = 366 downloads')).toEqual([['60 + 180 + 126 = 366', true]]);
    expect(texts('2 + 1/2 = 5/2 = 2.5 bolts')).toEqual([
      ['2 + 1 / 2 = 5 / 2', true],
      ['5 / 2 = 2.5', true],
    ]);
    expect(texts('2 + 1/2 = 5/2 = 3 bolts')).toEqual([
      ['2 + 1 / 2 = 5 / 2', true],
      ['5 / 2 = 3', false],
    ]);
    // "= 12 + 5 = 17": sloppy but correct at every step.
    expect(texts('3 * 4 = 12 + 5 = 17')).toEqual([
      ['3 * 4 = 12 + 5', true],
      ['12 + 5 = 17', true],
    ]);
  });

  it('knows the ASCII and Unicode operators', () => {
    expect(texts('3 x 60 = 180, 3x60 = 180, 3 X 60 = 180, 3 × 60 = 180, 3 · 60 = 180, 180 ÷ 3 = 60, 10 − 4 = 6, 10 – 4 = 6')).toEqual([
      ['3 * 60 = 180', true],
      ['3 * 60 = 180', true],
      ['3 * 60 = 180', true],
      ['3 * 60 = 180', true],
      ['3 * 60 = 180', true],
      ['180 / 3 = 60', true],
      ['10 - 4 = 6', true],
      ['10 - 4 = 6', true],
    ]);
    expect(texts('180 x $2 = $360')).toEqual([['180 * 2 = 360', true]]);
  });

  it('skips statements with words between the numbers, algebra and comparisons', () => {
    expect(texts('3 sprints * 60 meters = 180 meters')).toEqual([]);
    expect(texts('180 meters/session * 3 sessions/week = 540')).toEqual([]);
    expect(texts('2x + 3 = 11, so x = 4')).toEqual([]);
    expect(texts('then 12 = 5x')).toEqual([]);
    expect(texts('the box has 4 = 4')).toEqual([]); // no operator: nothing to check
    expect(texts('if 5 + 3 == 8 or 3 <= 4')).toEqual([]);
    expect(texts('Total = 18')).toEqual([]);
    expect(texts('5 / 0 = 7')).toEqual([]);
  });

  it('reads a leading hyphen as a bullet, a glued one as a sign', () => {
    expect(texts('- 5 + 3 = 8')).toEqual([['5 + 3 = 8', true]]);
    expect(texts('-5 + 3 = -2')).toEqual([['- 5 + 3 = - 2', true]]);
  });

  it('checks calculator annotations and removes them from the visible text', () => {
    const c = checkArithmetic('She sells 9 eggs for 9 * $2 = $<<9*2=18>>18.\n#### 18');
    expect(c.statements.map((s) => [s.source, s.text, s.ok])).toEqual([
      ['annotation', '9 * 2 = 18', true],
      ['text', '9 * 2 = 18', true],
    ]);
    expect(c.visible).toBe('She sells 9 eggs for 9 * $2 = $18.\n#### 18');
    expect(c.unclosedAnnotation).toBe(false);
    // The model's own "calculator" can be wrong: both places are checked.
    expect(checkArithmetic('so 12 * 3 = <<12*3=38>>38 cups').wrong).toBe(2);
  });

  it('flags an annotation cut off mid-way and ignores its partial expression', () => {
    const c = checkArithmetic('Toula bought 3 x 12 = <<3*12=36>>36 donuts, which costs 36 * 68/12 = $<<36*68/1');
    expect(c.unclosedAnnotation).toBe(true);
    expect(c.statements.map((s) => s.text)).toEqual(['3 * 12 = 36', '3 * 12 = 36']);
    expect(c.wrong).toBe(0);
  });

  it('handles parentheses, unbalanced ones around a statement, and empty input', () => {
    expect(texts('(that is (3 + 4) * 2 = 14)')).toEqual([['( 3 + 4 ) * 2 = 14', true]]);
    expect(texts('(3 + 4 = 7)')).toEqual([['3 + 4 = 7', true]]);
    expect(checkArithmetic('')).toMatchObject({ checked: 0, wrong: 0, unclosedAnnotation: false });
  });
});
