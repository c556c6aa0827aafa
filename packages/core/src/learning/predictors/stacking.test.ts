import { describe, expect, it } from 'vitest';
import { syntheticExamples } from '../__fixtures__/synthetic-data.js';
import { seededRandom } from './adam.js';
import { featureBlocks, featurize, fitFeatures } from '../features/feature-pipeline.js';
import { stackMembers } from '../training/stack-members.js';
import { toTrainingSet } from '../training/train-predictors.js';
import { trainStack } from '../training/train-stack.js';
import { loadPredictor } from './load-predictor.js';
import { trainLogistic } from './logistic-predictor.js';
import { denseLogLoss, denseLogisticPredict, fitDenseLogistic } from './meta-logistic.js';
import { StackPredictor } from './stack-predictor.js';
import { PriorPredictor } from './prior-predictor.js';
import { trainTaskPrior } from './task-prior-predictor.js';
import type { PredictorState } from './types.js';

describe('fitDenseLogistic', () => {
  // y ~ Bernoulli(sigmoid(2 x0 - x1 + 0.5)), x1 irrelevant noise in the second half.
  const r = seededRandom(5);
  const x = Array.from({ length: 3000 }, () => [r() * 4 - 2, r() * 4 - 2]);
  const y = x.map(([a, b]) => (r() < 1 / (1 + Math.exp(-(2 * a! - b! + 0.5))) ? 1 : 0));

  it('recovers the generating weights (Newton / IRLS)', () => {
    const m = fitDenseLogistic(x, y, 0.01);
    expect(m.weights[0]!).toBeGreaterThan(1.6);
    expect(m.weights[0]!).toBeLessThan(2.4);
    expect(m.weights[1]!).toBeGreaterThan(-1.3);
    expect(m.weights[1]!).toBeLessThan(-0.7);
    expect(m.bias).toBeGreaterThan(0.2);
    expect(m.bias).toBeLessThan(0.8);
    expect(denseLogisticPredict(m, [1, 0])).toBeGreaterThan(0.85);
  });

  it('shrinks the weights (not the bias) with a larger L2 penalty and skips NaN labels', () => {
    const loose = fitDenseLogistic(x, y, 0.01);
    const tight = fitDenseLogistic(x, y, 1e5);
    expect(Math.abs(tight.weights[0]!)).toBeLessThan(0.1 * Math.abs(loose.weights[0]!));
    const masked = fitDenseLogistic(x, y.map((v, i) => (i % 2 ? Number.NaN : v)), 0.01);
    expect(masked.weights[0]!).toBeGreaterThan(1.4);
    expect(denseLogLoss(loose, x, y)).toBeLessThan(denseLogLoss(tight, x, y));
  });
});

const train = syntheticExamples(300, 1);
const test = syntheticExamples(60, 2);
const spec = fitFeatures(train.map((e) => e.prompt), { hashDim: 1 << 10 });
const set = toTrainingSet(spec, train, 3);
const blocks = featureBlocks(spec);

describe('task prior', () => {
  const p = trainTaskPrior(set, train.map((e) => e.task), blocks.hashed);

  it('recognizes the task of held-out prompts from their words and predicts that task\'s mean quality', () => {
    let right = 0;
    for (const e of test) {
      const probs = p.taskProbabilities(featurize(spec, e.prompt));
      if (p.tasks[probs[0]! > probs[1]! ? 0 : 1] === e.task) right++;
    }
    expect(p.tasks).toEqual(['math', 'writing']);
    expect(right / test.length).toBeGreaterThan(0.95);
    const q = p.predict(featurize(spec, 'calculate the sum of 400 and 12?'));
    // mathy (1) is right ~95% of the time on math, poet (2) ~20%.
    expect(q[1]!).toBeGreaterThan(0.8);
    expect(q[2]!).toBeLessThan(0.35);
  });

  it('given several feature blocks, keeps the one whose classifier best explains the training tasks', () => {
    // Slot 9 of the analysis block is the constant 1: no information about the task.
    const chosen = trainTaskPrior(set, train.map((e) => e.task), [[9, 10], blocks.hashed]);
    expect(chosen.index.block).toEqual(blocks.hashed);
    const useless = trainTaskPrior(set, train.map((e) => e.task), [[9, 10]]);
    const probs = useless.taskProbabilities(featurize(spec, 'calculate the sum of 1 and 2?'));
    expect(probs[0]!).toBeCloseTo(0.5, 6);
  });

  it('survives a JSON round trip', () => {
    const again = loadPredictor(JSON.parse(JSON.stringify(p.toJSON())));
    const x = featurize(spec, 'write a poem about the sea.');
    const a = p.predict(x), b = again.predict(x);
    for (let m = 0; m < 3; m++) expect(b[m]!).toBeCloseTo(a[m]!, 3);
  });
});

