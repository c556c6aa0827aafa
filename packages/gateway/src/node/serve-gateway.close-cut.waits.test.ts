/**
 * The shutdown cut (`close(graceMs)`) of non-streamed requests while the router is between upstream calls: a cascade
 * whose weak step answered (and was billed) and whose strong step runs keeps the weak step's spend on its row
 * (`details.cascade.weak`, as any other strong-step failure does); a cut during a retry backoff, a hedge delay or
 * while both hedge lanes wait stops the router at once (503 `shutting_down`, no further upstream request), for
 * chat and embeddings. Official openai client, local OpenAI wire upstreams, in-memory stores.
 */
import OpenAI from 'openai';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, serveWithKey, type Harness } from '../test-support/harness.js';
import { mathCascade, QUESTION, WEAK_COST, WEAK_USAGE, WRONG } from '../test-support/math-cascade.js';
import type { ServedGateway } from './serve-gateway.js';


let weak: OpenAIWireServer | undefined;
let strong: OpenAIWireServer | undefined;
let h: Harness | undefined;
let served: ServedGateway | undefined;
afterEach(async () => {
  await served?.close(100);
  await h?.close();
  await Promise.all([weak?.close(), strong?.close()]);
  served = undefined;
  h = undefined;
});

async function setup(strongScript: Parameters<OpenAIWireServer['setScript']>[0]) {
  weak = await startOpenAIWireServer({ script: { text: WRONG, usage: WEAK_USAGE } });
  strong = await startOpenAIWireServer({ script: strongScript });
  h = await createHarness({
    stores: 'memory',
    ...mathCascade(weak, strong),
    routerOptions: { env: {} },
  });
  let secret: string;
  ({ secret, served } = await serveWithKey(h));
  return new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
}

const messages = [{ role: 'user' as const, content: QUESTION }];
const failure = (e: unknown) => e as { status?: number; code?: string; requestID?: string | null };

