import { describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../config/schema.js';
import { MockEngine, type MockEngineOptions } from '../engines/mock/mock-engine.js';
import type { EngineFactory } from '../engines/types.js';
import { LLMError } from '../errors/llm-error.js';
import type { CallOptions, GenerateRequest, GenerateResult, LanguageEngine, StreamPart } from '../spec/index.js';
import { LLMRouter } from './llm-router.js';
import type { RouterEvents, RouterOptions, RouterStreamPart } from './types.js';
import { collect, rejection } from '../test/async.test-helpers.js';

type Models = RouterConfigInput['models'];

/** Two (or more) mock deployments `a`, `b`, ... with priorities 1, 2, ... and fast retries. */
function setup(
  mocks: Record<string, MockEngineOptions>,
  routing: NonNullable<RouterConfigInput['routing']> = {},
  options: RouterOptions = {},
  extraModels: Models = [],
) {
  const engines: Record<string, MockEngine> = {};
  const models: Models = Object.entries(mocks).map(([name, o], i) => {
    engines[name] = new MockEngine({ modelId: `${name}-model`, ...o });
    return { name, engine: 'mock', priority: i + 1 };
  });
  const sleeps: number[] = [];
  const router = new LLMRouter(
    {
      models: [...models, ...extraModels],
      routing: { strategy: 'priority', retries: { max: 2, initialDelayMs: 1, maxDelayMs: 2 }, ...routing },
    },
    {
      engines,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...options,
    },
  );
  return { router, engines, sleeps };
}

function record(router: LLMRouter): Array<[string, unknown]> {
  const events: Array<[string, unknown]> = [];
  const names: Array<keyof RouterEvents> = ['request:start', 'request:end', 'attempt:error', 'retry', 'fallback', 'circuit', 'cache:hit', 'hedge'];
  for (const n of names) router.on(n, (p) => events.push([n, p]));
  return events;
}

describe('LLMRouter: basics', () => {
  it('generate answers with deployment, model, usage, cost and attempts', async () => {
    const { router } = setup({ a: { reply: 'hello world' } });
    const r = await router.generate('Say hi');
    expect(r).toMatchObject({
      text: 'hello world',
      deployment: 'a',
      model: 'a-model',
      provider: 'mock',
      finishReason: 'stop',
      cached: false,
      usage: { inputTokens: 2, outputTokens: 2, totalTokens: 4 },
      cost: { inputUsd: 0, outputUsd: 0, totalUsd: 0, estimated: false },
      attempts: [{ deployment: 'a', attempt: 1, ok: true }],
    });
    expect(r.requestId).toMatch(/^req_/);
    expect(r.decision).toBeUndefined();
  });

  it('chat, quick, request params next to routing options, custom requestId', async () => {
    const { router, engines } = setup({ a: {} });
    const chat = await router.chat([{ role: 'user', content: 'one two three four' }], { maxTokens: 2, requestId: 'mine' });
    expect(chat.text).toBe('Mock answer');
    expect(chat.requestId).toBe('mine');
    expect(await router.quick('ping')).toBe('Mock answer to: ping');
    expect(engines.a!.calls).toBe(2);
  });

  it('costs come from the config price', async () => {
    const router = new LLMRouter({ models: [{ name: 'p', engine: 'mock', price: { input: 2, output: 4 }, options: { reply: 'a b c' } }] });
    const r = await router.generate('one two');
    expect(r.usage).toMatchObject({ inputTokens: 2, outputTokens: 3 });
    expect(r.cost).toEqual({ inputUsd: 4e-6, outputUsd: 12e-6, totalUsd: 16e-6, estimated: false });
  });

  it('invalid requests are typed errors naming the field', async () => {
    const { router } = setup({ a: {} });
    expect((await rejection(router.generate({ messages: [] }))).param).toBe('messages');
    expect((await rejection(router.generate('x', { maxTokens: -1 }))).param).toBe('maxTokens');
    expect((await rejection(router.generate({ messages: [{ role: 'bot', content: 'x' }] } as never))).param).toBe('messages.0.role');
    expect((await rejection(router.generate('x', { strategy: 'nope' }))).message).toContain('Known: quality-first');
  });

  it('models() and stats() report deployments', async () => {
    const router = new LLMRouter({
      models: [{ name: 'm', engine: 'mock', alias: 'group', price: { input: 1, output: 2 }, capabilities: ['chat', 'tools'] }],
    });
    await router.generate('x');
    const [info] = router.models();
    expect(info).toMatchObject({ name: 'm', engine: 'mock', model: 'm', alias: 'group', enabled: true, capabilities: ['chat', 'tools'], price: { input: 1, output: 2 }, priceFromTable: false });
    expect(info!.stats.requests).toBe(1);
    expect(router.stats()['m']).toMatchObject({ requests: 1, failures: 0, inFlight: 0, circuit: 'closed' });
  });

  it('close() closes engines and later calls fail', async () => {
    let closed = 0;
    const engine = new MockEngine();
    (engine as unknown as { close: () => Promise<void> }).close = async () => {
      closed++;
    };
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }] }, { engines: { a: engine } });
    await router.generate('x');
    await router.close();
    expect(closed).toBe(1);
    expect((await rejection(router.generate('x'))).code).toBe('shutting_down');
  });
});

