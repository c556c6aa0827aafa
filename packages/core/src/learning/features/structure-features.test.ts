import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { featureBlocks, featureDim, featurize, fitFeatures, STRUCTURE_MIN_STD } from './feature-pipeline.js';
import { SENTENCE_END, splitQuestion, STRUCTURE_DIM, STRUCTURE_FEATURES, STRUCTURE_SCAN_CHARS, structureFeatures } from './structure-features.js';

type Name = (typeof STRUCTURE_FEATURES)[number];

function named(text: string): Record<Name, number> {
  const v = structureFeatures(text);
  return Object.fromEntries(STRUCTURE_FEATURES.map((n, i) => [n, v[i]!])) as Record<Name, number>;
}

/** The saturating scale of the counts: log1p(count) / log1p(cap). */
const sat = (count: number, cap: number) => Math.min(1, Math.log1p(count) / Math.log1p(cap));

const JANET =
  "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?";

const CAPACITOR = 'The plates of a capacitor are charged to a potential difference of 5 V. If the capacitance is 2 mF, what is the charge on the positive plate?\nA. 0.005 C\nB. 0.01 C\nC. 0.02 C\nD. 0.5 C\nAnswer:';

const NOT_MAMMAL = 'Which of the following is NOT a mammal?\nA. Whale\nB. Bat\nC. Shark\nD. None of the above\nAnswer:';

describe('splitQuestion', () => {
  it('cuts a RouteLLM MMLU prompt into stem and options, dropping the Answer: line', () => {
    expect(splitQuestion(CAPACITOR)).toEqual({
      stem: 'The plates of a capacitor are charged to a potential difference of 5 V. If the capacitance is 2 mF, what is the charge on the positive plate?',
      options: ['0.005 C', '0.01 C', '0.02 C', '0.5 C'],
    });
    expect(splitQuestion('Pick one:\nA) red\nB) blue').options).toEqual(['red', 'blue']);
  });

  it('keeps the whole text as the stem when there are no ordered options', () => {
    expect(splitQuestion(JANET)).toEqual({ stem: JANET, options: [] });
    // Letters out of order, a single option, or options not at the end: not a multiple-choice question.
    expect(splitQuestion('Q\nB. x\nC. y').options).toEqual([]);
    expect(splitQuestion('Q\nA. only one').options).toEqual([]);
    expect(splitQuestion('A. first\nB. second\nThen say why.').options).toEqual([]);
  });
});

describe('long prompts (the decision path)', () => {
  // Each input made a backtracking pattern try every split of a long run (seconds at 30 000 characters; at
  // 200 000, minutes). Linear, each takes a few milliseconds; the bound leaves a loaded machine room.
  const elapsed = (f: () => unknown) => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  };
  const long = 200_000;

  it('splits a prompt ending in a long run of spaces, of dots, or an option line cut by U+2028, in linear time', () => {
    const spaces = `Q\n${' '.repeat(long)}x`;
    const answer = `Q\nanswer${' '.repeat(long)}x`;
    const option = `Q\nA. one\nB. ${' '.repeat(long)}y\u2028z`;
    for (const text of [spaces, answer, option]) expect(elapsed(() => splitQuestion(text))).toBeLessThan(1000);
    expect(splitQuestion(option).options).toEqual([]);
    const dots = `Why${'.'.repeat(long)}x`;
    expect(elapsed(() => dots.split(SENTENCE_END))).toBeLessThan(1000);
    expect(dots.split(SENTENCE_END)).toEqual([dots]);
  });

  it('reads the same sentences and lines as before the linear patterns', () => {
    expect('One. Two?! Three... four.five! '.split(SENTENCE_END)).toEqual(['One', 'Two', 'Three', 'four.five', '']);
    expect(splitQuestion('Q?\n(A) x\nB.\t y\n  Answer :  \n   ')).toEqual({ stem: 'Q?', options: ['x', 'y'] });
    // U+2028 in the spaces before an option's text is a space; inside the text it ends no option.
    expect(splitQuestion('Q\nA.\u2028 x\nB. y').options).toEqual(['x', 'y']);
    expect(splitQuestion('Q\nA. x\u2028y\nB. y').options).toEqual([]);
  });

  it('looks at the last STRUCTURE_SCAN_CHARS characters (the question and its options come last)', () => {
    const question = `${CAPACITOR}`;
    const padded = `${'Some pasted report text with 12 numbers and 3 units of 4 kg. '.repeat(400)}\n${question}`;
    expect(padded.length).toBeGreaterThan(STRUCTURE_SCAN_CHARS);
    expect(structureFeatures(padded)).toEqual(structureFeatures(padded.slice(-STRUCTURE_SCAN_CHARS)));
    expect(named(padded).option_count).toBe(1);
  });
});

