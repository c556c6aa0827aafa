/**
 * A failure that opens its deployment's circuit ends that deployment's turn at once when its retry wait (its backoff,
 * or the provider's Retry-After) ends before the circuit's cooldown: no wait for a retry the open circuit would
 * refuse, and the call goes on (or fails) with the provider's error, never with a `circuit_open` standing in for it
 * (nor with a later deployment's `circuit_open`). The router used to sleep, then find the circuit open and fall over
 * with `circuit_open`. A wait that ends after the cooldown still retries (admitted as a half-open probe), and a
 * deployment tried although its circuit is open (every candidate was open: nothing else can serve) is still retried
 * as planned. The same holds on the shared (Redis) circuit store, whose failure reports are answered later: the call
 * waits for the answer (within its retry wait) and decides from it, not from a count guessed from an older answer (a
 * success applied since, another router's, resets it: the retry is then made, as the in-memory breaker makes it).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testServiceUrls } from '../../stores/__fixtures__/store-fixtures.js';
import { rejection } from '../../test/async.test-helpers.js';
import { startLoopbackHttp, type LoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { LLMRouter } from '../llm-router.js';
import type { RouterResult, RouterStream } from '../types.js';
import { RedisCircuitStateStore } from './redis-circuit-state-store.js';

const { redisUrl } = testServiceUrls();

const servers: OpenAIWireServer[] = [];

/** A stream's result, once read to its end. */
async function drained(stream: RouterStream): Promise<RouterResult> {
  for await (const _ of stream);
  return stream.result;
}
/** Closed after each test, last opened first. */
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function wire(script: Parameters<typeof startOpenAIWireServer>[0]): Promise<OpenAIWireServer> {
  const s = await startOpenAIWireServer(script);
  servers.push(s);
  return s;
}

