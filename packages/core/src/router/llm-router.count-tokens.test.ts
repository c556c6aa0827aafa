import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfigInput, RouterConfigInput } from '../config/schema.js';
import { ModelConfigSchema } from '../config/schema.js';
import '../engines/index.js';
import { createEngine } from '../engines/registry.js';
import { defaultEngineContext } from '../engines/types.js';
import { estimateRequestTokens } from '../pricing/estimate-tokens.js';
import type { GenerateRequest, GenerateResult, LanguageEngine } from '../spec/index.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../test/anthropic-wire-server.js';
import { LLMRouter } from './llm-router.js';
import { rejection } from '../test/async.test-helpers.js';

// LLMRouter.countTokens: the deployment a call would use counts the prompt with its engine's own count.

let server: AnthropicWireServer;
/** What the wire server's count_tokens answers: a number no estimate would give, so the test sees whose count it is. */
let upstreamCount: number | undefined = 4242;

beforeAll(async () => {
  server = await startAnthropicWireServer({ apiKey: 'sk-ant-test', countTokens: () => upstreamCount as number });
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
  upstreamCount = 4242;
});

const routers: LLMRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

function router(config: RouterConfigInput, options: ConstructorParameters<typeof LLMRouter>[1] = {}): LLMRouter {
  const r = new LLMRouter(config, options);
  routers.push(r);
  return r;
}

const claude = (extra: Partial<ModelConfigInput> = {}): ModelConfigInput => ({
  name: 'claude',
  engine: 'anthropic',
  model: 'claude-test-1',
  baseURL: server.url,
  apiKey: 'sk-ant-test',
  options: { exactTokenCount: true },
  ...extra,
});

const hello: GenerateRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'hello there, how are you' },
  ],
};

