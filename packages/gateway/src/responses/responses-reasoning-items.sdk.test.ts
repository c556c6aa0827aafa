/**
 * /v1/responses: the `reasoning` items a client gives back (its earlier output, as the openai SDK, the Agents SDK and
 * Codex send it) are the reasoning of the assistant turn after them, so a tool loop on a reasoning model goes on:
 * - DeepSeek's thinking mode refuses a tool loop whose assistant turns (the calls, and the answer after their
 *   results) come back without their `reasoning_content` (as on chat completions,
 *   openai/reasoning-content-echo.sdk.test.ts): the item's text is sent.
 * - Claude's extended thinking with tools needs the turn's signed thinking blocks back: with
 *   `include: ["reasoning.encrypted_content"]` the reasoning item carries them (`encrypted_content`, JSON and
 *   streamed, in the same order), and given back they reach Anthropic unchanged (the wire server checks them as the
 *   real API does).
 * A reasoning item with no assistant turn after it is the reasoning of the turn before it; with none on either side
 * it is dropped, with a warning naming it.
 */
import type { AnthropicWireReply, OpenAIWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { servedOverDeepSeekWire } from '../test-support/deepseek-wire.js';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';
import { ENCRYPTED_REASONING_PREFIX } from './reasoning-encrypted-content.js';

const tools: OpenAI.Responses.FunctionTool[] = [{ type: 'function', name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
const user = { role: 'user' as const, content: 'Weather in Paris?' };

/** Output items as input items (the parsed fields the stream helper adds are not part of an item). */
function asInput(output: OpenAI.Responses.ResponseOutputItem[]): OpenAI.Responses.ResponseInputItem[] {
  return output.map((o) => {
    const { parsed_arguments: _p, ...item } = o as typeof o & { parsed_arguments?: unknown };
    return item;
  }) as OpenAI.Responses.ResponseInputItem[];
}

describe('/v1/responses to a deepseek deployment: a tool loop gives the reasoning item back', () => {
  let upstream: OpenAIWireServer;
  let gw: SdkGateway;
  beforeAll(async () => {
    // DeepSeek's check (as in reasoning-content-echo.sdk.test.ts): every assistant turn of a tool loop carries its reasoning_content.
    ({ upstream, gw } = await servedOverDeepSeekWire());
  });
  afterAll(() => gw?.close());

  it.each([false, true])('stream %s: the second step is accepted, the reasoning sent on as reasoning_content', async (stream) => {
    const ask = { model: 'ds', input: [user], tools, include: ['reasoning.encrypted_content' as const] };
    const first = stream ? await gw.openai().responses.stream(ask).finalResponse() : await gw.openai().responses.create(ask);
    expect(first.output.map((o) => o.type)).toEqual(['reasoning', 'function_call']);
    // Nothing signed: no encrypted_content, though the include asks for it (the text is what DeepSeek needs).
    expect(first.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'I need the weather tool.' }] });
    expect(first.output[0]).not.toHaveProperty('encrypted_content');
    const input: OpenAI.Responses.ResponseInputItem[] = [user, ...asInput(first.output), { type: 'function_call_output', call_id: 'call_w1', output: '{"sky":"sunny"}' }];
    const second = await gw.openai().responses.create({ model: 'ds', input, tools });
    expect(second.output_text).toBe('It is sunny in Paris.');
    const sent = (upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(sent[1]).toMatchObject({ role: 'assistant', reasoning_content: 'I need the weather tool.' });
  });

  it("the user turn after the loop: the final message's reasoning item goes back as its reasoning_content, and it is accepted", async () => {
    const first = await gw.openai().responses.create({ model: 'ds', input: [user], tools });
    const loop: OpenAI.Responses.ResponseInputItem[] = [user, ...asInput(first.output), { type: 'function_call_output', call_id: 'call_w1', output: '{"sky":"sunny"}' }];
    const second = await gw.openai().responses.create({ model: 'ds', input: loop, tools });
    expect(second.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    const third = await gw.openai().responses.create({ model: 'ds', input: [...loop, ...asInput(second.output), { role: 'user', content: 'And tomorrow?' }], tools });
    expect(third.output_text).toBe('Sunny tomorrow too.');
    const sent = (upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
    expect(sent[3]).toMatchObject({ content: 'It is sunny in Paris.', reasoning_content: 'The tool says sunny.' });
  });

  it('a reasoning item with summary parts only (content left out): the summary is the reasoning sent on', async () => {
    const input: OpenAI.Responses.ResponseInputItem[] = [
      user,
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'I need the weather tool.' }] },
      { type: 'function_call', call_id: 'call_w1', name: 'weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_w1', output: 'sunny' },
    ];
    expect((await gw.openai().responses.create({ model: 'ds', input, tools })).output_text).toBe('It is sunny in Paris.');
    expect((upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages[1]).toMatchObject({ reasoning_content: 'I need the weather tool.' });
  });

  it("another service's encrypted_content (OpenAI's) is not sent, with a warning naming it; the item's text still is", async () => {
    const input: OpenAI.Responses.ResponseInputItem[] = [
      user,
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'I need the weather tool.' }], encrypted_content: 'gAAAAABoOpenAIsOwn' },
      { type: 'function_call', call_id: 'call_w1', name: 'weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_w1', output: 'sunny' },
    ];
    const { data, response } = await gw.openai().responses.create({ model: 'ds', input, tools }).withResponse();
    expect(data.output_text).toBe('It is sunny in Paris.');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'input.1.encrypted_content']]);
    expect((upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages[1]).toMatchObject({ reasoning_content: 'I need the weather tool.' });
  });

  it('a reasoning item with no assistant turn on either side is dropped, with a warning naming it', async () => {
    const stray = (text: string) => ({ type: 'reasoning' as const, id: 'rs_x', summary: [{ type: 'summary_text' as const, text }] });
    const input: OpenAI.Responses.ResponseInputItem[] = [stray('Before anything.'), user, stray('Between users.'), { role: 'user', content: 'Please.' }];
    const { response } = await gw.openai().responses.create({ model: 'ds', input, tools }).withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([
      ['setting_not_sent', 'input.0'],
      ['setting_not_sent', 'input.2'],
    ]);
    const sent = (upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages;
    expect(sent).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'user', content: 'Please.' },
    ]);
  });

  it("a malformed value with the gateway's prefix (not JSON of its shape) is a 400 naming input.N.encrypted_content, before the call", async () => {
    const before = upstream.requests.length;
    for (const bad of [`${ENCRYPTED_REASONING_PREFIX}{"provider":"anthropic"`, `${ENCRYPTED_REASONING_PREFIX}{"provider":"anthropic","blocks":[{"signature":1}]}`]) {
      const input = [user, { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: bad }, { type: 'function_call', call_id: 'c', name: 'weather', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: 'x' }];
      const error = await gw
        .openai()
        .responses.create({ model: 'ds', input: input as OpenAI.Responses.ResponseInputItem[], tools })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 400, param: 'input.1.encrypted_content' });
      expect((error as Error).message).toContain('malformed (not JSON of this shape');
    }
    expect(upstream.requests.length).toBe(before);
  });
});

