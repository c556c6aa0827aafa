/**
 * Routing decisions, their explanation and the config the router accepts, with the deterministic mock engine (no
 * network: the mock's prices and answers are fixed): candidates a strategy leaves out are explained and named in
 * its error, a custom strategy's order is kept (the docs' example sorts), explanations and models() hand out the
 * deployment's frozen price, routing options are checked with the config, fallback map keys apply to a model, an
 * alias, `*` and a v3 tenant's own model, and a malformed request is an `invalid_request`.
 */
import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { syntheticDataset } from '../learning/__fixtures__/synthetic-data.js';
import { RouterModel } from '../learning/training/router-model.js';
import { trainRouterModel } from '../learning/training/train-router-model.js';
import { LLMRouter } from './llm-router.js';
import { createIntelligentStrategy } from './strategies/intelligent.js';

const twoModels = [
  { name: 'good', engine: 'mock', quality: 0.9, price: { input: 3, output: 15 } },
  { name: 'weak', engine: 'mock', quality: 0.5, price: { input: 0.1, output: 0.2 } },
];

async function rejection(p: Promise<unknown>): Promise<LLMError> {
  try {
    await p;
  } catch (e) {
    return e as LLMError;
  }
  throw new Error('expected a rejection');
}

describe('a strategy that leaves candidates out (intelligent constraints, a filtering custom strategy)', () => {
  it('the error names the configured deployments the strategy left out, not "(no deployments configured)"', async () => {
    const router = new LLMRouter({ models: twoModels, routing: { strategy: 'intelligent' } });
    // The caller's own constraint: no deployment's (static) quality reaches 0.95.
    const e = await rejection(router.route('hello', { strategyOptions: { minQuality: 0.95 } }));
    expect(LLMError.isInstance(e)).toBe(true);
    // Two deployments are configured and both could serve the request: the message must not say there are none.
    expect(e.message).not.toContain('(no deployments configured)');
    expect(e.message).toContain('good');
    expect(e.message).toContain('weak');
    await router.close();
  });

  it('route() explains a deployment that minQuality dropped (it is neither a candidate nor listed as excluded)', async () => {
    const router = new LLMRouter({ models: twoModels, routing: { strategy: 'intelligent', options: { intelligent: { minQuality: 0.8 } } } });
    const d = await router.route('hello');
    expect(d.selected).toBe('good');
    // README: "decision.candidates holds every candidate ... and decision.excluded every deployment that could not
    // serve the request, with the reason". `weak` is enabled, fit and healthy; the strategy's constraint dropped it.
    const mentioned = [...d.candidates.map((c) => c.name), ...d.excluded.map((x) => x.name)];
    expect(mentioned).toContain('weak');
    expect(d.excluded).toEqual([{ name: 'weak', reason: 'intelligent: minQuality 0.8: predicted quality 0.5 (static)', kind: 'strategy' }]);
    await router.close();
  });

  it('the error gives each constraint: minQuality, and maxCostUsd for a deployment without a price', async () => {
    const router = new LLMRouter({ models: [...twoModels, { name: 'unpriced', engine: 'openai-compatible', baseURL: 'http://127.0.0.1:9', model: 'no-such-model' }], routing: { strategy: 'intelligent' } }, { env: {} });
    const e = await rejection(router.route('hello', { strategyOptions: { minQuality: 0.6, maxCostUsd: 0.001 } }));
    expect(e.code).toBe('no_deployment');
    expect(e.message).toContain('good: intelligent: maxCostUsd 0.001: expected cost');
    expect(e.message).toContain('weak: intelligent: minQuality 0.6: predicted quality 0.5 (static)');
    expect(e.message).toContain('unpriced: intelligent: maxCostUsd 0.001: expected cost unknown (no price)');
    await router.close();
  });

  it('a custom strategy that drops a candidate: listed in excluded, with its own reason when it gives one', async () => {
    const router = new LLMRouter({ models: [...twoModels, { name: 'third', engine: 'mock' }] });
    router.addStrategy('only-good', (ctx) => {
      (ctx.leftOut ??= []).push({ name: 'weak', reason: 'too weak for us' });
      return ctx.candidates.filter((d) => d.name === 'good').map((deployment) => ({ deployment }));
    });
    const d = await router.route('hello', { strategy: 'only-good' });
    expect(d.order).toEqual(['good']);
    expect(d.excluded).toEqual([
      { name: 'weak', reason: 'too weak for us', kind: 'strategy' },
      { name: 'third', reason: 'left out by strategy "only-good"', kind: 'strategy' },
    ]);
    await router.close();
  });

  it('every candidate over maxCostUsd for the request size is a 400 naming maxTokens (or the prompt), with cost and cap', async () => {
    const router = new LLMRouter({ models: twoModels, routing: { strategy: 'intelligent', options: { intelligent: { maxCostUsd: 0.001 } } } });
    // weak: $0.2/M out; 100 000 output tokens cost $0.02 > $0.001.
    const e = await rejection(router.route({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 100_000 }));
    expect({ code: e.code, param: e.param, status: e.statusCode }).toEqual({ code: 'invalid_request', param: 'maxTokens', status: 400 });
    expect(e.message).toContain('strategy "intelligent" left every candidate out for the request\'s maxTokens: good: intelligent: maxCostUsd 0.001: expected cost');
    expect(e.message).toMatch(/weak: intelligent: maxCostUsd 0\.001: expected cost 0\.02\d* USD for ~\d+ input \+ 100000 output tokens \(lower maxTokens to fit\)/);
    // The prompt alone over the cap: the prompt is the field.
    const long = await rejection(router.route({ messages: [{ role: 'user', content: 'word '.repeat(20_000) }], maxTokens: 1 }));
    expect({ code: long.code, param: long.param }).toEqual({ code: 'invalid_request', param: 'messages' });
    // A small request is served.
    expect((await router.route({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 10 })).selected).toBe('good');
    await router.close();
  });

  it('a cost refusal next to a deployment left out for its own state (no price, a filtering strategy) stays no_deployment', async () => {
    const router = new LLMRouter({ models: [...twoModels, { name: 'unpriced', engine: 'openai-compatible', baseURL: 'http://127.0.0.1:9', model: 'no-such-model' }], routing: { strategy: 'intelligent' } }, { env: {} });
    const e = await rejection(router.route({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 100_000 }, { strategyOptions: { maxCostUsd: 0.001 } }));
    expect(e.code).toBe('no_deployment');
    router.addStrategy('cap-or-drop', (ctx) => {
      (ctx.leftOut ??= []).push({ name: 'good', reason: 'too big', param: 'maxTokens' }, { name: 'weak', reason: 'not today' });
      return [];
    });
    expect((await rejection(router.route('hello', { strategy: 'cap-or-drop', model: 'good' }))).code).toBe('invalid_request');
    expect((await rejection(router.route('hello', { strategy: 'cap-or-drop', allowedModels: ['good', 'weak'] }))).code).toBe('no_deployment');
    await router.close();
  });

  it("a router-model cost (no price): a fixed part over maxCostUsd is the config's (no_deployment), a prompt that puts it over is a 400 naming messages", async () => {
    // Self-hosted servers without a price, costed by the router model's cost fit (intercept + perToken x prompt
    // tokens, per model); never called: the route is only planned.
    const unpriced = ['cheap', 'mathy', 'poet'].map((name) => ({ name, engine: 'openai-compatible', model: name, baseURL: 'http://127.0.0.1:9/v1' }));
    const router = new LLMRouter({ models: unpriced, routing: { strategy: 'priority', retries: { max: 0 } } }, { env: {} });
    try {
      // The data's costs do not grow with the prompt: $0.0001, $0.001, $0.002 a call.
      const artifact = trainRouterModel(syntheticDataset(), { hashDim: 1 << 10, kinds: ['logistic'] });
      expect(Math.min(...artifact.cost!.intercept.map(Number))).toBeGreaterThan(0.00001);
      router.addStrategy('capped', createIntelligentStrategy({ model: new RouterModel(artifact), maxCostUsd: 0.00001 }));
      // A two-character prompt cannot be made smaller: no request of any size passes, the cap is the operator's.
      const fixed = await rejection(router.route('hi', { strategy: 'capped', maxTokens: 1 }));
      expect({ code: fixed.code, param: fixed.param }).toEqual({ code: 'no_deployment', param: undefined });
      expect(fixed.message).toMatch(/cheap: intelligent: maxCostUsd 0\.00001: expected cost 0\.000\d+ USD whatever the prompt \(its router-model cost, 0\.000\d+ USD before any prompt token\)/);

      // $1 per million prompt tokens and nothing fixed: a short prompt passes, a long one is the request's own ask.
      const perToken = new RouterModel({ ...artifact, cost: { intercept: [0, 0, 0], perToken: [1e-6, 2e-6, 3e-6] } });
      router.addStrategy('per-token', createIntelligentStrategy({ model: perToken, maxCostUsd: 0.00005 }));
      expect((await router.route('hi', { strategy: 'per-token' })).order).toHaveLength(3);
      const long = await rejection(router.route('word '.repeat(2000), { strategy: 'per-token' }));
      expect({ code: long.code, param: long.param, status: long.statusCode }).toEqual({ code: 'invalid_request', param: 'messages', status: 400 });
      expect(long.message).toContain('for this prompt (its router-model cost: a shorter prompt costs less)');
    } finally {
      await router.close();
    }
  });
});

