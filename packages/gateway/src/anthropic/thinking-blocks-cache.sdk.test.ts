import type Anthropic from '@anthropic-ai/sdk';
import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { nextWeatherTurn, REDACTED, SIGNATURE, THINKING, toolUse, upstreamAssistant as assistantSent, weatherTurn } from '../test-support/thinking-tool-turns.js';

// The two-turn thinking + tool loop of the official @anthropic-ai/sdk through a gateway with the exact cache on,
// where the first turn is a cache hit: the cached answer must still carry its signed (and redacted) thinking
// blocks, streamed (thinking_delta pieces, then signature_delta) and not, so that the client's next turn gives
// them back and the upstream accepts it. The upstream is the local Anthropic wire server that checks thinking
// blocks as the real API does (`checkThinkingBlocks`: else the 400 "Expected `thinking` or `redacted_thinking`,
// but found `tool_use`").

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  claudeUp = await startAnthropicWireServer({ apiKey: 'ak', checkThinkingBlocks: true });
  gw = await servedGateway({
    models: [{ name: 'claude', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-test', apiKey: 'ak', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] }],
    cache: { exact: { enabled: true } },
    upstreams: [claudeUp],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp));

const client = () => gw.anthropic();

const blocks = [{ type: 'thinking' as const, thinking: THINKING, signature: SIGNATURE }, { type: 'redacted_thinking' as const, data: REDACTED }, toolUse];

let n = 0;
const question = () => `Weather in Paris? (cached ${++n})`;
// No temperature (thinking forbids one): the exact cache serves the call.
const base = weatherTurn;
const next = nextWeatherTurn;
const upstreamAssistant = (i: number) => assistantSent(claudeUp, i);

/** A streamed call: the final message and the x-llmrr-cache header. */
async function streamed(body: ReturnType<typeof base>): Promise<{ message: Anthropic.Message; cache: string | null; signatureDeltas: number }> {
  const s = client().messages.stream(body);
  let signatureDeltas = 0;
  s.on('streamEvent', (e) => {
    if (e.type === 'content_block_delta' && e.delta.type === 'signature_delta') signatureDeltas++;
  });
  const { response } = await s.withResponse();
  return { message: await s.finalMessage(), cache: response.headers.get('x-llmrr-cache'), signatureDeltas };
}

async function created(body: ReturnType<typeof base>): Promise<{ message: Anthropic.Message; cache: string | null }> {
  const { data, response } = await client().messages.create(body).withResponse();
  return { message: data, cache: response.headers.get('x-llmrr-cache') };
}

describe('/v1/messages with the exact cache: a cached thinking + tool turn, official Anthropic client', () => {
  it('streamed live, then a streamed hit and a non-streamed hit: each keeps the signed blocks, and each next turn is accepted', async () => {
    claudeUp.enqueue({ content: blocks, chunks: 3, usage: { input_tokens: 50, output_tokens: 70 } });
    const q = question();
    const live = await streamed(base(q));
    expect(live.cache).toBe('miss');
    expect(live.message.content).toEqual(blocks);

    const hit = await streamed(base(q));
    expect(hit.cache).toBe('hit-exact');
    expect(hit.message.content).toEqual(blocks);
    expect(hit.signatureDeltas).toBe(1); // the signed block's signature_delta, as live
    const hitCreated = await created(base(q));
    expect(hitCreated.cache).toBe('hit-exact');
    expect(hitCreated.message.content).toEqual(blocks);
    expect(claudeUp.requests).toHaveLength(1);

    claudeUp.enqueue({ content: 'It is sunny, 18C.' }, { content: 'Still sunny.' });
    expect((await streamed(next(q, hit.message, '18C, sunny'))).message.content).toEqual([{ type: 'text', text: 'It is sunny, 18C.' }]);
    expect((await created(next(q, hitCreated.message, '18C, sunny (again)'))).message.content).toEqual([{ type: 'text', text: 'Still sunny.' }]);
    expect(claudeUp.requests).toHaveLength(3);
    expect(upstreamAssistant(1)).toEqual({ role: 'assistant', content: blocks });
    expect(upstreamAssistant(2)).toEqual({ role: 'assistant', content: blocks });
  });

  it('non-streamed live, then a streamed hit: the next turn is accepted', async () => {
    const withText = [blocks[0]!, { type: 'text' as const, text: 'Let me check.' }, toolUse];
    claudeUp.enqueue({ content: withText, usage: { input_tokens: 40, output_tokens: 60 } });
    const q = question();
    const live = await created(base(q));
    expect(live.cache).toBe('miss');
    expect(live.message.content).toEqual(withText);
    const hit = await streamed(base(q));
    expect(hit.cache).toBe('hit-exact');
    expect(hit.message.content).toEqual(withText);

    claudeUp.enqueue({ content: 'It is sunny, 18C.' });
    expect((await created(next(q, hit.message, '18C, sunny'))).message.content).toEqual([{ type: 'text', text: 'It is sunny, 18C.' }]);
    expect(claudeUp.requests).toHaveLength(2);
    expect(upstreamAssistant(1)).toEqual({ role: 'assistant', content: withText });
  });
});
