import { describe, expect, it } from 'vitest';
import { seededRandom } from '../predictors/adam.js';
import type { RoutingDataset, RoutingExample } from '../datasets/types.js';
import { evaluateDataset } from '../evaluation/evaluate-dataset.js';
import { trainDifficultyModel, type AuxiliaryData } from './difficulty-model.js';
import { trainingSpecOf } from './fit-augment.js';
import { infoldAugment } from './infold-augment.js';
import { innerPart } from './inner-part.js';
import { excludeOverlap } from './prompt-overlap.js';

const HASH = 1 << 14;
const N = 360;
/** Copies of each router prompt's auxiliary row (as in open7b, where a question can appear in several files). */
const COPIES = 2;
const WORDS = ['alpha', 'bravo', 'delta', 'echo', 'golf', 'hotel', 'india', 'kilo', 'lima', 'mike', 'oscar', 'papa', 'romeo', 'sierra', 'tango', 'victor'];

/** A unique, memorizable prompt: three random words and a unique token. */
function uniquePrompt(r: () => number, i: number, tag: string): string {
  const w = () => WORDS[Math.floor(r() * WORDS.length)]!;
  return `Question ${tag}${i}zz about ${w()} ${w()} and ${w()}`;
}

/**
 * Two-model data whose weak model's outcome is a coin flip per prompt (nothing in the text predicts
 * it), and auxiliary data where each of 3 open models scores EXACTLY the weak model's outcome on every
 * router prompt (its "test-fold" prompts included), plus 300 unrelated auxiliary prompts with noise.
 * A difficulty model that saw a test prompt's auxiliary row memorizes its unique token and routes
 * that prompt perfectly; one that did not knows nothing about it.
 */
function leakageFixture(): { data: RoutingDataset; aux: AuxiliaryData } {
  const r = seededRandom(5);
  const examples: RoutingExample[] = [];
  const auxRows: RoutingExample[] = [];
  for (let i = 0; i < N; i++) {
    const prompt = `${uniquePrompt(r, i, 'q')}${i % 3 === 0 ? ' hard' : ''}`;
    // A third of the prompts say "hard" and the weak model fails them more often: learnable from the words.
    const hard = i % 3 === 0;
    const weak = r() < (hard ? 0.15 : 0.6) ? 1 : 0;
    examples.push({ id: `p${i}`, prompt, task: 'synthetic', quality: [weak, 1] });
    // Another template of the same question (upper case, other punctuation): the overlap check must catch it.
    for (let c = 0; c < COPIES; c++) auxRows.push({ id: `a${i}-${c}`, prompt: `${c % 2 ? prompt.toUpperCase() : prompt}${'?!'.repeat(c)}`, task: 'same', quality: [weak, weak, weak, weak, weak] });
  }
  for (let i = 0; i < 300; i++) {
    auxRows.push({ id: `n${i}`, prompt: uniquePrompt(r, i, 'n'), task: 'noise', quality: [0, 1, 2, 3, 4].map(() => (r() < 0.5 ? 1 : 0)) });
  }
  return {
    data: { name: 'leak', format: 'routellm', models: ['weak', 'strong'], examples, pair: { weak: 0, strong: 1 } },
    aux: { name: 'aux', models: ['o1', 'o2', 'o3', 'o4', 'o5'], examples: auxRows },
  };
}

/** The auxiliary rows whose outcomes are read (a getter on `quality` records the row). */
function spied(aux: AuxiliaryData, seen: Set<string>): AuxiliaryData {
  const examples = aux.examples.map((e) => {
    const copy = { ...e };
    Object.defineProperty(copy, 'quality', { enumerable: true, get: () => (seen.add(e.id), e.quality) });
    return copy as RoutingExample;
  });
  return { ...aux, examples };
}

const apgrOf = (r: ReturnType<typeof evaluateDataset>, kind: string) => r.predictors.find((p) => p.kind === kind)!.two_model!.apgr;

