/**
 * An attempt whose scope would only mirror the call's signal (a `generate` without timeouts or hedging) hands the
 * call's signal itself (the router's `AttemptSignal` following the caller's, which `close()` aborts too) to an engine
 * that releases its abort listeners and takes an `AttemptSignal` (`RELEASES_ABORT_LISTENERS`, `TAKES_ATTEMPT_SIGNALS`:
 * the openai-compatible engine over a fetch that says so), with the same outcomes as a linked signal of its own; every
 * other attempt keeps its own. Over real HTTP (a local server speaking the OpenAI wire format).
 */
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelConfigInput, RouterConfigInput } from '../config/schema.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { rejection } from '../test/async.test-helpers.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { AttemptSignal, markAbortHandling } from '../util/abort.js';

let server: OpenAIWireServer;
let backup: OpenAIWireServer;

beforeEach(async () => {
  server = await startOpenAIWireServer();
  backup = await startOpenAIWireServer({ script: { text: 'from backup' } });
});

afterEach(async () => {
  await Promise.all([server.close(), backup.close()]);
});

/**
 * Global `fetch` behind a signal of the call's own, linked to the given one (an `AttemptSignal` too) until the answer
 * is read whole (so it leaves no listener on the given signal), recording the signal each call was given. `marked`:
 * says so (and that it takes an `AttemptSignal`, unless `takes` is false).
 */
function recordingFetch(marked: boolean, takes = marked): { fetch: typeof globalThis.fetch; signals: Array<AbortSignal | undefined> } {
  const signals: Array<AbortSignal | undefined> = [];
  const fetchFn = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const given = init.signal ?? undefined;
    signals.push(given);
    const own = new AbortController();
    const onAbort = () => own.abort(given?.reason);
    if (given?.aborted) own.abort(given.reason);
    else given?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await globalThis.fetch(input, { ...init, signal: own.signal });
      const body = await response.arrayBuffer();
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } finally {
      given?.removeEventListener('abort', onAbort);
    }
  };
  const fetch = (marked ? markAbortHandling(fetchFn, { releasesAbortListeners: true, takesAttemptSignals: takes }) : fetchFn) as typeof globalThis.fetch;
  return { fetch, signals };
}