describe('a retry on a deployment whose circuit the failure just opened', () => {
  it.each(['generate', 'stream'] as const)('%s: falls over at once (no retry wait) with the provider error', { timeout: 30_000 }, async (kind) => {
    const down = await startOpenAIWireServer({ script: { error: { status: 503, message: 'down', headers: { 'retry-after': '5' } } } });
    const up = await startOpenAIWireServer({ script: { text: 'ok' } });
    servers.push(down, up);
    const router = new LLMRouter({
      models: [
        { name: 'down', engine: 'openai-compatible', baseURL: down.baseURL, model: 'x', apiKey: 'k', priority: 1 },
        { name: 'up', engine: 'openai-compatible', baseURL: up.baseURL, model: 'x', apiKey: 'k', priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 2 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    });
    const events: string[] = [];
    router.on('circuit', (e) => events.push(`circuit:${e.deployment}:${e.from}->${e.to}`));
    router.on('retry', (e) => events.push(`retry:${e.deployment}:${e.delayMs}`));
    router.on('fallback', (e) => events.push(`fallback:${e.from}->${e.to}:${e.error.code}`));
    try {
      const r = kind === 'generate' ? await router.generate('hi') : await drained(router.stream('hi'));
      expect(r.deployment).toBe('up');
      expect(down.requests).toHaveLength(1);
      expect(events).toEqual(['circuit:down:closed->open', 'fallback:down->up:provider_unavailable']);
    } finally {
      await router.close();
    }
  });

  it('a call whose every deployment failed rejects with the provider error, not circuit_open', { timeout: 30_000 }, async () => {
    const down = await startOpenAIWireServer({ script: { error: { status: 503, message: 'upstream is down for maintenance' } } });
    servers.push(down);
    const router = new LLMRouter({
      models: [{ name: 'only', engine: 'openai-compatible', baseURL: down.baseURL, model: 'x', apiKey: 'k' }],
      routing: { retries: { max: 1, initialDelayMs: 1, maxDelayMs: 2 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    });
    try {
      const failed = { code: 'provider_unavailable', message: expect.stringContaining('down for maintenance') };
      await expect(router.generate('hi')).rejects.toMatchObject(failed);
      expect(down.requests).toHaveLength(1);
      // The next call finds the circuit open with no alternative: the deployment is tried anyway, with its retries.
      await expect(router.generate('hi')).rejects.toMatchObject(failed);
      expect(down.requests).toHaveLength(3);
    } finally {
      await router.close();
    }
  });

  it('a circuit another call opened during the retry wait: the call fails with its own error', { timeout: 30_000 }, async () => {
    const down = await startOpenAIWireServer({ script: { error: { status: 503, message: 'upstream is down for maintenance' } } });
    servers.push(down);
    let other: Promise<unknown> | undefined;
    const router: LLMRouter = new LLMRouter(
      {
        models: [{ name: 'only', engine: 'openai-compatible', baseURL: down.baseURL, model: 'x', apiKey: 'k' }],
        routing: { retries: { max: 1 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 600_000 } },
      },
      {
        // The first call's retry wait: a second call fails meanwhile, its failure the second one: the circuit opens.
        sleep: async () => {
          other ??= router.generate('hi').catch((e: unknown) => e);
          await other;
        },
      },
    );
    try {
      const failed = { code: 'provider_unavailable', message: expect.stringContaining('down for maintenance') };
      await expect(router.generate('hi')).rejects.toMatchObject(failed);
      expect(await other).toMatchObject(failed);
      expect({ requests: down.requests.length, circuit: router.circuits() }).toEqual({ requests: 2, circuit: [{ deployment: 'only', state: 'open' }] });
    } finally {
      await router.close();
    }
  });
});

describe('a later deployment of the call whose circuit is open', () => {
  it('the call fails with the provider error that made it fall over, not the fallback\'s circuit_open', { timeout: 30_000 }, async () => {
    const a = await wire({ script: { error: { status: 503, message: 'a is down for maintenance' } } });
    const b = await wire({ script: { error: { status: 503, message: 'b is down' } } });
    const router = new LLMRouter({
      models: [
        { name: 'a', engine: 'openai-compatible', baseURL: a.baseURL, model: 'x', apiKey: 'k' },
        { name: 'b', engine: 'openai-compatible', baseURL: b.baseURL, model: 'x', apiKey: 'k' },
      ],
      routing: { retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    });
    cleanup.push(() => router.close());
    // b's circuit opens (an earlier call).
    expect(await rejection(router.generate('hi', { model: 'b' }))).toMatchObject({ code: 'provider_unavailable' });
    expect(router.circuits()).toEqual([{ deployment: 'a', state: 'closed' }, { deployment: 'b', state: 'open' }]);
    // a fails (and opens); its fallback b is refused by its circuit without a request.
    const error = await rejection(router.generate('hi', { model: 'a', fallbacks: ['b'] }));
    expect({ requests: [a.requests.length, b.requests.length], code: error.code, deployment: error.deployment, message: error.message }).toEqual({
      requests: [1, 1],
      code: 'provider_unavailable',
      deployment: 'a',
      message: expect.stringContaining('a is down for maintenance'),
    });
  });

  /** `small` refuses every prompt for its window (400 context_length_exceeded); `large` fails (503); one strike opens. */
  async function smallRefusesLargeDown() {
    const small = await wire({
      script: { error: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', message: "This model's maximum context length is 8192 tokens." } },
    });
    const large = await wire({ script: { error: { status: 503, message: 'large is down' } } });
    const router = new LLMRouter({
      models: [
        { name: 'small', engine: 'openai-compatible', baseURL: small.baseURL, model: 'x', apiKey: 'k' },
        { name: 'large', engine: 'openai-compatible', baseURL: large.baseURL, model: 'y', apiKey: 'k' },
      ],
      routing: { retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    });
    cleanup.push(() => router.close());
    return { small, large, router };
  }

  it("after the first deployment's refusal of the prompt (context_length_exceeded), a fallback with a larger window whose circuit is open: the call fails with circuit_open (503, retryable), not the 400", { timeout: 30_000 }, async () => {
    const { small, large, router } = await smallRefusesLargeDown();
    // large's circuit opens (an earlier call).
    expect(await rejection(router.generate('hi', { model: 'large' }))).toMatchObject({ code: 'provider_unavailable' });
    // A long prompt: small refuses it for its window; large (any window) would take it but its circuit is open.
    const error = await rejection(router.generate('a long prompt', { model: 'small', fallbacks: ['large'] }));
    // The prompt is not too long for the call: a deployment that takes it is open for now (503, retryable).
    expect({
      requests: [small.requests.length, large.requests.length],
      code: error.code,
      status: error.statusCode,
      retryable: error.isRetryable,
      deployment: error.deployment,
      cause: (error.cause as { code?: string } | undefined)?.code,
    }).toEqual({ requests: [1, 1], code: 'circuit_open', status: 503, retryable: true, deployment: 'large', cause: 'context_length_exceeded' });
  });

  it('the other order: the open deployment first, then a fallback that refuses the prompt for its window: a 503 the client retries, not the 400', { timeout: 30_000 }, async () => {
    const { small, large, router } = await smallRefusesLargeDown();
    expect(await rejection(router.generate('hi', { model: 'large' }))).toMatchObject({ code: 'provider_unavailable' });
    // large, the model asked for, is tried although open (every candidate of the model is) and fails again; small refuses.
    const error = await rejection(router.generate('a long prompt', { model: 'large', fallbacks: ['small'] }));
    expect({
      requests: [small.requests.length, large.requests.length],
      code: error.code,
      status: error.statusCode,
      retryable: error.isRetryable,
      deployment: error.deployment,
    }).toEqual({ requests: [1, 2], code: 'provider_unavailable', status: 503, retryable: true, deployment: 'large' });
  });
});

describe('a retry wait that outlasts the cooldown of the circuit the failure opened', () => {
  it.each([
    { case: 'Retry-After 10 s, cooldown 5 s', retryAfter: '10', circuitBreaker: { failureThreshold: 1, cooldownMs: 5_000 }, wait: 10_000 },
    // The defaults (cooldown 30 s, maxRetryAfterMs 30 s): the wait ends as the cooldown does.
    { case: 'Retry-After 30 s, default cooldown', retryAfter: '30', circuitBreaker: { failureThreshold: 1 }, wait: 30_000 },
  ])('$case: the retry is still made (admitted as a half-open probe) and answers', { timeout: 30_000 }, async ({ retryAfter, circuitBreaker, wait }) => {
    // 503 with Retry-After once, then answers. The circuit opens on that failure.
    const flaky = await wire({ script: [{ error: { status: 503, message: 'busy', headers: { 'retry-after': retryAfter } } }, { text: 'ok' }] });
    let clock = 1_000_000;
    const waits: number[] = [];
    const events: string[] = [];
    const router = new LLMRouter(
      {
        models: [{ name: 'only', engine: 'openai-compatible', baseURL: flaky.baseURL, model: 'x', apiKey: 'k' }],
        routing: { retries: { max: 1 }, circuitBreaker },
      },
      {
        now: () => clock,
        // The router's retry wait: time passes (as long as it asked for).
        sleep: async (ms) => {
          waits.push(ms);
          clock += ms;
        },
      },
    );
    cleanup.push(() => router.close());
    router.on('circuit', (e) => events.push(`${e.from}->${e.to}`));
    const outcome = await router.generate('hi').then(
      (r) => ({ text: r.text, deployment: r.deployment }),
      (e: unknown) => ({ error: (e as { code?: string }).code }),
    );
    expect({ outcome, waits, requests: flaky.requests.length, events }).toEqual({
      outcome: { text: 'ok', deployment: 'only' },
      waits: [wait],
      requests: 2,
      events: ['closed->open', 'open->half-open', 'half-open->closed'],
    });
  });
});

/** An OpenAI-compatible upstream that holds every request until the test answers it (200, or an error with Retry-After 1). */
class HeldUpstream {
  private server: LoopbackHttp | undefined;
  private readonly waiting: Array<(status: number) => void> = [];
  async listen(): Promise<string> {
    this.server = await startLoopbackHttp((req, res) => {
      req.resume();
      req.on('end', () => {
        this.waiting.push((status) => {
          if (status === 200) {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                id: 'c1',
                object: 'chat.completion',
                created: 1,
                model: 'x',
                choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
                usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
              }),
            );
          } else {
            res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1' });
            res.end(JSON.stringify({ error: { message: 'busy', type: 'server_error', code: null, param: null } }));
          }
        });
      });
    });
    return `${this.server.url}/v1`;
  }
  get held(): number {
    return this.waiting.length;
  }
  /** Answers the oldest request held. */
  answer(status: number): void {
    this.waiting.shift()!(status);
  }
  /** Answers the newest request held. */
  answerNewest(status: number): void {
    this.waiting.pop()!(status);
  }
  close(): Promise<void> {
    return this.server?.close() ?? Promise.resolve();
  }
}

describe.skipIf(!redisUrl)('the shared (Redis) circuit store', () => {
  async function sharedStore(prefix = `roc${randomBytes(6).toString('hex')}:circuit:`): Promise<RedisCircuitStateStore> {
    const store = await RedisCircuitStateStore.connect(redisUrl!, { keyPrefix: prefix });
    cleanup.push(() => store.close());
    return store;
  }

  it.each(['generate', 'stream'] as const)('%s: the failure that opens the circuit falls over at once (no Retry-After wait)', { timeout: 30_000 }, async (kind) => {
    const down = await wire({ script: { error: { status: 503, message: 'down', headers: { 'retry-after': '5' } } } });
    const up = await wire({ script: { text: 'ok' } });
    const circuitStore = await sharedStore();
    const waits: number[] = [];
    const router = new LLMRouter(
      {
        models: [
          { name: 'down', engine: 'openai-compatible', baseURL: down.baseURL, model: 'x', apiKey: 'k', priority: 1 },
          { name: 'up', engine: 'openai-compatible', baseURL: up.baseURL, model: 'x', apiKey: 'k', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 2 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
      },
      {
        circuitStore,
        // The retry wait the router asks for (stands for the 5 s it would sleep): the failure's report lands meanwhile.
        sleep: async (ms) => {
          waits.push(ms);
          await circuitStore.flush();
        },
      },
    );
    cleanup.push(() => router.close());
    const r = kind === 'generate' ? await router.generate('hi') : await drained(router.stream('hi'));
    // As with the in-memory circuit: one request to `down`, no retry wait.
    expect({ deployment: r.deployment, downRequests: down.requests.length, waits }).toEqual({ deployment: 'up', downRequests: 1, waits: [] });
    await circuitStore.flush();
    expect(router.circuits()).toEqual([{ deployment: 'down', state: 'open' }, { deployment: 'up', state: 'closed' }]);
  });

  it('Redis stalls after the failure: the wait for its answer ends at the store\'s timeoutMs, the call falls over then, not after its whole Retry-After', { timeout: 60_000 }, async () => {
    const redisCli = (...args: string[]): void => void execFileSync('redis-cli', ['-u', redisUrl!, ...args], { stdio: 'ignore' });
    // Writes (and every EVAL) pause as the upstream answers: the failure's report waits.
    const down = await wire({
      script: () => {
        redisCli('CLIENT', 'PAUSE', '15000', 'WRITE');
        return { error: { status: 503, message: 'down', headers: { 'retry-after': '12' } } };
      },
    });
    const up = await wire({ script: { text: 'ok' } });
    const store = await RedisCircuitStateStore.connect(redisUrl!, { keyPrefix: `roc${randomBytes(6).toString('hex')}:circuit:`, timeoutMs: 200 });
    cleanup.push(() => store.close());
    cleanup.push(async () => redisCli('CLIENT', 'UNPAUSE'));
    const router = new LLMRouter(
      {
        models: [
          { name: 'down', engine: 'openai-compatible', baseURL: down.baseURL, model: 'x', apiKey: 'k', priority: 1 },
          { name: 'up', engine: 'openai-compatible', baseURL: up.baseURL, model: 'x', apiKey: 'k', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 2, maxRetryAfterMs: 30_000 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
      },
      { circuitStore: store },
    );
    cleanup.push(() => router.close());
    const answer = router.generate('hi');
    answer.catch(() => {});
    // The store decides locally after 200 ms: as far as this router can tell, the failure opened the circuit.
    await expect.poll(() => ({ down: down.requests.length, up: up.requests.length }), { timeout: 6_000 }).toEqual({ down: 1, up: 1 });
    expect((await answer).deployment).toBe('up');
  });

  it('a failure below the threshold still retries after its wait', { timeout: 30_000 }, async () => {
    const flaky = await wire({ script: [{ error: { status: 503, message: 'busy', headers: { 'retry-after': '1' } } }, { text: 'ok' }] });
    const circuitStore = await sharedStore();
    const waits: number[] = [];
    const router = new LLMRouter(
      {
        models: [{ name: 'only', engine: 'openai-compatible', baseURL: flaky.baseURL, model: 'x', apiKey: 'k' }],
        routing: { retries: { max: 1 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 600_000 } },
      },
      {
        circuitStore,
        sleep: async (ms) => {
          waits.push(ms);
          await circuitStore.flush();
        },
      },
    );
    cleanup.push(() => router.close());
    const r = await router.generate('hi');
    // One wait: the Retry-After, less the time the failure's answer from Redis took.
    expect({ text: r.text, waits: waits.length, requests: flaky.requests.length }).toEqual({ text: 'ok', waits: 1, requests: 2 });
    expect(waits[0]).toBeGreaterThan(0);
    expect(waits[0]).toBeLessThanOrEqual(1_000);
  });

  it("a failure Redis counts as the first, after another router's success reset the count this router last saw, retries after its wait (as the in-memory breaker does)", { timeout: 30_000 }, async () => {
    const upstream = new HeldUpstream();
    const baseURL = await upstream.listen();
    cleanup.push(() => upstream.close());
    const prefix = `roc${randomBytes(6).toString('hex')}:circuit:`;
    const aStore = await sharedStore(prefix);
    const bStore = await sharedStore(prefix);
    const waits: number[] = [];
    const config = {
      models: [{ name: 'only', engine: 'openai-compatible' as const, baseURL, model: 'x', apiKey: 'k' }],
      routing: { retries: { max: 1 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 600_000 } },
    };
    const a = new LLMRouter(config, {
      circuitStore: aStore,
      sleep: async (ms) => {
        waits.push(ms);
        await aStore.flush();
      },
    });
    const b = new LLMRouter(config, { circuitStore: bStore });
    cleanup.push(() => a.close(), () => b.close());

    // 1. A's call fails once (no retry for it): Redis counts one failure of two; A's view says so.
    const first = rejection(a.generate('hi', { retries: { max: 0 } }));
    await vi.waitFor(() => expect(upstream.held).toBe(1), { timeout: 10_000 });
    upstream.answer(503);
    expect(await first).toMatchObject({ code: 'provider_unavailable' });
    await aStore.flush();
    // 2. A's next call is admitted (its answer: one failure counted) and waits for the upstream.
    const second = a.generate('hi').then(
      (r) => ({ text: r.text }),
      (e: unknown) => ({ error: (e as { code?: string }).code }),
    );
    await vi.waitFor(() => expect(upstream.held).toBe(1), { timeout: 10_000 });
    // 3. Meanwhile B's call answers: its success resets the count in Redis.
    const bCall = b.generate('hi');
    await vi.waitFor(() => expect(upstream.held).toBe(2), { timeout: 10_000 });
    upstream.answerNewest(200);
    expect((await bCall).text).toBe('ok');
    await bStore.flush();
    // 4. A's attempt fails (Retry-After 1 s, far below the cooldown): Redis counts it the first of two. A retry, if one
    // comes, is answered.
    upstream.answer(503);
    let settled = false;
    void second.finally(() => (settled = true));
    const answerRetry = (async () => {
      while (!settled) {
        if (upstream.held > 0) upstream.answer(200);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const outcome = await second;
    await answerRetry;
    await aStore.flush();
    // One retry wait: the Retry-After, less the time the failure's answer took.
    expect({ outcome, waits: waits.length, circuits: a.circuits() }).toEqual({
      outcome: { text: 'ok' },
      waits: 1,
      circuits: [{ deployment: 'only', state: 'closed' }],
    });
    expect(waits[0]).toBeGreaterThan(0);
    expect(waits[0]).toBeLessThanOrEqual(1_000);
  });
});
