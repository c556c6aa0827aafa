import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import type { ModelInput } from '../test-support/harness.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import { nextWeatherTurn, REDACTED, SIGNATURE, THINKING, toolUse, upstreamAssistant as assistantSent, weatherTurn } from '../test-support/thinking-tool-turns.js';

// Extended thinking with tools through the gateway, as Claude Code uses it: the official @anthropic-ai/sdk
// runs a two-turn thinking + tool loop against a gateway over node:http, giving the first answer's content
// (`finalMessage()` / the created message) back as the next turn's assistant message. The Anthropic upstream
// is a local wire server that checks thinking blocks as the real API does (`checkThinkingBlocks`): the final
// assistant message must start with the signed thinking block it sent, unchanged, else a 400.

const REASONING: Partial<ModelInput> = { capabilities: ['chat', 'streaming', 'tools', 'reasoning'] };
const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude', REASONING), wireDeployment(u, 'gpt', REASONING), wireDeployment(u, 'gem', REASONING)], {
  anthropic: { checkThinkingBlocks: true },
});

const client = () => wire.gw.anthropic();


let n = 0;
const question = () => `Weather in Paris? (${++n})`;
const base = weatherTurn;
const next = (q: string, answer: Anthropic.Message) => nextWeatherTurn(q, answer, '18C, sunny');
const upstreamAssistant = (i: number) => assistantSent(wire.upstreams.anthropic, i);

