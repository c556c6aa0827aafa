import { describe, expect, it } from 'vitest';
import type { CascadeExample } from '../cascade/load-gsm8k-responses.js';
import { heldOutFolds } from '../datasets/split-examples.js';
import type { RoutingDataset, RoutingExample } from '../datasets/types.js';
import { evaluateDataset } from '../evaluation/evaluate-dataset.js';
import { featurize, fitFeatures } from '../features/feature-pipeline.js';
import { seededRandom } from '../predictors/adam.js';
import { augmentRaw } from './augment-values.js';
import { fitAugment, trainingResponses, trainingSpecOf } from './fit-augment.js';
import { infoldResponses, type ResponseSource } from './infold-responses.js';
import { innerPart } from './inner-part.js';
import { RESPONSE_TARGETS, responseTargetLabels, responseTargetsLookup, responseTargetValues } from './response-targets.js';

const HASH = 1 << 12;
const N = 360;
const WORDS = ['alpha', 'bravo', 'delta', 'echo', 'golf', 'hotel', 'india', 'kilo', 'lima', 'mike', 'oscar', 'papa', 'romeo', 'sierra', 'tango', 'victor'];

/**
 * Two-model data whose weak model's outcome is a coin flip per prompt (a third of the prompts say
 * "hard" and fail more often: learnable from the words), each prompt unique and memorizable, and weak
 * responses that show the outcome: a wrong one has wrong arithmetic. A response model that saw a test
 * prompt's response memorizes its token and routes it perfectly; one that did not knows nothing more.
 */
function fixture(): { data: RoutingDataset; answered: CascadeExample[] } {
  const r = seededRandom(7);
  const w = () => WORDS[Math.floor(r() * WORDS.length)]!;
  const examples: RoutingExample[] = [];
  const answered: CascadeExample[] = [];
  for (let i = 0; i < N; i++) {
    const hard = i % 3 === 0;
    const prompt = `Question q${i}zz about ${w()} ${w()} and ${w()}${hard ? ' hard' : ''}`;
    const weak = r() < (hard ? 0.15 : 0.6) ? 1 : 0;
    const e: RoutingExample = { id: `gsm8k/${i}`, prompt, task: 'gsm8k', quality: [weak, 1] };
    examples.push(e);
    answered.push({
      ...e,
      weakResponse: weak ? `She has 2 + 2 = 4 apples.\n#### 4` : `She has 2 + 2 = 5 apples.\n#### 5`,
      strongResponse: `First 2 + 2 = 4. Then 4 * ${1 + (i % 4)} = ${4 * (1 + (i % 4))}.`,
    });
  }
  return { data: { name: 'resp', format: 'routellm', models: ['weak', 'strong'], examples, pair: { weak: 0, strong: 1 } }, answered };
}

const { data, answered } = fixture();
const fold = heldOutFolds(data.examples, 3)[0]!;
const apgrOf = (r: ReturnType<typeof evaluateDataset>, kind: string) => r.predictors.find((p) => p.kind === kind)!.two_model!.apgr;

/** A source whose lookup records every id it is asked for. */
function spiedSource(seen: Set<string>, targetsOf = responseTargetsLookup(answered)): ResponseSource {
  return { hashDim: HASH, targetsOf: (e) => (seen.add(e.id), targetsOf(e)) };
}

describe('response targets', () => {
  it('reads the weak answer’s arithmetic, shape and length and the strong answer’s equations', () => {
    const bad = responseTargetValues('Tom has 3 and 4 apples. How many?', 'He has 3 + 4 = 8 apples.\n#### 8', 'So 3 + 4 = 7 and then 7 * 2 = 14.');
    const good = responseTargetValues('Tom has 3 and 4 apples. How many?', 'He has 3 + 4 = 7 apples.\n#### 7', '3 + 4 = 7.');
    const cut = responseTargetValues('Tom has 3 and 4 apples. How many?', 'He has 3 + 4 = <<3+4', '7');
    expect(bad).toHaveLength(RESPONSE_TARGETS.length);
    expect(bad[1]).toBe(1); // weak_arith_wrong
    expect(good[1]).toBe(0);
    expect(bad[0]!).toBeGreaterThan(good[0]!); // weak_rule_score
    expect(good[2]).toBe(0); // weak_malformed
    expect(cut[2]).toBe(1);
    expect(bad[4]).toBe(2); // strong_equations
    expect(good[4]).toBe(1);
    expect(bad[5]!).toBeCloseTo(Math.log1p('So 3 + 4 = 7 and then 7 * 2 = 14.'.length), 9);
  });

  it('labels: binary targets as 0/1, the others as mid-ranks in 0..1 (ties share one)', () => {
    const rows = [
      [5, 1, 0, 3, 2, 1],
      [1, 0, 1, 3, 9, 2],
      [3, 0, 0, 1, 2, 3],
      [3, 1, 0, 4, 0, 4],
    ];
    const l = responseTargetLabels(rows);
    expect(l.map((r) => r[1])).toEqual([1, 0, 0, 1]);
    expect(l.map((r) => r[2])).toEqual([0, 1, 0, 0]);
    expect(l.map((r) => r[0])).toEqual([0.875, 0.125, 0.5, 0.5]);
    expect(l.map((r) => r[3])).toEqual([0.5, 0.5, 0.125, 0.875]);
    expect(l.map((r) => r[4])).toEqual([0.5, 0.875, 0.5, 0.125]);
  });

  it('the lookup matches by id and prompt text', () => {
    const look = responseTargetsLookup(answered);
    expect(look(data.examples[3]!)).toHaveLength(RESPONSE_TARGETS.length);
    expect(look({ ...data.examples[3]!, prompt: 'another prompt' })).toBeUndefined();
    expect(look({ ...data.examples[3]!, id: 'gsm8k/none' })).toBeUndefined();
  });
});

