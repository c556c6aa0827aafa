import Anthropic from '@anthropic-ai/sdk';
import { estimateRequestTokens } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, countingOpenAI, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A request the named model can never serve (it lacks a capability the request needs, or the prompt does not fit its
// context window) is the client's error: a 400 (`unsupported`, or `context_length_exceeded`) naming the client's
// field and listing why each deployment was left out, as OpenAI and Anthropic answer such requests. Not a 503, which
// the official clients retry (openai and @anthropic-ai/sdk retry a 5xx twice by default), each retry failing the same
// way. The upstream is never called. On /v1/responses the prompt is `input`, on /v1/completions `prompt`; with a tenant
// budget, the max_tokens the gateway fills in (the client sent none) never makes a prompt that fits unservable.

let upstream: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  upstream = await startOpenAIWireServer();
  gw = await servedGateway({
    models: [
      // A plain chat model (no tools, no vision, no JSON mode), one without streaming, and one with a small context window.
      { name: 'plain', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'completion', 'streaming'] },
      { name: 'unstreamed', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat'] },
      { name: 'small', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'completion', 'streaming', 'tools'], contextWindow: 200 },
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
    const { client, sent } = countingOpenAI(gw);
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
    const { client, sent } = countingOpenAI(gw);
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

describe('the refusal names the client field on /v1/responses and /v1/completions', () => {
  it('/v1/responses: a prompt longer than the context window names input', async () => {
    const e = await openaiError(gw.openai().responses.create({ model: 'small', input: 'word '.repeat(2000) }));
    expect([e.status, e.code, e.param]).toEqual([400, 'context_length_exceeded', 'input']);
  });

  it('/v1/responses: an image to a model without vision names input', async () => {
    const e = await openaiError(
      gw.openai().responses.create({
        model: 'plain',
        input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto' }] }],
      }),
    );
    expect([e.status, e.code, e.param]).toEqual([400, 'unsupported', 'input']);
  });

  it('/v1/responses: tools, text.format and max_output_tokens as the client named them', async () => {
    const tools = await openaiError(gw.openai().responses.create({ model: 'plain', input: 'x', tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: {} }, strict: false }] }));
    expect([tools.status, tools.code, tools.param]).toEqual([400, 'unsupported', 'tools']);
    const json = await openaiError(gw.openai().responses.create({ model: 'plain', input: 'x', text: { format: { type: 'json_object' } } }));
    expect([json.status, json.code, json.param]).toEqual([400, 'unsupported', 'text.format']);
    const max = await openaiError(gw.openai().responses.create({ model: 'small', input: 'hello', max_output_tokens: 500 }));
    expect([max.status, max.code, max.param]).toEqual([400, 'context_length_exceeded', 'max_output_tokens']);
  });

  it('/v1/completions: a prompt longer than the context window names prompt; a too large max_tokens names max_tokens', async () => {
    const e = await openaiError(gw.openai().completions.create({ model: 'small', prompt: 'word '.repeat(2000) }));
    expect([e.status, e.code, e.param]).toEqual([400, 'context_length_exceeded', 'prompt']);
    const max = await openaiError(gw.openai().completions.create({ model: 'small', prompt: 'hello', max_tokens: 500 }));
    expect([max.status, max.code, max.param]).toEqual([400, 'context_length_exceeded', 'max_tokens']);
  });
});

describe('a tenant budget and the context-window refusal', () => {
  let up: OpenAIWireServer;
  let budgeted: SdkGateway;
  beforeAll(async () => {
    up = await startOpenAIWireServer();
    budgeted = await servedGateway({
      models: [{ name: 'mid', engine: 'openai-compatible', baseURL: up.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming'], contextWindow: 4500, price: { input: 1, output: 2 } }],
      upstreams: [up],
    });
    await budgeted.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 1000, period: 'month' } });
  });
  afterAll(() => budgeted?.close());
  afterEach(() => clearRequests(up));

  const prompt = 'word '.repeat(400); // ~500 tokens, well inside the 4,500-token window

  it('a prompt that fits, without max_tokens, is served with the room its window leaves (not a 400 naming max_tokens)', async () => {
    const answer = await budgeted.openai().chat.completions.create({ model: 'mid', messages: [{ role: 'user', content: prompt }] });
    expect(answer.choices[0]!.message.content).toBeTruthy();
    // The cap sent is the one the reservation assumed: the default (4096) bounded by the window's room.
    const body = up.requests.at(-1)!.body as { max_tokens?: number; max_completion_tokens?: number };
    const room = 4500 - estimateRequestTokens({ messages: [{ role: 'user', content: prompt }] });
    expect(body.max_completion_tokens ?? body.max_tokens).toBe(room);
  });

  it("the client's own max_tokens that does not fit is still refused, naming it", async () => {
    const e = await openaiError(budgeted.openai().chat.completions.create({ model: 'mid', max_tokens: 4400, messages: [{ role: 'user', content: prompt }] }));
    expect([e.status, e.code, e.param]).toEqual([400, 'context_length_exceeded', 'max_tokens']);
    expect(up.requests).toHaveLength(0);
  });
});
