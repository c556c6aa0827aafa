import Anthropic from '@anthropic-ai/sdk';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A request the named model can never serve (it lacks a capability the request needs, or the prompt does not fit its
// context window) is the client's error: a 400 (`unsupported`, or `context_length_exceeded`) naming the client's
// field and listing why each deployment was left out, as OpenAI and Anthropic answer such requests. Not a 503, which
// the official clients retry (openai and @anthropic-ai/sdk retry a 5xx twice by default), each retry failing the same
// way. The upstream is never called.

let upstream: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  upstream = await startOpenAIWireServer();
  gw = await servedGateway({
    models: [
      // A plain chat model (no tools, no vision, no JSON mode), one without streaming, and one with a small context window.
      { name: 'plain', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming'] },
      { name: 'unstreamed', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat'] },
      { name: 'small', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'], contextWindow: 200 },
    ],
    upstreams: [upstream],
  });
});
afterAll(() => gw?.close());
afterEach(() => {
  expect(upstream.requests).toHaveLength(0);
  clearRequests(upstream);
});

const TOOLS: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];

/** An openai client with the SDK's default retries, counting the requests it sends. */
function countingOpenAI(): { client: OpenAI; sent: () => number } {
  let n = 0;
  const client = new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey: gw.secret,
    maxRetries: 2,
    fetch: (input, init) => {
      n++;
      return fetch(input, init);
    },
  });
  return { client, sent: () => n };
}

async function openaiError(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const e = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OpenAI.APIError);
  return e as InstanceType<typeof OpenAI.APIError>;
}

describe('requests the named model can never serve are a 400, not a 503', () => {
  it('tools to a model without the tools capability (/v1/chat/completions): unsupported, param tools, sent once', async () => {
    const { client, sent } = countingOpenAI();
    const e = await openaiError(client.chat.completions.create({ model: 'plain', tools: TOOLS, messages: [{ role: 'user', content: 'x' }] }));
    expect([e.status, e.type, e.code, e.param]).toEqual([400, 'invalid_request_error', 'unsupported', 'tools']);
    expect(e.message).toContain('plain: lacks capabilities: tools');
    // Not retried: a 4xx is final for the client.
    expect(sent()).toBe(1);
    // Refused by the router once admitted: ledgered as an error that cost nothing, as a refused model is.
    expect(await gw.ledger.query({ tenantId: 'acme' })).toEqual([expect.objectContaining({ model: 'plain', status: 'error', errorCode: 'unsupported', costUsd: 0 })]);
  });

  it('JSON mode and streaming name the client\'s fields (response_format, stream)', async () => {
    const json = await openaiError(gw.openai().chat.completions.create({ model: 'plain', response_format: { type: 'json_object' }, messages: [{ role: 'user', content: 'x' }] }));
    expect([json.status, json.code, json.param]).toEqual([400, 'unsupported', 'response_format']);
    expect(json.message).toContain('plain: lacks capabilities: json');
    const stream = await openaiError(gw.openai().chat.completions.create({ model: 'unstreamed', stream: true, messages: [{ role: 'user', content: 'x' }] }));
    expect([stream.status, stream.code, stream.param]).toEqual([400, 'unsupported', 'stream']);
  });

  it('an image to a model without vision (/v1/messages): invalid_request_error in Anthropic\'s shape', async () => {
    const e = await gw
      .anthropic()
      .messages.create({ model: 'plain', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }] })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(e).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (e as InstanceType<typeof Anthropic.BadRequestError>).error as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('plain: lacks capabilities: vision');
  });

  it('a prompt longer than the only deployment\u2019s context window: context_length_exceeded, param messages', async () => {
    const { client, sent } = countingOpenAI();
    const e = await openaiError(client.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'word '.repeat(2000) }] }));
    expect([e.status, e.type, e.code, e.param]).toEqual([400, 'invalid_request_error', 'context_length_exceeded', 'messages']);
    expect(e.message).toMatch(/small: context window 200 < ~\d+ tokens needed/);
    expect(sent()).toBe(1);
  });

  it('a prompt that fits but not with max_tokens names max_tokens', async () => {
    const e = await openaiError(gw.openai().chat.completions.create({ model: 'small', max_tokens: 500, messages: [{ role: 'user', content: 'hello' }] }));
    expect([e.status, e.code, e.param]).toEqual([400, 'context_length_exceeded', 'max_tokens']);
  });
});