describe('LLMRouter: config', () => {
  it('bad config -> config_invalid naming the field path', () => {
    const bad = (cfg: unknown) => {
      try {
        new LLMRouter(cfg as RouterConfigInput);
      } catch (e) {
        return e as LLMError;
      }
      throw new Error('expected a throw');
    };
    const price = bad({ models: [{ name: 'a', engine: 'mock', price: { input: -1, output: 1 } }] });
    expect(price.code).toBe('config_invalid');
    expect(price.param).toBe('models.0.price.input');
    expect(price.message).toContain('models.0.price.input');
    expect(bad({ models: [] }).param).toBe('models');
    expect(bad({ models: [{ name: 'a', engine: 'mock' }], routing: { retries: { max: 99 } } }).param).toBe('routing.retries.max');
    const engine = bad({ models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'warp-drive' }] });
    expect(engine.param).toBe('models.1.engine');
    expect(engine.message).toContain('"b" uses engine "warp-drive"');
    const strategy = bad({ models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'psychic' } });
    expect(strategy.param).toBe('routing.strategy');
    expect(strategy.message).toContain('psychic');
  });

  it('accepts an already parsed config (RouterConfig) as well as the input shape', async () => {
    const { parseConfig } = await import('../config/validate.js');
    const parsed = parseConfig({ version: 3, models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 't' }], defaultTenant: 't' });
    const router = new LLMRouter(parsed);
    expect((await router.generate('x')).deployment).toBe('a');
    expect(router.routerConfig.version).toBe(3);
  });

  it('load() adds and replaces deployments at runtime (validated); unload() removes them', async () => {
    const { router } = setup({ a: {} });
    expect(router.load([{ name: 'b', engine: 'mock', priority: 0, options: { reply: 'from b' } }])).toEqual(['b']);
    expect((await router.generate('x')).deployment).toBe('b');
    router.load({ name: 'b', engine: 'mock', priority: 0, options: { reply: 'b v2' } });
    expect((await router.generate('x')).text).toBe('b v2');
    expect(router.models().map((m) => m.name)).toEqual(['a', 'b']);
    try {
      router.load([{ name: 'ok', engine: 'mock' }, { name: 'c', engine: 'mock', priority: 'high' } as never]);
      expect.fail('should throw');
    } catch (e) {
      expect((e as LLMError).code).toBe('config_invalid');
      expect((e as LLMError).param).toBe('1.priority');
    }
    expect(router.models().map((m) => m.name)).toEqual(['a', 'b']); // nothing half-loaded
    expect(() => router.load({ name: 'z', engine: 'nope' })).toThrow(/engine "nope"/);
    expect(router.unload('b')).toBe(true);
    expect(router.unload('b')).toBe(false);
    expect((await router.generate('x')).deployment).toBe('a');
  });

  // load() ran only the model schema and a cascade check of the name: a model named `auto` or aliased `llmrr/auto`
  // (a gateway request naming them routes over every model) or aliased like a cascade was loaded, though the config
  // and setTenant refuse them.
  it('load() refuses what the config and setTenant refuse (config_invalid naming the field by its index), loading nothing', () => {
    const { router } = setup({ a: {}, b: {} }, { cascades: [{ name: 'smart', weak: 'a', strong: 'b' }] });
    const refusal = (models: Parameters<LLMRouter['load']>[0]) => {
      try {
        router.load(models);
        return undefined;
      } catch (e) {
        return { code: (e as LLMError).code, param: (e as LLMError).param };
      }
    };
    const refused = (param: string) => ({ code: 'config_invalid', param });
    expect(refusal({ name: 'auto', engine: 'mock' })).toEqual(refused('0.name'));
    expect(refusal([{ name: 'extra', engine: 'mock' }, { name: 'more', alias: 'llmrr/auto', engine: 'mock' }])).toEqual(refused('1.alias'));
    expect(refusal({ name: 'extra', alias: 'smart', engine: 'mock' })).toEqual(refused('0.alias'));
    expect(refusal({ name: 'smart', engine: 'mock' })).toEqual(refused('0.name'));
    expect(refusal([{ name: 'twice', engine: 'mock' }, { name: 'twice', engine: 'mock' }])).toEqual(refused('1.name'));
    expect(router.models().map((m) => m.name).sort()).toEqual(['a', 'b', 'smart']);
    // The same check as setTenant's (and the config's).
    expect(() => router.setTenant({ id: 't', models: [{ name: 'own', alias: 'llmrr/auto', engine: 'mock' }] })).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'models.0.alias', message: expect.stringContaining('is reserved') }),
    );
    expect(() => new LLMRouter({ models: [{ name: 'auto', engine: 'mock' }] })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'models.0.name' }));
    expect(refusal({ name: 'extra', alias: 'other', engine: 'mock' })).toBeUndefined();
  });

  it('load() still takes what the config takes: a re-load of a model a cascade names, a shared alias, names differing only by case from reserved and cascade names; a refused list names the index (an option field too)', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'a', engine: 'mock', options: { reply: 'A' } },
        { name: 'b', engine: 'mock', alias: 'pair' },
      ],
      routing: { cascades: [{ name: 'smart', weak: 'a', strong: 'b' }] },
    });
    try {
      expect(router.load({ name: 'a', engine: 'mock', options: { reply: 'A2' } })).toEqual(['a']);
      expect((await router.generate('hi', { model: 'a' })).text).toBe('A2');
      expect(router.load([{ name: 'b', engine: 'mock', alias: 'pair' }, { name: 'c', engine: 'mock', alias: 'pair' }])).toEqual(['b', 'c']);
      // The gateway matches model names exactly: "Auto" and "SMART" are not "auto" and the cascade "smart".
      expect(router.load([{ name: 'Auto', engine: 'mock' }, { name: 'x', alias: 'SMART', engine: 'mock' }])).toEqual(['Auto', 'x']);
      const refusal = (models: Parameters<LLMRouter['load']>[0]) => {
        try {
          router.load(models);
          return undefined;
        } catch (e) {
          return { code: (e as LLMError).code, param: (e as LLMError).param };
        }
      };
      expect(refusal([{ name: 'ok1', engine: 'mock' }, { name: 'ok2', engine: 'mock' }, { name: 'z', alias: 'smart', engine: 'mock' }])).toEqual({ code: 'config_invalid', param: '2.alias' });
      expect(refusal([{ name: 'ok1', engine: 'mock' }, { name: 'bad', engine: 'mock', options: { failures: [{ code: 'nope' }] } }])).toEqual({ code: 'config_invalid', param: '1.options.failures.0.code' });
      expect(router.models().map((m) => m.name).sort()).toEqual(['Auto', 'a', 'b', 'c', 'smart', 'x']);
    } finally {
      await router.close();
    }
  });

  it('setStrategy: unknown names list the known ones; addStrategy registers custom ones', async () => {
    const { router } = setup({ a: {}, b: {} });
    try {
      router.setStrategy('nope');
      expect.fail('should throw');
    } catch (e) {
      expect((e as LLMError).code).toBe('config_invalid');
      expect((e as LLMError).message).toMatch(/Unknown strategy "nope". Known: .*balanced.*weighted/);
    }
    router.addStrategy('last-first', (ctx) => [...ctx.candidates].reverse().map((deployment, i) => ({ deployment, score: -i, factors: { i } })));
    expect((await router.generate('x')).deployment).toBe('a');
    expect((await router.generate('x', { strategy: 'last-first' })).deployment).toBe('b');
    router.setStrategy('last-first');
    expect(router.strategy).toBe('last-first');
    const r = await router.generate('x', { explain: true });
    expect(r.deployment).toBe('b');
    expect(r.decision!.strategy).toBe('last-first');
    expect(r.decision!.candidates[0]!.factors).toEqual({ i: 0 });
  });

  it('custom strategies from options can be named in the config; async ones and foreign deployments are handled', async () => {
    const router = new LLMRouter(
      { models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'mock' }], routing: { strategy: 'mine' } },
      {
        strategies: {
          mine: {
            name: 'mine',
            async rank(ctx) {
              const b = ctx.candidates.find((c) => c.name === 'b')!;
              // a bogus entry and a duplicate are dropped
              return [{ deployment: { ...b, name: 'ghost' } }, { deployment: b }, { deployment: b }];
            },
          },
        },
      },
    );
    const d = await router.route('x');
    expect(d.order).toEqual(['b']);
    expect((await router.generate('x')).deployment).toBe('b');
    router.addStrategy('none', () => []);
    const err = await rejection(router.generate('x', { strategy: 'none' }));
    expect(err.code).toBe('no_deployment');
    expect(err.message).toContain('strategy "none" ranked no candidate');
  });
});

