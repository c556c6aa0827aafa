import { describe, expect, it } from 'vitest';
import { syntheticDataset, syntheticPairDataset } from '../__fixtures__/synthetic-data.js';
import { evaluateDataset } from '../evaluation/evaluate-dataset.js';
import { reportSvg } from '../evaluation/report-plot.js';
import { calibrateLambda } from './calibrate-lambda.js';
import { RouterModel, parseRouterModel } from './router-model.js';
import { trainPredictors } from './train-predictors.js';
import { trainRouterModel } from './train-router-model.js';

const FAST = { hashDim: 1 << 10, kinds: ['logistic', 'mlp'] as const };

describe('trainRouterModel', () => {
  const data = syntheticDataset();
  const artifact = trainRouterModel(data, { ...FAST, now: () => new Date('2026-01-01T00:00:00Z') });

  it('trains on the train split only and records how candidates did on validation data', () => {
    expect(artifact.training.examples).toBe(300);
    expect(artifact.training.tasks).toEqual(['math', 'writing']);
    expect(artifact.training.validation.map((v) => v.kind)).toEqual(['prior', 'logistic', 'mlp']);
    expect(artifact.training.validation.every((v) => v.metric === 'aiq')).toBe(true);
    expect(['logistic', 'mlp']).toContain(artifact.training.chosen);
    expect(artifact.cost?.intercept).toHaveLength(3);
    expect(artifact.calibration.length).toBeGreaterThan(50);
  });

  it('loads back from JSON and predicts per model', () => {
    const model = parseRouterModel(JSON.stringify(artifact));
    const math = model.predict('solve the equation 12 and 7?');
    expect(math[1]!).toBeGreaterThan(math[2]!);
    expect(model.indexOf('poet')).toBe(2);
    expect(model.needsEmbedding).toBe(false);
    expect(() => new RouterModel({ ...artifact, format: 'nope' } as never)).toThrow(/Not a router model/);
    expect(() => parseRouterModel('{')).toThrow(/not valid JSON/);
  });
});

