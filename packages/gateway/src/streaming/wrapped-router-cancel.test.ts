/**
 * A client that goes away by cancelling its response body (the Web adapter, `gateway.fetch`: the request's
 * signal does not fire) stops the upstream request and ends the call, whatever router the gateway has. The
 * built-in `LLMRouter` (`cancellableStreams`) is given the client's signal as it is and its stream is stopped
 * by `RouterStream.cancel`; a wrapped router, whose streams may lack `cancel`, is given a controller of the
 * call's own, which the body's cancel aborts. Real HTTP: a local OpenAI wire server that stalls mid-answer.
 */
import { LLMRouter, type GenerateOptions, type GenerateRequest, type RouterStream } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { wrapRouter } from '../test-support/wrapped-router.js';
import type { Gateway } from '../types.js';

/** The built-in router, noting the signal each stream is given. */
class SignalRecordingRouter extends LLMRouter {
  readonly signals: Array<AbortSignal | undefined> = [];

  override stream(request: GenerateRequest, options?: GenerateOptions): RouterStream {
    this.signals.push(options?.signal);
    return super.stream(request, options);
  }
}

let up: OpenAIWireServer;
let router: SignalRecordingRouter;
let gateway: Gateway | undefined;
let ends: Array<{ error?: { code: string } }>;

beforeEach(async () => {
  up = await startOpenAIWireServer();
  router = new SignalRecordingRouter(
    { models: [{ name: 'up', engine: 'openai-compatible', baseURL: up.baseURL, model: 'gpt-test', apiKey: 'k' }], routing: { strategy: 'priority', retries: { max: 0 } } },
    { env: {} },
  );
  ends = [];
  router.on('request:end', (e) => ends.push(e as { error?: { code: string } }));
});

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  await router.close();
  await up.close();
});

/** Streams a chat answer whose upstream stalls after 'beta', then cancels the response body. */
async function cancelMidStream(gw: Gateway): Promise<void> {
  up.setScript({ text: 'alpha beta gamma delta', chunks: 4, hangAfterChunks: 2 });
  const res = await gw.fetch(
    new Request('http://gw/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'up', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    }),
  );
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let text = '';
  // Everything the upstream sent is read: the body's next pull now waits for a part that does not come.
  while (!text.includes('beta')) text += new TextDecoder().decode((await reader.read()).value);
  await new Promise((r) => setTimeout(r, 50));
  const closed = up.waitForSocketClose(1, 3_000);
  // The client goes away: its response body is cancelled (the request's signal does not fire).
  void reader.cancel().catch(() => {});
  await closed;
  // And the router's call ends (as aborted).
  for (let i = 0; i < 100 && ends.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('a cancelled response body stops the upstream request', () => {
  it('a wrapped router whose streams have no cancel: aborted through the signal the gateway gave it', async () => {
    gateway = createGateway({ router: wrapRouter(router), log: () => {} });
    await cancelMidStream(gateway);
    expect(ends).toHaveLength(1);
    expect(ends[0]!.error?.code).toBe('aborted');
    // The signal the router got is the call's own controller's, aborted by the body's cancel.
    expect(router.signals).toHaveLength(1);
    expect(router.signals[0]?.aborted).toBe(true);
  }, 15_000);

  it('the built-in router: cancelled through RouterStream.cancel, its signal left alone (no controller of the gateway)', async () => {
    expect(router.cancellableStreams).toBe(true);
    gateway = createGateway({ router, log: () => {} });
    await cancelMidStream(gateway);
    expect(ends).toHaveLength(1);
    expect(ends[0]!.error?.code).toBe('aborted');
    // Whatever signal the router got (the client's, if any) was not aborted: the stream's cancel stopped the upstream.
    expect(router.signals).toHaveLength(1);
    expect(router.signals[0]?.aborted ?? false).toBe(false);
  }, 15_000);
});
