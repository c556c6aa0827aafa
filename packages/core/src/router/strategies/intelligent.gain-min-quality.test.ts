import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syntheticPairDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { RouterModel } from '../../learning/training/router-model.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import { LLMRouter } from '../llm-router.js';
import { createIntelligentStrategy } from './intelligent.js';

// A `gain` predictor's two outputs are (1 + gain) / 2 and (1 - gain) / 2: on an easy prompt both models answer well
// (about 90% here), the gain is near 0, and both "qualities" sit near 0.5. A quality floor on them means nothing.
let gain: RouterModel;
let logistic: RouterModel;
const MODELS = [
  { name: 'weak', engine: 'mock', price: { input: 0.1, output: 0.1 } },
  { name: 'strong', engine: 'mock', price: { input: 2, output: 2 } },
];
const routers: LLMRouter[] = [];

beforeAll(() => {
  const data = syntheticPairDataset(240);
  gain = new RouterModel(trainRouterModel(data, { hashDim: 1 << 10, kinds: ['gain'], select: 'gain' }));
  logistic = new RouterModel(trainRouterModel(data, { hashDim: 1 << 10, kinds: ['logistic'], select: 'logistic' }));
});
afterEach(async () => {
  for (const r of routers.splice(0)) await r.close();
});

function router(model: RouterModel, options: Record<string, unknown> = {}): LLMRouter {
  const r = new LLMRouter({ models: MODELS as never, routing: { strategy: 'intelligent', options: { intelligent: options } } }, { strategies: { intelligent: createIntelligentStrategy({ model }) } });
  routers.push(r);
  return r;
}

const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { code: string; param?: string; message: string });

describe('intelligent: minQuality with a gain router model (outputs that are not probabilities)', () => {
  it('the gain model predicts below 0.6 for both models on an easy prompt both answer well; logistic does not', () => {
    expect(gain.predictor.kind).toBe('gain');
    const q = gain.predict('say hello to the river');
    expect(q[0]! + q[1]!).toBeCloseTo(1, 6);
    expect(Math.max(q[0]!, q[1]!)).toBeLessThan(0.6);
    expect(Math.min(...logistic.predict('say hello to the river'))).toBeGreaterThan(0.6);
  });

  it('minQuality in the config: ready() and calls refuse it (config_invalid naming routing.options.intelligent.minQuality)', async () => {
    const r = router(gain, { minQuality: 0.6 });
    const e = await rejection(r.ready());
    expect(e).toMatchObject({ code: 'config_invalid', param: 'routing.options.intelligent.minQuality' });
    expect(e!.message).toMatch(/predictor is "gain": its outputs are \(1 \+ gain\) \/ 2 and \(1 - gain\) \/ 2, not calibrated/);
    expect(await rejection(r.route('say hello to the river'))).toMatchObject({ code: 'config_invalid', param: 'routing.options.intelligent.minQuality' });
  });

  it("a call's minQuality: the call's invalid_request naming strategyOptions.minQuality; without it the gain model routes", async () => {
    const r = router(gain);
    await r.ready();
    const e = await rejection(r.route('say hello to the river', { strategyOptions: { minQuality: 0.6 } }));
    expect(e).toMatchObject({ code: 'invalid_request', param: 'strategyOptions.minQuality' });
    expect(e!.message).toMatch(/^intelligent: minQuality needs predicted qualities that are probabilities/);
    const d = await r.route('prove the theorem about prime 7 numbers and integral calculus limits', { explain: true });
    expect(d.selected).toBe('strong');
    // explain says what the number is.
    expect(d.candidates[0]!.note).toMatch(/predictedQuality from a "gain" router model: \(1 ± the strong model's predicted gain\) \/ 2, not a probability/);
  });

  it('a calibrated predictor (logistic) keeps minQuality', async () => {
    const r = router(logistic, { minQuality: 0.6 });
    await r.ready();
    const d = await r.route('say hello to the river', { explain: true });
    expect(['weak', 'strong']).toContain(d.selected);
  });

  it('minQuality and the gain model both given in code (createIntelligentStrategy): ready() fails (config_invalid naming option minQuality), and calls with it, never a 400 to each client', async () => {
    const r = new LLMRouter({ models: MODELS as never, routing: { strategy: 'intelligent' } }, { strategies: { intelligent: createIntelligentStrategy({ model: gain, minQuality: 0.6 }) } });
    routers.push(r);
    const e = await rejection(r.ready());
    expect(e).toMatchObject({ code: 'config_invalid', param: 'minQuality' });
    expect(e!.message).toMatch(/^intelligent: option "minQuality" \(given in code\): minQuality needs predicted qualities that are probabilities/);
    expect(await rejection(r.route('say hello to the river'))).toMatchObject({ code: 'config_invalid', param: 'minQuality' });
  });

  it("the config's minQuality with its logistic model, a call's strategyOptions.model a gain model: the call's invalid_request names strategyOptions.model", async () => {
    const r = new LLMRouter({ models: MODELS as never, routing: { strategy: 'intelligent', options: { intelligent: { minQuality: 0.6 } } } }, { strategies: { intelligent: createIntelligentStrategy({ model: logistic }) } });
    routers.push(r);
    await r.ready();
    const e = await rejection(r.route('say hello to the river', { strategyOptions: { model: gain } }));
    expect(e).toMatchObject({ code: 'invalid_request', param: 'strategyOptions.model' });
    expect(e!.message).toMatch(/strategyOptions\.model cannot serve this server's minQuality \(0\.6\)/);
    // The call's own minQuality with it: that one is named.
    expect(await rejection(r.route('say hello to the river', { strategyOptions: { model: gain, minQuality: 0.7 } }))).toMatchObject({ code: 'invalid_request', param: 'strategyOptions.minQuality' });
    expect((await r.route('say hello to the river')).selected).toBeDefined();
  });
});

