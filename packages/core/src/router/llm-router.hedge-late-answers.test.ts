/**
 * A hedged call's other lanes are cancelled when one answers; a lane whose answer came before the router could cancel
 * it (both answers in the same turn) was billed by its provider all the same: its usage is the call's spend, with its
 * deployment (`failedAttempts*`, in `cost`), for `generate` (a refusal or content-filter answer, which providers bill,
 * included) and for `embed` (an answer refused for its length too). A lane cancelled in time answered nothing and
 * is billed nothing. Engines whose answers wait on one gate, so that both lanes answer in the same turn.
 * The call waits for its other lanes to end, and they end at once after the win: one whose engine ignores its abort,
 * one sleeping on a 429's Retry-After (the OpenAI wire server); one waiting for its circuit's admission in a shared
 * store: resilience/redis-circuit-state-store.test.ts. A cascade whose weak step had such a lane bills it with its
 * deployment when it escalates, in its result, in a failed strong step's error and in a stream's `spent()`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { CallOptions, EmbedCallOptions, EmbedResult, GenerateRequest, GenerateResult, Usage } from '../spec/index.js';
import { LLMError } from '../errors/llm-error.js';
import { endsSoon } from '../test/async.test-helpers.js';
import { startOpenAIWireServer } from '../test/openai-wire-server.js';
import type { CascadeStep } from './cascade/types.js';
import { LLMRouter } from './llm-router.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A promise the test resolves: every engine waiting on it answers in the same turn. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const usage = (inputTokens: number, outputTokens: number): Usage => ({ inputTokens, outputTokens, totalTokens: inputTokens + outputTokens });

/** A mock engine whose generate and embed answer `fixed` / `vectors` once `wait` resolves (never, without it), counting the calls started. */
class GatedEngine extends MockEngine {
  started = 0;
  /** The engine does not listen to its abort signal (an answer that never comes keeps its call pending). */
  ignoreAbort = false;
  constructor(
    private readonly wait: Promise<void> | undefined,
    private readonly fixed: Partial<GenerateResult> = {},
    private readonly vectors: { length: number; usage: Usage } = { length: 4, usage: usage(3, 0) },
  ) {
    super();
  }

  private async gated(options: { signal?: AbortSignal } | undefined): Promise<void> {
    this.started++;
    await new Promise<void>((resolve, reject) => {
      if (!this.ignoreAbort) options?.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error), { once: true });
      void this.wait?.then(resolve);
    });
  }

  override async generate(_request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    await this.gated(options);
    return { text: 'answer', toolCalls: [], finishReason: 'stop', usage: usage(10, 5), ...this.fixed };
  }

  override async embed(input: string[], options?: EmbedCallOptions): Promise<EmbedResult> {
    await this.gated(options);
    return { embeddings: input.map(() => Array.from({ length: this.vectors.length }, () => 0.5)), usage: this.vectors.usage };
  }
}

/** Deployments a (priority 1, $1/M in and out) and b (priority 2, $2/M), hedged after 10 ms. */
function hedgedRouter(a: GatedEngine, b: GatedEngine): LLMRouter {
  return new LLMRouter(
    {
      models: [
        { name: 'a', engine: 'mock', priority: 1, price: { input: 1, output: 1 }, capabilities: ['chat', 'embeddings'] },
        { name: 'b', engine: 'mock', priority: 2, price: { input: 2, output: 2 }, capabilities: ['chat', 'embeddings'] },
      ],
      routing: { strategy: 'priority', retries: { max: 0 }, hedging: { enabled: true, delayMs: 10, maxHedges: 1 } },
    },
    { engines: { a, b } },
  );
}

describe('hedged generate: a lane that answers in the same turn as the winner is billed', () => {
  it("b's refusal (content filter) came with a's answer: a answers, b's billed usage is in cost and failedAttempts*", async () => {
    const open = gate();
    const a = new GatedEngine(open.wait);
    const b = new GatedEngine(open.wait, { text: '', refusal: "I can't help with that.", finishReason: 'content-filter', usage: usage(10, 7) });
    const router = hedgedRouter(a, b);
    const pending = router.generate('x');
    await vi.waitFor(() => expect(b.started).toBe(1), { timeout: 5_000 });
    open.open();
    const r = await pending;
    expect([r.deployment, r.text]).toEqual(['a', 'answer']);
    // The answer's own usage and price; b's refusal apart, at b's price, and in the cost.
    expect(r.usage).toMatchObject(usage(10, 5));
    expect(r.failedAttemptsUsage).toMatchObject(usage(10, 7));
    expect(r.failedAttempts).toMatchObject([{ deployment: 'b', usage: usage(10, 7) }]);
    expect(r.failedAttemptsCost?.totalUsd).toBeCloseTo((17 * 2) / 1e6, 12);
    expect(r.cost.totalUsd).toBeCloseTo((15 * 1 + 17 * 2) / 1e6, 12);
    await router.close();
  });

  it('a lane cancelled in time answered nothing: the cost is the answer\'s alone', async () => {
    const open = gate();
    // b waits on nothing that the test opens: it is still waiting when a answers, and is cancelled.
    const a = new GatedEngine(open.wait);
    const b = new GatedEngine(undefined);
    const router = hedgedRouter(a, b);
    const pending = router.generate('x');
    await vi.waitFor(() => expect(b.started).toBe(1), { timeout: 5_000 });
    open.open();
    const r = await pending;
    expect(r.deployment).toBe('a');
    expect(r.failedAttempts).toBeUndefined();
    expect(r.failedAttemptsUsage).toBeUndefined();
    expect(r.cost.totalUsd).toBeCloseTo(15 / 1e6, 12);
    await router.close();
  });
});

