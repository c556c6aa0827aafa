import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { countingOpenAI, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// The operator caps a call's expected cost (`routing.options.intelligent.maxCostUsd`). A request whose own size puts
// every deployment over the cap (a large max_tokens, a long prompt) is the client's to change: a 400 naming the field,
// with the expected cost and the cap, as a context-window misfit is (capability-refusal.test.ts) - not a 503
// `no_deployment`, which the official clients retry, each retry failing the same way.

let gw: SdkGateway;
beforeAll(async () => {
  // Prices $1/M in, $2/M out (mockModel): 100 000 output tokens cost about $0.2, over the $0.01 cap on both.
  gw = await servedGateway({ models: [mockModel('a', {}, { quality: 0.9 }), mockModel('b', {}, { quality: 0.5 })], routing: { strategy: 'intelligent', options: { intelligent: { maxCostUsd: 0.01 } } } });
});
afterAll(async () => {
  await gw?.close();
});

async function failure<E>(call: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const e = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(type);
  return e as E;
}

describe('intelligent maxCostUsd against the request size', () => {
  it('chat completions: a small request is served; max_tokens over the cap is a 400 naming it, not retried', async () => {
    const { client, sent } = countingOpenAI(gw);
    const ok = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hello' }], max_tokens: 50 });
    expect(ok.choices).toHaveLength(1);
    const before = sent();
    const e = await failure(client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hello' }], max_tokens: 100_000 }), OpenAI.APIError);
    expect({ status: e.status, code: e.code, param: e.param }).toEqual({ status: 400, code: 'invalid_request', param: 'max_tokens' });
    expect(e.message).toContain('maxCostUsd 0.01');
    expect(e.message).toMatch(/expected cost 0\.2\d* USD/);
    expect(e.message).toContain('lower max_tokens to fit');
    expect(sent() - before).toBe(1);
  });

  it('chat completions: max_completion_tokens is named as the client sent it', async () => {
    const e = await failure(gw.openai().chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hello' }], max_completion_tokens: 100_000 }), OpenAI.APIError);
    expect({ status: e.status, param: e.param }).toEqual({ status: 400, param: 'max_completion_tokens' });
  });

  it('Responses API: max_output_tokens; Anthropic Messages: max_tokens', async () => {
    const r = await failure(gw.openai().responses.create({ model: 'auto', input: 'hello', max_output_tokens: 100_000 }), OpenAI.APIError);
    expect({ status: r.status, param: r.param }).toEqual({ status: 400, param: 'max_output_tokens' });
    // (16 000 output tokens: $0.032; the SDK refuses a non-streamed call of more than ~21 000.)
    const m = await failure(gw.anthropic().messages.create({ model: 'auto', max_tokens: 16_000, messages: [{ role: 'user', content: 'hello' }] }), Anthropic.APIError);
    expect(m.status).toBe(400);
    expect((m.error as { error: { param?: string } }).error.param).toBe('max_tokens');
  });

  it('a prompt over the cap by itself is a 400 naming the prompt', async () => {
    // ~40 000 tokens of input at $1/M: $0.04 before any output.
    const e = await failure(gw.openai().chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'word '.repeat(40_000) }], max_tokens: 1 }), OpenAI.APIError);
    expect({ status: e.status, param: e.param }).toEqual({ status: 400, param: 'messages' });
    expect(e.message).toContain('the prompt alone is over the cap');
  });
});
