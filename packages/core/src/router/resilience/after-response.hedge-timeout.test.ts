/**
 * An answer lost after its provider accepted it (`afterResponse`: a cut 2xx body, or the attempt's timeout while
 * that body is read) is not requested again, as it may be billed. It is one deployment's failure: under hedging, a
 * lane already waiting on another deployment may still answer (no new request, no new hedge goes out).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../engines/index.js';
import { startLoopbackHttp, type LoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import type { LLMError } from '../../errors/llm-error.js';
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

let cutting: LoopbackHttp | undefined;
let answering: LoopbackHttp | undefined;
let cutURL = '';
let okURL = '';
const seen = { cut: 0, ok: 0, okAborted: 0 };

beforeAll(async () => {
  // "a": a 200 and half its body at once, then the connection drops 150 ms later.
  cutting = await startLoopbackHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.cut++;
      const body = completion('from a');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.write(body.slice(0, body.length / 2), () => setTimeout(() => res.socket?.destroy(), 150));
    });
  });
  // "b": a whole answer 250 ms after the request (the hedge, started 50 ms into the call, answers at ~300 ms).
  answering = await startLoopbackHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.ok++;
      const timer = setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(completion('from b'));
      }, 250);
      res.on('close', () => {
        if (!res.writableEnded) {
          seen.okAborted++;
          clearTimeout(timer);
        }
      });
    });
  });
  cutURL = `${cutting.url}/v1`;
  okURL = `${answering.url}/v1`;
});
afterAll(async () => {
  await cutting?.close();
  await answering?.close();
});

describe('afterResponse under hedging', () => {
  it('a cut body on the first lane does not throw away the hedge already sent to another deployment', async () => {
    const router = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: cutURL, apiKey: 'sk-test', priority: 1 },
          { name: 'b', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: okURL, apiKey: 'sk-test', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 0 }, hedging: { enabled: true, delayMs: 50, maxHedges: 1 } },
      },
      { env: {} },
    );
    const outcome = await router.generate('hi').then(
      (r) => ({ text: r.text, deployment: r.deployment }),
      (e: unknown) => ({ error: `${(e as Error).message}` }),
    );
    await router.close();
    // Both requests were sent (the hedge went out before "a" was cut).
    expect({ cut: seen.cut, ok: seen.ok }).toEqual({ cut: 1, ok: 1 });
    // The hedge's answer is the call's: it was requested (and is billed) anyway.
    expect({ outcome, hedgeCancelled: seen.okAborted }).toEqual({ outcome: { text: 'from b', deployment: 'b' }, hedgeCancelled: 0 });
  });
});

/** A server counting its requests; `answer` writes the response. */
async function counting(answer: (res: import('node:http').ServerResponse) => void): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = await startLoopbackHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      answer(res);
    });
  });
  return { url: `${server.url}/v1`, count: () => n, close: () => server.close() };
}

describe('a 2xx answer lost to a timeout while its body is read', () => {
  it('a totalMs timeout while the 200 body is being read is not requested again', async () => {
    // A finished completion: the 200 and half its body, then nothing (the rest never comes).
    const up = await counting((res) => {
      const body = completion('billed');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.write(body.slice(0, body.length / 2));
    });
    const { router } = openAIWireRouter([{ name: 'a', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: up.url, apiKey: 'sk-test' }], {
      retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 },
      // Long enough for the 200 and half the body to arrive first (the rest never comes).
      timeouts: { totalMs: 1000 },
    });
    const err = await router.generate('hi').then(
      () => undefined,
      (e: unknown) => e as LLMError,
    );
    await router.close();
    await up.close();
    expect({ code: err?.code, afterResponse: err?.afterResponse, requests: up.count() }).toEqual({ code: 'timeout', afterResponse: true, requests: 1 });
  });
});

describe('afterResponse under hedging: nothing new is sent', () => {
  it('no new hedge and no fallback after the cut: the in-flight hedge fails, the call fails with the lost answer', async () => {
    // "a" sends its 200 and half the body, and cuts it once the hedge on "b" (sent at 300 ms) arrived; "b" answers
    // 500 once the router saw "a" fail. Without the cut's rule, a second hedge would go to "c" at 600 ms, and "b"'s
    // 500 would fall over to "c".
    let cutSeen: () => void = () => {};
    const aFailed = new Promise<void>((r) => (cutSeen = r));
    let hedgeArrived: () => void = () => {};
    const hedgeSent = new Promise<void>((r) => (hedgeArrived = r));
    const cut = await counting((res) => {
      const body = completion('from a');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.write(body.slice(0, body.length / 2), () => void hedgeSent.then(() => res.socket?.destroy()));
    });
    const failing = await counting((res) => {
      hedgeArrived();
      void aFailed.then(() => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'boom', type: 'server_error' } }));
      });
    });
    const spare = await counting((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(completion('from c'));
    });
    const router = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: cut.url, apiKey: 'sk-test', priority: 1 },
          { name: 'b', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: failing.url, apiKey: 'sk-test', priority: 2 },
          { name: 'c', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: spare.url, apiKey: 'sk-test', priority: 3 },
        ],
        routing: { strategy: 'priority', retries: { max: 0 }, hedging: { enabled: true, delayMs: 300, maxHedges: 2 } },
      },
      { env: {} },
    );
    router.on('attempt:error', (e) => {
      if (e.deployment === 'a') cutSeen();
    });
    const err = await router.generate('hi').then(
      () => undefined,
      (e: unknown) => e as LLMError,
    );
    await router.close();
    await Promise.all([cut.close(), failing.close(), spare.close()]);
    expect({ deployment: err?.deployment, afterResponse: err?.afterResponse, requests: [cut.count(), failing.count(), spare.count()] }).toEqual({
      deployment: 'a',
      afterResponse: true,
      requests: [1, 1, 0],
    });
  });
});