describe('trainPredictors: prompts lacking some model\'s outcome', () => {
  it('with no validation prompt holding every outcome, predictors are compared by Brier score on the known outcomes (never picked on an n/a score)', () => {
    // Every prompt lacks one model's outcome (and its cost): the routing metrics (AIQ here) can score none of them.
    const examples = syntheticDataset().examples.filter((e) => e.split === 'train').map((e, i) => {
      const quality = [...e.quality], cost = [...e.cost!];
      quality[i % 3] = NaN;
      cost[i % 3] = NaN;
      return { ...e, quality, cost };
    });
    const lines: string[] = [];
    const trained = trainPredictors(examples, 3, undefined, { ...FAST, log: (l) => lines.push(l) });
    expect(trained.validation.map((v) => v.metric)).toEqual(['brier', 'brier', 'brier']);
    for (const v of trained.validation) expect(v.value).toBeGreaterThan(0);
    const learned = trained.validation.filter((v) => v.kind !== 'prior');
    expect(trained.chosen).toBe(learned.reduce((a, b) => (b.value < a.value ? b : a)).kind);
    expect(lines.find((l) => l.includes('Brier'))).toMatch(/^  no validation prompt has every model's outcome and cost \(\d+ validation prompts\): predictors compared by Brier score on their \d+ known outcomes \(lower is better\)$/);
    // A learned predictor beats the prompt-blind prior on Brier here (the synthetic outcomes depend on the prompt).
    expect(Math.min(...learned.map((v) => v.value))).toBeLessThan(trained.validation[0]!.value);
  });
});

describe('evaluateDataset', () => {
  it('a damaged artifact whose weights are not numbers (text, null, an object) is refused naming the field, never predicted with', () => {
    const logistic = JSON.parse(JSON.stringify(trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic' }))) as { predictor: { kind: string; bias: unknown[]; weights: { values: unknown[][] } } };
    expect(logistic.predictor.kind).toBe('logistic');
    for (const bad of ['0.1', null, { v: 1 }]) {
      const weight = structuredClone(logistic);
      weight.predictor.weights.values[0]![0] = bad;
      expect(() => parseRouterModel(JSON.stringify(weight))).toThrow(/predictor\.weights\.values\.0\.0: .*not a finite number/);
      const bias = structuredClone(logistic);
      bias.predictor.bias[1] = bad;
      expect(() => parseRouterModel(JSON.stringify(bias))).toThrow(/predictor\.bias\.1: .*not a finite number/);
    }
    const mlp = JSON.parse(JSON.stringify(trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['mlp'], select: 'mlp' }))) as { predictor: { kind: string; w2: unknown[]; b1: unknown[] } };
    expect(mlp.predictor.kind).toBe('mlp');
    mlp.predictor.w2[3] = 'x';
    expect(() => parseRouterModel(JSON.stringify(mlp))).toThrow(/predictor\.w2\.3: .*not a finite number/);
    const std = structuredClone(logistic) as unknown as { features: { analysisStd: unknown[] } };
    std.features.analysisStd[2] = '0.5';
    expect(() => parseRouterModel(JSON.stringify(std))).toThrow(/features\.analysisStd\.2: "0\.5" is not a finite number/);
  });

  it('a damaged artifact is refused naming the field for every number it predicts or costs with (stack meta, task, guard, knn, prior, IDF fallback, augmentation, cost, calibration)', () => {
    type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const trained = (kind: 'stack' | 'task' | 'logistic' | 'knn' | 'prior', extra: object = {}) =>
      JSON.parse(JSON.stringify(trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: [kind], select: kind, ...extra }))) as Json;
    const artifacts = { stack: trained('stack'), task: trained('task'), logistic: trained('logistic'), knn: trained('knn'), prior: trained('prior'), guarded: trained('logistic', { guard: true }), augmented: trained('logistic', { augment: { quantities: true } }) };
    expect({ stack: artifacts.stack['predictor'].kind, task: artifacts.task['predictor'].kind, knn: artifacts.knn['predictor'].kind, prior: artifacts.prior['predictor'].kind, guarded: artifacts.guarded['predictor'].kind, augmented: artifacts.augmented['features'].augment?.std.length > 0 })
      .toEqual({ stack: 'stack', task: 'task', knn: 'knn', prior: 'prior', guarded: 'guarded', augmented: true });
    // Untouched, each loads and predicts finite numbers: the damage below is the only difference.
    for (const a of Object.values(artifacts)) expect(Array.from(parseRouterModel(JSON.stringify(a)).predict('calculate the sum of 3 and 4?')).every(Number.isFinite)).toBe(true);
    // A model the data had no cost for, and a training prompt lacking an outcome, are null: still loadable.
    const nulls = structuredClone(artifacts.knn);
    nulls['cost'].intercept[0] = null;
    nulls['cost'].perToken[0] = null;
    nulls['predictor'].quality[0][0] = null;
    expect(Number.isNaN(parseRouterModel(JSON.stringify(nulls)).predictCost('a prompt')![0])).toBe(true);
    const cases: Array<[keyof typeof artifacts, (a: Json) => void, RegExp]> = [
      ['stack', (a) => (a['predictor'].meta[0].bias = '0.1'), /predictor\.meta\.0\.bias: "0\.1" is not a finite number/],
      ['stack', (a) => (a['predictor'].meta[0].weights[0] = null), /predictor\.meta\.0\.weights\.0: null is not a finite number/],
      ['stack', (a) => a['predictor'].meta[1].weights.pop(), /predictor\.meta\.1\.weights: .*expected/],
      ['task', (a) => (a['predictor'].temperature = 'x'), /predictor\.temperature: "x" is not a finite number/],
      ['task', (a) => (a['predictor'].temperature = 0), /predictor\.temperature: 0 is not > 0/],
      ['task', (a) => (a['predictor'].quality[1][0] = '0.5'), /predictor\.quality\.1\.0: "0\.5" is not a finite number/],
      ['task', (a) => (a['predictor'].centroids[0][1][0] = { v: 1 }), /predictor\.centroids\.0\.1\.0: .*not a finite number/],
      ['guarded', (a) => (a['predictor'].prior[2] = 'x'), /predictor\.prior\.2: "x" is not a finite number/],
      ['guarded', (a) => (a['predictor'].low = null), /predictor\.low: null is not a finite number/],
      ['guarded', (a) => (a['predictor'].high = '1'), /predictor\.high: "1" is not a finite number/],
      ['guarded', (a) => (a['predictor'].centroids[0][0][0] = 'x'), /predictor\.centroids\.0\.0\.0: index "x" is not a whole number/],
      ['knn', (a) => (a['predictor'].prior[0] = '0.5'), /predictor\.prior\.0: "0\.5" is not a finite number/],
      ['knn', (a) => (a['predictor'].vectors[3][1][0] = 'x'), /predictor\.vectors\.3\.1\.0: "x" is not a finite number/],
      ['knn', (a) => (a['predictor'].quality[0][1] = 'x'), /predictor\.quality\.0\.1: "x" is not a finite number/],
      ['prior', (a) => (a['predictor'].mean[0] = '0.5'), /predictor\.mean\.0: "0\.5" is not a finite number/],
      ['logistic', (a) => (a['features'].idf.fallback = 'x'), /features\.idf\.fallback: "x" is not a finite number/],
      ['augmented', (a) => (a['features'].augment.std[0] = 'x'), /features\.augment\.std\.0: "x" is not a finite number/],
      ['augmented', (a) => (a['features'].augment.mean[0] = null), /features\.augment\.mean\.0: null is not a finite number/],
      ['logistic', (a) => (a['cost'].intercept[0] = String(a['cost'].intercept[0])), /cost\.intercept\.0: ".*" is not a finite number/],
      ['logistic', (a) => (a['cost'].perToken[1] = {}), /cost\.perToken\.1: \{\} is not a finite number/],
      ['logistic', (a) => (a['calibration'][4][2] = 'x'), /calibration\.4\.2: "x" is not a finite number/],
    ];
    const loadError = (a: Json) => {
      try {
        parseRouterModel(JSON.stringify(a));
        return 'loaded';
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (const [kind, damage, message] of cases) {
      const a = structuredClone(artifacts[kind]);
      damage(a);
      expect({ kind, damage: String(damage), error: loadError(a) }).toEqual({ kind, damage: String(damage), error: expect.stringMatching(message) });
    }
  });

  it('many models with costs: the router beats the zero-router hull and reaches 95% of the best model cheaply', () => {
    const r = evaluateDataset(syntheticDataset(), FAST);
    expect(r.mode).toBe('many-model');
    expect(r.protocol).toBe('test split');
    expect(r.n_test).toBe(120);
    expect(r.aiq!).toBeGreaterThan(r.zero_router!.aiq);
    expect(r.cost_fraction_at_95!).toBeLessThan(1);
    const oracle = r.baselines.oracle.many_model!;
    expect(oracle.aiq).toBeGreaterThanOrEqual(r.aiq! - 1e-9);
    expect(r.per_task?.map((t) => t.task)).toEqual(['math', 'writing']);
    expect(reportSvg(r)).toMatch(/^<svg[\s\S]*zero router[\s\S]*<\/svg>\n$/);
  });

  it('two models, no split: k-fold cross-validation, APGR well above random', () => {
    const r = evaluateDataset(syntheticPairDataset(), { ...FAST, folds: 3 });
    expect(r.mode).toBe('two-model');
    expect(r.protocol).toMatch(/3-fold cross-validation/);
    expect(r.n_test).toBe(400);
    expect(r.apgr!).toBeGreaterThan(0.7);
    expect(r.cpt50!).toBeLessThan(0.5);
    const prior = r.predictors.find((p) => p.kind === 'prior')!.two_model!;
    expect(prior.apgr).toBeCloseTo(0.5, 6);
    expect(r.baselines.random.two_model!.apgr).toBeCloseTo(0.5, 6);
    expect(reportSvg(r)).toContain('PGR');
  });
});

describe('calibrateLambda', () => {
  it('finds the lambda that sends the asked share of calls to the strongest model', () => {
    // 100 prompts; the strong model (index 1) predicts 0.6..0.99 while the weak one is 0.5.
    const rows = Array.from({ length: 100 }, (_, i) => [0.5, 0.6 + (0.39 * i) / 99]);
    const cost = [0.1, 1];
    for (const share of [0.2, 0.5, 0.8]) {
      const lambda = calibrateLambda(rows, cost, 1, share);
      const strong = rows.filter((q) => q[1]! - lambda * cost[1]! > q[0]! - lambda * cost[0]!).length / rows.length;
      expect(Math.abs(strong - share)).toBeLessThanOrEqual(0.02);
    }
    expect(calibrateLambda(rows, cost, 1, 1)).toBe(0);
  });
});

describe('automatic choice', () => {
  it('never picks kNN by itself (decision time grows with the training set); forcing or kNN alone still does', () => {
    const examples = syntheticDataset().examples.filter((e) => e.split === 'train');
    const both = trainPredictors(examples, 3, undefined, { hashDim: 1 << 10, kinds: ['logistic', 'knn'] });
    expect(both.validation.map((v) => v.kind)).toEqual(['prior', 'logistic', 'knn']);
    expect(both.chosen).toBe('logistic');
    expect(trainPredictors(examples, 3, undefined, { hashDim: 1 << 10, kinds: ['knn'] }).chosen).toBe('knn');
    expect(trainPredictors(examples, 3, undefined, { hashDim: 1 << 10, kinds: ['logistic', 'knn'], select: 'knn' }).chosen).toBe('knn');
  });
});