describe('infoldResponses (leakage)', () => {
  it('never asks for the responses of the fold’s test prompts; every training prompt’s are used', () => {
    const seen = new Set<string>();
    const { report } = infoldResponses(spiedSource(seen), fold.train, fold.test);
    for (const e of fold.test) expect(seen.has(e.id)).toBe(false);
    expect(seen.size).toBe(fold.train.length);
    expect(report).toMatchObject({ training: fold.train.length, dropped_test_overlap: 0, rows: fold.train.length });
    expect(report.inner_rows).toHaveLength(3);
    expect(report.inner_rows.reduce((a, b) => a + b, 0)).toBe(2 * fold.train.length);
  });

  it('a training prompt sharing a question with a test prompt is not read either', () => {
    const seen = new Set<string>();
    const twin: RoutingExample = { ...fold.train[0]!, prompt: `  ${fold.test[0]!.prompt.toUpperCase()}!` };
    const { report } = infoldResponses(spiedSource(seen), [twin, ...fold.train.slice(1)], fold.test);
    expect(seen.has(twin.id)).toBe(false);
    expect(report.dropped_test_overlap).toBe(1);
  });

  it('changing a test prompt’s responses changes nothing: its features come from models that never saw them', () => {
    const base = responseTargetsLookup(answered);
    const testIds = new Set(fold.test.map((e) => e.id));
    const flipped = (e: RoutingExample) => (testIds.has(e.id) ? [99, 1, 1, 9, 40, 9] : base(e));
    const a = infoldResponses({ hashDim: HASH, targetsOf: base }, fold.train, fold.test).options;
    const b = infoldResponses({ hashDim: HASH, targetsOf: flipped }, fold.train, fold.test).options;
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const spec = fitFeatures(fold.train.map((e) => e.prompt), { hashDim: 0 });
    const specA = { ...spec, augment: fitAugment(a, fold.train.map((e) => e.prompt)) };
    const specB = { ...spec, augment: fitAugment(b, fold.train.map((e) => e.prompt)) };
    for (const e of fold.test.slice(0, 30)) expect(Array.from(featurize(specB, e.prompt).value)).toEqual(Array.from(featurize(specA, e.prompt).value));
  });

  it('a training row’s values are out of fold: its own responses do not move them, they move the fold’s final model', () => {
    const base = responseTargetsLookup(answered);
    const p = fold.train.find((e) => e.quality[0] === 1)!;
    const changed = (e: RoutingExample) => (e.id === p.id ? [99, 1, 1, 9, 40, 9] : base(e));
    const a = infoldResponses({ hashDim: HASH, targetsOf: base }, fold.train, fold.test).options;
    const b = infoldResponses({ hashDim: HASH, targetsOf: changed }, fold.train, fold.test).options;
    const k = innerPart(p.prompt, 3);
    expect(trainingResponses(b, p.prompt)).toBe(b.responsesCrossFit!.models[k]);
    expect(JSON.stringify(b.responsesCrossFit!.models[k])).toBe(JSON.stringify(a.responsesCrossFit!.models[k]));
    expect(JSON.stringify(b.responses)).not.toBe(JSON.stringify(a.responses));
    const raw = (o: typeof a) => {
      const m = trainingResponses(o, p.prompt)!;
      return augmentRaw({ responses: m }, p.prompt, undefined, featurize(m.features, p.prompt));
    };
    expect(raw(b)).toEqual(raw(a));
    // The row's feature spec is its part's model, a new prompt's the final one.
    const spec = { ...fitFeatures(fold.train.map((e) => e.prompt), { hashDim: 0 }), augment: fitAugment(a, fold.train.map((e) => e.prompt)) };
    expect(trainingSpecOf(spec, a)(p.prompt).augment?.responses).toBe(a.responsesCrossFit!.models[k]);
    expect(spec.augment.responses).toBe(a.responses);
    expect(spec.augment.mean).toHaveLength(RESPONSE_TARGETS.length);
  });

  it('evaluateDataset with in-fold responses: no fold reads its test prompts’ responses, and on data where the responses only restate the labels it gains nothing', () => {
    const look = responseTargetsLookup(answered);
    const common = { kinds: ['logistic' as const], folds: 3, hashDim: HASH, seed: 1 };
    const plain = evaluateDataset(data, common);
    const seen = new Set<string>();
    let tested = 0;
    const infold = evaluateDataset(data, {
      ...common,
      foldOptions: (train, test) => {
        seen.clear();
        const r = infoldResponses(spiedSource(seen, look), train, test);
        for (const e of test) expect(seen.has(e.id)).toBe(false);
        expect(seen.size).toBe(train.length);
        tested += test.length;
        return { augment: r.options };
      },
    });
    expect(tested).toBe(N);
    // The weak outcome is a coin flip given the words: out-of-fold response features cannot know it.
    expect(Math.abs(apgrOf(infold, 'logistic') - apgrOf(plain, 'logistic'))).toBeLessThan(0.06);
  });
});
