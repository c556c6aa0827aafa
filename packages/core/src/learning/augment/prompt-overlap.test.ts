import { describe, expect, it } from 'vitest';
import { excludeOverlap, normalizePromptText, questionKeys, questionStem } from './prompt-overlap.js';

const MMLU_TEMPLATE = 'The field of psychology arose out of which of the following?\nA. Biochemistry\nB. Physics\nC. Philosophy\nD. Cross-cultural anthropology\nAnswer:';
const OPEN7B_SAME = 'The field of  psychology arose out of which of the following?\nA. Biochemistry\nB. Physics\nC. Philosophy\nD. Cross-cultural anthropology';

describe('normalizePromptText / questionKeys', () => {
  it('ignores case, punctuation and whitespace, in any script', () => {
    expect(normalizePromptText('  Janet’s ducks lay 16 eggs,\nper DAY! ')).toBe('janet s ducks lay 16 eggs per day');
    expect(normalizePromptText('甲、乙两地 相距')).toBe('甲 乙两地 相距');
  });

  it("strips RouteLLM's Answer: template and keys the question stem of a multiple-choice prompt", () => {
    expect(questionKeys(MMLU_TEMPLATE)).toEqual(questionKeys(OPEN7B_SAME));
    expect(questionStem(OPEN7B_SAME)).toBe('The field of  psychology arose out of which of the following?');
    expect(questionKeys('Natalia sold clips to 48 of her friends.')).toHaveLength(1);
    // A stem under 20 characters is too generic to identify a question.
    expect(questionKeys('Which is true?\nA. x\nB. y')).toHaveLength(1);
  });
});

describe('excludeOverlap', () => {
  const evaluated = [MMLU_TEMPLATE, 'Janet’s ducks lay 16 eggs per day. How much does she make?'];

  it('drops an auxiliary prompt present in the evaluated set (template, case and spacing aside) and keeps the rest', () => {
    const aux = [
      { id: 'a', q: OPEN7B_SAME },
      { id: 'b', q: 'JANET’S DUCKS LAY 16 EGGS PER DAY.  How much does she make?' },
      { id: 'c', q: 'Natalia sold clips to 48 of her friends in April. How many clips?' },
    ];
    const r = excludeOverlap(aux, (x) => x.q, evaluated);
    expect(r.kept.map((x) => x.id)).toEqual(['c']);
    expect(r.dropped).toBe(2);
    expect(r.droppedByFullText).toBe(2);
    expect(r.droppedByStemOnly).toBe(0);
  });

  it('drops the same question with other answer options (stem match), but not a different question', () => {
    const aux = [
      { id: 'same-stem', q: 'The field of psychology arose out of which of the following?\nA. Chemistry\nB. Philosophy' },
      { id: 'other', q: 'The field of sociology arose out of which of the following?\nA. Chemistry\nB. Philosophy' },
    ];
    const r = excludeOverlap(aux, (x) => x.q, evaluated);
    expect(r.kept.map((x) => x.id)).toEqual(['other']);
    expect(r.droppedByStemOnly).toBe(1);
  });

  it("drops a question without options that is an evaluated question's stem, and the other way round", () => {
    const evaluatedMc = ['How many positive integers are factors of 120 and also factors of 40?\nA. 2\nB. 6\nC. 8\nD. 12\nAnswer:'];
    const bare = ['How many positive integers are factors of 120 and also factors of 40?', 'How many positive integers are factors of 90 and also factors of 30?'];
    const r = excludeOverlap(bare, (x) => x, evaluatedMc);
    expect(r.kept).toEqual([bare[1]]);
    expect(r.droppedByStemOnly).toBe(1);
    // An auxiliary multiple-choice question whose stem is an evaluated question without options.
    const back = excludeOverlap(evaluatedMc, (x) => x, [bare[0]!]);
    expect(back.kept).toEqual([]);
  });

  it('keeps everything when nothing is shared, drops everything when all is', () => {
    expect(excludeOverlap(['a b c'], (x) => x, ['d e f']).kept).toEqual(['a b c']);
    expect(excludeOverlap(evaluated, (x) => x, evaluated).kept).toEqual([]);
  });
});
