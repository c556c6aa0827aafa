import Anthropic from '@anthropic-ai/sdk';
import type { AnthropicWireServer, AnthropicWireUsage, GeminiWireServer, OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// Prompt caching through the gateway with the official SDKs: the cache breakpoints a client sends reach the
// Anthropic upstream where it put them, the cache usage comes back as each wire format counts it (no double
// count), and the cost prices cache reads and writes, the same streamed and not. Upstreams: the local Anthropic
// and OpenAI wire servers, answering with cache usage.

let claudeUp: AnthropicWireServer;
let openaiUp: OpenAIWireServer;
let geminiUp: GeminiWireServer;
let gw: SdkGateway;

// USD per 1M tokens: Claude Sonnet's base input and output; cache reads 0.1x input, 5-minute writes 1.25x,
// 1-hour writes 2x (Anthropic's multipliers).
const PRICE = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 };

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: claudeUp, openai: openaiUp, gemini: geminiUp } } = await servedOverWireUpstreams((u) => [
    wireDeployment(u, 'claude', { price: PRICE }),
    // Counts with the upstream's count_tokens.
    wireDeployment(u, 'claude', { name: 'claude-count', options: { exactTokenCount: true } }),
    wireDeployment(u, 'gpt', { price: { input: 2, output: 8, cachedInput: 0.5 } }),
    wireDeployment(u, 'gem', { price: { input: 0.3, output: 2.5, cachedInput: 0.03 } }),
  ]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp, openaiUp, geminiUp));

const EPH = { type: 'ephemeral' } as const;

const tools: Anthropic.Tool[] = [
  { name: 'get_weather', description: 'Weather of a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
  { name: 'get_time', input_schema: { type: 'object', properties: {} }, cache_control: EPH },
];

/** Claude Code's shape: breakpoints on the last system block, the last tool and the last user block. */
const cachedBody = (model: string): Anthropic.MessageCreateParamsNonStreaming => ({
  model,
  max_tokens: 200,
  system: [
    { type: 'text', text: 'You are a weather assistant.' },
    { type: 'text', text: 'A long style guide that is the same on every call.', cache_control: EPH },
  ],
  tools,
  messages: [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?', cache_control: EPH }] },
  ],
});

// 50 uncached input tokens, 4000 read from the cache, 1000 written to it (5 minutes), 20 out.
const CACHE_USAGE = {
  input_tokens: 50,
  output_tokens: 20,
  cache_read_input_tokens: 4000,
  cache_creation_input_tokens: 1000,
  cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 0 },
} as AnthropicWireUsage;
// (50 * 3 + 4000 * 0.3 + 1000 * 3.75 + 20 * 15) / 1e6
const CACHE_COST = 0.0054;

/** The upstream body of the last call. */
const sentToClaude = () => claudeUp.requests.at(-1)!.body as { system: unknown; tools: unknown[]; messages: Array<{ content: unknown }>; cache_control?: unknown };

function expectBreakpoints(): void {
  const body = sentToClaude();
  // The client's system blocks as it sent them, the mark on its block (other deployments get the "\n" join).
  expect(body.system).toEqual([
    { type: 'text', text: 'You are a weather assistant.' },
    { type: 'text', text: 'A long style guide that is the same on every call.', cache_control: EPH },
  ]);
  expect(body.tools.map((t) => (t as { cache_control?: unknown }).cache_control)).toEqual([undefined, EPH]);
  expect(body.messages.at(-1)!.content).toEqual([{ type: 'text', text: 'Weather in Paris?', cache_control: EPH }]);
}

/** message_delta's `llmrr` info of a streamed call (its cost). */
async function streamed(params: Anthropic.MessageCreateParamsNonStreaming): Promise<{ message: Anthropic.Message; costUsd: number | undefined }> {
  const s = gw.anthropic().messages.stream(params);
  let costUsd: number | undefined;
  s.on('streamEvent', (e) => {
    if (e.type === 'message_delta') costUsd = (e as unknown as { llmrr?: { cost_usd: number } }).llmrr?.cost_usd;
  });
  return { message: await s.finalMessage(), costUsd };
}

