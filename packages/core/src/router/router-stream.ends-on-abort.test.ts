/**
 * A router stream whose engine iterator ends by itself on abort (`PrimedStream.endsOnAbort`: the
 * openai-compatible engine's `SsePartStream`) reads its parts without racing each one against the
 * attempt's abort. These tests stall a real SSE upstream mid-stream (local node:http server) and check that
 * the stream still ends promptly with the same error part as before: `timeout` for `totalMs`, `aborted` for
 * the caller's signal, with the upstream connection closed and `.result` rejected.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { rejection } from '../test/async.test-helpers.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import type { StreamPart } from '../spec/index.js';
import { longToolNames, restoreStreamToolNames } from '../engines/shared/short-tool-names.js';
import { SsePartStream } from '../util/sse-part-stream.js';
import type { RouterDeployment } from './deployment.js';
import { streamDriver } from './stream-driver.js';
import type { RouterStreamPart } from './types.js';

let upstream: OpenAIWireServer;

beforeEach(async () => {
  upstream = await startOpenAIWireServer();
});

afterEach(async () => {
  await upstream.close();
});

function router(timeouts: { totalMs?: number } = {}) {
  return openAIWireRouter(
    [{ name: 'only', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k' }],
    { retries: { max: 0 }, timeouts },
  ).router;
}

describe('router stream over an engine that ends on abort', () => {
  it('a stall after the first content ends with the totalMs timeout as the last part', async () => {
    upstream.setScript({ text: 'one two three four', hangAfterChunks: 2 });
    // totalMs runs from the start of the attempt, so the first content must arrive inside it for this to be a
    // stall *after* content: 1.5 s leaves a loaded machine room for the connect and the first chunks.
    const r = router({ totalMs: 1_500 });
    const s = r.stream('x');
    const closed = upstream.waitForSocketClose(1, 10_000);
    const parts: RouterStreamPart[] = [];
    for await (const p of s) parts.push(p);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'only' });
    expect(parts.some((p) => p.type === 'text-delta')).toBe(true);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'timeout', deployment: 'only' } });
    expect(parts.filter((p) => p.type === 'error')).toHaveLength(1);
    expect((await rejection(s.result)).code).toBe('timeout');
    await closed;
  });

  it("a stall after the first content ends with the caller's abort as the last part", async () => {
    upstream.setScript({ text: 'one two three four', hangAfterChunks: 2 });
    const r = router();
    const controller = new AbortController();
    const s = r.stream('x', { signal: controller.signal });
    const closed = upstream.waitForSocketClose(1, 5_000);
    const it = s[Symbol.asyncIterator]();
    const parts: RouterStreamPart[] = [];
    for (let i = 0; i < 20; i++) {
      const next = it.next();
      // Abort while the router waits for a part the upstream never sends.
      if (parts.some((p) => p.type === 'text-delta')) setTimeout(() => controller.abort(), 50);
      const { done, value } = await next;
      if (done) break;
      parts.push(value);
      if (value.type === 'error') break;
    }
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect((await rejection(s.result)).code).toBe('aborted');
    await closed;
  });
});

describe('streamDriver', () => {
  // Just what `streamDriver.run` reads of a deployment.
  const deployment = (stream: () => AsyncIterable<StreamPart>) =>
    ({
      name: 'd',
      provider: 'test',
      engine: () => ({ stream }),
      requestFor: (r: unknown) => r,
      stats: { firstToken: () => {} },
    }) as unknown as RouterDeployment;
  const text: StreamPart = { type: 'text-delta', delta: 'hi' };

  it('marks an SsePartStream as ending on abort, any other iterator as not', async () => {
    const driver = streamDriver({ messages: [{ role: 'user', content: 'x' }] }, undefined, { now: () => 0, sleep: () => Promise.resolve() });
    const sse = await driver.run(deployment(() => new SsePartStream({ open: async () => ({ part: text }), abortPart: () => text })), undefined);
    expect(sse.endsOnAbort).toBe(true);
    expect(sse.buffered).toEqual([text]);
    async function* generator(): AsyncGenerator<StreamPart> {
      yield text;
    }
    const other = await driver.run(deployment(generator), undefined);
    expect(other.endsOnAbort).toBe(false);
    expect(other.buffered).toEqual([text]);
  });

  it('an SsePartStream under the tool-name restorer (tool names over 64) still ends on abort; a generator under it does not', async () => {
    const driver = streamDriver({ messages: [{ role: 'user', content: 'x' }] }, undefined, { now: () => 0, sleep: () => Promise.resolve() });
    const names = longToolNames({ messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'x'.repeat(70), parameters: {} }] })!;
    const sse = () => restoreStreamToolNames(new SsePartStream({ open: async () => ({ part: text }), abortPart: () => text }), names);
    expect((await driver.run(deployment(sse), undefined)).endsOnAbort).toBe(true);
    async function* generator(): AsyncGenerator<StreamPart> {
      yield text;
    }
    expect((await driver.run(deployment(() => restoreStreamToolNames(generator(), names)), undefined)).endsOnAbort).toBe(false);
  });
});
