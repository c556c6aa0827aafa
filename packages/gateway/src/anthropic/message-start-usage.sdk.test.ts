import type Anthropic from '@anthropic-ai/sdk';
import { startAnthropicWireServer, startOpenAIWireServer, type AnthropicWireServer, type AnthropicWireUsage, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import type { ModelInput } from '../test-support/harness.js';

// Review of 907f87c (stream-encoder.ts: message_start waits for the head and carries the prompt's usage), with the
// official @anthropic-ai/sdk 1.14 client through a served gateway, to a local Anthropic-wire upstream.
//
// The SDK's MessageStream takes `usage.cache_creation` (the writes by TTL) from message_start only: message_delta
// (MessageDeltaUsage) has no such field, and its other numbers overwrite message_start's. So whatever message_start
// says about the TTL split is what `finalMessage().usage` reports at the end.

const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make? (review 907f87c)';
const WRONG = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 19 dollars.\n#### 19';
const RIGHT = 'Janet sells 16 - 3 - 4 = 9 eggs for 9 * 2 = 18 dollars.\n#### 18';
// The weak step wrote 1000 tokens for 5 minutes; the strong step 300 for an hour.
const WEAK_USAGE = { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 1000, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 0 } } as AnthropicWireUsage;
const STRONG_USAGE = { input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 0, cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 300 } } as AnthropicWireUsage;

let up: AnthropicWireServer;
let oa: OpenAIWireServer;
let gw: SdkGateway;

const claude = (name: string, model: string): ModelInput => ({ name, engine: 'anthropic', baseURL: up.url, model, apiKey: 'ak', capabilities: ['chat', 'streaming', 'tools'] }) as ModelInput;

beforeAll(async () => {
  up = await startAnthropicWireServer({ apiKey: 'ak' });
  // An OpenAI-compatible strong step: its usage comes at the end, none before its content.
  oa = await startOpenAIWireServer({ script: { text: RIGHT, usage: { prompt_tokens: 20, completion_tokens: 7 } } });
  const gpt = { name: 'gpt', engine: 'openai-compatible', baseURL: oa.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] } as ModelInput;
  gw = await servedGateway({
    models: [claude('haiku', 'claude-haiku-4-5'), claude('opus', 'claude-opus-4-8'), gpt],
    routing: {
      cascades: [
        { name: 'eggs', weak: 'haiku', strong: 'opus', verifier: 'arithmetic' },
        { name: 'eggs-gpt', weak: 'haiku', strong: 'gpt', verifier: 'arithmetic' },
      ],
    },
    cache: { exact: { enabled: true } },
    upstreams: [up, oa],
  });
});
afterAll(() => gw?.close());

/** The SDK stream's message_start usage and final message. */
async function streamed(params: Anthropic.MessageCreateParamsNonStreaming): Promise<{ start: Anthropic.Usage | undefined; message: Anthropic.Message }> {
  const s = gw.anthropic().messages.stream(params);
  let start: Anthropic.Usage | undefined;
  s.on('streamEvent', (e) => {
    if (e.type === 'message_start') start = { ...e.message.usage };
  });
  return { message: await s.finalMessage(), start };
}