describe('docs/core/router.md examples', () => {
  it('the "cheapest-eu" custom strategy picks the cheapest EU deployment', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'eu-dear', engine: 'mock', region: 'eu', price: { input: 3, output: 15 } },
        { name: 'eu-cheap', engine: 'mock', region: 'eu', price: { input: 0.1, output: 0.4 } },
        { name: 'us', engine: 'mock', region: 'us', price: { input: 0.01, output: 0.01 } },
      ],
    });
    // Verbatim from docs/core/router.md, "Custom strategies".
    router.addStrategy('cheapest-eu', (ctx) =>
      ctx.candidates
        .filter((d) => d.config.region === 'eu')
        .map((deployment) => ({ deployment, score: -(deployment.price?.output ?? Infinity) }))
        .sort((a, b) => b.score - a.score),
    );
    router.setStrategy('cheapest-eu');
    const d = await router.route('hi');
    expect(d.candidates.map((c) => [c.name, c.score])).toEqual([
      ['eu-cheap', -0.4],
      ['eu-dear', -15],
    ]);
    expect(d.selected).toBe('eu-cheap');
    const answer = await router.generate('hi');
    expect(answer.deployment).toBe('eu-cheap');
    await router.close();
  });
});

describe("explain and models() hand out the deployment's frozen price", () => {
  it('a price in a route() decision cannot be edited, and later calls cost the same', async () => {
    const router = new LLMRouter({ models: [{ name: 'only', engine: 'mock', price: { input: 3, output: 15 } }] });
    const before = await router.generate('hi there friend');
    expect(before.cost.totalUsd).toBeGreaterThan(0);
    const d = await router.route('hi there friend');
    // A caller post-processing the explanation (e.g. showing prices per 1K tokens) must copy it first.
    const price = d.candidates[0]!.price as { input: number };
    expect(Object.isFrozen(price)).toBe(true);
    expect(() => {
      price.input /= 1000;
    }).toThrow(TypeError);
    const after = await router.generate('hi there friend');
    expect(after.cost).toEqual(before.cost);
    await router.close();
  });

  it('a price in router.models() cannot be edited, and later calls cost the same', async () => {
    const router = new LLMRouter({ models: [{ name: 'only', engine: 'mock', price: { input: 3, output: 15 } }] });
    const before = await router.generate('hi there friend');
    const price = router.models()[0]!.price as { output: number };
    expect(() => {
      price.output = 0;
    }).toThrow(TypeError);
    expect(router.models()[0]!.price).toEqual({ input: 3, output: 15 });
    const after = await router.generate('hi there friend');
    expect(after.cost).toEqual(before.cost);
    await router.close();
  });
});