describe('LLMRouter: engine kinds', () => {
  it('engineFactory and engineKinds: its own factories (over the registered ones) and the registered kinds', async () => {
    const own: EngineFactory = (m) => new MockEngine({ modelId: m.name, reply: 'own' });
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }] }, { engineFactories: { 'house-kind': own, mock: own } });
    try {
      expect({ house: router.engineFactory('house-kind'), mock: router.engineFactory('mock'), none: router.engineFactory('warp-drive') }).toEqual({ house: own, mock: own, none: undefined });
      expect(router.engineKinds()).toEqual(['anthropic', 'gemini', 'gguf', 'house-kind', 'mock', 'onnx', 'openai-compatible']);
      const plain = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }] });
      expect(plain.engineKinds()).toEqual(['anthropic', 'gemini', 'gguf', 'mock', 'onnx', 'openai-compatible']);
      await plain.close();
    } finally {
      await router.close();
    }
  });
});

describe('LLMRouter: candidates', () => {
  const models: Models = [
    { name: 'small', engine: 'mock', contextWindow: 20, capabilities: ['chat', 'streaming'], region: 'eu' },
    { name: 'vision', engine: 'mock', capabilities: ['chat', 'vision', 'streaming'], region: 'us' },
    { name: 'off', engine: 'mock', enabled: false },
    { name: 'tools', engine: 'mock', alias: 'smart', region: 'eu' },
  ];

  it('filters by capabilities implied by the request, context window, region, allow-list and enabled', async () => {
    const router = new LLMRouter({ models, routing: { strategy: 'priority' } });
    const image: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image', url: 'https://x/y.png' }] }] };
    expect((await router.route(image)).order).toEqual(['vision']);
    // An image in a tool result's parts needs vision too (the Anthropic engine sends it); its text alone does not.
    const toolImage = (parts: Extract<GenerateRequest['messages'][number], { role: 'tool' }>['parts']): GenerateRequest => ({
      messages: [
        { role: 'user', content: 'take a screenshot' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'shot', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'c1', content: 'here', parts },
      ],
    });
    expect((await router.route(toolImage([{ type: 'text', text: 'here' }, { type: 'image', url: 'https://x/y.png' }]))).order).toEqual(['vision']);
    expect((await router.route(toolImage([{ type: 'text', text: 'here' }]))).order).toEqual(['vision', 'tools']); // small: context window
    const tools: GenerateRequest = { messages: [{ role: 'user', content: 'x' }], tools: [{ name: 't', parameters: {} }] };
    // a deployment without a capabilities list has its engine's (mock: tools, json, streaming)
    expect((await router.route(tools)).order).toEqual(['tools']);
    expect((await router.route('x', { responseFormat: { type: 'json_object' } })).order).toEqual(['tools']);
    expect((await router.route('x', { region: 'eu' })).order).toEqual(['small', 'tools']);
    expect((await router.route('x', { allowedModels: ['smart', 'vision'] })).order).toEqual(['vision', 'tools']);
    expect((await router.route('x', { requiredCapabilities: ['vision'] })).order).toEqual(['vision']);
    const long = 'word '.repeat(100);
    const d = await router.route(long);
    expect(d.order).toEqual(['vision', 'tools']);
    expect(d.excluded.find((e) => e.name === 'small')!.reason).toMatch(/^context window 20 < ~\d+ tokens needed/);
    expect(d.excluded.find((e) => e.name === 'off')!.reason).toBe('disabled');
  });

  it('no candidate -> no_deployment listing why each was excluded; unknown model -> model_not_found', async () => {
    const router = new LLMRouter({ models });
    const err = await rejection(router.generate('x', { requiredCapabilities: ['reasoning'], region: 'eu' }));
    expect(err.code).toBe('no_deployment');
    expect(err.message).toContain('small: lacks capabilities: reasoning');
    expect(err.message).toContain('vision: region "us" is not the requested "eu"');
    expect(err.message).toContain('tools: lacks capabilities: reasoning');
    expect(err.message).toContain('off: disabled');
    const nf = await rejection(router.generate('x', { model: 'gpt-9' }));
    expect(nf.code).toBe('model_not_found');
    expect(nf.param).toBe('model');
  });

  it('what the request asks and no deployment can give is a 400 naming the field (not a retryable 503), listing why', async () => {
    const router = new LLMRouter({ models: [...models.filter((m) => m.name !== 'off'), { name: 'plain', engine: 'mock', capabilities: ['chat'] }] });
    const long = await rejection(router.generate('word '.repeat(100), { model: 'small' }));
    expect([long.code, long.statusCode, long.isRetryable, long.param]).toEqual(['context_length_exceeded', 400, false, 'messages']);
    expect(long.message).toMatch(/^No deployment can serve this request for model "small":\n {2}small: context window 20 < ~\d+ tokens needed/);
    // The prompt fits, the prompt and maxTokens do not: a smaller maxTokens would.
    expect(await rejection(router.generate('x', { model: 'small', maxTokens: 100 }))).toMatchObject({ code: 'context_length_exceeded', param: 'maxTokens' });
    const tools: GenerateRequest = { messages: [{ role: 'user', content: 'x' }], tools: [{ name: 't', parameters: {} }] };
    const noTools = await rejection(router.generate(tools, { model: 'vision' }));
    expect([noTools.code, noTools.statusCode, noTools.param]).toEqual(['unsupported', 400, 'tools']);
    expect(noTools.message).toContain('vision: lacks capabilities: tools');
    const image: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'image', url: 'https://x/y.png' }] }] };
    expect(await rejection(router.generate(image, { model: 'small' }))).toMatchObject({ code: 'unsupported', param: 'messages' });
    expect(await rejection(router.generate('x', { model: 'small', responseFormat: { type: 'json_object' } }))).toMatchObject({ code: 'unsupported', param: 'responseFormat' });
    expect(await collect(router.stream('x', { model: 'plain' }))).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'unsupported', param: 'stream' }) }]);
    expect(await rejection(router.generate('x', { model: 'vision', region: 'eu' }))).toMatchObject({ code: 'invalid_request', param: 'region' });
    // Different reasons: one code for them all, the field when they share it.
    const mixed = await rejection(router.generate('x', { requiredCapabilities: ['reasoning'], region: 'eu' }));
    expect([mixed.code, mixed.statusCode, mixed.param]).toEqual(['invalid_request', 400, undefined]);
    expect(mixed.message).toContain('vision: region "us" is not the requested "eu"');
    expect(mixed.message).toContain('small: lacks capabilities: reasoning');
    // No model named: the same over every deployment the call may use.
    expect(await rejection(router.generate(tools, { allowedModels: ['vision', 'small'] }))).toMatchObject({ code: 'unsupported', param: 'tools' });
  });

  it('a deployment left out for its own state (disabled, at its limits) keeps the call a 503 or 429, not the client\'s error', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'vision', engine: 'mock', capabilities: ['chat', 'vision'], enabled: false },
        { name: 'busy', engine: 'mock', capabilities: ['chat', 'vision'], limits: { maxConcurrency: 1 }, options: { delayMs: 200 } },
        { name: 'text', engine: 'mock', capabilities: ['chat'] },
      ],
    });
    const image: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'image', url: 'https://x/y.png' }] }] };
    const off = await rejection(router.generate(image, { allowedModels: ['vision', 'text'] }));
    expect([off.code, off.statusCode, off.isRetryable]).toEqual(['no_deployment', 503, false]);
    expect(off.message).toContain('vision: disabled');
    expect(off.message).toContain('text: lacks capabilities: vision');
    const first = router.generate(image, { model: 'busy' });
    const full = await rejection(router.generate(image, { allowedModels: ['busy', 'text'] }));
    expect([full.code, full.statusCode]).toEqual(['rate_limited', 429]);
    await first;
  });

  it('a model named by alias routes to its group; fallbacks apply after it', async () => {
    const router = new LLMRouter({ models, routing: { fallbacks: ['vision'] } });
    const d = await router.route('x', { model: 'smart' });
    expect(d.order).toEqual(['tools', 'vision']);
    expect((await router.route('x', { model: 'smart', fallbacks: [] })).order).toEqual(['tools']);
  });

  it('fallbacks by requested model (map form) are used, and must fit the request', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'a', engine: 'mock' },
        { name: 'b', engine: 'mock', capabilities: ['chat'] },
        { name: 'c', engine: 'mock' },
      ],
      routing: { fallbacks: { a: ['b', 'c'] } },
    });
    expect((await router.route('x', { model: 'a' })).order).toEqual(['a', 'b', 'c']);
    expect((await router.route('x', { model: 'a', stream: true })).order).toEqual(['a', 'c']); // b cannot stream
  });

  it('fallbackToRanked: false tries only the first ranked, then the fallbacks', async () => {
    const router = new LLMRouter({
      models: [{ name: 'a', engine: 'mock', priority: 1 }, { name: 'b', engine: 'mock', priority: 2 }, { name: 'c', engine: 'mock', priority: 3 }],
      routing: { strategy: 'priority', fallbackToRanked: false, fallbacks: ['c'] },
    });
    expect((await router.route('x')).order).toEqual(['a', 'c']);
  });

  it('v3 tenants: allow-list, preferred strategy and models only the tenant sees', async () => {
    const router = new LLMRouter({
      version: 3,
      models: [{ name: 'shared-1', engine: 'mock', priority: 1 }, { name: 'shared-2', engine: 'mock', priority: 2 }],
      routing: { strategy: 'priority' },
      tenants: [
        { id: 't1', allowedModels: ['shared-2'], preferences: { strategy: 'quality-first' }, models: [{ name: 'private', engine: 'mock', quality: 0.9, options: { reply: 'private' } }] },
        { id: 't2' },
      ],
    });
    const d = await router.route('x', { tenant: 't1' });
    expect(d.strategy).toBe('quality-first');
    expect(d.order).toEqual(['private', 'shared-2']);
    expect((await router.generate('x', { tenant: 't1' })).text).toBe('private');
    expect((await router.route('x', { tenant: 't2' })).order).toEqual(['shared-1', 'shared-2']);
    expect((await rejection(router.generate('x', { tenant: 't1', model: 'shared-1' }))).code).toBe('model_not_found');
    expect((await rejection(router.generate('x', { tenant: 'nobody' }))).param).toBe('tenant');
    expect(router.models('t1').map((m) => m.name)).toEqual(['shared-2', 'private']);
  });
});

