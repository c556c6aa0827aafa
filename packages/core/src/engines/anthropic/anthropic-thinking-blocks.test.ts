import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { StreamAccumulator } from '../../router/stream-accumulator.js';
import type { ChatMessage, GenerateRequest, GenerateResult, StreamPart } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import type { AnthropicWireBlock } from '../../test/anthropic-wire-server.js';
import { useAnthropicReasoning } from '../../test/reasoning-wire.test-helpers.js';
import { convertToAnthropicRequest } from './convert-to-anthropic-request.js';

// Thinking blocks end to end through the Anthropic engine: signed `thinking` and `redacted_thinking` blocks of
// an answer (streamed: thinking_delta + signature_delta; non-streamed: the content array) come out as reasoning
// parts, and given back on the next turn they reach the API unchanged, in order, before the tool_use. The local
// wire server checks them as the real API does (`checkThinkingBlocks`): the final assistant message of a
// thinking + tool loop must start with a thinking block it sent, signature intact.

const { wire, engine } = useAnthropicReasoning({ checkThinkingBlocks: true });

const tools = [{ name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
const question: ChatMessage = { role: 'user', content: 'Weather in Paris?' };
const first = (): GenerateRequest => ({ messages: [question], tools, reasoning: { budgetTokens: 2048 }, maxTokens: 4000 });

/** The next turn: the answer given back as the assistant message (its reasoning parts included), then the tool result. */
function second(answer: GenerateResult, keepReasoning = true): GenerateRequest {
  const call = answer.toolCalls[0]!;
  const assistant: ChatMessage = { role: 'assistant', content: answer.text === '' ? null : answer.text, toolCalls: answer.toolCalls };
  if (keepReasoning && answer.reasoningParts) assistant.reasoning = answer.reasoningParts;
  return { ...first(), messages: [question, assistant, { role: 'tool', toolCallId: call.id, content: '18C, sunny' }] };
}

const THINKING = 'The user wants the weather. I should call get_weather for Paris.';
const SIGNATURE = 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds';
const toolTurn = (blocks: AnthropicWireBlock[]) => ({ content: [...blocks, { type: 'tool_use' as const, id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }], chunks: 3 });

/** The messages of the i-th request the server received. */
const sent = (i: number) => wire.server.requests[i]!.body!.messages as Array<{ role: string; content: unknown[] }>;

async function streamed(request: GenerateRequest): Promise<{ parts: StreamPart[]; result: GenerateResult }> {
  const parts = await collect(engine().stream(request));
  const acc = new StreamAccumulator(() => 0);
  for (const p of parts) acc.add(p);
  return { parts, result: acc.result() };
}

describe('anthropic: signed thinking blocks', () => {
  it('streamed: thinking_delta pieces, then the signature on a closing part; the folded result keeps the signed block', async () => {
    wire.server.enqueue(toolTurn([{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }]));
    const { parts, result } = await streamed(first());
    const reasoning = parts.filter((p) => p.type === 'reasoning-delta');
    expect(reasoning.map((p) => p.delta).join('')).toBe(THINKING);
    expect(reasoning.length).toBe(4);
    expect(reasoning.at(-1)).toEqual({ type: 'reasoning-delta', delta: '', signature: SIGNATURE });
    // The signature comes before the tool call, as the block comes before the tool_use.
    expect(parts.findIndex((p) => p.type === 'reasoning-delta' && p.signature)).toBeLessThan(parts.findIndex((p) => p.type === 'tool-call-delta'));
    expect(result.reasoning).toBe(THINKING);
    expect(result.reasoningParts).toEqual([{ type: 'reasoning', text: THINKING, signature: SIGNATURE }]);
    expect(result.toolCalls).toEqual([{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
  });

  it('streamed two-turn tool loop: the signed block reaches the API unchanged, before the tool_use', async () => {
    wire.server.enqueue(toolTurn([{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }]));
    wire.server.enqueue({ content: [{ type: 'thinking', thinking: 'Got it.', signature: 'sig-2' }, { type: 'text', text: 'Sunny, 18C.' }] });
    const { result } = await streamed(first());
    const { result: final } = await streamed(second(result));
    expect(final.text).toBe('Sunny, 18C.');
    expect(sent(1)).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: THINKING, signature: SIGNATURE },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18C, sunny' }] },
    ]);
  });

  it('non-streamed two-turn tool loop: the same, from the content array', async () => {
    wire.server.enqueue({ content: [{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, { type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] });
    wire.server.enqueue({ content: 'Sunny, 18C.' });
    const answer = await engine().generate(first());
    expect(answer.reasoningParts).toEqual([{ type: 'reasoning', text: THINKING, signature: SIGNATURE }]);
    const final = await engine().generate(second(answer));
    expect(final.text).toBe('Sunny, 18C.');
    expect(sent(1)[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: THINKING, signature: SIGNATURE },
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
      ],
    });
  });

  // Before 877e737's review fix the engine sent `thinking: enabled` here and the API refused the turn; now a tool
  // turn without signed thinking leaves thinking off for that request (as LiteLLM does), also when the thinking
  // comes from providerOptions (which since the graceful-degrade review goes through the same rules). The refusal
  // itself is still shown, with the engine's body plus thinking posted straight to the wire wire.server.
  it('without the thinking block the API refuses thinking on the second turn, so the engine leaves thinking off for it', async () => {
    wire.server.enqueue(toolTurn([{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }]));
    const { result } = await streamed(first());
    const settings = { modelId: 'claude-test-1', defaultMaxTokens: 4096, jsonToolName: 'json', provider: 'anthropic' };
    const { body } = convertToAnthropicRequest(second(result, false), settings);
    const raw = await fetch(`${wire.server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ ...body, thinking: { type: 'enabled', budget_tokens: 2048 } }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.text()).toContain('Expected `thinking` or `redacted_thinking`, but found `tool_use`');
    const viaOptions = { ...second(result, false), providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 2048 } } } };
    wire.server.enqueue({ content: 'Sunny, 18C.' });
    expect((await engine().generate(viaOptions)).text).toBe('Sunny, 18C.');
    expect(wire.server.requests.at(-1)!.body).not.toHaveProperty('thinking');
    wire.server.enqueue({ content: 'Sunny, 18C.' });
    const final = await engine().generate(second(result, false));
    expect(final.text).toBe('Sunny, 18C.');
    expect(wire.server.requests.at(-1)!.body).not.toHaveProperty('thinking');
    expect(wire.server.requests.at(-1)!.body!.max_tokens).toBe(4000);
  });

  it('a changed block is refused by the API (the check is real): the engine sends what it is given', async () => {
    wire.server.enqueue(toolTurn([{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }]));
    const { result } = await streamed(first());
    const tampered = second(result);
    (tampered.messages[1] as Extract<ChatMessage, { role: 'assistant' }>).reasoning = [{ type: 'reasoning', text: `${THINKING} (edited)`, signature: SIGNATURE }];
    const e = await engine()
      .generate(tampered)
      .catch((x: unknown) => x);
    expect((e as LLMError).message).toContain('Invalid `signature` in `thinking` block');
  });
});

describe('anthropic: redacted thinking blocks', () => {
  const DATA = 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP';

  it('streamed: a redacted_thinking block is one part with redactedData; given back whole, in order, before the tool_use', async () => {
    wire.server.enqueue(toolTurn([{ type: 'thinking', thinking: THINKING, signature: SIGNATURE }, { type: 'redacted_thinking', data: DATA }]));
    wire.server.enqueue({ content: 'Done.' });
    const { parts, result } = await streamed(first());
    expect(parts.filter((p) => p.type === 'reasoning-delta' && p.redactedData !== undefined)).toEqual([{ type: 'reasoning-delta', delta: '', redactedData: DATA }]);
    expect(result.reasoning).toBe(THINKING);
    expect(result.reasoningParts).toEqual([
      { type: 'reasoning', text: THINKING, signature: SIGNATURE },
      { type: 'reasoning', text: '', redactedData: DATA },
    ]);
    await engine().generate(second(result));
    expect(sent(1)[1]!.content).toEqual([
      { type: 'thinking', thinking: THINKING, signature: SIGNATURE },
      { type: 'redacted_thinking', data: DATA },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ]);
  });

  it('non-streamed: a turn whose only reasoning is redacted round-trips too', async () => {
    wire.server.enqueue({ content: [{ type: 'redacted_thinking', data: DATA }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] });
    wire.server.enqueue({ content: 'Done.' });
    const answer = await engine().generate(first());
    expect(answer.reasoning).toBeUndefined();
    expect(answer.reasoningParts).toEqual([{ type: 'reasoning', text: '', redactedData: DATA }]);
    expect((await engine().generate(second(answer))).text).toBe('Done.');
    expect(sent(1)[1]!.content[0]).toEqual({ type: 'redacted_thinking', data: DATA });
  });
});

describe('anthropic: reasoning parts in requests', () => {
  const settings = { modelId: 'm', defaultMaxTokens: 100, jsonToolName: 'json_answer', provider: 'anthropic' };

  it('unsigned reasoning (another provider\'s) is left out: Anthropic could not verify it', () => {
    const { body } = convertToAnthropicRequest(
      {
        messages: [
          question,
          { role: 'assistant', content: 'It is sunny.', reasoning: [{ type: 'reasoning', text: 'Some model thought this.' }] },
          { role: 'user', content: 'Thanks' },
        ],
      },
      settings,
    );
    expect(body.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'It is sunny.' }] });
  });

  it('keeps several blocks in their order and an empty signed block (thinking display omitted)', () => {
    const { body } = convertToAnthropicRequest(
      {
        messages: [
          question,
          {
            role: 'assistant',
            content: null,
            toolCalls: [{ id: 't1', name: 'get_weather', arguments: '{}' }],
            reasoning: [
              { type: 'reasoning', text: '', signature: 's1' },
              { type: 'reasoning', text: '', redactedData: 'r1' },
              { type: 'reasoning', text: 'b', signature: 's2' },
            ],
          },
          { role: 'tool', toolCallId: 't1', content: 'ok' },
        ],
      },
      settings,
    );
    expect(body.messages[1]!.content).toEqual([
      { type: 'thinking', thinking: '', signature: 's1' },
      { type: 'redacted_thinking', data: 'r1' },
      { type: 'thinking', thinking: 'b', signature: 's2' },
      { type: 'tool_use', id: 't1', name: 'get_weather', input: {} },
    ]);
  });

  it('refuses a reasoning field that is not reasoning parts, naming it', () => {
    const bad = (reasoning: unknown) => () =>
      convertToAnthropicRequest({ messages: [question, { role: 'assistant', content: 'x', reasoning: reasoning as never }, { role: 'user', content: 'y' }] }, settings);
    expect(bad('text')).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'messages.1.reasoning' }));
    expect(bad([{ type: 'text', text: 'x' }])).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'messages.1.reasoning.0.type' }));
  });
});