describe('/v1/responses to a Claude deployment with thinking: the signed thinking survives the tool loop', () => {
  let up: WireUpstreams;
  let gw: SdkGateway;
  beforeAll(async () => {
    ({ gw, upstreams: up } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude', { model: 'claude-sonnet-4-5', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] })], {
      anthropic: { checkThinkingBlocks: true },
    }));
  });
  afterAll(() => gw?.close());

  const ask = { model: 'claude', tools, reasoning: { effort: 'medium' as const }, include: ['reasoning.encrypted_content' as const], store: false };
  const thinkingCall: AnthropicWireReply = {
    content: [
      { type: 'thinking', thinking: 'I need the weather tool.', signature: 'EqQBCgIYAhIM1gbc' },
      { type: 'tool_use', name: 'weather', input: { city: 'Paris' }, id: 'toolu_1' },
    ],
  };

  /** The second step with `first`'s output given back: what Anthropic got, and the answer's warnings. */
  async function secondStep(output: OpenAI.Responses.ResponseOutputItem[]) {
    const input: OpenAI.Responses.ResponseInputItem[] = [user, ...asInput(output), { type: 'function_call_output', call_id: 'toolu_1', output: 'sunny' }];
    const { data, response } = await gw.openai().responses.create({ ...ask, input }).withResponse();
    const body = up.anthropic.requests.at(-1)!.body as { thinking?: unknown; messages: Array<{ content: Array<Record<string, unknown>> }> };
    return { status: data.status, thinking: body.thinking !== undefined, turn: body.messages[1]!.content, warnings: response.headers.get('x-llmrr-warnings') };
  }

  it('JSON: the reasoning item carries the signed block; given back, the second step keeps thinking on and sends it back unchanged, without warnings', async () => {
    up.anthropic.enqueue(thinkingCall);
    const first = await gw.openai().responses.create({ ...ask, input: [user] });
    const reasoning = first.output[0] as OpenAI.Responses.ResponseReasoningItem;
    expect(reasoning).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'I need the weather tool.' }] });
    expect(reasoning.encrypted_content?.startsWith(ENCRYPTED_REASONING_PREFIX)).toBe(true);
    expect(await secondStep(first.output)).toEqual({
      status: 'completed',
      thinking: true,
      turn: [
        { type: 'thinking', thinking: 'I need the weather tool.', signature: 'EqQBCgIYAhIM1gbc' },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
      ],
      warnings: null,
    });
  });

  it('streamed: output_item.done and response.completed carry the same encrypted_content, which works given back', async () => {
    up.anthropic.enqueue({ ...thinkingCall, chunks: 3 });
    const stream = await gw.openai().responses.create({ ...ask, input: [user], stream: true });
    let done: OpenAI.Responses.ResponseOutputItem | undefined;
    let completed: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      if (e.type === 'response.output_item.done' && e.item.type === 'reasoning') done = e.item;
      if (e.type === 'response.completed') completed = e.response;
    }
    const encrypted = (done as OpenAI.Responses.ResponseReasoningItem | undefined)?.encrypted_content;
    expect(encrypted?.startsWith(ENCRYPTED_REASONING_PREFIX)).toBe(true);
    expect(completed!.output[0]).toEqual(done);
    expect(await secondStep(completed!.output)).toMatchObject({ status: 'completed', thinking: true, warnings: null });
  });

  /** `reply`'s answer to the first question, streamed or not. */
  async function answer(reply: AnthropicWireReply, stream: boolean): Promise<OpenAI.Responses.Response> {
    up.anthropic.enqueue(reply);
    return stream ? gw.openai().responses.stream({ ...ask, input: [user] }).finalResponse() : gw.openai().responses.create({ ...ask, input: [user] });
  }

  it('redacted thinking alone (no text) still gets a reasoning item to come back in, first, JSON and streamed', async () => {
    const redacted: AnthropicWireReply = { content: [{ type: 'redacted_thinking', data: 'ENCRYPTED-1' }, { type: 'tool_use', name: 'weather', input: { city: 'Paris' }, id: 'toolu_1' }] };
    for (const stream of [false, true]) {
      const first = await answer(redacted, stream);
      expect(first.output.map((o) => o.type)).toEqual(['reasoning', 'function_call']);
      const { turn, warnings } = await secondStep(first.output);
      expect({ turn: turn.map((b) => b.type), warnings }).toEqual({ turn: ['redacted_thinking', 'tool_use'], warnings: null });
      expect(turn[0]).toEqual({ type: 'redacted_thinking', data: 'ENCRYPTED-1' });
    }
  });

  /** Signed reasoning with no text before the answer's text, and the block Anthropic gets back for it. */
  const textless: Array<[string, AnthropicWireReply, Record<string, unknown>]> = [
    ['redacted thinking', { content: [{ type: 'redacted_thinking', data: 'ENCRYPTED-1' }, { type: 'text', text: 'Hi there.' }] }, { type: 'redacted_thinking', data: 'ENCRYPTED-1' }],
    [
      'a thinking block with empty text (display omitted)',
      { content: [{ type: 'thinking', thinking: '', signature: 'SIG-EMPTY' }, { type: 'text', text: 'Hi there.' }] },
      { type: 'thinking', thinking: '', signature: 'SIG-EMPTY' },
    ],
  ];

  it.each(textless)('%s before the text: streamed, the reasoning item comes before the message, as in the JSON answer', async (_name, reply) => {
    const json = await answer(reply, false);
    const streamed = await answer(reply, true);
    expect(json.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    expect(streamed.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    expect((streamed.output[0] as OpenAI.Responses.ResponseReasoningItem).encrypted_content).toBe((json.output[0] as OpenAI.Responses.ResponseReasoningItem).encrypted_content);
  });

  it.each(textless)('%s: given back with the next user message, Anthropic gets the same turn from the streamed output as from the JSON one, without warnings', async (_name, reply, block) => {
    const sent: Array<Array<{ role: string; content: Array<Record<string, unknown>> }>> = [];
    const warnings: Array<string | null> = [];
    for (const stream of [false, true]) {
      const first = await answer(reply, stream);
      const input = [user, ...asInput(first.output), { role: 'user' as const, content: 'And now?' }];
      const { response } = await gw.openai().responses.create({ ...ask, input }).withResponse();
      sent.push((up.anthropic.requests.at(-1)!.body as { messages: (typeof sent)[number] }).messages);
      warnings.push(response.headers.get('x-llmrr-warnings'));
    }
    expect(sent[0]![1]!.content).toEqual([block, { type: 'text', text: 'Hi there.' }]);
    expect(sent[1]).toEqual(sent[0]);
    expect(warnings).toEqual([null, null]);
  });

  it('a reasoning item given back after the assistant message, before the next user message, is that turn\'s reasoning', async () => {
    const first = await answer(textless[0]![1], false);
    const [reasoning, message] = asInput(first.output);
    const next = { role: 'user' as const, content: 'And now?' };
    const sent: unknown[] = [];
    const warnings: Array<string | null> = [];
    for (const input of [
      [user, reasoning!, message!, next],
      [user, message!, reasoning!, next],
    ]) {
      const { response } = await gw.openai().responses.create({ ...ask, input }).withResponse();
      sent.push((up.anthropic.requests.at(-1)!.body as { messages: unknown }).messages);
      warnings.push(response.headers.get('x-llmrr-warnings'));
    }
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[1]).toMatchObject([{ role: 'user' }, { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'ENCRYPTED-1' }, { type: 'text', text: 'Hi there.' }] }, { role: 'user' }]);
    expect(warnings).toEqual([null, null]);
  });

  it('max_tokens after redacted thinking, streamed: the message is incomplete and the reasoning completed, as in the JSON answer', async () => {
    const reply: AnthropicWireReply = { content: [{ type: 'redacted_thinking', data: 'ENCRYPTED-1' }, { type: 'text', text: 'Partial answ' }], stopReason: 'max_tokens' };
    const statuses = (r: OpenAI.Responses.Response) => r.output.map((o) => [o.type, (o as { status?: string }).status]);
    for (const stream of [false, true]) {
      const cut = await answer(reply, stream);
      expect(cut.status).toBe('incomplete');
      expect(statuses(cut)).toEqual([
        ['reasoning', 'completed'],
        ['message', 'incomplete'],
      ]);
    }
  });

  it('a well-formed value with the prefix that the gateway did not make is not caught here (nothing authenticates it): Anthropic checks the signature', async () => {
    const madeUp = `${ENCRYPTED_REASONING_PREFIX}${JSON.stringify({ provider: 'anthropic', blocks: [{ text: 'I never thought this.', signature: 'MADE-UP' }] })}`;
    const input: OpenAI.Responses.ResponseInputItem[] = [
      user,
      { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: madeUp },
      { type: 'function_call', call_id: 'toolu_1', name: 'weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'toolu_1', output: 'sunny' },
    ];
    const before = up.anthropic.requests.length;
    const error = await gw
      .openai()
      .responses.create({ ...ask, input })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400 });
    expect(up.anthropic.requests.length).toBe(before + 1);
    const turn = (up.anthropic.requests.at(-1)!.body as { messages: Array<{ content: unknown[] }> }).messages[1]!.content;
    expect(turn[0]).toEqual({ type: 'thinking', thinking: 'I never thought this.', signature: 'MADE-UP' });
  });

  it('without the include: no encrypted_content (and no warning for the include when asked)', async () => {
    up.anthropic.enqueue(thinkingCall);
    const { include: _i, ...noInclude } = ask;
    const first = await gw.openai().responses.create({ ...noInclude, input: [user] });
    expect(first.output[0]).toMatchObject({ type: 'reasoning' });
    expect(first.output[0]).not.toHaveProperty('encrypted_content');
    up.anthropic.enqueue(thinkingCall);
    const { response } = await gw.openai().responses.create({ ...ask, input: [user] }).withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});
