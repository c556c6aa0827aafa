/**
 * A fetch marked `RELEASES_ABORT_LISTENERS` promises to settle as soon as its signal aborts, wherever its request
 * stands, and the router relies on it: it hands the engine the caller's signal itself and does not race the attempt
 * against the abort. A fetch that queues its requests (a pool with a connection limit) keeps the promise by racing its
 * wait against the abort: the caller's abort then ends a queued call at once, as the router's own linked signal and
 * race do for an unmarked fetch. A marked fetch that acts on an abort only once its request leaves the queue breaks
 * the promise, and the call waits for that fetch (the documented limit of the marker). (The router hands it the call's
 * own signal, an `AttemptSignal` following the caller's: the fetch says it takes one.) Over real HTTP (a local server
 * speaking the OpenAI wire format).
 */
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { markAbortHandling } from '../util/abort.js';

let server: OpenAIWireServer;

beforeEach(async () => {
  server = await startOpenAIWireServer();
});

afterEach(async () => {
  await server.close();
});

/**
 * Global `fetch` behind one slot (a pool of one connection): a request waits for the slot, then goes out with a
 * signal of its own linked to the given one until its answer is read whole, and removes its listener then.
 * `settlesOnAbort`: a request whose signal aborts while it waits rejects at once (the marker's promise); otherwise it
 * fails only when it gets the slot (as undici's queued requests do).
 */
function oneSlotFetch(marked: boolean, settlesOnAbort: boolean): typeof globalThis.fetch {
  let busy: Promise<void> = Promise.resolve();
  const fetchFn = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const given = init.signal ?? undefined;
    const previous = busy;
    let free!: () => void;
    busy = new Promise<void>((r) => (free = r));
    const own = new AbortController();
    const onAbort = () => own.abort(given?.reason);
    if (given?.aborted) own.abort(given.reason);
    else given?.addEventListener('abort', onAbort, { once: true });
    try {
      if (settlesOnAbort) {
        const aborted = new Promise<never>((_, reject) => {
          if (own.signal.aborted) reject(own.signal.reason);
          else own.signal.addEventListener('abort', () => reject(own.signal.reason), { once: true });
        });
        await Promise.race([previous, aborted]);
      } else {
        await previous;
      }
      own.signal.throwIfAborted();
      const response = await globalThis.fetch(input, { ...init, signal: own.signal });
      const body = await response.arrayBuffer();
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } finally {
      given?.removeEventListener('abort', onAbort);
      // The slot passes on once the request before this one is done too (a request that left the queue early).
      void previous.then(free);
    }
  };
  // (Taking an AttemptSignal too: the call's own signal, which the router hands a marked engine, is one.)
  return (marked ? markAbortHandling(fetchFn, { releasesAbortListeners: true, takesAttemptSignals: true }) : fetchFn) as typeof globalThis.fetch;
}

async function outcomeWithin(p: Promise<unknown>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((r) => {
    timer = setTimeout(() => r('pending'), ms);
  });
  try {
    return await Promise.race([p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e)), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Holds the slot with one call, queues a second behind it, aborts the second's caller signal; how the second stands
 * `ms` later, and once the first is over. No listener is left on the aborted caller's signal.
 */
async function abortQueued(fetch: typeof globalThis.fetch, ms: number): Promise<{ atOnce: string; atLast: string }> {
  const { router } = openAIWireRouter([{ name: 'main', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-test', apiKey: 'k' }], {}, { fetch });
  const before = server.requests.length;
  // The engine exists after this call: the next ones may share the caller's signal.
  expect((await router.generate('warm up')).text).toBe('echo: warm up');
  server.setScript({ hang: true });
  const holder = new AbortController();
  const holding = router.generate('holds the slot', { signal: holder.signal });
  holding.catch(() => {});
  const seen = server.requests.length;
  while (server.requests.length === seen) await new Promise((r) => setTimeout(r, 5));
  const client = new AbortController();
  const queued = router.generate('queued', { signal: client.signal });
  queued.catch(() => {});
  await new Promise((r) => setTimeout(r, 30));
  client.abort(new Error('client went away'));
  const atOnce = await outcomeWithin(queued, ms);
  holder.abort(new Error('done'));
  await holding.catch(() => {});
  const atLast = await outcomeWithin(queued, 1000);
  expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);
  // Only the warm-up and the holder reached the server: the aborted call was never sent.
  expect(server.requests).toHaveLength(before + 2);
  server.setScript({});
  await router.close();
  return { atOnce, atLast };
}

describe('the caller signal shared with an engine over a fetch that queues', () => {
  it('a caller abort while the request is queued ends the call at once, through a marked fetch that settles on it as through an unmarked one', async () => {
    expect(await abortQueued(oneSlotFetch(false, false), 1000)).toEqual({ atOnce: 'aborted', atLast: 'aborted' });
    expect(await abortQueued(oneSlotFetch(true, true), 1000)).toEqual({ atOnce: 'aborted', atLast: 'aborted' });
  });

  it('the router does not race a marked fetch: one that breaks the promise leaves the call pending until it settles', async () => {
    expect(await abortQueued(oneSlotFetch(true, false), 300)).toEqual({ atOnce: 'pending', atLast: 'aborted' });
  });
});