describe('/v1/messages: thinking blocks with tools, official Anthropic client', () => {
  it('streamed: the signed thinking block comes out first, and the next turn gives it back unchanged before the tool_use', async () => {
    wire.upstreams.anthropic.enqueue({ content: [{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, toolUse], chunks: 3, usage: { input_tokens: 50, output_tokens: 70 } });
    wire.upstreams.anthropic.enqueue({ content: [{ type: 'thinking', thinking: 'Sunny.', signature: 'sig-2' }, { type: 'text', text: 'It is sunny, 18C.' }], chunks: 2 });
    const q = question();
    const first = await client().messages.stream(base(q)).finalMessage();
    expect(first.content).toEqual([{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, toolUse]);
    expect(first.stop_reason).toBe('tool_use');
    // Usage is the upstream's, thinking or not.
    expect(first.usage).toMatchObject({ input_tokens: 50, output_tokens: 70 });

    const second = await client().messages.stream(next(q, first)).finalMessage();
    expect(second.content).toEqual([
      { type: 'thinking', thinking: 'Sunny.', signature: 'sig-2' },
      { type: 'text', text: 'It is sunny, 18C.' },
    ]);
    expect(upstreamAssistant(1)).toEqual({ role: 'assistant', content: [{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, toolUse] });
  });

  it('non-streamed: the same loop with messages.create', async () => {
    wire.upstreams.anthropic.enqueue({ content: [{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, { type: 'text', text: 'Let me check.' }, toolUse], usage: { input_tokens: 40, output_tokens: 60 } });
    wire.upstreams.anthropic.enqueue({ content: 'It is sunny, 18C.' });
    const q = question();
    const first = await client().messages.create(base(q));
    expect(first.content).toEqual([{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, { type: 'text', text: 'Let me check.' }, toolUse]);
    expect(first.usage).toMatchObject({ input_tokens: 40, output_tokens: 60 });
    const second = await client().messages.create(next(q, first));
    expect(second.content).toEqual([{ type: 'text', text: 'It is sunny, 18C.' }]);
    expect(upstreamAssistant(1)).toEqual({
      role: 'assistant',
      content: [{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, { type: 'text', text: 'Let me check.' }, toolUse],
    });
  });

  it('redacted_thinking round trip, streamed and non-streamed', async () => {
    const blocks = [{ type: 'thinking' as const, thinking: THINKING, signature: SIGNATURE }, { type: 'redacted_thinking' as const, data: REDACTED }, toolUse];
    wire.upstreams.anthropic.enqueue({ content: blocks, chunks: 2 }, { content: 'Done.' }, { content: blocks }, { content: 'Done.' });
    const q1 = question();
    const streamed = await client().messages.stream(base(q1)).finalMessage();
    expect(streamed.content).toEqual(blocks);
    expect((await client().messages.stream(next(q1, streamed)).finalMessage()).content).toEqual([{ type: 'text', text: 'Done.' }]);
    const q2 = question();
    const created = await client().messages.create(base(q2));
    expect(created.content).toEqual(blocks);
    expect((await client().messages.create(next(q2, created))).content).toEqual([{ type: 'text', text: 'Done.' }]);
    expect(upstreamAssistant(1)!.content).toEqual(blocks);
    expect(upstreamAssistant(3)!.content).toEqual(blocks);
  });

  // Before the review of 877e737 this turn was sent with thinking on and refused upstream (400 "Expected
  // `thinking` or `redacted_thinking`, but found `tool_use`"); now the engine leaves thinking off for a tool turn
  // without signed thinking (as LiteLLM does), and the turn is answered.
  it('without its thinking block the second turn is sent without thinking, and answered', async () => {
    wire.upstreams.anthropic.enqueue({ content: [{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, toolUse] });
    const q = question();
    const first = await client().messages.create(base(q));
    const stripped = { ...first, content: first.content.filter((b) => b.type !== 'thinking') };
    wire.upstreams.anthropic.enqueue({ content: 'Sunny.' });
    const second = await client().messages.create(next(q, stripped));
    expect(second.content).toMatchObject([{ type: 'text', text: 'Sunny.' }]);
    expect(wire.upstreams.anthropic.requests.at(-1)!.body).not.toHaveProperty('thinking');
  });

  it('a thinking block in a user message is a 400 naming it', async () => {
    const e = await client()
      .messages.create({ ...base(question()), messages: [{ role: 'user', content: [{ type: 'thinking', thinking: 'x', signature: 'y' }] as never }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String((e as Error).message)).toContain('messages.0.content.0.type');
    expect(wire.upstreams.anthropic.requests).toHaveLength(0);
  });
});

describe('/v1/messages: thinking blocks in history, non-Anthropic deployments', () => {
  const history = (model: string): Anthropic.MessageCreateParamsNonStreaming => {
    const b = base(question());
    b.messages.push(
      { role: 'assistant', content: [{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, { type: 'redacted_thinking', data: REDACTED }, toolUse] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '18C' }] },
    );
    return { ...b, model };
  };

  it('an OpenAI-compatible upstream gets the turn without them', async () => {
    await client().messages.create(history('gpt'));
    const sent = (wire.upstreams.openai.requests[0]!.body as { messages: unknown[] }).messages;
    expect(sent[1]).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] });
    expect(JSON.stringify(sent)).not.toContain(SIGNATURE);
    expect(JSON.stringify(sent)).not.toContain(REDACTED);
  });

  it('a Gemini upstream gets the turn without them', async () => {
    await client().messages.create(history('gem'));
    const contents = wire.upstreams.gemini.requests[0]!.body!.contents as Array<{ role: string; parts: unknown[] }>;
    expect(contents[1]).toEqual({ role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] });
    expect(JSON.stringify(contents)).not.toContain(SIGNATURE);
  });

  it('unsigned reasoning of a non-Anthropic model comes out as a thinking block with an empty signature, which an Anthropic deployment is not sent', async () => {
    wire.upstreams.openai.setScript({ text: 'Forty-two.', reasoning: 'Six times seven.' });
    const q = question();
    const answer = await client().messages.create({ ...base(q), model: 'gpt', tools: undefined } as never);
    expect((answer as Anthropic.Message).content).toEqual([
      { type: 'thinking', thinking: 'Six times seven.', signature: '' },
      { type: 'text', text: 'Forty-two.' },
    ]);
    wire.upstreams.anthropic.enqueue({ content: 'ok' });
    await client().messages.create({
      ...base(q),
      messages: [{ role: 'user', content: q }, { role: 'assistant', content: (answer as Anthropic.Message).content }, { role: 'user', content: 'And Lyon?' }],
    });
    expect(upstreamAssistant(0)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Forty-two.' }] });
  });
});