describe('hedged embed: a lane that answers in the same turn as the winner is billed', () => {
  it("b's answer came with a's: a answers, b's usage is in cost and failedAttempts*", async () => {
    const open = gate();
    const b = new GatedEngine(open.wait, {}, { length: 4, usage: usage(6, 0) });
    const router = hedgedRouter(new GatedEngine(open.wait), b);
    const pending = router.embed(['one', 'two']);
    await vi.waitFor(() => expect(b.started).toBe(1), { timeout: 5_000 });
    open.open();
    const r = await pending;
    expect(r.deployment).toBe('a');
    expect(r.usage.inputTokens).toBe(3);
    expect(r.failedAttempts).toMatchObject([{ deployment: 'b', usage: { inputTokens: 6 } }]);
    expect(r.failedAttemptsUsage?.inputTokens).toBe(6);
    expect(r.cost.totalUsd).toBeCloseTo((3 * 1 + 6 * 2) / 1e6, 12);
    await router.close();
  });

  it("b's answer, not dimensions long, came with a's: refused, and billed (failedAttempts*)", async () => {
    const open = gate();
    const a = new GatedEngine(open.wait);
    const b = new GatedEngine(open.wait, {}, { length: 8, usage: usage(6, 0) });
    const router = hedgedRouter(a, b);
    const pending = router.embed(['one', 'two'], { dimensions: 4 });
    await vi.waitFor(() => expect(b.started).toBe(1), { timeout: 5_000 });
    open.open();
    const r = await pending;
    expect([r.deployment, r.embeddings.map((v) => v.length)]).toEqual(['a', [4, 4]]);
    expect(r.failedAttempts).toMatchObject([{ deployment: 'b', usage: { inputTokens: 6 } }]);
    expect(r.cost.totalUsd).toBeCloseTo((3 * 1 + 6 * 2) / 1e6, 12);
    await router.close();
  });
});

describe('hedged generate: the other lanes end at once after the win (the call waits for them)', () => {
  it("b's engine ignores its abort signal (never answers): a's answer is returned", async () => {
    const open = gate();
    const b = new GatedEngine(undefined);
    b.ignoreAbort = true;
    const router = hedgedRouter(new GatedEngine(open.wait), b);
    cleanup.push(() => router.close());
    const pending = router.generate('hi');
    await vi.waitFor(() => expect(b.started).toBe(1), { timeout: 5_000 });
    open.open();
    await endsSoon(pending);
    expect((await pending).deployment).toBe('a');
  });

  it("b sleeps on a 429's Retry-After of 50 s: a's answer is returned, b sends nothing more", async () => {
    const server = await startOpenAIWireServer();
    cleanup.push(() => server.close());
    server.setScript([{ error: { status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after': '50' } } }, {}]);
    const open = gate();
    const router = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'mock', priority: 1, capabilities: ['chat'] },
          { name: 'b', engine: 'openai-compatible', baseURL: server.baseURL, apiKey: 'k', model: 'gpt-test', priority: 2, capabilities: ['chat'] },
        ],
        routing: { strategy: 'priority', retries: { max: 2, maxRetryAfterMs: 120_000 }, hedging: { enabled: true, delayMs: 10, maxHedges: 1 } },
      },
      { engines: { a: new GatedEngine(open.wait) } },
    );
    cleanup.push(() => router.close());
    const retried = new Promise<number>((resolve) => router.on('retry', (e) => resolve(e.delayMs)));
    const pending = router.generate('hi');
    expect(await retried).toBeGreaterThanOrEqual(50_000);
    open.open();
    await endsSoon(pending);
    expect((await pending).deployment).toBe('a');
    expect(server.requests).toHaveLength(1);
  });
});

