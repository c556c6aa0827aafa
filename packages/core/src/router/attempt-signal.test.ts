/**
 * A stream attempt on an engine whose calls take an `AttemptSignal` (`TAKES_ATTEMPT_SIGNALS`: the openai-compatible
 * engine over a fetch that says so) gets one instead of an `AbortController`'s signal, with the same outcomes: the
 * caller's abort and the router's cancel still end the upstream request. Over real HTTP (a local server speaking the
 * OpenAI wire format), through a fetch that links a signal of its own to the one it is given, as the gateway's
 * `createUpstreamFetch` does for Node's `fetch`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelConfigInput } from '../config/schema.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { AttemptSignal, AttemptSignalController, RELEASES_ABORT_LISTENERS, TAKES_ATTEMPT_SIGNALS } from '../util/abort.js';

let server: OpenAIWireServer;

beforeEach(async () => {
  server = await startOpenAIWireServer();
});

afterEach(async () => {
  await server.close();
});

/** Global `fetch` behind a signal of its own linked to the given one (streamed answers as they come); records what it was given. */
function linkingFetch(takesAttemptSignals: boolean): { fetch: typeof globalThis.fetch; signals: unknown[] } {
  const signals: unknown[] = [];
  const fetchFn = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const given = init.signal ?? undefined;
    signals.push(given);
    const own = new AbortController();
    if (given?.aborted) own.abort(given.reason);
    else given?.addEventListener('abort', () => own.abort(given.reason), { once: true });
    return globalThis.fetch(input, { ...init, signal: own.signal });
  };
  const marks = takesAttemptSignals ? { [RELEASES_ABORT_LISTENERS]: true, [TAKES_ATTEMPT_SIGNALS]: true } : { [RELEASES_ABORT_LISTENERS]: true };
  return { fetch: Object.assign(fetchFn, marks) as typeof globalThis.fetch, signals };
}

function routerOver(fetch: typeof globalThis.fetch, model: Partial<ModelConfigInput> = {}) {
  return openAIWireRouter([{ name: 'main', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-test', apiKey: 'k', priority: 1, ...model }], { retries: { max: 0 } }, { fetch }).router;
}

describe('AttemptSignal', () => {
  it('calls its abort listeners once each, in order, with its reason set; a removed one is not called', () => {
    const controller = new AttemptSignalController();
    const signal = controller.signal;
    const calls: string[] = [];
    const a = () => calls.push(`a:${String(signal.reason)}`);
    const b = () => calls.push('b');
    const c = { handleEvent: (e: { type: string }) => calls.push(`c:${e.type}`) };
    signal.addEventListener('abort', a);
    signal.addEventListener('abort', a, { once: true });
    signal.addEventListener('abort', b);
    signal.addEventListener('abort', c as unknown as () => void);
    signal.removeEventListener('abort', b);
    expect(signal.aborted).toBe(false);
    expect(() => signal.throwIfAborted()).not.toThrow();
    controller.abort('stop');
    controller.abort('again');
    expect(calls).toEqual(['a:stop', 'c:abort']);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('stop');
    expect(() => signal.throwIfAborted()).toThrow();
    // Added after the abort: never called (as an `AbortSignal`'s).
    signal.addEventListener('abort', b);
    controller.abort('late');
    expect(calls).toEqual(['a:stop', 'c:abort']);
  });

  it('aborts with an AbortError when given no reason', () => {
    const controller = new AttemptSignalController();
    controller.abort();
    expect(controller.signal.reason).toMatchObject({ name: 'AbortError' });
  });
});

describe('a stream attempt on an engine whose fetch takes attempt signals', () => {
  it('gets an AttemptSignal, and streams as with an AbortSignal; other fetches and generate get AbortSignals', async () => {
    const marked = linkingFetch(true);
    const router = routerOver(marked.fetch);
    for (let i = 0; i < 3; i++) {
      const s = router.stream(`call ${i}`, { signal: new AbortController().signal });
      await collect(s);
      expect((await s.result).text).toBe(`echo: call ${i}`);
    }
    // (A stream's planning creates the engine before its attempt: the first one gets an AttemptSignal too.)
    expect(marked.signals.map((s) => s instanceof AttemptSignal)).toEqual([true, true, true]);
    // A generate attempt with a scope of its own (a timeout) keeps an AbortSignal.
    const timed = linkingFetch(true);
    const timedRouter = routerOver(timed.fetch, { timeouts: { totalMs: 60_000 } });
    for (let i = 0; i < 2; i++) await timedRouter.generate(`call ${i}`);
    expect(timed.signals.every((s) => s instanceof AbortSignal)).toBe(true);

    const plain = linkingFetch(false);
    const plainRouter = routerOver(plain.fetch);
    for (let i = 0; i < 2; i++) await collect(plainRouter.stream(`call ${i}`));
    expect(plain.signals.every((s) => s instanceof AbortSignal)).toBe(true);
    await Promise.all([router.close(), timedRouter.close(), plainRouter.close()]);
  });

  it('a caller abort while the upstream is awaited ends the stream as with an AbortSignal, and abandons the upstream response', async () => {
    const outcomes = [];
    for (const takes of [true, false]) {
      const { fetch, signals } = linkingFetch(takes);
      const router = routerOver(fetch);
      await collect(router.stream('warm up'));
      server.setScript({ hang: true });
      const caller = new AbortController();
      const ends: string[] = [];
      router.on('request:end', (e) => ends.push(e.error?.code ?? 'ok'));
      const abandoned = server.responsesAborted;
      const s = router.stream('hang', { signal: caller.signal });
      const parts = collect(s);
      await vi.waitFor(() => expect(server.requests).toHaveLength(takes ? 2 : 4), { timeout: 5_000 });
      expect(signals[1] instanceof AttemptSignal).toBe(takes);
      caller.abort(new Error('client went away'));
      const last = (await parts).at(-1);
      const error = await rejection(s.result);
      // The hanging response itself (an idle keep-alive connection closing would not tell).
      await vi.waitFor(() => expect(server.responsesAborted).toBe(abandoned + 1), { timeout: 5_000 });
      outcomes.push({ last: last?.type === 'error' ? last.error.code : last?.type, code: error.code, deployment: error.deployment, ends });
      server.setScript({});
      await router.close();
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]).toMatchObject({ last: 'aborted', code: 'aborted', deployment: 'main', ends: ['aborted'] });
  });

  it("the router stream's cancel before the first part aborts the upstream request", async () => {
    const { fetch, signals } = linkingFetch(true);
    const router = routerOver(fetch);
    await collect(router.stream('warm up'));
    server.setScript({ hang: true });
    const abandoned = server.responsesAborted;
    const s = router.stream('hang');
    const it = s[Symbol.asyncIterator]();
    const first = it.next();
    await vi.waitFor(() => expect(server.requests).toHaveLength(2), { timeout: 5_000 });
    expect(signals[1]).toBeInstanceOf(AttemptSignal);
    s.cancel!(new Error('consumer gone'));
    await first;
    await vi.waitFor(() => expect(server.responsesAborted).toBe(abandoned + 1), { timeout: 5_000 });
    expect((signals[1] as AttemptSignal).aborted).toBe(true);
    await rejection(s.result);
    server.setScript({});
    await router.close();
  });
});
