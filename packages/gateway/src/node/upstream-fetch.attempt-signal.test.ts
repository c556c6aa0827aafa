/**
 * `createUpstreamFetch` takes a stream attempt's `AttemptSignal` (`TAKES_ATTEMPT_SIGNALS`), which the router then makes
 * in place of an `AbortController` per attempt: against real HTTP upstreams (local OpenAI-wire servers) and the
 * official openai client on a served gateway, every way an attempt ends (the caller's abort, the router's cancel,
 * timeouts, a hedge lost, a consumer gone) still abandons the upstream response, and no listener is left once a stream
 * ends. The markers are non-enumerable: a wrapper that copies the fetch's properties does not claim them.
 */
import { AttemptSignal, LLMRouter, RELEASES_ABORT_LISTENERS, TAKES_ATTEMPT_SIGNALS, type LLMError, type RouterConfigInput } from '@llmrr/core';
import { startAnthropicWireServer, startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { getEventListeners } from 'node:events';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { createUpstreamFetch, type UpstreamFetch } from './upstream-fetch.js';

let upstream: UpstreamFetch;
let primary: OpenAIWireServer;
let backup: OpenAIWireServer;

beforeEach(async () => {
  upstream = createUpstreamFetch();
  [primary, backup] = await Promise.all([startOpenAIWireServer(), startOpenAIWireServer({ script: { text: 'from backup' } })]);
});

afterEach(async () => {
  await Promise.all([primary.close(), backup.close()]);
  await upstream.close();
});

/** `over` (by default this test's `createUpstreamFetch`) behind a recorder of the signals it is given, marked as it is. */
function recording(over: UpstreamFetch = upstream): { fetch: typeof globalThis.fetch; seen: unknown[] } {
  const seen: unknown[] = [];
  const fetch = Object.assign((input: string | URL | Request, init?: RequestInit) => (seen.push(init?.signal), over(input, init)), {
    [RELEASES_ABORT_LISTENERS]: true,
    [TAKES_ATTEMPT_SIGNALS]: true,
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}

function routerOver(fetch: typeof globalThis.fetch, routing: NonNullable<RouterConfigInput['routing']> = {}): LLMRouter {
  return new LLMRouter(
    {
      models: [
        { name: 'primary', engine: 'openai-compatible', baseURL: primary.baseURL, model: 'gpt-test', apiKey: 'k', priority: 1 },
        { name: 'backup', engine: 'openai-compatible', baseURL: backup.baseURL, model: 'gpt-backup', apiKey: 'k', priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 0 }, ...routing },
    },
    { fetch, env: {} },
  );
}

/** Streams once on each deployment, so that both engines exist (an engine not created yet gets an AbortSignal). */
async function warm(router: LLMRouter): Promise<void> {
  for (const model of ['primary', 'backup']) {
    const s = router.stream('warm', { model, fallbacks: [] });
    for await (const part of s) void part;
    await s.result;
  }
}

/** The value of a marker on a fetch. */
function marked(fetch: object, marker: symbol): unknown {
  return (fetch as Record<symbol, unknown>)[marker];
}

/** The listeners an `AttemptSignal` still holds (its private fields). */
function held(signal: unknown): number {
  const s = signal as { one?: unknown; more?: unknown[] };
  return (s.one === undefined ? 0 : 1) + (s.more?.length ?? 0);
}

describe('createUpstreamFetch and stream attempts', () => {
  it("takes a stream attempt's AttemptSignal: the streams answer, and the caller's abort and the router's cancel abandon a hanging upstream response", async () => {
    expect([marked(upstream, RELEASES_ABORT_LISTENERS), marked(upstream, TAKES_ATTEMPT_SIGNALS)]).toEqual([true, true]);
    const { fetch, seen } = recording();
    const router = routerOver(fetch);
    const connection = new AbortController();
    for (let i = 0; i < 3; i++) {
      const s = router.stream(`call ${i}`, { signal: connection.signal, fallbacks: [] });
      for await (const part of s) void part;
      expect((await s.result).text).toBe(`echo: call ${i}`);
    }
    expect(seen.map((s) => s instanceof AttemptSignal)).toEqual([true, true, true]);
    expect(getEventListeners(connection.signal, 'abort')).toHaveLength(0);

    primary.setScript({ hang: true });
    for (const end of ['abort', 'cancel'] as const) {
      const caller = new AbortController();
      const walkedAway = primary.responsesAborted;
      const before = primary.requests.length;
      const s = router.stream('hang', { signal: caller.signal, fallbacks: [] });
      const it = s[Symbol.asyncIterator]();
      const first = it.next();
      await vi.waitFor(() => expect(primary.requests.length).toBe(before + 1), { timeout: 5_000 });
      if (end === 'abort') caller.abort(new Error('client went away'));
      else s.cancel!(new Error('body cancelled'));
      // The stream ends (an error part for the abort, nothing more after a cancel), and settles as it ends.
      for (let r = await first; !r.done; r = await it.next()) void r;
      await expect(s.result).rejects.toMatchObject({ code: 'aborted' });
      // The hanging response itself is abandoned (not merely some idle connection closed).
      await vi.waitFor(() => expect(primary.responsesAborted).toBe(walkedAway + 1), { timeout: 5_000 });
      expect((seen.at(-1) as AttemptSignal).aborted).toBe(true);
      expect(held(seen.at(-1))).toBe(0);
      // (After the caller's abort its listeners are gone by definition; after a cancel, none is left on it either.)
      if (end === 'cancel') expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    }
    await router.close();
  });

  it('a firstTokenMs timeout on a hanging upstream is still `timeout`, closes that connection, and the stream falls over', async () => {
    const { fetch, seen } = recording();
    const router = routerOver(fetch, { timeouts: { firstTokenMs: 300 } });
    await warm(router);
    primary.setScript({ hang: true });
    const errors: LLMError[] = [];
    router.on('attempt:error', (e) => errors.push(e.error));
    const walkedAway = primary.responsesAborted;
    const before = seen.length;
    const s = router.stream('hang then fall over');
    for await (const part of s) void part;
    const result = await s.result;
    expect(result.text).toBe('from backup');
    expect(seen.slice(before).map((x) => x instanceof AttemptSignal)).toEqual([true, true]);
    expect(errors.map((e) => [e.code, e.deployment])).toEqual([['timeout', 'primary']]);
    await vi.waitFor(() => expect(primary.responsesAborted).toBe(walkedAway + 1), { timeout: 5_000 });
    // Nothing is left on either attempt's signal once the stream ended.
    await vi.waitFor(() => expect(seen.slice(before).map(held)).toEqual([0, 0]), { timeout: 5_000 });
    await router.close();
  });

  it('a totalMs timeout after the first token ends the stream with a `timeout` error part and closes the upstream connection', async () => {
    const { fetch, seen } = recording();
    const router = routerOver(fetch, { timeouts: { totalMs: 400 } });
    await warm(router);
    primary.setScript({ text: 'one two three four', chunks: 4, hangAfterChunks: 2 });
    const walkedAway = primary.responsesAborted;
    const s = router.stream('cut mid-stream', { fallbacks: [] });
    const parts = [];
    for await (const part of s) parts.push(part);
    const last = parts.at(-1);
    expect(last?.type).toBe('error');
    expect(last?.type === 'error' ? last.error.code : undefined).toBe('timeout');
    await expect(s.result).rejects.toMatchObject({ code: 'timeout' });
    expect(seen.at(-1)).toBeInstanceOf(AttemptSignal);
    await vi.waitFor(() => expect(primary.responsesAborted).toBe(walkedAway + 1), { timeout: 5_000 });
    expect(held(seen.at(-1))).toBe(0);
    await router.close();
  });

  it('a hedged stream: both lanes get AttemptSignals, the loser is cancelled and its connection closed, the winner answers', async () => {
    const { fetch, seen } = recording();
    const router = routerOver(fetch, { hedging: { enabled: true, delayMs: 100, maxHedges: 1 } });
    await warm(router);
    primary.setScript({ hang: true });
    const walkedAway = primary.responsesAborted;
    const before = seen.length;
    const caller = new AbortController();
    const s = router.stream('hedge', { signal: caller.signal });
    for await (const part of s) void part;
    expect((await s.result).text).toBe('from backup');
    await vi.waitFor(() => expect(primary.responsesAborted).toBe(walkedAway + 1), { timeout: 5_000 });
    const lanes = seen.slice(before);
    expect(lanes.map((x) => x instanceof AttemptSignal)).toEqual([true, true]);
    expect((lanes[0] as AttemptSignal).aborted).toBe(true);
    await vi.waitFor(() => expect(lanes.map(held)).toEqual([0, 0]), { timeout: 5_000 });
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    await router.close();
  });
});

describe('the engine is asked per deployment', () => {
  it('a stream that falls over from an openai-compatible deployment to an anthropic one gives the anthropic attempt an AbortSignal', async () => {
    const anthropic = await startAnthropicWireServer();
    const { fetch, seen } = recording();
    const router = new LLMRouter(
      {
        models: [
          { name: 'primary', engine: 'openai-compatible', baseURL: primary.baseURL, model: 'gpt-test', apiKey: 'k', priority: 1 },
          { name: 'claude', engine: 'anthropic', baseURL: anthropic.url, model: 'claude-wire-1', apiKey: 'sk-ant', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 0 } },
      },
      { fetch, env: {} },
    );
    for (const model of ['primary', 'claude']) {
      const w = router.stream('warm', { model, fallbacks: [] });
      for await (const part of w) void part;
      await w.result;
    }
    primary.setScript({ error: { status: 500, message: 'down' } });
    const before = seen.length;
    const s = router.stream('fall over', { signal: new AbortController().signal });
    for await (const part of s) void part;
    const result = await s.result;
    expect(result.deployment).toBe('claude');
    expect(seen.slice(before).map((x) => (x as object).constructor.name)).toEqual(['AttemptSignal', 'AbortSignal']);
    await router.close();
    await anthropic.close();
  });
});

describe('the stream hold over createUpstreamFetch', () => {
  it('a consumer that stops pulling is given up on after consumerIdleMs: the upstream request is aborted', async () => {
    const { fetch, seen } = recording();
    const router = routerOver(fetch, { timeouts: { consumerIdleMs: 200 } });
    await warm(router);
    // Many chunks, a little apart: the upstream is still sending when the consumer stops reading.
    primary.setScript({ text: Array.from({ length: 400 }, (_, i) => `w${i}`).join(' '), chunkDelayMs: 10 });
    const walkedAway = primary.responsesAborted;
    const s = router.stream('long', { fallbacks: [], signal: new AbortController().signal });
    const it = s[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    // The consumer stops pulling: the router gives up on it and cancels the upstream request.
    await vi.waitFor(() => expect(primary.responsesAborted).toBe(walkedAway + 1), { timeout: 10_000 });
    expect(seen.at(-1)).toBeInstanceOf(AttemptSignal);
    expect((seen.at(-1) as AttemptSignal).aborted).toBe(true);
    const rest = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    const last = rest.at(-1);
    // The abandonment is handed out as the stream's last part.
    expect(last?.type === 'error' ? [last.error.code, /consumerIdleMs/.test(last.error.message)] : last?.type).toEqual(['timeout', true]);
    await s.result.catch(() => undefined);
    expect(held(seen.at(-1))).toBe(0);
    await router.close();
  });
});

describe('the served gateway over createUpstreamFetch', () => {
  let gw: SdkGateway;
  let wire: OpenAIWireServer;
  let served: UpstreamFetch;
  let given: unknown[];
  beforeAll(async () => {
    wire = await startOpenAIWireServer();
    served = createUpstreamFetch();
    const { fetch, seen } = recording(served);
    given = seen;
    gw = await servedGateway({
      routerOptions: { env: {}, fetch },
      models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming'] }],
      upstreams: [wire],
    });
  });
  afterAll(async () => {
    await gw.close();
    await served.close();
  });

  it("the openai client's abort mid-stream closes the upstream connection", async () => {
    const client = gw.openai();
    const warmStream = await client.chat.completions.create({ model: 'gpt', stream: true, messages: [{ role: 'user', content: 'warm' }] });
    let text = '';
    for await (const chunk of warmStream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: warm');
    wire.setScript({ text: 'a b c d e f', chunks: 6, hangAfterChunks: 2 });
    const walkedAway = wire.responsesAborted;
    const stream = await client.chat.completions.create({ model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hang' }] });
    const got: string[] = [];
    // (The client's iterator ends quietly on its own abort.)
    try {
      for await (const chunk of stream) {
        const piece = chunk.choices[0]?.delta.content;
        if (piece) got.push(piece);
        if (got.length === 2) stream.controller.abort();
      }
    } catch (e) {
      expect((e as Error).name).toMatch(/Abort/);
    }
    expect(got).toHaveLength(2);
    expect(given.at(-1)).toBeInstanceOf(AttemptSignal);
    await vi.waitFor(() => expect(wire.responsesAborted).toBe(walkedAway + 1), { timeout: 5_000 });
    expect((given.at(-1) as AttemptSignal).aborted).toBe(true);
    await vi.waitFor(() => expect(held(given.at(-1))).toBe(0), { timeout: 5_000 });
    wire.setScript({});
  });
});

describe('the markers are not copied to a wrapper', () => {
  it("a wrapper that copies the upstream fetch (to keep its `close`) and bounds each call with AbortSignal.any: a stream's firstTokenMs timeout still abandons the hanging upstream response", async () => {
    // Non-enumerable: neither `Object.assign` nor a spread takes them (the wrapper may not keep their promise).
    for (const copy of [Object.assign(() => {}, upstream), { ...upstream }]) {
      expect([marked(copy, RELEASES_ABORT_LISTENERS), marked(copy, TAKES_ATTEMPT_SIGNALS), typeof (copy as { close?: unknown }).close]).toEqual([undefined, undefined, 'function']);
    }
    // A user's wrapper: a deadline of its own over the gateway's fetch, keeping its `close` (not its markers).
    const seen: unknown[] = [];
    const wrapper = Object.assign((input: string | URL | Request, init: RequestInit = {}) => {
      seen.push(init.signal);
      const bounded = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(600_000)]) : AbortSignal.timeout(600_000);
      return upstream(input, { ...init, signal: bounded });
    }, upstream) as typeof globalThis.fetch;
    const router = routerOver(wrapper, { timeouts: { firstTokenMs: 300 } });
    await warm(router);
    primary.setScript({ hang: true });
    const outcomes: Record<string, unknown> = {};
    // Without the markers the router gives every attempt an AbortSignal, which AbortSignal.any follows.
    for (const kind of ['generate', 'stream'] as const) {
      const walkedAway = primary.responsesAborted;
      const errors: string[] = [];
      const off = router.on('attempt:error', (e) => errors.push(`${e.deployment}: ${e.error.code}`));
      let text: string;
      if (kind === 'generate') text = (await router.generate('hang then fall over')).text;
      else {
        const s = router.stream('hang then fall over');
        for await (const part of s) void part;
        text = (await s.result).text;
      }
      if (typeof off === 'function') off();
      // The timed-out attempt's upstream request is aborted (the server sees its response abandoned) once the router
      // gave up on it; a hang guard of several seconds.
      const upstreamClosed = await vi.waitFor(() => expect(primary.responsesAborted).toBe(walkedAway + 1), { timeout: 4_000 }).then(
        () => true,
        () => false,
      );
      outcomes[kind] = { text, errors, upstreamClosed, signal: seen.at(-2)?.constructor.name };
    }
    expect(outcomes).toEqual({
      generate: { text: 'from backup', errors: ['primary: timeout'], upstreamClosed: true, signal: 'AbortSignal' },
      stream: { text: 'from backup', errors: ['primary: timeout'], upstreamClosed: true, signal: 'AbortSignal' },
    });
    await router.close();
  });
});