describe('LLMRouter: resilience', () => {
  it('a deployment answering 503 twice falls back to the next (retries, then fallback)', async () => {
    const { router, engines, sleeps } = setup({ a: { failures: [{ code: 'provider_unavailable', times: 2 }] }, b: { reply: 'from b' } }, { retries: { max: 1, initialDelayMs: 100, maxDelayMs: 1000, jitter: false } });
    const events = record(router);
    const r = await router.generate('x');
    expect(r.deployment).toBe('b');
    expect(r.text).toBe('from b');
    expect(engines.a!.calls).toBe(2);
    expect(sleeps).toEqual([100]);
    expect(r.attempts.map((a) => `${a.deployment}#${a.attempt}:${a.ok ? 'ok' : a.errorCode}`)).toEqual([
      'a#1:provider_unavailable',
      'a#2:provider_unavailable',
      'b#1:ok',
    ]);
    expect(events.map(([n]) => n)).toEqual(['request:start', 'attempt:error', 'retry', 'attempt:error', 'fallback', 'request:end']);
    expect(events[2]![1]).toMatchObject({ deployment: 'a', attempt: 2, delayMs: 100 });
    expect(events[4]![1]).toMatchObject({ from: 'a', to: 'b' });
    expect((events[5]![1] as RouterEvents['request:end']).result!.deployment).toBe('b');
    expect(router.stats()['a']).toMatchObject({ requests: 2, failures: 2, lastErrorCode: 'provider_unavailable' });
  });

  it('circuit opens after failureThreshold, half-opens after the cooldown (injected clock), closes on success', async () => {
    let t = 1_000_000;
    const { router, engines } = setup(
      { a: { failures: [{ code: 'provider_unavailable', times: 2 }] }, b: {} },
      { retries: { max: 0 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 10_000 } },
      { now: () => t },
    );
    const circuit: string[] = [];
    router.on('circuit', (e) => circuit.push(`${e.deployment}:${e.from}->${e.to}`));
    expect((await router.generate('x')).deployment).toBe('b');
    expect((await router.generate('x')).deployment).toBe('b');
    expect(circuit).toEqual(['a:closed->open']);
    expect(router.stats()['a']!.circuit).toBe('open');
    // while open, a is not even tried
    const d = await router.route('x');
    expect(d.order).toEqual(['b']);
    expect(d.excluded).toEqual([{ name: 'a', reason: 'circuit open (last error provider_unavailable)', kind: 'circuit', circuit: 'open' }]);
    expect((await router.generate('x')).deployment).toBe('b');
    expect(engines.a!.calls).toBe(2);
    t += 10_000;
    const r = await router.generate('x');
    expect(r.deployment).toBe('a'); // the probe goes through and succeeds
    expect(circuit).toEqual(['a:closed->open', 'a:open->half-open', 'a:half-open->closed']);
    expect(router.stats()['a']!.circuit).toBe('closed');
  });

  it('a failed half-open probe re-opens the circuit', async () => {
    let t = 1_000_000;
    const { router } = setup(
      { a: { failures: [{ code: 'provider_error', times: 3 }] }, b: {} },
      { retries: { max: 0 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 500 } },
      { now: () => t },
    );
    const circuit: string[] = [];
    router.on('circuit', (e) => circuit.push(`${e.from}->${e.to}`));
    await router.generate('x');
    await router.generate('x');
    t += 500;
    expect((await router.generate('x')).deployment).toBe('b');
    expect(circuit).toEqual(['closed->open', 'open->half-open', 'half-open->open']);
  });

  it('when every circuit is open, the least recently opened deployment is still tried', async () => {
    let t = 1_000;
    const { router, engines } = setup(
      { a: { failures: [{ code: 'provider_error', times: 1 }] }, b: { failures: [{ code: 'provider_error', times: 1 }] } },
      { retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } },
      { now: () => t },
    );
    await rejection(router.generate('x', { model: 'b', fallbacks: [] })); // b opens first
    t += 10;
    await rejection(router.generate('x', { model: 'a', fallbacks: [] })); // then a
    const d = await router.route('x');
    expect(d.order).toEqual(['b']);
    expect(d.reason).toContain('circuit was open');
    const r = await router.generate('x');
    expect(r.deployment).toBe('b');
    expect(engines.b!.calls).toBe(2);
    expect(router.stats()['b']!.circuit).toBe('closed');
  });

  it('Retry-After is honoured (the injected sleep records the delay)', async () => {
    const { router, sleeps, engines } = setup({ a: { failures: [{ code: 'rate_limited', retryAfterMs: 1_500 }] }, b: {} });
    const r = await router.generate('x');
    expect(r.deployment).toBe('a');
    expect(engines.a!.calls).toBe(2);
    expect(sleeps).toEqual([1_500]);
  });

  it('a Retry-After longer than maxRetryAfterMs moves on to the next deployment without waiting', async () => {
    const { router, sleeps, engines } = setup({ a: { failures: [{ code: 'rate_limited', retryAfterMs: 120_000 }] }, b: {} }, { retries: { max: 3, maxRetryAfterMs: 30_000 } });
    const r = await router.generate('x');
    expect(r.deployment).toBe('b');
    expect(engines.a!.calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('non-retryable 400 returns the error without retry or fallback', async () => {
    const { router, engines } = setup({ a: { failures: [{ code: 'invalid_request', message: 'bad tool schema' }] }, b: {} });
    const events = record(router);
    const err = await rejection(router.generate('x'));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toBe('bad tool schema');
    expect(err.deployment).toBe('a');
    expect(engines.a!.calls).toBe(1);
    expect(engines.b!.calls).toBe(0);
    expect(events.map(([n]) => n)).toEqual(['request:start', 'attempt:error', 'request:end']);
    expect(router.stats()['a']!.failures).toBe(0); // the request was at fault, not the deployment
  });

  it('content_filter does not fall over either', async () => {
    const { router, engines } = setup({ a: { failures: [{ code: 'content_filter' }] }, b: {} });
    expect((await rejection(router.generate('x'))).code).toBe('content_filter');
    expect(engines.b!.calls).toBe(0);
  });

  it('context_length_exceeded falls over only to a deployment whose context window may be larger', async () => {
    // Windows unknown: the next one may take the prompt.
    const unknown = setup({ a: { failures: [{ code: 'context_length_exceeded' }] }, b: {} });
    expect((await unknown.router.generate('x')).deployment).toBe('b');
    expect(unknown.engines.a!.calls).toBe(1);
    expect(unknown.sleeps).toEqual([]);
    // The same window: it would refuse the prompt too.
    const engines = { a: new MockEngine({ failures: [{ code: 'context_length_exceeded' }] }), b: new MockEngine({}) };
    const router = new LLMRouter(
      { models: [{ name: 'a', engine: 'mock', priority: 1, contextWindow: 8000 }, { name: 'b', engine: 'mock', priority: 2, contextWindow: 8000 }], routing: { strategy: 'priority' } },
      { engines },
    );
    expect((await rejection(router.generate('x'))).code).toBe('context_length_exceeded');
    expect(engines.b.calls).toBe(0);
  });

  it('auth, permission and not-found errors fall over without retrying the same deployment', async () => {
    for (const code of ['authentication', 'permission_denied', 'not_found'] as const) {
      const { router, engines, sleeps } = setup({ a: { failures: [{ code }] }, b: {} });
      expect((await router.generate('x')).deployment).toBe('b');
      expect(engines.a!.calls).toBe(1);
      expect(sleeps).toEqual([]);
    }
  });

  it('when every deployment fails, the last error is returned', async () => {
    const { router } = setup({ a: { failures: [{ code: 'provider_error', times: 5 }] }, b: { failures: [{ code: 'overloaded', times: 5 }] } }, { retries: { max: 1 } });
    const err = await rejection(router.generate('x'));
    expect(err.code).toBe('overloaded');
    expect(err.deployment).toBe('b');
  });

  it('firstToken timeout fails over to the next deployment', async () => {
    const { router, engines } = setup({ a: { delayMs: 5_000 }, b: { reply: 'fast' } }, { retries: { max: 0 }, timeouts: { firstTokenMs: 50 } });
    const events = record(router);
    const started = Date.now();
    const r = await router.generate('x');
    expect(r.text).toBe('fast');
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(r.attempts[0]).toMatchObject({ deployment: 'a', ok: false, errorCode: 'timeout' });
    const attemptError = events.find(([n]) => n === 'attempt:error')![1] as RouterEvents['attempt:error'];
    expect(attemptError.error.message).toContain('firstTokenMs 50 ms');
    expect(engines.a!.calls).toBe(1);
  });

  it('per-call timeouts beat per-model ones, which beat routing ones', async () => {
    const router = new LLMRouter(
      { models: [{ name: 'a', engine: 'mock', timeouts: { totalMs: 10_000 }, options: { delayMs: 300 } }], routing: { retries: { max: 0 }, timeouts: { totalMs: 20 } } },
    );
    expect((await router.generate('x')).deployment).toBe('a'); // the model's 10 s wins over routing's 20 ms
    const err = await rejection(router.generate('x', { timeouts: { totalMs: 30 } }));
    expect(err.code).toBe('timeout');
    expect(err.message).toContain('totalMs 30 ms');
  });

  it('caller abort stops everything with `aborted`, without retries or fallback', async () => {
    const { router, engines, sleeps } = setup({ a: { delayMs: 5_000 }, b: {} });
    const controller = new AbortController();
    const p = router.generate('x', { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const err = await rejection(p);
    expect(err.code).toBe('aborted');
    expect(engines.a!.calls).toBe(1);
    expect(engines.b!.calls).toBe(0);
    expect(sleeps).toEqual([]);
    expect(router.stats()['a']).toMatchObject({ failures: 0, inFlight: 0 });
    const already = await rejection(router.generate('x', { signal: AbortSignal.abort() }));
    expect(already.code).toBe('aborted');
    expect(engines.a!.calls).toBe(1);
  });

  it('hedging: when the first has no answer after delayMs the next starts too; the first answer wins, the loser is aborted', async () => {
    let aborted = false;
    const slow = new MockEngine({ delayMs: 5_000, reply: 'slow' });
    const origGenerate = slow.generate.bind(slow);
    slow.generate = (req: GenerateRequest, o?: CallOptions) => {
      o?.signal?.addEventListener('abort', () => (aborted = true));
      return origGenerate(req, o);
    };
    const router = new LLMRouter(
      {
        models: [{ name: 'slow', engine: 'mock', priority: 1 }, { name: 'fast', engine: 'mock', priority: 2 }],
        routing: { strategy: 'priority', hedging: { enabled: true, delayMs: 30 } },
      },
      { engines: { slow, fast: new MockEngine({ reply: 'fast', delayMs: 5 }) } },
    );
    const events = record(router);
    const r = await router.generate('x');
    expect(r.text).toBe('fast');
    expect(r.deployment).toBe('fast');
    expect(r.attempts).toEqual([expect.objectContaining({ deployment: 'fast', ok: true, hedge: true })]);
    expect(aborted).toBe(true);
    expect(events.map(([n]) => n)).toEqual(['request:start', 'hedge', 'request:end']);
    expect(router.stats()['slow']).toMatchObject({ inFlight: 0, failures: 0 });
  });

  it('hedging: a fast first answer starts no hedge', async () => {
    const router = new LLMRouter(
      { models: [{ name: 'a', engine: 'mock', priority: 1 }, { name: 'b', engine: 'mock', priority: 2 }], routing: { strategy: 'priority', hedging: { enabled: true, delayMs: 2_000 } } },
    );
    const events = record(router);
    expect((await router.generate('x')).deployment).toBe('a');
    expect(events.map(([n]) => n)).toEqual(['request:start', 'request:end']);
  });

  it('hedging: a failing lane falls over while the other runs', async () => {
    const router = new LLMRouter(
      {
        models: [{ name: 'a', engine: 'mock', priority: 1 }, { name: 'b', engine: 'mock', priority: 2 }, { name: 'c', engine: 'mock', priority: 3 }],
        routing: { strategy: 'priority', retries: { max: 0 }, hedging: { enabled: true, delayMs: 10 } },
      },
      {
        engines: {
          a: new MockEngine({ delayMs: 3_000, reply: 'a' }),
          b: new MockEngine({ failures: [{ code: 'provider_error' }], delayMs: 20 }),
          c: new MockEngine({ reply: 'c' }),
        },
      },
    );
    const r = await router.generate('x');
    expect(r.text).toBe('c');
  });
});

describe('LLMRouter: streams', () => {
  it('yields a route part first, then the engine parts; .result has usage, cost, latency, ttft', async () => {
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock', price: { input: 1, output: 1 }, options: { reply: 'one two three' } }] });
    const s = router.stream('hello');
    const parts = await collect(s);
    // With the price the deployment answers at (what a consumer bills a stream cut short with).
    expect(parts[0]).toEqual({ type: 'route', requestId: s.requestId, deployment: 'a', model: 'a', provider: 'mock', cached: false, price: { input: 1, output: 1 } });
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { delta: string }).delta).join('')).toBe('one two three');
    expect(parts.at(-1)!.type).toBe('finish');
    const result = await s.result;
    expect(result).toMatchObject({ text: 'one two three', deployment: 'a', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 3 } });
    expect(result.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(result.latencyMs).toBeGreaterThanOrEqual(result.timeToFirstTokenMs!);
  });

  it('explain on a stream puts the decision on the result', async () => {
    const { router } = setup({ a: {}, b: {} });
    const s = router.stream('x', { explain: true });
    await collect(s);
    const r = await s.result;
    expect(r.decision).toMatchObject({ selected: 'a', order: ['a', 'b'], strategy: 'priority' });
  });

  it('cost is identical for streamed and non-streamed calls of the same answer', async () => {
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock', price: { input: 3, output: 15, cachedInput: 0.3 }, options: { reply: 'the same answer both ways' } }] });
    const g = await router.generate('What is the answer to all of this?');
    const s = router.stream('What is the answer to all of this?');
    await collect(s);
    const sr = await s.result;
    expect(sr.text).toBe(g.text);
    expect(sr.usage).toEqual(g.usage);
    expect(sr.cost).toEqual(g.cost);
    expect(g.cost.totalUsd).toBeGreaterThan(0);
  });

  it('a stream failing before its first content part fails over', async () => {
    const { router, engines } = setup({ a: { failures: [{ code: 'provider_unavailable', afterChunks: 0, times: 3 }] }, b: { reply: 'from b' } });
    const s = router.stream('x');
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'b' });
    expect(parts.some((p) => p.type === 'error')).toBe(false);
    expect((await s.result).text).toBe('from b');
    expect(engines.a!.calls).toBe(3);
  });

  it('a stream cut after its first chunk ends with an error part (no failover after the first content)', async () => {
    const { router, engines } = setup({ a: { reply: 'one two three', failures: [{ code: 'provider_error', afterChunks: 1 }] }, b: {} });
    const s = router.stream('x');
    const parts = await collect(s);
    expect(parts.map((p) => p.type)).toEqual(['route', 'response-metadata', 'text-delta', 'error']);
    const last = parts.at(-1) as { type: 'error'; error: LLMError };
    expect(last.error.code).toBe('provider_error');
    expect(last.error.deployment).toBe('a');
    expect(engines.b!.calls).toBe(0);
    const err = await rejection(s.result);
    expect(err.code).toBe('provider_error');
    expect(router.stats()['a']!.failures).toBe(1);
  });

  it('an engine stream that ends with neither finish nor error becomes a stream_interrupted error part', async () => {
    const truncated: LanguageEngine = {
      specVersion: 'v1',
      provider: 'test',
      modelId: 'cut',
      capabilities: { streaming: true },
      generate: () => Promise.reject(new Error('unused')),
      async *stream(): AsyncGenerator<StreamPart> {
        yield { type: 'text-delta', delta: 'partial' };
      },
    };
    const router = new LLMRouter({ models: [{ name: 'cut', engine: 'mock' }, { name: 'b', engine: 'mock' }], routing: { strategy: 'priority' } }, { engines: { cut: truncated } });
    const s = router.stream('x');
    const parts = await collect(s);
    expect(parts.map((p) => p.type)).toEqual(['route', 'text-delta', 'error']);
    expect((parts[2] as { error: LLMError }).error.code).toBe('stream_interrupted');
    expect((await rejection(s.result)).code).toBe('stream_interrupted');
  });

  it('an engine stream that ends without any part fails over', async () => {
    const empty: LanguageEngine = {
      specVersion: 'v1',
      provider: 'test',
      modelId: 'empty',
      capabilities: { streaming: true },
      generate: () => Promise.reject(new Error('unused')),
      async *stream(): AsyncGenerator<StreamPart> {},
    };
    const router = new LLMRouter(
      { models: [{ name: 'empty', engine: 'mock' }, { name: 'b', engine: 'mock', options: { reply: 'ok' } }], routing: { strategy: 'priority', retries: { max: 0 } } },
      { engines: { empty } },
    );
    const s = router.stream('x');
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'b' });
    expect((await s.result).attempts[0]).toMatchObject({ deployment: 'empty', errorCode: 'stream_interrupted' });
  });

  it('firstToken timeout on a stream fails over; all failing yields one error part and a rejected result', async () => {
    const { router } = setup({ a: { delayMs: 5_000 }, b: { reply: 'b' } }, { retries: { max: 0 }, timeouts: { firstTokenMs: 40 } });
    const s = router.stream('x');
    await collect(s);
    expect((await s.result).deployment).toBe('b');
    const both = setup({ a: { delayMs: 5_000 }, b: { delayMs: 5_000 } }, { retries: { max: 0 }, timeouts: { firstTokenMs: 30 } });
    const s2 = both.router.stream('x');
    const parts = await collect(s2);
    expect(parts).toHaveLength(1);
    expect((parts[0] as { error: LLMError }).error.code).toBe('timeout');
    expect((await rejection(s2.result)).code).toBe('timeout');
  });

  it('stream hedging: the first to produce content wins', async () => {
    const router = new LLMRouter(
      { models: [{ name: 'slow', engine: 'mock', priority: 1 }, { name: 'fast', engine: 'mock', priority: 2 }], routing: { strategy: 'priority', hedging: { enabled: true, delayMs: 20 } } },
      { engines: { slow: new MockEngine({ delayMs: 5_000 }), fast: new MockEngine({ reply: 'fast one' }) } },
    );
    const s = router.stream('x');
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'fast' });
    expect((await s.result).text).toBe('fast one');
  });

  it('planning errors and invalid requests come out as an error part and a rejected result', async () => {
    const { router } = setup({ a: {} });
    const s = router.stream('x', { model: 'nope' });
    const parts = await collect(s);
    expect(parts).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'model_not_found' }) }]);
    expect((await rejection(s.result)).code).toBe('model_not_found');
    const bad = router.stream({ messages: [] });
    expect((await collect(bad))[0]).toMatchObject({ type: 'error' });
    expect((await rejection(bad.result)).param).toBe('messages');
  });

  it('a consumer that stops early cancels the upstream; the result rejects with aborted; iterating twice is refused', async () => {
    let upstreamAborted = false;
    const engine = new MockEngine({ reply: 'a b c d e f', chunkDelayMs: 5 });
    const orig = engine.stream.bind(engine);
    engine.stream = (req: GenerateRequest, o?: CallOptions) => {
      o?.signal?.addEventListener('abort', () => (upstreamAborted = true));
      return orig(req, o);
    };
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }] }, { engines: { a: engine } });
    const s = router.stream('x');
    for await (const p of s) if (p.type === 'text-delta') break;
    expect(upstreamAborted).toBe(true);
    expect((await rejection(s.result)).code).toBe('aborted');
    expect(router.stats()['a']).toMatchObject({ inFlight: 0, failures: 0 });
    expect(() => s[Symbol.asyncIterator]()).toThrow(/only once/);
  });

  it('an unobserved stream result rejection does not crash the process', async () => {
    const { router } = setup({ a: { failures: [{ code: 'invalid_request' }] } });
    const s = router.stream('x');
    await collect(s); // .result never awaited
    await new Promise((r) => setTimeout(r, 10));
  });

  it('caller abort mid-stream ends with an aborted error part', async () => {
    const { router } = setup({ a: { reply: 'a b c d e f g h', chunkDelayMs: 20 }, b: {} });
    const controller = new AbortController();
    const s = router.stream('x', { signal: controller.signal });
    const parts: RouterStreamPart[] = [];
    for await (const p of s) {
      parts.push(p);
      if (p.type === 'text-delta') controller.abort();
    }
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
  });

  it('a stream with tool calls folds them into the result', async () => {
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock', options: { toolArguments: { city: 'Paris' } } }] });
    const s = router.stream({ messages: [{ role: 'user', content: 'weather' }], tools: [{ name: 'weather', parameters: {} }] });
    await collect(s);
    const r = await s.result;
    expect(r.finishReason).toBe('tool-calls');
    expect(r.toolCalls).toEqual([{ id: expect.any(String), name: 'weather', arguments: '{"city":"Paris"}' }]);
  });
});

