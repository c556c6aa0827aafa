/**
 * A 200 whose body is cut mid-way (non-streamed calls): the provider accepted the request and may have generated and
 * billed the answer, so the router sends it neither again to the same deployment (retry) nor to a fallback, like the
 * official OpenAI SDK, which retries only failures before a response arrived. The error is `network_error` marked
 * `afterResponse` (not retryable) and says the answer was lost; OpenAI-compatible, Anthropic and Gemini alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../engines/index.js';
import { rejection } from '../../test/async.test-helpers.js';
import { startLoopbackHttp, type LoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import type { LLMError } from '../../errors/llm-error.js';
import { LLMRouter } from '../llm-router.js';

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'a long billed answer '.repeat(50) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 500, total_tokens: 510 },
});

const MESSAGE = JSON.stringify({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-test-1',
  content: [{ type: 'text', text: 'a long billed answer '.repeat(50) }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 500 },
});

let server: LoopbackHttp | undefined;
let baseURL = '';
let requests = 0;
beforeAll(async () => {
  server = await startLoopbackHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const COMPLETION_OR_MESSAGE = req.url?.includes('/messages') ? MESSAGE : COMPLETION;
      // Headers and half the body of a finished (billed) completion, then the connection drops.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(COMPLETION_OR_MESSAGE)) });
      res.write(COMPLETION_OR_MESSAGE.slice(0, COMPLETION_OR_MESSAGE.length / 2), () => setTimeout(() => res.socket?.destroy(), 5));
    });
  });
  baseURL = `${server.url}/v1`;
});
afterAll(async () => {
  await server?.close();
});

/**
 * Two deployments of one model on the server that cuts every answer, `a` and its fallback `b` (`engine`, `model`,
 * `apiKey` as given), retries 2: the error one `generate` ends with (the router closed).
 */
async function generateOnTwoCutDeployments(deployment: { engine: 'anthropic' | 'gemini'; model: string; apiKey: string }): Promise<LLMError> {
  const root = baseURL.replace(/\/v1$/, '');
  const router = new LLMRouter(
    {
      models: [
        { name: 'a', ...deployment, baseURL: root, priority: 1 },
        { name: 'b', ...deployment, baseURL: root, priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } },
    },
    { env: {}, sleep: async () => {} },
  );
  try {
    return await rejection(router.generate('hi'));
  } finally {
    await router.close();
  }
}

describe('a cut 200 body (already billed) is not sent again', () => {
  it('generate makes one upstream request, not 1 + retries', async () => {
    requests = 0;
    const { router } = openAIWireRouter(
      [{ name: 'a', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL, apiKey: 'sk-test', priority: 1 }],
      { retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } },
    );
    const err = await router.generate('hi').then(
      () => undefined,
      (e: unknown) => e as LLMError,
    );
    expect(err?.code).toBe('network_error');
    expect(err?.afterResponse).toBe(true);
    expect(err?.isRetryable).toBe(false);
    expect(err?.statusCode).toBe(502);
    expect(err?.message).toMatch(/after the provider accepted the request: the answer is lost/);
    expect(requests).toBe(1);
    await router.close();
  });

  it('an Anthropic deployment cut the same way is not asked again, nor its fallback', async () => {
    requests = 0;
    const err = await generateOnTwoCutDeployments({ engine: 'anthropic', model: 'claude-test-1', apiKey: 'ak' });
    expect(err.code).toBe('network_error');
    expect(err.afterResponse).toBe(true);
    expect(err.deployment).toBe('a');
    // Before the fix: 3 requests to "a" and 3 more to "b" (six billed answers, none ledgered).
    expect(requests).toBe(1);
  });

  it('a Gemini deployment cut the same way is not asked again, nor its fallback', async () => {
    requests = 0;
    const err = await generateOnTwoCutDeployments({ engine: 'gemini', model: 'gemini-test-1', apiKey: 'gk' });
    expect(err.code).toBe('network_error');
    expect(err.afterResponse).toBe(true);
    expect(requests).toBe(1);
  });

  it('a 200 whose body is not JSON is not sent again either (invalid_response, afterResponse)', async () => {
    const plain = await startLoopbackHttp((req, res) => {
      req.resume();
      req.on('end', () => {
        plainRequests++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"chatcmpl-1","choices":[');
      });
    });
    let plainRequests = 0;
    const url = `${plain.url}/v1`;
    const { router } = openAIWireRouter(
      [
        { name: 'a', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: url, apiKey: 'sk-test', priority: 1 },
        { name: 'b', engine: 'openai-compatible', model: 'gpt-4o-mini', baseURL: url, apiKey: 'sk-test', priority: 2 },
      ],
      { retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } },
    );
    const err = await router.generate('hi').then(
      () => undefined,
      (e: unknown) => e as LLMError,
    );
    expect(err?.code).toBe('invalid_response');
    expect(err?.afterResponse).toBe(true);
    expect(plainRequests).toBe(1);
    await router.close();
    await plain.close();
  });
});