describe("escalated cascade: the weak step's hedge lane that answered with the weak answer is billed with its deployment", () => {
  /**
   * Weak deployments wa ($1/M) and wb ($2/M, hedged after 10 ms) both answering in the same turn, strong ($10/M; one
   * that always fails when `strongFails`), a verifier that always escalates; the strong step's error fails the call.
   */
  function cascadeRouter(strongFails = false) {
    const open = gate();
    const wa = new GatedEngine(open.wait, { text: '2+2=5', usage: usage(10, 5) });
    const wb = new GatedEngine(open.wait, { text: '2+2=5', usage: usage(10, 7) });
    const strong = strongFails ? new MockEngine({ failures: [{ code: 'provider_unavailable', times: 10 }] }) : new GatedEngine(Promise.resolve(), { text: '4', usage: usage(10, 1) });
    const router = new LLMRouter(
      {
        models: [
          { name: 'wa', alias: 'weak', engine: 'mock', priority: 1, price: { input: 1, output: 1 }, capabilities: ['chat', 'streaming'] },
          { name: 'wb', alias: 'weak', engine: 'mock', priority: 2, price: { input: 2, output: 2 }, capabilities: ['chat', 'streaming'] },
          { name: 'strong', engine: 'mock', priority: 3, price: { input: 10, output: 10 }, capabilities: ['chat', 'streaming'] },
        ],
        routing: {
          strategy: 'priority',
          retries: { max: 0 },
          hedging: { enabled: true, delayMs: 10, maxHedges: 1 },
          cascades: [{ name: 'duo', weak: 'weak', strong: 'strong', verifier: 'always', threshold: 0.5 }],
        },
      },
      { engines: { wa, wb, strong }, verifiers: { always: () => ({ score: 1 }) } },
    );
    cleanup.push(() => router.close());
    return { router, wb, open: open.open };
  }

  it('generate: in failedAttempts* as well as in cost', async () => {
    const { router, wb, open } = cascadeRouter();
    const pending = router.generate('2+2?', { model: 'duo' });
    await vi.waitFor(() => expect(wb.started).toBe(1), { timeout: 5_000 });
    open();
    const r = await pending;
    expect([r.cascade?.escalated, r.deployment]).toEqual([true, 'strong']);
    // wa 15 tokens at $1/M, wb's late answer 17 at $2/M, strong 11 at $10/M: all in the cost.
    expect(r.cost.totalUsd).toBeCloseTo((15 + 34 + 110) / 1e6, 12);
    expect(r.failedAttempts).toMatchObject([{ deployment: 'wb', usage: usage(10, 7) }]);
    expect(r.failedAttemptsUsage).toMatchObject(usage(10, 7));
    expect(r.failedAttemptsCost?.totalUsd).toBeCloseTo(34 / 1e6, 12);
    // The weak step's record says which part of its cost the late lane took (the strong step had none).
    expect(r.cascade?.weak.cost.totalUsd).toBeCloseTo((15 + 34) / 1e6, 12);
    expect(r.cascade?.weak.failedAttemptsCost?.totalUsd).toBeCloseTo(34 / 1e6, 12);
    expect(r.cascade?.strong?.failedAttemptsCost).toBeUndefined();
  });

  it("generate whose strong step fails: the error's details.cascade has it apart from the weak step", async () => {
    const { router, wb, open } = cascadeRouter(true);
    const pending = router.generate('2+2?', { model: 'duo' }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(wb.started).toBe(1), { timeout: 5_000 });
    open();
    const error = await pending;
    expect(LLMError.isInstance(error)).toBe(true);
    const cascade = (error as LLMError).details as { cascade: { weak: CascadeStep; failedAttemptsUsage?: Usage; failedAttempts?: unknown } };
    expect(cascade.cascade.weak.usage).toMatchObject(usage(10, 5));
    expect(cascade.cascade.weak.cost.totalUsd).toBeCloseTo((15 + 34) / 1e6, 12);
    expect(cascade.cascade.weak).toMatchObject({ deployment: 'wa', cached: false });
    expect(cascade.cascade.weak.failedAttemptsCost?.totalUsd).toBeCloseTo(34 / 1e6, 12);
    expect(cascade.cascade.failedAttemptsUsage).toMatchObject(usage(10, 7));
    expect(cascade.cascade.failedAttempts).toMatchObject([{ deployment: 'wb', usage: usage(10, 7) }]);
  });

  it("stream whose strong step fails: spent() has its tokens and its deployment", async () => {
    const { router, wb, open } = cascadeRouter(true);
    const stream = router.stream('2+2?', { model: 'duo' });
    const parts = (async () => {
      const types: string[] = [];
      for await (const p of stream) types.push(p.type);
      return types;
    })();
    await vi.waitFor(() => expect(wb.started).toBe(1), { timeout: 5_000 });
    open();
    expect(await parts).toContain('error');
    const spent = stream.spent?.();
    expect(spent?.cost.totalUsd).toBeCloseTo((15 + 34) / 1e6, 12);
    expect(spent?.usage).toMatchObject({ inputTokens: 20, outputTokens: 12 });
    expect(spent?.failedAttempts).toMatchObject([{ deployment: 'wb', usage: usage(10, 7) }]);
    // The weak step itself, for a consumer counting per deployment: its own usage, its cost with the part the lane took.
    expect(spent?.weakStep).toMatchObject({ deployment: 'wa', cached: false, usage: usage(10, 5) });
    expect(spent?.weakStep?.cost.totalUsd).toBeCloseTo((15 + 34) / 1e6, 12);
    expect(spent?.weakStep?.failedAttemptsCost?.totalUsd).toBeCloseTo(34 / 1e6, 12);
  });
});