describe('structureFeatures', () => {
  it('has one value per name, every value in 0..1', () => {
    expect(STRUCTURE_DIM).toBe(40);
    expect(new Set(STRUCTURE_FEATURES).size).toBe(STRUCTURE_DIM);
    for (const t of [JANET, CAPACITOR, NOT_MAMMAL, '', 'x'.repeat(5000), `${'1234567890 '.repeat(200)}?`]) {
      const v = structureFeatures(t);
      expect(v).toHaveLength(STRUCTURE_DIM);
      for (const x of v) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
      }
    }
    expect(structureFeatures('')).toEqual(new Array(STRUCTURE_DIM).fill(0).map((_, i) => (STRUCTURE_FEATURES[i] === 'sentences' ? sat(1, 12) : 0)));
  });

  it('counts the quantities and steps of a GSM8K word problem', () => {
    const f = named(JANET);
    expect(f.numerals).toBeCloseTo(sat(2, 20), 9); // 16, 2
    expect(f.distinct_numbers).toBeCloseTo(sat(2, 15), 9);
    expect(f.number_words).toBeCloseTo(sat(2, 10), 9); // three, four
    expect(f.multiplier_words).toBe(0);
    expect(f.money).toBeCloseTo(sat(2, 6), 9); // $2, dollars
    expect(f.time_units).toBeCloseTo(sat(3, 8), 9); // day x3 ("daily" is not a unit word)
    expect(f.unit_kinds).toBeCloseTo(sat(1, 5), 9);
    expect(f.max_magnitude).toBeCloseTo(Math.log10(17) / 7, 9);
    expect(f.small_integer_share).toBe(0.5); // 2 of {16, 2}
    expect(f.quantities_total).toBeCloseTo(sat(4, 25), 9);
    expect(f.sentences).toBeCloseTo(sat(4, 12), 9);
    expect(f.numerals_per_sentence).toBeCloseTo(2 / 4 / 5, 9);
    expect(f.question_marks).toBeCloseTo(sat(1, 3), 9);
    expect(f.how_questions).toBeCloseTo(sat(1, 3), 9);
    expect(f.distributive_words).toBeCloseTo(sat(5, 6), 9); // per x2, every x3
    expect(f.remainder_words).toBeCloseTo(sat(1, 4), 9);
    expect(f.transaction_words).toBeCloseTo(sat(1, 8), 9); // sells
    expect(f.named_agents).toBeCloseTo(sat(1, 8), 9); // Janet (She / How are sentence starters)
    expect(f.option_count).toBe(0);
    expect(f.not_except).toBe(0);
  });

  it('finds multipliers, fractions, percents, comparatives, big numbers and conversions', () => {
    const f = named('Tom has twice as many apples as Ann, who has 3 times 1/2 of 1,500. Tom sold 25% of them, 10 more than half. How many hours and minutes did it take if each took 2.5 minutes?');
    expect(f.multiplier_words).toBeCloseTo(sat(3, 6), 9); // twice, 3 times, half
    expect(f.fractions).toBeCloseTo(sat(1, 4), 9);
    expect(f.decimals).toBeCloseTo(sat(1, 5), 9);
    expect(f.percents).toBeCloseTo(sat(1, 4), 9);
    expect(f.comparatives).toBeCloseTo(sat(2, 5), 9); // "as many as", "more than"
    expect(f.big_numbers).toBeCloseTo(sat(1, 4), 9); // 1,500 read as one number
    expect(f.max_magnitude).toBeCloseTo(Math.log10(1501) / 7, 9);
    expect(f.unit_kinds).toBeCloseTo(sat(2, 5), 9); // hour, minute
    expect(f.conditional_words).toBeCloseTo(sat(1, 6), 9); // if
    expect(f.named_agents).toBeCloseTo(sat(2, 8), 9); // Tom, Ann
  });

  it('describes the shape of a multiple-choice question', () => {
    const c = named(CAPACITOR);
    expect(c.option_count).toBe(1);
    expect(c.numeric_options).toBe(1);
    expect(c.option_mean_words).toBeCloseTo(sat(2, 40), 9);
    expect(c.option_length_spread).toBeCloseTo((7 - 5) / 8, 9); // "0.005 C" vs "0.5 C"
    expect(c.longest_option_margin).toBeCloseTo((7 - 6) / 8, 9);
    expect(c.numerals).toBeCloseTo(sat(2, 20), 9); // in the stem only: 5, 2
    expect(c.not_except).toBe(0);
    const m = named(NOT_MAMMAL);
    expect(m.not_except).toBe(1);
    expect(m.all_none_option).toBe(1);
    expect(m.which_of_following).toBe(1);
    expect(m.numeric_options).toBe(0);
    expect(m.option_length_spread).toBeCloseTo((17 - 3) / 18, 9);
    expect(named('Which statements are true?\nI. x\nII. y\nA. I only\nB. II only\nAnswer:').roman_statements).toBe(1);
    expect(named('This question refers to the following information.\nSome text.\nWhat is meant?\nA. a\nB. b').passage).toBe(1);
    expect(named('The ____ is the powerhouse of the cell.\nA. nucleus\nB. mitochondrion').blank).toBe(1);
    expect(named('All of these are true EXCEPT\nA. a\nB. b').not_except).toBe(1);
  });
});

