import { describe, expect, it } from 'vitest';
import { syntheticDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { featureDim } from '../../learning/features/feature-pipeline.js';
import { RouterModel, parseRouterModel, type RouterModelArtifact } from '../../learning/training/router-model.js';
import { LLMError } from '../../errors/llm-error.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import { LLMRouter } from '../llm-router.js';
import { createIntelligentStrategy } from './intelligent.js';

const MODELS = [
  { name: 'cheap', engine: 'mock', price: { input: 0.1, output: 0.1 } },
  { name: 'mathy', engine: 'mock', price: { input: 1, output: 1 } },
  { name: 'poet', engine: 'mock', price: { input: 2, output: 2 } },
];

/**
 * An artifact whose predictor was trained on a feature vector of another size than the one its feature
 * spec produces (what an artifact written by a version with another analysis block looks like: the
 * `version` field stays 1). Here: the predictor's input is 1000 features shorter than featureDim(spec).
 */
function mismatchedArtifact(): RouterModelArtifact {
  const good = trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic' });
  const a = JSON.parse(JSON.stringify(good)) as RouterModelArtifact;
  const p = a.predictor as Extract<RouterModelArtifact['predictor'], { kind: 'logistic' }>;
  const dim = featureDim(a.features);
  expect(p.dim).toBe(dim);
  const short = dim - 1000;
  const keep = p.weights.rows.map((r, i) => [r, i] as const).filter(([r]) => r < short);
  p.weights = { cols: p.weights.cols, rows: keep.map(([r]) => r), values: keep.map(([, i]) => p.weights.values[i]!) };
  p.dim = short;
  return a;
}

function rejected(load: () => unknown): LLMError {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(LLMError);
    return e as LLMError;
  }
  throw new Error('loaded');
}

function logisticArtifact(): RouterModelArtifact {
  return JSON.parse(JSON.stringify(trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic' }))) as RouterModelArtifact;
}

describe('router model artifact whose parts do not fit together', () => {
  it('a predictor trained on another feature size is rejected at load, naming the field', () => {
    const e = rejected(() => parseRouterModel(JSON.stringify(mismatchedArtifact()), 'model.json'));
    expect(e.param).toBe('predictor.dim');
    expect(e.message).toMatch(/takes \d+ input features but the artifact's features have \d+/);
  });

  it('a logistic predictor whose bias has fewer values than outputs is rejected, not read with shifted weights', () => {
    const a = logisticArtifact();
    (a.predictor as Extract<RouterModelArtifact['predictor'], { kind: 'logistic' }>).bias.splice(2); // 3 models, 2 biases
    expect(rejected(() => new RouterModel(a)).param).toBe('predictor.bias');
  });

  it('an analysis standardization of the wrong length is rejected', () => {
    const a = logisticArtifact();
    a.features.analysisStd = a.features.analysisStd!.slice(1);
    expect(rejected(() => new RouterModel(a)).param).toBe('features.analysisStd');
  });

  it('a cost model or calibration row with another number of models is rejected', () => {
    const a = logisticArtifact();
    a.cost = { intercept: [0, 0], perToken: [0, 0] };
    expect(rejected(() => new RouterModel(a)).param).toBe('cost.intercept');
    const b = logisticArtifact();
    b.calibration[0] = [0.5];
    expect(rejected(() => new RouterModel(b)).param).toBe('calibration.0');
  });

  it('the untouched artifact loads', () => {
    expect(new RouterModel(logisticArtifact()).models).toEqual(['cheap', 'mathy', 'poet']);
  });
});

describe('intelligent: a non-finite predicted quality', () => {
  /**
   * A model whose predictor predicts NaN for cheap and poet at run time (an artifact holding a NaN is refused at load,
   * naming the field; a predictor can still compute one from what it is given): a prior whose predictions are
   * overwritten so.
   */
  function nanModel(mathy: number): RouterModel {
    const a = logisticArtifact();
    a.predictor = { kind: 'prior', mean: [0.5, mathy, 0.5] };
    const model = new RouterModel(a);
    const predictor = model.predictor as { predict: RouterModel['predictor']['predict'] };
    const predict = predictor.predict.bind(predictor);
    predictor.predict = (x, out) => {
      const r = predict(x, out);
      r[0] = NaN;
      r[2] = NaN;
      return r;
    };
    return model;
  }

  async function route(model: RouterModel, options: Record<string, unknown>): Promise<unknown> {
    const r = new LLMRouter(
      { models: MODELS as never, routing: { strategy: 'intelligent', options: { intelligent: options } } },
      { strategies: { intelligent: createIntelligentStrategy({ model }) } },
    );
    try {
      return await r.route('calculate the sum of 312 and 45?', { explain: true }).then((d) => d.selected, (e: unknown) => e);
    } finally {
      await r.close();
    }
  }

  it('never passes minQuality', async () => {
    const r = await route(nanModel(0.5), { minQuality: 0.9 });
    expect(r).toBeInstanceOf(LLMError);
    expect((r as LLMError).code).toBe('no_deployment');
  });

  it('is never picked, even over a low finite prediction', async () => {
    expect(await route(nanModel(0.1), {})).toBe('mathy');
  });
});