describe('streamed message_start usage (review of 907f87c)', () => {
  it('an escalated cascade: finalMessage().usage equals the JSON answer, the cache writes by TTL those of both steps', async () => {
    const params = { model: 'eggs', max_tokens: 100, messages: [{ role: 'user', content: QUESTION }], llmrr: { cache: false } } as Anthropic.MessageCreateParamsNonStreaming;
    up.enqueue({ content: WRONG, usage: WEAK_USAGE }, { content: RIGHT, usage: STRONG_USAGE });
    const json = await gw.anthropic().messages.create(params);
    expect(json.content[0]).toMatchObject({ type: 'text', text: RIGHT });
    // Both steps: 1300 written, 1000 of them for 5 minutes and 300 for an hour.
    expect(json.usage).toMatchObject({ cache_creation_input_tokens: 1300, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 300 } });

    up.enqueue({ content: WRONG, usage: WEAK_USAGE }, { content: RIGHT, usage: STRONG_USAGE });
    const { message } = await streamed(params);
    // 907f87c: message_start carries the strong step's prompt usage alone (its 300 one-hour writes); message_delta
    // then says 1300 written (both steps), so the final usage's split, { 5m: 0, 1h: 300 }, does not add up to its
    // own cache_creation_input_tokens and is not the JSON answer's.
    expect(message.usage).toEqual(json.usage);
  });

  it('an escalated cascade whose strong step reports no usage before its content: message_start has the weak step\'s, so the split is the JSON answer\'s', async () => {
    const params = { model: 'eggs-gpt', max_tokens: 100, messages: [{ role: 'user', content: QUESTION }], llmrr: { cache: false } } as Anthropic.MessageCreateParamsNonStreaming;
    up.enqueue({ content: WRONG, usage: WEAK_USAGE });
    const json = await gw.anthropic().messages.create(params);
    expect(json.content[0]).toMatchObject({ type: 'text', text: RIGHT });
    expect(json.usage).toMatchObject({ cache_creation_input_tokens: 1000, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 0 } });

    up.enqueue({ content: WRONG, usage: WEAK_USAGE });
    const { start, message } = await streamed(params);
    // The weak step's prompt (its input 10 besides 100 read and 1000 written), output 0.
    expect(start).toMatchObject({ input_tokens: 10, output_tokens: 0, cache_read_input_tokens: 100, cache_creation_input_tokens: 1000 });
    expect(message.usage).toEqual(json.usage);
  });

  it('a router cache hit: finalMessage().usage equals the JSON answer (its cache counts, the TTL split too, are 0)', async () => {
    const params = { model: 'opus', max_tokens: 100, messages: [{ role: 'user', content: 'Cache this answer (review 907f87c).' }] } as Anthropic.MessageCreateParamsNonStreaming;
    up.enqueue({ content: 'Cached.', usage: STRONG_USAGE });
    const miss = await gw.anthropic().messages.create(params).withResponse();
    expect(miss.response.headers.get('x-llmrr-cache')).toBe('miss');
    const hit = await gw.anthropic().messages.create(params).withResponse();
    expect(hit.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(hit.data.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } });
    const { message } = await streamed(params);
    // The replayed stream has no usage part before its content, so message_start says { input_tokens: 0,
    // output_tokens: 0 } and the final usage has no cache_creation at all.
    expect(message.usage).toEqual(hit.data.usage);
  });

  it('an empty answer: message_start goes out without waiting for the call to be settled (the ledger write)', async () => {
    const ledger = gw.ledger;
    const original = ledger.record.bind(ledger);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let recording!: () => void;
    const recordingStarted = new Promise<void>((r) => (recording = r));
    ledger.record = (async (row: Parameters<typeof original>[0]) => {
      recording();
      await released;
      return original(row);
    }) as typeof ledger.record;
    try {
      up.enqueue({ content: [], usage: { input_tokens: 12, output_tokens: 0 } });
      const s = gw.anthropic().messages.stream({ model: 'opus', max_tokens: 100, messages: [{ role: 'user', content: 'Say nothing (review 907f87c).' }], llmrr: { cache: false } } as Anthropic.MessageCreateParamsNonStreaming);
      const started = new Promise<'message_start'>((resolve) => s.on('streamEvent', (e) => e.type === 'message_start' && resolve('message_start')));
      const done = s.finalMessage().catch(() => undefined);
      await recordingStarted;
      // The upstream has answered in full and the gateway is writing the ledger. Before 907f87c message_start and
      // ping were the stream's first write, with the headers; now they wait for the finish frames, which wait for
      // the settle. (A generous bound: the frames are already written, or never before the release.)
      const first = await Promise.race([started, new Promise<'nothing'>((r) => setTimeout(() => r('nothing'), 3000))]);
      release();
      await done;
      expect(first).toBe('message_start');
    } finally {
      release();
      ledger.record = original;
    }
  });
});