describe('LLMRouter.countTokens', () => {
  it('mock engine: its own count, marked as an estimate, with no model call', async () => {
    const r = router({ models: [{ name: 'm', engine: 'mock', model: 'mock-1' }] });
    const ends: unknown[] = [];
    r.on('request:end', (e) => ends.push(e));
    // The mock engine counts words: 2 + 5.
    expect(await r.countTokens(hello)).toEqual({ tokens: 7, exact: false, deployment: 'm', model: 'mock-1' });
    expect(await r.countTokens('one two three', { model: 'm' })).toEqual({ tokens: 3, exact: false, deployment: 'm', model: 'mock-1' });
    expect(ends).toEqual([]);
    expect(r.stats()['m']!.requests).toBe(0);
  });

  it('anthropic with exactTokenCount: the upstream count_tokens answer, exact', async () => {
    const r = router({ models: [claude()] });
    expect(await r.countTokens(hello, { model: 'claude' })).toEqual({ tokens: 4242, exact: true, deployment: 'claude', model: 'claude-test-1' });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/messages/count_tokens');
    expect(req.body).toEqual({ model: 'claude-test-1', system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there, how are you' }] }] });
  });

  it('anthropic without exactTokenCount: the engine estimate, no network, not exact', async () => {
    const r = router({ models: [claude({ options: {} })] });
    const count = await r.countTokens(hello, { model: 'claude' });
    expect(count.exact).toBe(false);
    expect(count.tokens).toBeGreaterThan(0);
    expect(count.tokens).not.toBe(4242);
    expect(server.requests).toHaveLength(0);
  });

  it('an engine without countTokens: the router estimate, not exact', async () => {
    const bare: LanguageEngine = {
      specVersion: 'v1',
      provider: 'custom',
      modelId: 'bare-1',
      capabilities: {},
      generate: () => Promise.reject(new Error('must not be called')),
      stream: () => {
        throw new Error('must not be called');
      },
    };
    const r = router({ models: [{ name: 'bare', engine: 'custom' }] }, { engines: { bare } });
    expect(await r.countTokens(hello)).toEqual({ tokens: estimateRequestTokens(hello), exact: false, deployment: 'bare', model: 'bare-1' });
  });

  it('an alias with several deployments: the lowest priority counts, then config order', async () => {
    const models: ModelConfigInput[] = [
      { name: 'cheap', engine: 'mock', alias: 'smart', priority: 5 },
      claude({ alias: 'smart', priority: 1 }),
      { name: 'tie', engine: 'mock', alias: 'smart', priority: 1 },
    ];
    // round-robin would move on every call: a count must neither follow nor move it.
    const r = router({ models, routing: { strategy: 'round-robin' } });
    for (let i = 0; i < 3; i++) expect(await r.countTokens(hello, { model: 'smart' })).toMatchObject({ deployment: 'claude', tokens: 4242, exact: true });
    // A disabled or unfit first choice is passed over, as a call would pass it over.
    r.load(claude({ alias: 'smart', priority: 1, enabled: false }));
    expect(await r.countTokens(hello, { model: 'smart' })).toMatchObject({ deployment: 'tie', exact: false });
    r.load({ name: 'tie', engine: 'mock', alias: 'smart', priority: 1, capabilities: ['chat'] });
    const tooled: GenerateRequest = { ...hello, tools: [{ name: 'get_weather', parameters: { type: 'object' } }] };
    expect(await r.countTokens(tooled, { model: 'smart' })).toMatchObject({ deployment: 'cheap' });
    // No model: the same rule over every deployment the call may use.
    expect(await r.countTokens(hello)).toMatchObject({ deployment: 'tie' });
    expect(await r.countTokens(hello, { allowedModels: ['cheap'] })).toMatchObject({ deployment: 'cheap' });
  });

  it('the context window and limits do not stop a count (circuits and remote counts: llm-router.count-tokens-circuit.test.ts)', async () => {
    const r = router({ models: [{ name: 'small', engine: 'mock', contextWindow: 10, limits: { rpm: 1 } }] });
    const long = 'word '.repeat(200);
    await expect(r.generate(long, { model: 'small' })).rejects.toMatchObject({ code: 'context_length_exceeded' });
    expect(await r.countTokens(long, { model: 'small' })).toMatchObject({ tokens: 200, deployment: 'small' });
  });

  it('a model outside the allow-list (call or tenant) is model_not_found, as for a call', async () => {
    const r = router({ models: [{ name: 'm', engine: 'mock' }, claude()] });
    for (const options of [{ model: 'claude', allowedModels: ['m'] }, { model: 'nope' }]) {
      const e = await rejection(r.countTokens(hello, options));
      expect(e.code).toBe('model_not_found');
      expect(e.param).toBe('model');
      // The same words as the call's refusal: the known list leaves out what the caller may not use.
      const call = await rejection(r.generate(hello, options));
      expect(e.message).toBe(call.message);
      if (options.allowedModels) expect(e.message).toMatch(/Known: m$/);
    }
    r.setTenant({ id: 'narrow', allowedModels: ['m'] });
    const e = await rejection(r.countTokens(hello, { model: 'claude', tenant: 'narrow' }));
    expect(e.code).toBe('model_not_found');
    expect(await r.countTokens(hello, { model: 'm', tenant: 'narrow' })).toMatchObject({ deployment: 'm' });
    expect(server.requests).toHaveLength(0);
  });

  it('no deployment that can serve the request: no_deployment listing why (a 400 when it is what the request asks)', async () => {
    const r = router({ models: [{ name: 'm', engine: 'mock', enabled: false }] });
    const e = await rejection(r.countTokens(hello, { model: 'm' }));
    expect(e.code).toBe('no_deployment');
    expect(e.message).toContain('m: disabled');
    // What the request asks and no deployment gives: the caller's error, as for a call.
    const plain = router({ models: [{ name: 'p', engine: 'mock', capabilities: ['chat'] }] });
    const tooled: GenerateRequest = { ...hello, tools: [{ name: 'get_weather', parameters: { type: 'object' } }] };
    const t = await rejection(plain.countTokens(tooled, { model: 'p' }));
    expect([t.code, t.statusCode, t.param]).toEqual(['unsupported', 400, 'tools']);
    expect(t.message).toContain('p: lacks capabilities: tools');
  });

  it('a failing provider count is the typed error of the deployment, not retried, no fallback', async () => {
    const r = router({ models: [claude({ apiKey: 'sk-ant-wrong' }), { name: 'm', engine: 'mock' }], routing: { fallbacks: ['m'], retries: { max: 3 } } });
    const e = await rejection(r.countTokens(hello, { model: 'claude' }));
    expect(e.code).toBe('authentication');
    expect(e.statusCode).toBe(401);
    expect(e.deployment).toBe('claude');
    expect(e.provider).toBe('anthropic');
    expect(server.requests).toHaveLength(1);

    upstreamCount = undefined; // an answer without input_tokens
    const good = router({ models: [claude()] });
    const bad = await rejection(good.countTokens(hello, { model: 'claude' }));
    expect(bad.code).toBe('invalid_response');
    expect(bad.message).toContain('input_tokens');
  });

  it('a count that does not settle ends at the call time limit (timeout)', async () => {
    const stuck: LanguageEngine = {
      specVersion: 'v1',
      provider: 'custom',
      modelId: 'stuck-1',
      capabilities: {},
      generate: () => Promise.reject(new Error('must not be called')),
      stream: () => {
        throw new Error('must not be called');
      },
      countTokens: () => new Promise<number>(() => {}),
    };
    const r = router({ models: [{ name: 'stuck', engine: 'custom', timeouts: { totalMs: 30 } }] }, { engines: { stuck } });
    const e = await rejection(r.countTokens(hello));
    expect(e.code).toBe('timeout');
    expect(e.deployment).toBe('stuck');
    const aborted = new AbortController();
    aborted.abort();
    expect((await rejection(r.countTokens(hello, { signal: aborted.signal }))).code).toBe('aborted');
  });

  it('a count that is not a token count is invalid_response', async () => {
    const odd = (n: number): LanguageEngine => ({
      specVersion: 'v1',
      provider: 'custom',
      modelId: 'odd',
      capabilities: {},
      countTokensExact: true,
      generate: (): Promise<GenerateResult> => Promise.reject(new Error('must not be called')),
      stream: () => {
        throw new Error('must not be called');
      },
      countTokens: () => n,
    });
    for (const n of [-1, 1.5, Number.NaN]) {
      const r = router({ models: [{ name: 'odd', engine: 'custom' }] }, { engines: { odd: odd(n) } });
      expect((await rejection(r.countTokens(hello))).code).toBe('invalid_response');
    }
    const r = router({ models: [{ name: 'odd', engine: 'custom' }] }, { engines: { odd: odd(12) } });
    expect(await r.countTokens(hello)).toEqual({ tokens: 12, exact: true, deployment: 'odd', model: 'odd' });
  });

  it('a cascade counts with its weak model, under the cascade allow-list', async () => {
    const r = router({
      models: [claude({ name: 'weak' }), { name: 'strong', engine: 'mock' }],
      routing: { cascades: [{ name: 'duo', weak: 'weak', strong: 'strong' }] },
    });
    expect(await r.countTokens('What is 2+2?', { model: 'duo' })).toEqual({ tokens: 4242, exact: true, deployment: 'weak', model: 'claude-test-1' });
    expect(server.requests.map((q) => q.path)).toEqual(['/v1/messages/count_tokens']);
    const e = await rejection(r.countTokens('What is 2+2?', { model: 'duo', allowedModels: ['duo', 'weak'] }));
    expect(e.code).toBe('permission_denied');
    expect(e.param).toBe('model');
  });

  it('bad input and a closed router are typed errors', async () => {
    const r = router({ models: [{ name: 'm', engine: 'mock' }] });
    const e = await rejection(r.countTokens({ messages: [] }));
    expect(e.code).toBe('invalid_request');
    expect(e.param).toBe('messages');
    await r.close();
    expect((await rejection(r.countTokens(hello))).code).toBe('shutting_down');
  });
});

describe('countTokensExact and countTokensRemote of the built-in engines', () => {
  it('exact for tokenizers and for provider counts with exactTokenCount; remote only for provider counts', () => {
    const cases: Array<[ModelConfigInput, boolean, boolean]> = [
      [{ name: 'g', engine: 'gguf', path: '/nonexistent/model.gguf' }, true, false],
      [{ name: 'o', engine: 'onnx', path: '/nonexistent/model.onnx' }, true, false],
      [{ name: 'a', engine: 'anthropic', model: 'c', apiKey: 'k', options: { exactTokenCount: true } }, true, true],
      [{ name: 'a', engine: 'anthropic', model: 'c', apiKey: 'k' }, false, false],
      [{ name: 'e', engine: 'gemini', model: 'g', apiKey: 'k', options: { exactTokenCount: true } }, true, true],
      [{ name: 'e', engine: 'gemini', model: 'g', apiKey: 'k' }, false, false],
      [{ name: 'x', engine: 'openai-compatible', model: 'x', baseURL: 'http://127.0.0.1:9', apiKey: 'k' }, false, false],
      [{ name: 'm', engine: 'mock' }, false, false],
    ];
    for (const [config, exact, remote] of cases) {
      // Creating an engine loads nothing and calls nothing (local models load on first use).
      const engine = createEngine(ModelConfigSchema.parse(config), defaultEngineContext({}));
      const label = `${config.engine} ${JSON.stringify(config.options ?? {})}`;
      expect(typeof engine.countTokens, config.engine).toBe('function');
      expect(engine.countTokensExact, label).toBe(exact);
      expect(engine.countTokensRemote, label).toBe(remote);
    }
  });
});
