/**
 * A bad strategy option in the router config (`routing.options.intelligent` / `.adaptive`) is the operator's mistake:
 * the router refuses the config when it is built (`config_invalid` naming the field), rather than taking it and then
 * refusing every call as the caller's `invalid_request` naming a field the caller never sent. The same value in a
 * call's own `strategyOptions` (a library caller's) stays `invalid_request` naming it.
 */
import { describe, expect, it } from 'vitest';
import { rejection, thrown } from '../../test/async.test-helpers.js';
import { LLMRouter } from '../llm-router.js';
import { AdaptiveStrategy } from './adaptive.js';
import { createIntelligentStrategy } from './intelligent.js';

const models = [{ name: 'a', engine: 'mock' as const }, { name: 'b', engine: 'mock' as const }];

describe('intelligent / adaptive: bad options in the router config', () => {
  it('an out-of-range strongShare (30 for 30%) is refused when the router is built, naming the field', () => {
    const e = thrown(() => new LLMRouter({ models, routing: { strategy: 'intelligent', options: { intelligent: { strongShare: 30 } } } }));
    expect({ code: e.code, statusCode: e.statusCode, param: e.param }).toEqual({ code: 'config_invalid', statusCode: 500, param: 'routing.options.intelligent.strongShare' });
    expect(e.message).toContain('from 0 to 1');
  });

  it('also when intelligent is not the default strategy (a call may name it)', () => {
    const e = thrown(() => new LLMRouter({ models, routing: { strategy: 'priority', options: { intelligent: { lambda: 'high' } } } }));
    expect({ code: e.code, param: e.param }).toEqual({ code: 'config_invalid', param: 'routing.options.intelligent.lambda' });
  });

  it.each([
    ['priorWeight', 0],
    ['explorationScale', -1],
    ['implicitWeight', -0.5],
    ['maxPending', 0.5],
    ['mu', 'fast'],
  ])('adaptive: %s = %j is refused when the router is built', (k, v) => {
    const e = thrown(() => new LLMRouter({ models, routing: { strategy: 'adaptive', options: { adaptive: { [k]: v } } } }));
    expect({ code: e.code, param: e.param }).toEqual({ code: 'config_invalid', param: `routing.options.adaptive.${k}` });
  });

  it('a custom strategy registered under a built-in name is not held to the built-in\'s options', async () => {
    const router = new LLMRouter(
      { models, routing: { strategy: 'intelligent', options: { intelligent: { strongShare: 30 } } } },
      { strategies: { intelligent: (ctx) => ctx.candidates.map((deployment) => ({ deployment })) } },
    );
    expect((await router.generate('hi')).deployment).toBe('a');
    await router.close();
  });

  it('a custom strategy\'s checkOptions is asked about its config options, when built and when added later', () => {
    const picky = { name: 'picky', rank: () => [], checkOptions: (o: Record<string, unknown>) => {
      if (o['k'] !== 1) throw new Error('k must be 1');
    } };
    const config = { models, routing: { strategy: 'priority', options: { picky: { k: 2 } } } };
    expect(thrown(() => new LLMRouter(config, { strategies: { picky } }))).toMatchObject({ code: 'config_invalid', param: 'routing.options.picky' });
    const router = new LLMRouter(config);
    expect(thrown(() => router.addStrategy('picky', picky))).toMatchObject({ code: 'config_invalid', param: 'routing.options.picky' });
    expect(router.strategyNames()).not.toContain('picky');
  });
});

describe('intelligent / adaptive: bad options of a call or a constructor', () => {
  it("a call's own strategyOptions stay the caller's invalid_request, naming them", async () => {
    const router = new LLMRouter({ models, routing: { strategy: 'intelligent', retries: { max: 0 } } });
    const e = await rejection(router.generate('hi', { strategyOptions: { strongShare: 30 } }));
    expect({ code: e.code, statusCode: e.statusCode, param: e.param }).toEqual({ code: 'invalid_request', statusCode: 400, param: 'strategyOptions.strongShare' });
    const a = await rejection(router.generate('hi', { strategy: 'adaptive', strategyOptions: { maxPending: -1 } }));
    expect({ code: a.code, param: a.param }).toEqual({ code: 'invalid_request', param: 'strategyOptions.maxPending' });
    await router.close();
  });

  it("a constructor's options are refused at construction", () => {
    expect(thrown(() => createIntelligentStrategy({ strongShare: 1.5 }))).toMatchObject({ code: 'invalid_request', param: 'strongShare' });
    expect(thrown(() => new AdaptiveStrategy({ priorWeight: -4 }))).toMatchObject({ code: 'invalid_request', param: 'priorWeight' });
  });
});
