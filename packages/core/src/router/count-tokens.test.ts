import type { IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../config/schema.js';
import '../engines/index.js';
import { estimateRequestTokens } from '../pricing/estimate-tokens.js';
import type { CountTokensCallOptions, GenerateRequest, LanguageEngine } from '../spec/index.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../test/anthropic-wire-server.js';
import type { RemoteCountPermit } from './count-tokens.js';
import { LLMRouter } from './llm-router.js';
import { rejection, until } from '../test/async.test-helpers.js';
import { startLoopbackHttp, type LoopbackHttp } from '../test/loopback-http.test-helpers.js';

// countWith: the count's time limit, its abort signal, and the admission of counts that do network I/O.

const routers: LLMRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

function router(...args: ConstructorParameters<typeof LLMRouter>): LLMRouter {
  const r = new LLMRouter(...args);
  routers.push(r);
  return r;
}

describe('countWith bounds (an Anthropic-wire upstream whose count_tokens never answers)', () => {
  // A server per test: a socket the previous test's server closed is never reused by the next request.
  let server: LoopbackHttp | undefined;
  let url: string;
  const held: Array<{ req: IncomingMessage; closed: boolean }> = [];

  beforeEach(async () => {
    server = await startLoopbackHttp((req, res) => {
      const entry = { req, closed: false };
      held.push(entry);
      req.resume();
      res.on('close', () => {
        entry.closed = true;
      });
      // Never answers.
    });
    url = server.url;
  });
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
    await server?.close();
    server = undefined;
    held.length = 0;
  });

  const claude = (extra: Partial<ModelConfigInput> = {}): ModelConfigInput => ({
    name: 'claude',
    engine: 'anthropic',
    model: 'claude-test-1',
    baseURL: url,
    apiKey: 'sk-ant-test',
    options: { exactTokenCount: true },
    ...extra,
  });

  it("a deployment's firstTokenMs bounds a count as it bounds a non-streamed call, even when routing sets a long totalMs", async () => {
    const r = router({ models: [claude({ timeouts: { firstTokenMs: 300 } })], routing: { timeouts: { totalMs: 600_000 } } });
    // Control: the call itself times out at firstTokenMs.
    expect((await rejection(r.generate('hello', { model: 'claude' }))).code).toBe('timeout');
    const before = held.length;
    const e = await rejection(r.countTokens('hello', { model: 'claude' }));
    expect(e.code).toBe('timeout');
    expect(e.deployment).toBe('claude');
    // The timed-out count's upstream request is closed too (the engine got the bounded signal).
    await until(() => held.length === before + 1 && held[before]!.closed, "the count's upstream request to close");
  }, 20_000);

  it("the call's own totalMs, shorter than the deployment's firstTokenMs, bounds the count (per-field merge, then the smaller)", async () => {
    const r = router({ models: [claude({ timeouts: { firstTokenMs: 600_000 } })] });
    const e = await rejection(r.countTokens('hello', { model: 'claude', timeouts: { totalMs: 200 } }));
    expect(e.code).toBe('timeout');
  }, 20_000);

  it('a client abort cancels the upstream count request (the engine count gets the signal)', async () => {
    const r = router({ models: [claude()] });
    const controller = new AbortController();
    const counting = rejection(r.countTokens('hello', { model: 'claude', signal: controller.signal }));
    await until(() => held.length === 1, 'the upstream count request');
    controller.abort();
    expect((await counting).code).toBe('aborted');
    await until(() => held[0]!.closed, 'the upstream request to close');
    expect(held[0]!.closed).toBe(true);
  }, 20_000);
});

describe('countWith admission of remote counts', () => {
  let upstream: AnthropicWireServer;
  beforeAll(async () => {
    upstream = await startAnthropicWireServer({ apiKey: 'sk-ant-test', countTokens: () => 4242 });
  });
  afterAll(() => upstream.close());
  afterEach(() => {
    upstream.requests.length = 0;
  });

  const hello: GenerateRequest = { messages: [{ role: 'user', content: 'hello there, how are you' }] };
  const claude = (): ModelConfigInput => ({ name: 'claude', engine: 'anthropic', model: 'claude-test-1', baseURL: upstream.url, apiKey: 'sk-ant-test', options: { exactTokenCount: true } });
  const counts = () => upstream.requests.filter((q) => q.path === '/v1/messages/count_tokens').length;

  it('an admitted remote count asks the provider and releases its permit once, also when the count fails', async () => {
    const r = router({ models: [claude()] });
    const asked: string[] = [];
    let released = 0;
    const permit: RemoteCountPermit = { release: () => void released++ };
    const admitRemote = async (t: { deployment: string; provider: string }) => (asked.push(`${t.provider}/${t.deployment}`), permit);
    expect(await r.countTokens(hello, { model: 'claude', admitRemote })).toEqual({ tokens: 4242, exact: true, deployment: 'claude', model: 'claude-test-1' });
    expect({ asked, released, counts: counts() }).toEqual({ asked: ['anthropic/claude'], released: 1, counts: 1 });
    const aborted = new AbortController();
    const failing = r.countTokens(hello, { model: 'claude', admitRemote, signal: aborted.signal });
    aborted.abort();
    expect((await rejection(failing)).code).toBe('aborted');
    expect(released).toBe(2);
  });

  it("a refused remote count (or local: true) answers the engine's local estimate, marked not exact, with no upstream request", async () => {
    const r = router({ models: [claude()] });
    const local = await r.countTokens(hello, { model: 'claude', local: true });
    const refused = await r.countTokens(hello, { model: 'claude', admitRemote: async () => undefined });
    expect(refused).toEqual(local);
    expect(local.exact).toBe(false);
    expect(local.tokens).toBeGreaterThan(0);
    expect(local.tokens).not.toBe(4242);
    expect(counts()).toBe(0);
  });

  it('a local count (mock, countTokensRemote: false) is never put to admission', async () => {
    const r = router({ models: [{ name: 'm', engine: 'mock' }] });
    let asked = 0;
    const count = await r.countTokens(hello, { admitRemote: async () => (asked++, undefined), local: true });
    expect(count).toEqual({ tokens: 5, exact: false, deployment: 'm', model: 'm' });
    expect(asked).toBe(0);
  });

  it("an engine that does not declare countTokensRemote: admitted as remote; refused, the router's estimate (the engine is not trusted with local)", async () => {
    const seen: Array<CountTokensCallOptions | undefined> = [];
    const custom: LanguageEngine = {
      specVersion: 'v1',
      provider: 'custom',
      modelId: 'c-1',
      capabilities: {},
      countTokensExact: true,
      generate: () => Promise.reject(new Error('must not be called')),
      stream: () => {
        throw new Error('must not be called');
      },
      countTokens: (_request, options) => (seen.push(options), 777),
    };
    const r = router({ models: [{ name: 'c', engine: 'custom' }] }, { engines: { c: custom } });
    let asked = 0;
    expect(await r.countTokens(hello, { admitRemote: async () => (asked++, { release: () => {} }) })).toEqual({ tokens: 777, exact: true, deployment: 'c', model: 'c-1' });
    expect(await r.countTokens(hello, { admitRemote: async () => (asked++, undefined) })).toEqual({ tokens: estimateRequestTokens(hello), exact: false, deployment: 'c', model: 'c-1' });
    expect(asked).toBe(2);
    expect(seen).toEqual([{}]);
  });
});
