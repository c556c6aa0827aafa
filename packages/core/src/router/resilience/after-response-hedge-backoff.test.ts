/**
 * Under hedging, once an answer is lost after its provider accepted it (`afterResponse`), nothing new goes out, and a
 * lane sleeping in its retry backoff (a 429's Retry-After) wakes at once: the call fails with the lost answer's error
 * right away, not after that sleep (up to maxRetryAfterMs, 30 s by default), since nothing is left that could answer.
 */
import { afterAll, describe, expect, it } from 'vitest';
import '../../engines/index.js';
import type { LLMError } from '../../errors/llm-error.js';
import { startLoopbackHttp, type LoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { LLMRouter } from '../llm-router.js';

function completion(text: string): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  });
}

const servers: LoopbackHttp[] = [];
async function serve(handler: (res: import('node:http').ServerResponse) => void): Promise<{ url: string; count: () => number }> {
  let n = 0;
  const server = await startLoopbackHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      handler(res);
    });
  });
  servers.push(server);
  return { url: `${server.url}/v1`, count: () => n };
}

afterAll(async () => {
  for (const s of servers) await s.close();
});

describe('afterResponse under hedging with a lane in backoff', () => {
  it('the lost answer fails the call at once, not after the other lane\'s Retry-After sleep', async () => {
    // "a": the 200 and half its body, then the connection drops 400 ms later (a lost, maybe billed answer).
    const a = await serve((res) => {
      const body = completion('from a');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.write(body.slice(0, body.length / 2), () => setTimeout(() => res.socket?.destroy(), 400));
    });
    // "b" (the hedge, 50 ms in): 429 with Retry-After 4 s: its lane sleeps 4 s before it would retry.
    const b = await serve((res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '4' });
      res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error' } }));
    });
    const router = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: a.url, apiKey: 'sk-test', priority: 1 },
          { name: 'b', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: b.url, apiKey: 'sk-test', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 2 }, hedging: { enabled: true, delayMs: 50, maxHedges: 1 } },
      },
      { env: {} },
    );
    const started = performance.now();
    const err = await router.generate('hi').then(
      () => undefined,
      (e: unknown) => e as LLMError,
    );
    const elapsed = performance.now() - started;
    await router.close();
    // Nothing could be sent after the cut (the gate is closed): the call has nothing left to wait for.
    expect({ deployment: err?.deployment, afterResponse: err?.afterResponse, requests: [a.count(), b.count()] }).toEqual({
      deployment: 'a',
      afterResponse: true,
      requests: [1, 1],
    });
    expect(elapsed).toBeLessThan(2000);
  }, 15_000);
});