describe('LLMRouter: batch, explain, events', () => {
  it('batch: bounded concurrency, settles all, keeps order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const engine: LanguageEngine = {
      specVersion: 'v1',
      provider: 'test',
      modelId: 'count',
      capabilities: {},
      async generate(req: GenerateRequest): Promise<GenerateResult> {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        const text = String(req.messages[0]!.content);
        if (text === 'fail') throw new LLMError({ code: 'invalid_request', message: 'no' });
        return { text: `echo ${text}`, toolCalls: [], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
      },
      stream: () => {
        throw new Error('unused');
      },
    };
    const router = new LLMRouter({ models: [{ name: 'c', engine: 'mock' }] }, { engines: { c: engine } });
    const items = Array.from({ length: 12 }, (_, i) => (i === 4 ? 'fail' : `item ${i}`));
    const results = await router.batch(items, { concurrency: 3 });
    expect(maxInFlight).toBe(3);
    expect(results).toHaveLength(12);
    results.forEach((r, i) => {
      if (i === 4) expect(r).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      else expect(r).toMatchObject({ ok: true, result: { text: `echo item ${i}` } });
    });
    await expect(router.batch(['x'], { concurrency: 0 })).rejects.toMatchObject({ param: 'concurrency' });
  });

  it('batch items may carry their own options', async () => {
    const { router } = setup({ a: { reply: 'A' }, b: { reply: 'B' } });
    const results = await router.batch(['x', { prompt: 'y', options: { model: 'b' } }], { requestId: 'batch' });
    expect(results.map((r) => (r.ok ? `${r.result.requestId}:${r.result.text}` : 'err'))).toEqual(['batch-0:A', 'batch-1:B']);
  });

  it('explain: candidates with scores and factors, exclusions, order, a reason and the decision time', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'cheap', engine: 'mock', price: { input: 0.1, output: 0.2 } },
        { name: 'dear', engine: 'mock', price: { input: 5, output: 15 } },
        { name: 'off', engine: 'mock', enabled: false },
      ],
      routing: { strategy: 'cost-optimized', fallbacks: [] },
    });
    const r = await router.generate('explain this', { explain: true });
    const d = r.decision!;
    expect(d.requestId).toBe(r.requestId);
    expect(d.strategy).toBe('cost-optimized');
    expect(d.selected).toBe('cheap');
    expect(d.order).toEqual(['cheap', 'dear']);
    expect(d.candidates.map((c) => [c.name, c.rank])).toEqual([['cheap', 1], ['dear', 2]]);
    expect(d.candidates[0]).toMatchObject({ engine: 'mock', model: 'cheap', price: { input: 0.1, output: 0.2 }, stats: { requests: 0, circuit: 'closed' } });
    expect(d.candidates[0]!.score).toBeGreaterThan(d.candidates[1]!.score!);
    expect(d.excluded).toEqual([{ name: 'off', reason: 'disabled', kind: 'unfit' }]);
    expect(d.reason).toMatch(/^"cheap" ranked first by cost-optimized \(expectedCostUsd=[\d.e-]+, inputPrice=0.1, outputPrice=0.2\) ahead of 1 other candidate; 1 excluded\.$/);
    expect(d.decisionUs).toBeGreaterThanOrEqual(0);
    const routed = await router.route('explain this');
    expect(routed.order).toEqual(d.order);
  });

  it('events carry requestId and metadata; a throwing listener never breaks a request', async () => {
    const errors: unknown[] = [];
    const { router } = setup({ a: {} }, {}, { onListenerError: (e) => errors.push(e) });
    router.on('request:start', () => {
      throw new Error('listener bug');
    });
    const ends: Array<RouterEvents['request:end']> = [];
    const off = router.on('request:end', (e) => ends.push(e));
    const r = await router.generate('x', { metadata: { user: 'u1' }, requestId: 'r1' });
    expect(r.text).toContain('Mock answer');
    expect(errors).toHaveLength(1);
    expect(ends[0]).toMatchObject({ requestId: 'r1', stream: false, metadata: { user: 'u1' }, result: { requestId: 'r1' } });
    off();
    await router.generate('x');
    expect(ends).toHaveLength(1);
  });

  it('a failed request ends with request:end carrying the error', async () => {
    const { router } = setup({ a: { failures: [{ code: 'invalid_request' }] } });
    const ends: Array<RouterEvents['request:end']> = [];
    router.on('request:end', (e) => ends.push(e));
    await rejection(router.generate('x'));
    expect(ends[0]!.error!.code).toBe('invalid_request');
    expect(ends[0]!.result).toBeUndefined();
  });
});