describe('shutdown cut of a non-streamed cascade during its strong step', () => {
  it('control: a strong step that fails (400) leaves a row holding the weak step\'s spend', async () => {
    const client = await setup({ error: { status: 400, message: 'no' } });
    const error = await client.chat.completions.create({ model: 'math-cascade', messages }).then(() => undefined, failure);
    expect(error?.status).toBe(400);
    const row = await h!.stores!.ledger.get(error!.requestID!);
    expect(row?.costUsd).toBeCloseTo(WEAK_COST, 12);
    expect(row?.inputTokens).toBe(40);
  });

  it('the cut (503 shutting_down) leaves a row holding the weak step\'s spend too', async () => {
    const client = await setup({ hang: true });
    const pending = client.chat.completions.create({ model: 'math-cascade', messages }).then(() => undefined, failure);
    const until = performance.now() + 5000;
    while (strong!.requests.length === 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(weak!.requests).toHaveLength(1);
    expect(strong!.requests).toHaveLength(1);
    await served!.close(50);
    served = undefined;
    const error = await pending;
    expect({ status: error?.status, code: error?.code }).toEqual({ status: 503, code: 'shutting_down' });
    const row = await h!.stores!.ledger.get(error!.requestID!);
    expect(row?.errorCode).toBe('shutting_down');
    expect(row?.inputTokens, 'the weak step\'s billed prompt').toBe(40);
    expect(row?.costUsd, 'the weak step\'s billed cost').toBeCloseTo(WEAK_COST, 12);
  });
});

describe('shutdown cut while the router waits (retry backoff, hedge delay), chat and embeddings', () => {
  let a: OpenAIWireServer | undefined;
  let b: OpenAIWireServer | undefined;
  afterEach(async () => {
    await Promise.all([a?.close(), b?.close()]);
    a = b = undefined;
  });

  async function two(routing: Parameters<typeof createHarness>[0] extends infer O ? (O extends { routing?: infer R } ? R : never) : never, scriptA: Parameters<OpenAIWireServer['setScript']>[0], scriptB: Parameters<OpenAIWireServer['setScript']>[0]) {
    a = await startOpenAIWireServer({ script: scriptA });
    b = await startOpenAIWireServer({ script: scriptB });
    const base = { engine: 'openai-compatible' as const, apiKey: 'k', capabilities: ['chat', 'embeddings'] as ('chat' | 'embeddings')[], price: { input: 1, output: 1 } };
    h = await createHarness({
      stores: 'memory',
      models: [
        { name: 'a', baseURL: a.baseURL, model: 'm-a', priority: 1, ...base },
        { name: 'b', baseURL: b.baseURL, model: 'm-b', priority: 2, ...base },
      ],
      routing,
      routerOptions: { env: {} },
    });
    let secret: string;
    ({ secret, served } = await serveWithKey(h));
    return new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
  }

  async function reached(s: OpenAIWireServer, n: number) {
    const until = performance.now() + 5000;
    while (s.requests.length < n && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(s.requests).toHaveLength(n);
  }

  async function cutAndCheck(pending: Promise<{ status?: number; code?: string; requestID?: string | null } | undefined>) {
    const closing = performance.now();
    await served!.close(50);
    served = undefined;
    const error = await pending;
    // A hang guard (the cut's own 1 s bound is checked in serve-gateway.close-cut.test.ts).
    expect(performance.now() - closing).toBeLessThan(5000);
    expect({ status: error?.status, code: error?.code }).toEqual({ status: 503, code: 'shutting_down' });
    const row = await h!.stores!.ledger.get(error!.requestID!);
    expect({ status: row?.status, errorCode: row?.errorCode }).toEqual({ status: 'error', errorCode: 'shutting_down' });
    // No further upstream request after the cut (a retry, a fallback, a hedge).
    await new Promise((r) => setTimeout(r, 300));
  }

  it('chat: a cut during a retry backoff stops the router (no retry, no fallback)', async () => {
    const client = await two({ strategy: 'priority', retries: { max: 2, initialDelayMs: 3000, maxDelayMs: 3000, jitter: false } }, { error: { status: 503, message: 'busy' } }, {});
    const pending = client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, failure);
    await reached(a!, 1);
    await cutAndCheck(pending);
    expect([a!.requests.length, b!.requests.length]).toEqual([1, 0]);
  });

  it('embeddings: a cut during a retry backoff stops the router (no retry, no fallback)', async () => {
    const client = await two({ strategy: 'priority', retries: { max: 2, initialDelayMs: 3000, maxDelayMs: 3000, jitter: false } }, { error: { status: 503, message: 'busy' } }, {});
    const pending = client.embeddings.create({ model: 'auto', input: 'hi' }).then(() => undefined, failure);
    await reached(a!, 1);
    await cutAndCheck(pending);
    expect([a!.requests.length, b!.requests.length]).toEqual([1, 0]);
  });

  it('chat: a cut before the hedge delay ends stops the router (no hedge lane)', async () => {
    const client = await two({ strategy: 'priority', retries: { max: 0 }, hedging: { enabled: true, delayMs: 5000, maxHedges: 1 } }, { hang: true }, {});
    const pending = client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, failure);
    await reached(a!, 1);
    await cutAndCheck(pending);
    expect([a!.requests.length, b!.requests.length]).toEqual([1, 0]);
  });

  it('embeddings: a cut while both hedge lanes wait stops both (no retry of either)', async () => {
    const client = await two({ strategy: 'priority', retries: { max: 2, initialDelayMs: 3000, maxDelayMs: 3000, jitter: false }, hedging: { enabled: true, delayMs: 30, maxHedges: 1 } }, { hang: true }, { error: { status: 503, message: 'busy' } });
    const pending = client.embeddings.create({ model: 'auto', input: 'hi' }).then(() => undefined, failure);
    await reached(b!, 1);
    await cutAndCheck(pending);
    expect([a!.requests.length, b!.requests.length]).toEqual([1, 1]);
  });
});