describe('the structure block in the feature pipeline', () => {
  const prompts = [JANET, CAPACITOR, NOT_MAMMAL, 'How many legs do 3 spiders have?'];

  it('is off by default and leaves the other blocks where they were', () => {
    const off = fitFeatures(prompts, { hashDim: 64 });
    const on = fitFeatures(prompts, { hashDim: 64, structure: true });
    expect(off.structure).toBeUndefined();
    const b = featureBlocks(on);
    const { structure: offStructure, ...offRest } = featureBlocks(off);
    const { structure: onStructure, ...onRest } = b;
    expect(onRest).toEqual(offRest);
    expect(offStructure[1] - offStructure[0]).toBe(0);
    expect(onStructure).toEqual([featureDim(off), featureDim(off) + STRUCTURE_DIM]);
    expect(featureDim(on)).toBe(featureDim(off) + STRUCTURE_DIM);
    // Same values in the shared blocks; the structure block comes last.
    const xOff = featurize(off, JANET);
    const xOn = featurize(on, JANET);
    expect(Array.from(xOn.index.subarray(0, xOff.index.length))).toEqual(Array.from(xOff.index));
    expect(Array.from(xOn.value.subarray(0, xOff.value.length))).toEqual(Array.from(xOff.value));
    expect(Array.from(xOn.index.subarray(xOff.index.length))).toEqual(Array.from({ length: STRUCTURE_DIM }, (_, i) => onStructure[0] + i));
  });

  it('is centred on the training prompts and divided by the floored spread', () => {
    const spec = fitFeatures(prompts, { hashDim: 0, analysis: false, structure: true });
    const rows = prompts.map((p) => structureFeatures(p));
    const k = STRUCTURE_FEATURES.indexOf('option_count');
    const mean = rows.reduce((s, r) => s + r[k]!, 0) / rows.length; // 2 of 4 prompts have options
    expect(spec.structure!.mean[k]).toBeCloseTo(mean, 4);
    expect(spec.structure!.std[k]).toBeCloseTo(0.5, 4);
    const never = STRUCTURE_FEATURES.indexOf('blank');
    expect(spec.structure!.std[never]).toBe(STRUCTURE_MIN_STD);
    const x = featurize(spec, 'Fill the ____ in.');
    expect(x.index).toHaveLength(STRUCTURE_DIM);
    expect(x.value[never]).toBeCloseTo(1 / STRUCTURE_MIN_STD, 5);
    expect(x.value[k]).toBeCloseTo((0 - 0.5) / 0.5, 4);
  });

  it('rejects a spec whose standardization does not match the block', () => {
    const spec = fitFeatures(prompts, { hashDim: 0, structure: true });
    const bad = { ...spec, structure: { mean: [0], std: [1] } };
    expect(() => featurize(bad, JANET)).toThrow(LLMError);
    expect(() => featurize(bad, JANET)).toThrow(/structure block has 40 values/);
  });
});