describe('stack', () => {
  const predictors = new Map();
  const members = stackMembers({ train: set, val: toTrainingSet(spec, [], 3), examples: train, predictors, taskBlocks: [blocks.hashed], hyper: { seed: 1, epochs: 8 } });
  const stack = trainStack(set, train.map((e) => e.id), members, { folds: 3 });

  it('uses logistic, MLP and (two tasks) the task prior, and routes held-out prompts to the right specialist', () => {
    expect(members.map((m) => m.name)).toEqual(['logistic', 'mlp', 'task']);
    expect(stack.members).toHaveLength(3);
    let ok = 0;
    for (const e of test) {
      const q = stack.predict(featurize(spec, e.prompt));
      if (q[1]! > q[2]! === (e.task === 'math')) ok++;
      for (const v of q) expect(v >= 0 && v <= 1).toBe(true);
    }
    expect(ok / test.length).toBeGreaterThan(0.9);
  });

  it('is calibrated on held-out prompts at least as well as its best member alone', () => {
    const loss = (predict: (x: ReturnType<typeof featurize>) => Float64Array) => {
      let l = 0, n = 0;
      for (const e of test) {
        const q = predict(featurize(spec, e.prompt));
        for (let m = 0; m < 3; m++) {
          const p = Math.min(1 - 1e-7, Math.max(1e-7, q[m]!));
          l -= e.quality[m]! * Math.log(p) + (1 - e.quality[m]!) * Math.log(1 - p);
          n++;
        }
      }
      return l / n;
    };
    const best = Math.min(...stack.members.map((m) => loss((x) => m.predict(x))));
    expect(loss((x) => stack.predict(x))).toBeLessThan(best + 0.02);
  });

  it('survives a JSON round trip and rejects a malformed state', () => {
    const state = JSON.parse(JSON.stringify(stack.toJSON())) as Extract<PredictorState, { kind: 'stack' }>;
    const again = loadPredictor(state);
    expect(again).toBeInstanceOf(StackPredictor);
    const x = featurize(spec, 'solve the equation 30 and 4?');
    const a = stack.predict(x), b = again.predict(x);
    for (let m = 0; m < 3; m++) expect(b[m]!).toBeCloseTo(a[m]!, 4);
    expect(() => loadPredictor({ ...state, meta: state.meta.map((m) => ({ ...m, weights: m.weights.slice(1) })) })).toThrow(/meta model 0 has 8 weights, expected 9/);
    expect(() => loadPredictor({ ...state, members: [new PriorPredictor([0.5, 0.5]).toJSON()] })).toThrow(/member 0 has 2 outputs, expected 3/);
  });

  it('leaves the task prior out when every training prompt has the same task', () => {
    const one = train.map((e) => ({ ...e, task: 'all' }));
    const ms = stackMembers({ train: set, val: toTrainingSet(spec, [], 3), examples: one, predictors: new Map([['logistic', trainLogistic(set, undefined, { epochs: 4 })]]), taskBlocks: [blocks.hashed], hyper: { seed: 1, epochs: 4 } }, ['logistic', 'task']);
    expect(ms.map((m) => m.name)).toEqual(['logistic']);
  });
});