describe('infoldAugment (leakage)', () => {
  const { data, aux } = leakageFixture();

  it('never reads the auxiliary outcome of a prompt that shares a question with the fold’s test prompts', () => {
    const seen = new Set<string>();
    const spyAux = spied(aux, seen);
    const folds: Array<{ test: string[]; seen: string[]; kept: number; trainOverlap: number }> = [];
    evaluateDataset(data, {
      kinds: ['logistic'],
      folds: 3,
      hashDim: HASH,
      foldOptions: (train, test) => {
        seen.clear();
        const r = infoldAugment({ aux: spyAux, hashDim: HASH }, train, test);
        folds.push({ test: test.map((e) => e.prompt), seen: [...seen], kept: r.report.kept, trainOverlap: r.report.kept_training_overlap });
        expect(r.report.dropped_test_overlap).toBe(COPIES * test.length);
        return { augment: r.options };
      },
    });
    expect(folds).toHaveLength(3);
    for (const f of folds) {
      const read = aux.examples.filter((e) => f.seen.includes(e.id));
      expect(read.length).toBeGreaterThan(COPIES * (N - f.test.length)); // training prompts' rows and the noise rows are used ...
      expect(excludeOverlap(read, (e) => e.prompt, f.test).dropped).toBe(0); // ... never a test prompt's
      expect(f.kept).toBe(COPIES * (N - f.test.length) + 300);
      expect(f.trainOverlap).toBe(COPIES * (N - f.test.length));
    }
  });

  it('held-out APGR does not jump, while a difficulty model that learned from the test prompts’ rows makes it jump', () => {
    const opts = { kinds: ['logistic' as const], folds: 3, hashDim: HASH };
    const none = apgrOf(evaluateDataset(data, opts), 'logistic');
    const infold = apgrOf(evaluateDataset(data, { ...opts, foldOptions: (train, test) => ({ augment: infoldAugment({ aux, hashDim: HASH }, train, test).options }) }), 'logistic');
    // The control (what a leaking implementation does): one difficulty model learned from every
    // auxiliary row, the test prompts' included, for training and test rows alike.
    const leaky = trainDifficultyModel(aux, { evaluated: [], hashDim: HASH }).spec;
    const leaked = apgrOf(evaluateDataset(data, { ...opts, augment: { difficulty: leaky } }), 'logistic');
    // Measured: none 0.587, in-fold 0.585, leaked 0.723.
    expect(leaked - none).toBeGreaterThan(0.1);
    expect(Math.abs(infold - none)).toBeLessThan(0.05);
  });
});

describe('infoldAugment (cross-fitting)', () => {
  const { data, aux } = leakageFixture();
  const test = data.examples.slice(0, 60);
  const train = data.examples.slice(60);

  it('gives each training prompt the values of a model that left out its own part’s auxiliary rows (and the test prompts’)', () => {
    const { options, report } = infoldAugment({ aux, hashDim: HASH, innerFolds: 3 }, train, test);
    expect(options.crossFit?.models).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      const part = train.filter((e) => innerPart(e.prompt, 3) === k).map((e) => e.prompt);
      expect(part.length).toBeGreaterThan(50);
      const allowed = excludeOverlap(aux.examples, (e) => e.prompt, [...test.map((e) => e.prompt), ...part]).kept.length;
      expect(report.inner_kept?.[k]).toBe(allowed);
      expect(options.crossFit!.models[k]!.source).toContain(`${allowed} of ${aux.examples.length} prompts`);
    }
    expect(report.kept).toBe(aux.examples.length - COPIES * test.length);
  });

  it('routes training rows through their part’s model and new prompts through the fold’s model', async () => {
    const { fitFeatures } = await import('../features/feature-pipeline.js');
    const { fitAugment } = await import('./fit-augment.js');
    const { options } = infoldAugment({ aux, hashDim: HASH, innerFolds: 3 }, train, test);
    const spec = fitFeatures(train.map((e) => e.prompt), { hashDim: 0 });
    spec.augment = fitAugment(options, train.map((e) => e.prompt));
    expect(spec.augment.difficulty).toBe(options.difficulty);
    expect(JSON.stringify(spec.augment)).not.toContain('crossFit');
    const specOf = trainingSpecOf(spec, options);
    for (const e of train.slice(0, 20)) expect(specOf(e.prompt).augment?.difficulty).toBe(options.crossFit!.models[innerPart(e.prompt, 3)]);
    expect(trainingSpecOf(spec, { difficulty: options.difficulty! })('x')).toBe(spec);
  });
});