describe('/v1/messages with cache_control to an Anthropic deployment, @anthropic-ai/sdk', () => {
  it('not streamed: the breakpoints reach the upstream; usage as Anthropic counts it; the cost prices reads and writes', async () => {
    claudeUp.enqueue({ content: 'Sunny.', usage: CACHE_USAGE });
    const { data, response } = await gw.anthropic().messages.create(cachedBody('claude')).withResponse();
    expectBreakpoints();
    expect(data.usage).toMatchObject({
      input_tokens: 50,
      output_tokens: 20,
      cache_read_input_tokens: 4000,
      cache_creation_input_tokens: 1000,
      cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 0 },
    });
    expect(Number(response.headers.get('x-llmrr-cost-usd'))).toBe(CACHE_COST);
    expect((data as unknown as { llmrr: { cost_usd: number } }).llmrr.cost_usd).toBe(CACHE_COST);
  });

  it('streamed: the same breakpoints, usage totals in message_delta, the same cost', async () => {
    claudeUp.enqueue({ content: 'Sunny.', usage: CACHE_USAGE, chunks: 2 });
    const { message, costUsd } = await streamed(cachedBody('claude'));
    expectBreakpoints();
    expect(message.usage).toMatchObject({ input_tokens: 50, output_tokens: 20, cache_read_input_tokens: 4000, cache_creation_input_tokens: 1000 });
    expect(costUsd).toBe(CACHE_COST);
  });

  it('the ledger records the same cost for the streamed and the non-streamed call', async () => {
    await vi.waitFor(
      async () => {
        const entries = (await gw.ledger.query({ tenantId: 'acme' })).filter((e) => e.deployment === 'claude');
        expect(entries.map((e) => [e.stream, e.inputTokens, e.cachedInputTokens, e.cacheWriteInputTokens, e.costUsd]).sort()).toEqual([
          [false, 5050, 4000, 1000, CACHE_COST],
          [true, 5050, 4000, 1000, CACHE_COST],
        ]);
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it('count_tokens: the marks reach the upstream count, a bad one is a 400 naming it', async () => {
    const { model: _m, max_tokens: _t, ...prompt } = cachedBody('claude-count');
    const count = await gw.anthropic().messages.countTokens({ ...prompt, model: 'claude-count' });
    expect(count.input_tokens).toBeGreaterThan(0);
    const sent = claudeUp.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages/count_tokens');
    expectBreakpoints();
    const bad = { ...prompt, model: 'claude-count', tools: [{ ...tools[0]!, cache_control: { type: 'persistent' } }] } as unknown as Anthropic.MessageCountTokensParams;
    const error = await gw.anthropic().messages.countTokens(bad).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, error: { error: { param: 'tools.0.cache_control.type' } } });
  });

  it('1-hour marks and automatic caching: sent as they are; 1-hour writes priced at 2x', async () => {
    const usage = { input_tokens: 10, output_tokens: 10, cache_read_input_tokens: 0, cache_creation_input_tokens: 3000, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 } } as AnthropicWireUsage;
    claudeUp.enqueue({ content: 'ok', usage });
    const H1 = { type: 'ephemeral', ttl: '1h' } as const;
    const { data, response } = await gw
      .anthropic()
      .messages.create({ model: 'claude', max_tokens: 50, system: [{ type: 'text', text: 'Long rules.', cache_control: H1 }], messages: [{ role: 'user', content: 'Hi' }], cache_control: EPH })
      .withResponse();
    const body = sentToClaude();
    expect(body.system).toEqual([{ type: 'text', text: 'Long rules.', cache_control: H1 }]);
    expect(body.cache_control).toEqual(EPH);
    expect(data.usage).toMatchObject({ input_tokens: 10, cache_creation_input_tokens: 3000, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 } });
    // (10 * 3 + 1000 * 3.75 + 2000 * 6 + 10 * 15) / 1e6
    expect(Number(response.headers.get('x-llmrr-cost-usd'))).toBe(0.01593);
  });

  it('a bad cache_control is a 400 naming the field; nothing reaches the upstream', async () => {
    const bad = { ...cachedBody('claude'), system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b', cache_control: { type: 'ephemeral', ttl: '2h' } }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const error = await gw.anthropic().messages.create(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (error as InstanceType<typeof Anthropic.BadRequestError>).error as { type: string; error: { type: string; param: string; message: string } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'system.1.cache_control.ttl' });
    expect(body.error.message).toContain('system.1.cache_control.ttl');
    expect(claudeUp.requests).toHaveLength(0);
  });
});