function routerOver(fetch: typeof globalThis.fetch, model: Partial<ModelConfigInput> = {}, routing: NonNullable<RouterConfigInput['routing']> = {}) {
  return openAIWireRouter([{ name: 'main', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-test', apiKey: 'k', priority: 1, ...model }], routing, { fetch }).router;
}

/** What an attempt left on its deployment, without the timings. */
function health(s: { requests: number; failures: number; errorRate: number; inFlight: number; circuit: string; lastErrorCode?: string } | undefined) {
  return s && { requests: s.requests, failures: s.failures, errorRate: s.errorRate, inFlight: s.inFlight, circuit: s.circuit, lastErrorCode: s.lastErrorCode };
}

describe('the caller signal handed to an engine that releases its listeners', () => {
  it("the call's signal goes to the engine as it is once the engine exists, and no listener is left on the caller's after the calls", async () => {
    const { fetch, signals } = recordingFetch(true);
    const router = routerOver(fetch);
    const caller = new AbortController().signal;
    for (let i = 0; i < 5; i++) expect((await router.generate(`call ${i}`, { signal: caller })).text).toBe(`echo: call ${i}`);
    // The engine exists before the first attempt (the router asks it what it refuses, `LanguageEngineV1.refusal`), so
    // each call gets its own AttemptSignal (no AbortController per call), never the caller's.
    expect(signals.every((s) => s instanceof AttemptSignal)).toBe(true);
    expect(new Set(signals).size).toBe(5);
    expect(getEventListeners(caller, 'abort')).toHaveLength(0);
    await router.close();
  });

  it('is not shared with an engine that releases its listeners but takes no AttemptSignal', async () => {
    const { fetch, signals } = recordingFetch(true, false);
    const router = routerOver(fetch);
    const caller = new AbortController().signal;
    for (let i = 0; i < 3; i++) await router.generate(`call ${i}`, { signal: caller });
    expect(signals.every((s) => s instanceof AbortSignal && s !== caller)).toBe(true);
    expect(getEventListeners(caller, 'abort')).toHaveLength(0);
    await router.close();
  });

  it('is not shared through a fetch that does not say it releases its listeners', async () => {
    const { fetch, signals } = recordingFetch(false);
    const router = routerOver(fetch);
    const caller = new AbortController().signal;
    for (let i = 0; i < 3; i++) await router.generate(`call ${i}`, { signal: caller });
    expect(signals).toHaveLength(3);
    for (const s of signals) {
      expect(s).toBeInstanceOf(AbortSignal);
      expect(s).not.toBe(caller);
    }
    await router.close();
  });

  it('is not shared with an attempt that has a timeout, a hedge lane, or a stream', async () => {
    const caller = new AbortController().signal;
    const timed = recordingFetch(true, false);
    const withTimeout = routerOver(timed.fetch, { timeouts: { totalMs: 60_000 } });
    for (let i = 0; i < 3; i++) await withTimeout.generate(`call ${i}`, { signal: caller });
    expect(timed.signals.every((s) => s instanceof AbortSignal && s !== caller)).toBe(true);

    const hedgedFetch = recordingFetch(true, false);
    const hedged = openAIWireRouter(
      [
        { name: 'main', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-test', apiKey: 'k', priority: 1 },
        { name: 'backup', engine: 'openai-compatible', baseURL: backup.baseURL, model: 'gpt-backup', apiKey: 'k', priority: 2 },
      ],
      { hedging: { enabled: true, delayMs: 60_000, maxHedges: 1 } },
      { fetch: hedgedFetch.fetch },
    ).router;
    for (let i = 0; i < 3; i++) expect((await hedged.generate(`call ${i}`, { signal: caller })).deployment).toBe('main');
    expect(hedgedFetch.signals.every((s) => s instanceof AbortSignal && s !== caller)).toBe(true);

    const streamed = recordingFetch(true, false);
    const streaming = routerOver(streamed.fetch);
    for (let i = 0; i < 2; i++) {
      const s = streaming.stream(`call ${i}`, { signal: caller });
      for await (const part of s) void part;
      expect((await s.result).text).toBe(`echo: call ${i}`);
    }
    expect(streamed.signals.every((s) => s instanceof AbortSignal && s !== caller)).toBe(true);
    expect(getEventListeners(caller, 'abort')).toHaveLength(0);
    await Promise.all([withTimeout.close(), hedged.close(), streaming.close()]);
  });

  it('a caller abort while the upstream is awaited fails the call as with a signal of its own', async () => {
    const outcomes = [];
    for (const marked of [true, false]) {
      const { fetch, signals } = recordingFetch(marked);
      const router = routerOver(fetch);
      await router.generate('warm up');
      server.setScript({ hang: true });
      const controller = new AbortController();
      const ends: string[] = [];
      router.on('request:end', (e) => ends.push(e.error?.code ?? 'ok'));
      const pending = router.generate('hang', { signal: controller.signal });
      while (server.requests.length < (marked ? 2 : 4)) await new Promise((r) => setTimeout(r, 5));
      expect(signals[1] instanceof AttemptSignal).toBe(marked);
      controller.abort(new Error('client went away'));
      const error = await rejection(pending);
      outcomes.push({ code: error.code, message: error.message, deployment: error.deployment, provider: error.provider, ends, stats: health(router.stats()['main']) });
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      server.setScript({});
      await router.close();
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]).toMatchObject({ code: 'aborted', deployment: 'main', ends: ['aborted'] });
  });

  it('a caller signal aborted before the call fails it at once, as before', async () => {
    const { fetch, signals } = recordingFetch(true);
    const router = routerOver(fetch);
    await router.generate('warm up');
    const error = await rejection(router.generate('late', { signal: AbortSignal.abort(new Error('gone')) }));
    expect(error.code).toBe('aborted');
    expect(signals).toHaveLength(1);
    expect(server.requests).toHaveLength(1);
    await router.close();
  });
});
