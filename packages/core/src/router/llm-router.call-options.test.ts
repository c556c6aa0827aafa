/**
 * A call's own `retries`, `timeouts`, `fallbacks` and `signal`. A `retries` field given as `undefined` (valid for
 * `Partial<RetryConfig>`: `retries: { max: opts.retries }` with the option unset) keeps the config's value: merged
 * with a spread, `max: undefined` retried a failing deployment for ever (hundreds of requests a second, still going
 * after `close()`), `maxRetryAfterMs: undefined` waited any Retry-After. A JavaScript caller's wrong value is the
 * call's `invalid_request` naming the field, as the config's would be `config_invalid`: a retry count that is no
 * number, an object that is no `AbortSignal` (an `internal` "parent.addEventListener is not a function" before), and
 * a fallback that names no deployment (dropped unseen before, while `routing.fallbacks` refuses it at start).
 * `signal: null` (what `RequestInit.signal` allows, and what a caller forwarding one may pass) is no signal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMRouter } from './llm-router.js';
import type { GenerateOptions } from './types.js';

const servers: OpenAIWireServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function wire(script: Parameters<typeof startOpenAIWireServer>[0]): Promise<OpenAIWireServer> {
  const s = await startOpenAIWireServer(script);
  servers.push(s);
  return s;
}

describe("a call's retries with a field given as undefined", () => {
  it('retries: { max: undefined } keeps the configured max', { timeout: 30_000 }, async () => {
    const down = await wire({ script: { error: { status: 503, message: 'down' } } });
    const router = new LLMRouter({
      models: [{ name: 'a', engine: 'openai-compatible', baseURL: down.baseURL, model: 'x', apiKey: 'k' }],
      routing: { retries: { max: 2, initialDelayMs: 1, maxDelayMs: 2 }, circuitBreaker: { enabled: false } },
    });
    // Stops a runaway retry loop (the bug) within the test's time; the call settles long before.
    const guard = AbortSignal.timeout(10_000);
    try {
      const error = await rejection(router.generate('hi', { retries: { max: undefined }, signal: guard }));
      expect({ code: error.code, requests: down.requests.length }).toEqual({ code: 'provider_unavailable', requests: 3 });
    } finally {
      await router.close();
    }
  });

  it('retries: { maxRetryAfterMs: undefined } keeps the configured bound: a longer Retry-After moves on at once', { timeout: 30_000 }, async () => {
    const down = await wire({ script: { error: { status: 503, message: 'down', headers: { 'retry-after': '60' } } } });
    const up = await wire({ script: { text: 'ok' } });
    const router = new LLMRouter({
      models: [
        { name: 'down', engine: 'openai-compatible', baseURL: down.baseURL, model: 'x', apiKey: 'k', priority: 1 },
        { name: 'up', engine: 'openai-compatible', baseURL: up.baseURL, model: 'x', apiKey: 'k', priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 2, maxRetryAfterMs: 1000 }, circuitBreaker: { enabled: false } },
    });
    const retries: number[] = [];
    router.on('retry', (e) => retries.push(e.delayMs));
    try {
      const r = await router.generate('hi', { retries: { maxRetryAfterMs: undefined, initialDelayMs: 1 } });
      expect({ deployment: r.deployment, retries, downRequests: down.requests.length }).toEqual({ deployment: 'up', retries: [], downRequests: 1 });
    } finally {
      await router.close();
    }
  });
});

describe("a call's options of the wrong type or value are its invalid_request naming the field", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['retries.max a string', { retries: { max: '3' } }, 'retries.max'],
    ['retries.max negative', { retries: { max: -1 } }, 'retries.max'],
    ['retries.jitter not a boolean', { retries: { jitter: 'yes' } }, 'retries.jitter'],
    ['retries with an unknown field', { retries: { maxRetries: 3 } }, 'retries.maxRetries'],
    ['retries not an object', { retries: 3 }, 'retries'],
    ['timeouts.totalMs a string', { timeouts: { totalMs: '5000' } }, 'timeouts.totalMs'],
    ['timeouts.firstTokenMs 0', { timeouts: { firstTokenMs: 0 } }, 'timeouts.firstTokenMs'],
    // As the config's schema refuses it (0 is no time limit there either).
    ['timeouts.totalMs 0', { timeouts: { totalMs: 0 } }, 'timeouts.totalMs'],
    ['signal not an AbortSignal', { signal: { aborted: false } }, 'signal'],
    ['fallbacks a string', { fallbacks: 'backup' }, 'fallbacks'],
    ['fallbacks with a number', { fallbacks: [1] }, 'fallbacks.0'],
    ['fallbacks naming no deployment', { fallbacks: ['backup', 'Backup'] }, 'fallbacks.1'],
  ];

  function setup() {
    const primary = new MockEngine({ failures: [{ code: 'provider_unavailable', times: 1000 }] });
    const backup = new MockEngine({ reply: 'from backup' });
    const router = new LLMRouter(
      {
        models: [
          { name: 'primary', engine: 'mock', priority: 1 },
          { name: 'backup', engine: 'mock', priority: 2, alias: 'spare' },
          { name: 'hidden', engine: 'mock', priority: 3 },
        ],
        routing: { strategy: 'priority', retries: { max: 0 } },
      },
      { engines: { primary, backup, hidden: new MockEngine() } },
    );
    return { router, calls: () => primary.calls + backup.calls };
  }

  it.each(cases)('generate: %s', async (_name, options, param) => {
    const { router, calls } = setup();
    try {
      const error = await rejection(router.generate('hi', { model: 'primary', ...options } as GenerateOptions));
      expect({ code: error.code, param: error.param, calls: calls() }).toEqual({ code: 'invalid_request', param, calls: 0 });
      expect(error.message).toContain(param);
    } finally {
      await router.close();
    }
  });

  it.each(cases)('stream: %s', async (_name, options, param) => {
    const { router, calls } = setup();
    try {
      const parts = await collect(router.stream('hi', { model: 'primary', ...options } as GenerateOptions));
      expect({ parts, calls: calls() }).toEqual({ parts: [{ type: 'error', error: expect.objectContaining({ code: 'invalid_request', param }) }], calls: 0 });
    } finally {
      await router.close();
    }
  });

  it('embed and route() check them too', async () => {
    const { router } = setup();
    try {
      expect(await rejection(router.embed('hi', { signal: {} as AbortSignal }))).toMatchObject({ code: 'invalid_request', param: 'signal' });
      expect(await rejection(router.embed('hi', { fallbacks: ['nope'] }))).toMatchObject({ code: 'invalid_request', param: 'fallbacks.0' });
      expect(await rejection(router.route('hi', { fallbacks: ['nope'] }))).toMatchObject({ code: 'invalid_request', param: 'fallbacks.0' });
    } finally {
      await router.close();
    }
  });

  it('a fallback naming no deployment is refused as routing.fallbacks refuses it at start', async () => {
    const models = [{ name: 'primary', engine: 'mock' as const }, { name: 'backup', engine: 'mock' as const }];
    expect(() => new LLMRouter({ models, routing: { fallbacks: ['Backup'] } })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'routing.fallbacks.0' }));
    const router = new LLMRouter({ models });
    try {
      expect(await rejection(router.generate('hi', { fallbacks: ['Backup'] }))).toMatchObject({ code: 'invalid_request', param: 'fallbacks.0' });
    } finally {
      await router.close();
    }
  });

  it('a fallback outside the allowed models is unknown to the caller, and the error does not list what it may not use', async () => {
    const { router, calls } = setup();
    try {
      const error = await rejection(router.generate('hi', { model: 'primary', allowedModels: ['primary', 'backup'], fallbacks: ['hidden'] }));
      expect({ code: error.code, param: error.param, calls: calls() }).toEqual({ code: 'invalid_request', param: 'fallbacks.0', calls: 0 });
      expect(error.message).toMatch(/Known: primary, backup$/);
    } finally {
      await router.close();
    }
  });

  it('valid options still work: a fallback by alias, fields given as undefined, a real signal', async () => {
    const { router } = setup();
    try {
      const r = await router.generate('hi', {
        model: 'primary',
        fallbacks: ['spare'],
        retries: { max: undefined, initialDelayMs: 1 },
        timeouts: { totalMs: undefined },
        signal: new AbortController().signal,
      });
      expect({ deployment: r.deployment, text: r.text }).toEqual({ deployment: 'backup', text: 'from backup' });
    } finally {
      await router.close();
    }
  });
});

describe('a call with signal: null (as RequestInit allows) is served as without a signal', () => {
  it.each(['generate', 'stream'] as const)('%s', { timeout: 30_000 }, async (kind) => {
    const up = await wire({ script: { text: 'ok' } });
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'openai-compatible', baseURL: up.baseURL, model: 'x', apiKey: 'k' }], routing: { retries: { max: 0 } } });
    try {
      const options = { signal: null } as unknown as GenerateOptions;
      const text =
        kind === 'generate'
          ? await router.generate('hi', options).then((r) => r.text, (e: unknown) => `rejected: ${(e as Error).message}`)
          : await (async () => {
              let out = '';
              for await (const p of router.stream('hi', options)) {
                if (p.type === 'text-delta') out += p.delta;
                if (p.type === 'error') return `error part: ${p.error.message}`;
              }
              return out;
            })();
      expect(text).toBe('ok');
    } finally {
      await router.close();
    }
  });

  it('embed and countTokens too', async () => {
    const router = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }] }, { engines: { a: new MockEngine() } });
    const signal = null as unknown as AbortSignal;
    try {
      expect((await router.embed('hi', { signal })).embeddings).toHaveLength(1);
      expect((await router.countTokens('hi', { signal })).tokens).toBeGreaterThan(0);
    } finally {
      await router.close();
    }
  });
});
