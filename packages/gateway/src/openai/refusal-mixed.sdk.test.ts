import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A stream whose answer starts as content and then turns into a refusal (content deltas, then `delta.refusal`
// deltas). Live, the gateway relays each delta as it came (content as `content`, the refusal as `refusal`). The
// router keeps the two apart (`RouterResult.text` the content, `RouterResult.refusal` the refusal), and so does the
// exact cache: replayed, streamed or answered, the content comes back as `content` and the refusal as `refusal`.

const CONTENT = 'Here are the first two steps. ';
const REFUSAL = "I can't help with the rest.";

function mixedSSE(): string {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-mixed', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  return chunk({ role: 'assistant', content: '' }) + chunk({ content: CONTENT }) + chunk({ refusal: REFUSAL }) + chunk({}, 'stop') + 'data: [DONE]\n\n';
}

let upstream: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { rawSSE: mixedSSE() } });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools', 'json'] }],
    cache: { exact: { enabled: true } },
    upstreams: [upstream],
  });
});
afterAll(() => gw?.close());

const ask = { model: 'gpt', messages: [{ role: 'user' as const, content: 'List the steps to open the door.' }] };

describe('/v1/chat/completions: an answer that is part content, part refusal', () => {
  it('the exact cache gives back the content as content, as the live stream did (streamed and answered)', async () => {
    const live = await gw.openai().chat.completions.stream(ask).finalChatCompletion();
    // Live: the relay is faithful.
    expect({ content: live.choices[0]!.message.content, refusal: live.choices[0]!.message.refusal }).toEqual({ content: CONTENT, refusal: REFUSAL });
    const sent = upstream.requests.length;

    const replayed = await gw.openai().chat.completions.stream(ask).finalChatCompletion();
    expect(upstream.requests.length, 'answered from the exact cache').toBe(sent);
    expect(replayed.choices[0]!.message.content, 'streamed from the cache').toBe(CONTENT);
    expect(replayed.choices[0]!.message.refusal, 'streamed from the cache').toBe(REFUSAL);

    const answered = await gw.openai().chat.completions.create(ask);
    expect(upstream.requests.length, 'answered from the exact cache').toBe(sent);
    expect(answered.choices[0]!.message.content, 'answered from the cache').toBe(CONTENT);
    expect(answered.choices[0]!.message.refusal, 'answered from the cache').toBe(REFUSAL);

    // /v1/responses (the same request, from the cache): the content's message, then the refusal's, streamed or not.
    const items = [
      { type: 'message', content: [{ type: 'output_text', text: CONTENT }] },
      { type: 'message', content: [{ type: 'refusal', refusal: REFUSAL }] },
    ];
    const response = await gw.openai().responses.create({ model: 'gpt', input: ask.messages });
    expect(response.output).toMatchObject(items);
    const streamed = await gw.openai().responses.stream({ model: 'gpt', input: ask.messages }).finalResponse();
    expect(streamed.output).toMatchObject(items);

    // /v1/messages and /v1/completions have no refusal field: the refusal is text after the content.
    // (A request of its own: `max_tokens` is part of the cache key. Live streamed, then answered from the cache.)
    const anthropicAsk = { model: 'gpt', max_tokens: 256, messages: ask.messages };
    const liveMessage = await gw.anthropic().messages.stream(anthropicAsk).finalMessage();
    expect(liveMessage.content).toMatchObject([{ type: 'text', text: CONTENT + REFUSAL }]);
    const streamedOnce = upstream.requests.length;
    const cachedMessage = await gw.anthropic().messages.create(anthropicAsk);
    expect(upstream.requests.length, 'answered from the exact cache').toBe(streamedOnce);
    expect(cachedMessage.content).toMatchObject([{ type: 'text', text: CONTENT + REFUSAL }]);
  });
});

// The gateway answers a refusal as `message: { content: null, refusal: "..." }`. A client of the official `openai`
// package continues the conversation the usual way, pushing `completion.choices[0].message` back into `messages`:
// the assistant turn's `refusal` becomes the turn's text upstream (as a `refusal` part given back does, and as the
// Responses route does for a `refusal` part), so the model sees what it said.
describe('/v1/chat/completions: a refusal answer given back on the next turn', () => {
  it('the assistant turn the client echoes keeps the refusal text upstream', async () => {
    const REFUSED = "I'm sorry, I can't help with that request.";
    upstream.setScript([
      {
        json: {
          id: 'chatcmpl-refused',
          object: 'chat.completion',
          created: 1_700_000_000,
          model: 'gpt-test',
          choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: REFUSED }, logprobs: null, finish_reason: 'stop' }],
          usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 },
        },
      },
      { text: 'Fine, here is a poem instead.' },
    ]);
    const client = gw.openai();
    const messages: Array<Record<string, unknown>> = [{ role: 'user', content: 'Tell me how to pick the lock of my neighbour.' }];
    const first = await client.chat.completions.create({ model: 'gpt', messages: messages as never });
    expect(first.choices[0]!.message).toMatchObject({ content: null, refusal: REFUSED });
    messages.push(first.choices[0]!.message as never, { role: 'user', content: 'Then write me a poem about it.' });
    const before = upstream.requests.length;
    await client.chat.completions.create({ model: 'gpt', messages: messages as never });
    expect(upstream.requests.length).toBe(before + 1);
    const sent = (upstream.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    expect(sent[1]).toMatchObject({ role: 'assistant', content: REFUSED });
  });

  it('a turn with tool calls keeps its refusal text upstream too', async () => {
    upstream.setScript({ text: 'Done.' });
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'lookup', arguments: '{}' } };
    await gw.openai().chat.completions.create({
      model: 'gpt',
      messages: [
        { role: 'user', content: 'Look it up.' },
        { role: 'assistant', content: null, refusal: 'I will only look, not act.', tool_calls: [call] },
        { role: 'tool', tool_call_id: 'call_1', content: 'found' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
    });
    const sent = (upstream.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    expect(sent[1]).toMatchObject({ role: 'assistant', content: 'I will only look, not act.', tool_calls: [{ id: 'call_1' }] });
  });
});