describe('LLMRouter: exact cache', () => {
  const cached = () => new LLMRouter({ models: [{ name: 'a', engine: 'mock', options: { reply: 'cached answer' } }], cache: { exact: { enabled: true } } });

  it('a repeated request is served from the cache (cached: exact, cost 0) and emits cache:hit', async () => {
    const router = cached();
    const events = record(router);
    const first = await router.generate('same question');
    expect(first.cached).toBe(false);
    const second = await router.generate('same question');
    expect(second).toMatchObject({ cached: 'exact', text: 'cached answer', deployment: 'a', attempts: [], cost: { totalUsd: 0 } });
    expect(second.usage).toEqual(first.usage);
    expect(events.filter(([n]) => n === 'cache:hit')).toEqual([['cache:hit', { requestId: second.requestId, kind: 'exact', deployment: 'a' }]]);
    expect(router.stats()['a']!.requests).toBe(1);
  });

  it('a streaming call replays the cached answer as a stream; a streamed answer is cached too', async () => {
    const router = cached();
    const s1 = router.stream('q');
    await collect(s1);
    expect((await s1.result).cached).toBe(false);
    const s2 = router.stream('q');
    const parts = await collect(s2);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'a', cached: 'exact' });
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { delta: string }).delta).join('')).toBe('cached answer');
    expect(parts.at(-1)!.type).toBe('finish');
    expect((await s2.result).cached).toBe('exact');
    expect((await router.generate('q')).cached).toBe('exact');
  });

  it('temperature > 0, cache: false and failed answers are not cached; cache: refresh stores without lookup', async () => {
    const router = cached();
    await router.generate('t', { temperature: 0.7 });
    expect((await router.generate('t', { temperature: 0.7 })).cached).toBe(false);
    await router.generate('f', { cache: false });
    expect((await router.generate('f')).cached).toBe(false);
    await router.generate('r');
    expect((await router.generate('r', { cache: 'refresh' })).cached).toBe(false);
    expect((await router.generate('r')).cached).toBe('exact');
  });

  it('the cache is scoped by tenant and requested model', async () => {
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'mock' }], cache: { exact: { enabled: true } } });
    await router.generate('s', { tenant: 't1' });
    expect((await router.generate('s', { tenant: 't2' })).cached).toBe(false);
    expect((await router.generate('s', { tenant: 't1' })).cached).toBe('exact');
    // The unrestricted call's model set is {a, b}: a call for `a` alone does not share it.
    expect((await router.generate('s', { tenant: 't1', model: 'a' })).cached).toBe(false);
  });

  it('unrestricted calls are scoped by the deployments that could serve them, so a changed model set never gets stale answers', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'a', engine: 'mock', priority: 1, options: { reply: 'from a' } },
        { name: 'b', engine: 'mock', priority: 2, options: { reply: 'from b' } },
      ],
      routing: { strategy: 'priority' },
      cache: { exact: { enabled: true } },
    });
    expect((await router.generate('q')).text).toBe('from a');
    expect((await router.generate('q')).cached).toBe('exact');
    // Replacing a deployment under the same name with routing changes only (priority, limits) keeps its answers.
    router.load({ name: 'a', engine: 'mock', priority: 0, limits: { maxConcurrency: 4 }, options: { reply: 'from a' } });
    expect((await router.generate('q')).cached).toBe('exact');
    // One that answers differently does not serve the old one's answers.
    router.load({ name: 'a', engine: 'mock', priority: 1, options: { reply: 'from a, reloaded' } });
    expect(await router.generate('q')).toMatchObject({ cached: false, text: 'from a, reloaded' });
    router.unload('a');
    const after = await router.generate('q');
    expect(after).toMatchObject({ cached: false, text: 'from b' });
    router.load({ name: 'c', engine: 'mock', priority: 3 });
    expect((await router.generate('q')).cached).toBe(false);
    expect((await router.generate('q')).cached).toBe('exact');
  });

  it('the set follows what the request needs (capabilities, context window), and a stream shares it with generate', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'tools', engine: 'mock', priority: 2, capabilities: ['chat', 'streaming', 'tools'] },
        { name: 'plain', engine: 'mock', priority: 1, capabilities: ['chat', 'streaming'], contextWindow: 30 },
        { name: 'nostream', engine: 'mock', priority: 3, capabilities: ['chat'] },
      ],
      routing: { strategy: 'priority' },
      cache: { exact: { enabled: true } },
    });
    const withTools = { messages: [{ role: 'user' as const, content: 'weather?' }], tools: [{ name: 'weather', parameters: {} }] };
    expect((await router.generate(withTools)).deployment).toBe('tools');
    // Disabling `plain` does not change the set of a tools request ({tools}): still a hit.
    router.load({ name: 'plain', engine: 'mock', priority: 1, capabilities: ['chat', 'streaming'], contextWindow: 30, enabled: false });
    expect((await router.generate(withTools)).cached).toBe('exact');

    // `nostream` cannot stream, but the answer does not depend on streaming: one set for both.
    const s = router.stream('hello');
    await collect(s);
    expect((await s.result).deployment).toBe('tools');
    expect((await router.generate('hello')).cached).toBe('exact');
    // A prompt too long for `plain`'s window has a smaller set than a short one.
    router.load({ name: 'plain', engine: 'mock', priority: 1, capabilities: ['chat', 'streaming'], contextWindow: 30 });
    expect((await router.generate('word '.repeat(40))).deployment).toBe('tools');
    expect((await router.generate('word '.repeat(40))).cached).toBe('exact');
    expect((await router.generate('short')).deployment).toBe('plain');
  });

  it('cache disabled by default', async () => {
    const { router } = setup({ a: {} });
    await router.generate('x');
    expect((await router.generate('x')).cached).toBe(false);
  });
});

describe('LLMRouter.fromConfig and model paths', () => {
  it('loads a config file (YAML) and resolves model paths against modelsDir', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'llmrr-router-'));
    try {
      await writeFile(join(dir, 'router.yaml'), 'models:\n  - name: y\n    engine: seen\n    path: m.gguf\nmodelsDir: models\nrouting:\n  strategy: priority\n');
      let seenBaseDir: string | undefined;
      const router = await LLMRouter.fromConfig(join(dir, 'router.yaml'), {
        env: {},
        engineFactories: {
          seen: (m, ctx) => {
            seenBaseDir = ctx.baseDir;
            return new MockEngine({ modelId: m.name, reply: 'from yaml' });
          },
        },
      });
      expect(router.strategy).toBe('priority');
      expect((await router.generate('x')).text).toBe('from yaml');
      expect(seenBaseDir).toBe(join(dir, 'models'));
      await expect(LLMRouter.fromConfig({ models: [{ name: 'a', engine: 'mock', priority: 'x' }] })).rejects.toMatchObject({ code: 'config_invalid' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