describe('routing options refused when the router is built (docs/core/router.md, Strategies)', () => {
  // "A built-in strategy's bad option in routing.options (..., a non-number) is refused when the router is built
  // (config_invalid naming routing.options.<strategy>.<option>)".
  it('balanced: a non-number errorPenalty', () => {
    let error: unknown;
    try {
      new LLMRouter({ models: twoModels, routing: { strategy: 'balanced', options: { balanced: { errorPenalty: 'high' } } } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LLMError);
    expect((error as LLMError).code).toBe('config_invalid');
    expect((error as LLMError).param).toBe('routing.options.balanced.errorPenalty');
  });

  it('intelligent: a misspelt constraint (maxCostUSD) is refused, not silently ignored', async () => {
    let error: unknown;
    let router: LLMRouter | undefined;
    try {
      router = new LLMRouter({ models: twoModels, routing: { strategy: 'intelligent', options: { intelligent: { maxCostUSD: 0.0001 } } } });
    } catch (e) {
      error = e;
    }
    // Accepted, the cap is not applied: "good" (expected cost ~0.0038 USD) is chosen under a 0.0001 USD "cap".
    const chosen = router ? (await router.route('hello')).selected : undefined;
    await router?.close();
    expect({ code: (error as LLMError | undefined)?.code, chosen }).toEqual({ code: 'config_invalid', chosen: undefined });
  });
});

describe('routing options: unknown names and bad values', () => {
  function buildError(routing: Record<string, unknown>): LLMError | undefined {
    try {
      new LLMRouter({ models: twoModels, routing });
    } catch (e) {
      return e as LLMError;
    }
    return undefined;
  }

  it('each built-in refuses an option name it does not read, naming it', () => {
    expect(buildError({ options: { intelligent: { maxCostUSD: 1 } } })?.param).toBe('routing.options.intelligent.maxCostUSD');
    expect(buildError({ options: { balanced: { errorPenalties: 2 } } })?.param).toBe('routing.options.balanced.errorPenalties');
    expect(buildError({ options: { balanced: { weights: { qualty: 1 } } } })?.param).toBe('routing.options.balanced.weights.qualty');
    expect(buildError({ options: { 'speed-priority': { explore: 'no' } } })?.param).toBe('routing.options.speed-priority.explore');
    expect(buildError({ options: { adaptive: { explorationscale: 1 } } })?.param).toBe('routing.options.adaptive.explorationscale');
    const e = buildError({ options: { priority: { order: ['good'] } } });
    expect({ code: e?.code, param: e?.param }).toEqual({ code: 'config_invalid', param: 'routing.options.priority.order' });
    expect(e?.message).toContain('it takes no options');
  });

  it('the options the built-ins read are accepted', async () => {
    const router = new LLMRouter({
      models: twoModels,
      routing: {
        options: {
          balanced: { errorPenalty: 2, weights: { quality: 1, cost: 0, latency: 0 } },
          'speed-priority': { explore: false },
          intelligent: { minQuality: 0.1, maxCostUsd: 1, lambda: 0 },
          adaptive: { explorationScale: 0.1 },
          priority: {},
        },
      },
    });
    expect((await router.route('hello')).selected).toBe('good');
    await router.close();
  });

  it("a call's strategyOptions: an unknown name is the call's invalid_request naming strategyOptions.<name>", async () => {
    const router = new LLMRouter({ models: twoModels, routing: { strategy: 'intelligent' } });
    const e = await rejection(router.generate('hello', { strategyOptions: { maxCostUSD: 0.0001 } }));
    expect({ code: e.code, param: e.param }).toEqual({ code: 'invalid_request', param: 'strategyOptions.maxCostUSD' });
    const bad = await rejection(router.route('hello', { strategy: 'balanced', strategyOptions: { errorPenalty: 'high' } }));
    expect({ code: bad.code, param: bad.param }).toEqual({ code: 'invalid_request', param: 'strategyOptions.errorPenalty' });
    // A custom strategy's own options are its business.
    router.addStrategy('mine', (ctx) => ctx.candidates.map((deployment) => ({ deployment })));
    expect((await router.route('hello', { strategy: 'mine', strategyOptions: { anything: 1 } })).selected).toBe('good');
    await router.close();
  });
});

describe('fallback map keys', () => {
  it("fallback keys may name a model, an alias, '*', or (v3) a tenant's own model", async () => {
    const router = new LLMRouter({
      version: 3,
      models: [
        { name: 'gpt4o', engine: 'mock', alias: 'gpt-4o' },
        { name: 'local', engine: 'mock' },
      ],
      tenants: [{ id: 'acme', models: [{ name: 'acme-own', engine: 'mock', priority: 0 }] }],
      routing: { strategy: 'priority', fallbacks: { gpt4o: ['local'], 'gpt-4o': ['local'], 'acme-own': ['local'], '*': ['local'] } },
    });
    expect((await router.route('hi', { tenant: 'acme', model: 'acme-own' })).order).toEqual(['acme-own', 'local']);
    await router.close();
  });
});

describe('route() fails with an LLMError (README, Errors: "Everything fails with one class, LLMError")', () => {
  it('a request whose content part is null', async () => {
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] });
    const e = await rejection(router.route({ messages: [{ role: 'user', content: [null as never] }] }));
    expect(LLMError.isInstance(e)).toBe(true);
    expect({ code: e.code, param: e.param }).toEqual({ code: 'invalid_request', param: 'messages.0.content.0' });
    await router.close();
  });

  it('malformed content is an invalid_request naming the field, for route() and generate() alike', async () => {
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] });
    const cases: Array<[unknown, string]> = [
      [[{ role: 'user', content: 42 }], 'messages.0.content'],
      [[{ role: 'user', content: 'hi' }, { role: 'assistant', content: [{ type: 'text', text: 'x' }] }], 'messages.1.content'],
      [[{ role: 'user', content: [{ text: 'no type' }] }], 'messages.0.content.0'],
      [[{ role: 'system', content: undefined }, { role: 'user', content: 'hi' }], 'messages.0.content'],
    ];
    for (const [messages, param] of cases) {
      for (const call of [router.route({ messages } as never), router.generate({ messages } as never)]) {
        const e = await rejection(call);
        expect({ code: e.code, param: e.param }).toEqual({ code: 'invalid_request', param });
      }
    }
    // An assistant turn with only tool calls has no content.
    const ok = await router.route({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, toolCalls: [{ id: 't', name: 'f', arguments: '{}' }] }, { role: 'tool', toolCallId: 't', content: 'r' }] });
    expect(ok.selected).toBe('m');
    await router.close();
  });
});