describe('/v1/messages to an OpenAI deployment that reports cached tokens', () => {
  const usage = { prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306, prompt_tokens_details: { cached_tokens: 1920 } };
  // (86 * 2 + 1920 * 0.5 + 300 * 8) / 1e6
  const cost = 0.003532;

  it('not streamed and streamed: input_tokens without the cache reads (no double count); the marks are not sent there', async () => {
    openaiUp.setScript({ text: 'Sunny.', usage, streamUsage: 'always' });
    const { data, response } = await gw.anthropic().messages.create(cachedBody('gpt')).withResponse();
    expect(data.usage).toMatchObject({ input_tokens: 86, output_tokens: 300, cache_read_input_tokens: 1920, cache_creation_input_tokens: 0 });
    expect(data.usage.input_tokens + (data.usage.cache_read_input_tokens ?? 0) + (data.usage.cache_creation_input_tokens ?? 0)).toBe(2006);
    expect(Number(response.headers.get('x-llmrr-cost-usd'))).toBe(cost);
    expect(openaiUp.requests.at(-1)!.rawBody).not.toContain('cache_control');

    const { message, costUsd } = await streamed(cachedBody('gpt'));
    expect(message.usage).toMatchObject({ input_tokens: 86, output_tokens: 300, cache_read_input_tokens: 1920, cache_creation_input_tokens: 0 });
    expect(costUsd).toBe(cost);
  });
});

describe('/v1/messages to a Gemini deployment that reports cached tokens', () => {
  it('input_tokens without the cached tokens, not streamed and streamed', async () => {
    const usage = { promptTokenCount: 3000, candidatesTokenCount: 40, cachedContentTokenCount: 2048 };
    geminiUp.enqueue({ parts: 'Sunny.', usage }, { parts: 'Sunny.', usage });
    const { data } = await gw.anthropic().messages.create(cachedBody('gem')).withResponse();
    expect(data.usage).toMatchObject({ input_tokens: 952, output_tokens: 40, cache_read_input_tokens: 2048, cache_creation_input_tokens: 0 });
    const { message } = await streamed(cachedBody('gem'));
    expect(message.usage).toMatchObject({ input_tokens: 952, output_tokens: 40, cache_read_input_tokens: 2048 });
    expect(geminiUp.requests.at(-1)!.rawBody).not.toContain('cache_control');
  });
});

describe('/v1/chat/completions with LiteLLM-style cache_control to an Anthropic deployment, openai SDK', () => {
  // The openai SDK has no cache_control in its types; LiteLLM's users send it as an extra field, as here.
  const params = {
    model: 'claude',
    max_tokens: 200,
    messages: [
      // The breakpoint stays before the part that changes from call to call.
      { role: 'system', content: [{ type: 'text', text: 'A long style guide.', cache_control: EPH }, { type: 'text', text: 'Today is Thursday.' }] },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?', cache_control: { type: 'ephemeral', ttl: '5m' } }] },
    ],
    tools: [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } }, cache_control: EPH },
    ],
  } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;

  function expectChatBreakpoints(): void {
    const body = sentToClaude();
    expect(body.system).toEqual([
      { type: 'text', text: 'A long style guide.', cache_control: EPH },
      { type: 'text', text: 'Today is Thursday.' },
    ]);
    expect(body.tools.map((t) => (t as { cache_control?: unknown }).cache_control)).toEqual([undefined, EPH]);
    expect(body.messages.at(-1)!.content).toEqual([{ type: 'text', text: 'Weather in Paris?', cache_control: { type: 'ephemeral', ttl: '5m' } }]);
  }

  it('not streamed and streamed: the marks reach Anthropic; prompt_tokens counts all input, reads and writes in its details', async () => {
    claudeUp.enqueue({ content: 'Sunny.', usage: CACHE_USAGE });
    const { data, response } = await gw.openai().chat.completions.create(params).withResponse();
    expectChatBreakpoints();
    const details = { cached_tokens: 4000, cache_write_tokens: 1000 };
    expect(data.usage).toMatchObject({ prompt_tokens: 5050, completion_tokens: 20, total_tokens: 5070, prompt_tokens_details: details });
    expect(Number(response.headers.get('x-llmrr-cost-usd'))).toBe(CACHE_COST);

    claudeUp.enqueue({ content: 'Sunny.', usage: CACHE_USAGE, chunks: 2 });
    const stream = await gw.openai().chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | undefined;
    let costUsd: number | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      costUsd = (chunk as unknown as { llmrr?: { cost_usd: number } }).llmrr?.cost_usd ?? costUsd;
    }
    expectChatBreakpoints();
    expect(usage).toMatchObject({ prompt_tokens: 5050, prompt_tokens_details: details });
    expect(costUsd).toBe(CACHE_COST);
  });

  it('a bad cache_control is a 400 naming the field', async () => {
    const bad = { ...params, messages: [{ role: 'user', content: 'Hi', cache_control: { type: 'ephemeral', ttl: 60 } }] } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const error = await gw.openai().chat.completions.create(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'messages.0.cache_control.ttl' });
    expect(claudeUp.requests).toHaveLength(0);
  });
});
