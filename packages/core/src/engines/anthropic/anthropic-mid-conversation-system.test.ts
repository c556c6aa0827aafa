import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import type { CacheControl, ChatMessage, GenerateRequest } from '../../spec/messages.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import { collect, rejection, thrown } from '../../test/async.test-helpers.js';
import { systemMessageProblem } from '../../test/anthropic-wire-server.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// Mid-conversation system messages (Claude Opus 4.8): a system message after the conversation started goes in
// place as `{ role: "system" }` where the deployment takes it and its place is legal, else it joins the top-level
// system prompt as before, with a `system_message_hoisted` warning. Against the local wire server, which refuses
// `role: "system"` in `messages` as the real API does (other models, bad placements), so every body it answered 200
// is one the API takes.

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;

const OPUS = { model: 'claude-opus-4-8' } satisfies Partial<ModelConfigInput>;
const m5: CacheControl = { type: 'ephemeral' };
const wire5 = { type: 'ephemeral' };

const sys = (content: string, extra: Partial<Extract<ChatMessage, { role: 'system' }>> = {}): ChatMessage => ({ role: 'system', content, ...extra });
const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string | null, extra: Partial<Extract<ChatMessage, { role: 'assistant' }>> = {}): ChatMessage => ({ role: 'assistant', content, ...extra });
const text = (t: string) => [{ type: 'text', text: t }];
const call = { id: 'toolu_1', name: 'lookup', arguments: '{"q":"x"}' };
const tools = [{ name: 'lookup', parameters: { type: 'object' } }];

/** A conversation whose last message is a system message that changes the instructions. */
const conversation: ChatMessage[] = [sys('You are terse.'), user('Q1'), assistant('A1'), user('Q2'), sys('From now on answer in French.')];

describe('anthropic: mid-conversation system messages on Claude Opus 4.8', () => {
  it('sends a later system message in place, the leading ones stay the top-level system, no warning', async () => {
    const result = await engine(OPUS).generate({ messages: conversation });
    expect(lastBody()).toEqual({
      model: 'claude-opus-4-8',
      max_tokens: 4096,
      system: 'You are terse.',
      messages: [
        { role: 'user', content: text('Q1') },
        { role: 'assistant', content: text('A1') },
        { role: 'user', content: text('Q2') },
        { role: 'system', content: 'From now on answer in French.' },
      ],
      stream: false,
    });
    expect(result.text).toBe('Echo: Q2');
    expect(result).not.toHaveProperty('warnings');
  });

  it('sends one before an assistant turn in place too (a dated id)', async () => {
    await engine({ model: 'claude-opus-4-8-20260528' }).generate({ messages: [user('Q1'), sys('Be brief.'), assistant('A1'), user('Q2')] });
    expect(lastBody().messages).toEqual([
      { role: 'user', content: text('Q1') },
      { role: 'system', content: 'Be brief.' },
      { role: 'assistant', content: text('A1') },
      { role: 'user', content: text('Q2') },
    ]);
  });

  it('merges consecutive later system messages into one (the API refuses two in a row), also across an empty assistant turn', async () => {
    await engine(OPUS).generate({ messages: [user('Q1'), sys('A.'), sys('B.')] });
    expect(lastBody().messages).toEqual([{ role: 'user', content: text('Q1') }, { role: 'system', content: 'A.\n\nB.' }]);
    await engine(OPUS).generate({ messages: [user('Q1'), sys('A.'), assistant(''), sys('B.', { cacheControl: m5 })] });
    expect(lastBody().messages).toEqual([
      { role: 'user', content: text('Q1') },
      { role: 'system', content: [{ type: 'text', text: 'A.' }, { type: 'text', text: 'B.', cache_control: wire5 }] },
    ]);
  });

  it("sends its marks on its text blocks, counted toward Anthropic's 4 in render order (tools, system, messages)", async () => {
    const result = await engine(OPUS).generate({
      messages: [
        sys('You are terse.', { cacheControl: m5 }),
        { role: 'user', content: [{ type: 'text', text: 'Q1', cacheControl: m5 }] },
        assistant('A1'),
        { role: 'user', content: 'Q2', cacheControl: m5 },
        sys('Rules: one.\nTwo.', { parts: [{ type: 'text', text: 'Rules: one.' }, { type: 'text', text: 'Two.', cacheControl: m5 }] }),
      ],
      tools: [{ ...tools[0]!, cacheControl: m5 }],
    });
    const body = lastBody();
    // Five marks: the earliest (the tool's) is dropped, the in-place system message's is kept.
    expect(body.tools).toEqual([{ name: 'lookup', input_schema: { type: 'object' } }]);
    expect(body.system).toEqual([{ type: 'text', text: 'You are terse.', cache_control: wire5 }]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Q1', cache_control: wire5 }] },
      { role: 'assistant', content: text('A1') },
      { role: 'user', content: [{ type: 'text', text: 'Q2', cache_control: wire5 }] },
      { role: 'system', content: [{ type: 'text', text: 'Rules: one.' }, { type: 'text', text: 'Two.', cache_control: wire5 }] },
    ]);
    expect(result.warnings).toEqual([{ code: 'cache_control_dropped', field: 'tools.0.cacheControl', message: expect.stringContaining('limit of 4') }]);
  });

  it('with automatic caching, a mark on an in-place system message at the end gives way to the automatic breakpoint', async () => {
    await engine(OPUS).generate({ messages: [user('Q1'), sys('Now French.', { cacheControl: m5 })], cacheControl: m5 });
    expect(lastBody()).toMatchObject({ cache_control: wire5, messages: [{ role: 'user' }, { role: 'system', content: [{ type: 'text', text: 'Now French.' }] }] });
  });

  it('sends in place after tool results (a user turn), never between a tool_use and its tool_result', async () => {
    await engine(OPUS).generate({ messages: [user('Q1'), assistant(null, { toolCalls: [call] }), { role: 'tool', toolCallId: 'toolu_1', content: 'found' }, sys('Cite it.')], tools });
    expect(lastBody().messages).toEqual([
      { role: 'user', content: text('Q1') },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'found' }] },
      { role: 'system', content: 'Cite it.' },
    ]);
    const result = await engine(OPUS).generate({ messages: [user('Q1'), assistant(null, { toolCalls: [call] }), sys('Cite it.'), { role: 'tool', toolCallId: 'toolu_1', content: 'found' }], tools });
    expect(lastBody().messages).toEqual([
      { role: 'user', content: text('Q1') },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'found' }] },
    ]);
    expect(lastBody().system).toBe('Cite it.');
    expect(result.warnings).toEqual([{ code: 'system_message_hoisted', field: 'messages.2', message: expect.stringContaining('follows an assistant turn') }]);
  });
});

describe('anthropic: later system messages hoisted, with a warning', () => {
  const hoisted = (field: string, why: RegExp) => ({ code: 'system_message_hoisted', field, message: expect.stringMatching(why) });

  it('joins it into the top-level system on a model without the feature, byte for byte the body sent before', async () => {
    const result = await engine().generate({ messages: conversation });
    expect(wire.server.requests.at(-1)!.rawBody).toBe(
      '{"model":"claude-test-1","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Q1"}]},' +
        '{"role":"assistant","content":[{"type":"text","text":"A1"}]},{"role":"user","content":[{"type":"text","text":"Q2"}]}],' +
        '"system":"You are terse.\\n\\nFrom now on answer in French.","stream":false}',
    );
    expect(result.warnings).toEqual([hoisted('messages.4', /joined into the top-level system prompt.*does not take mid-conversation system messages/)]);
    expect(result.warnings![0]!.message).toMatch(/^[\x20-\x7e]+$/);
  });

  it('the server would have refused it in place: midConversationSystem: true on another model is the caller\u2019s choice, and gets the 400', async () => {
    const error = await rejection(engine({ options: { midConversationSystem: true } }).generate({ messages: conversation }));
    expect(error).toMatchObject({ code: 'invalid_request', statusCode: 400 });
    expect(error.message).toContain("role 'system' is not supported on this model");
    expect(lastBody().messages).toContainEqual({ role: 'system', content: 'From now on answer in French.' });
  });

  it('midConversationSystem: false on Opus 4.8 hoists, the body the same as another model\u2019s but for the model id', async () => {
    const off = await engine({ ...OPUS, options: { midConversationSystem: false } }).generate({ messages: conversation });
    const offBody = wire.server.requests.at(-1)!.rawBody;
    await engine().generate({ messages: conversation });
    expect(offBody).toBe(wire.server.requests.at(-1)!.rawBody.replace('"claude-test-1"', '"claude-opus-4-8"'));
    expect(off.warnings).toEqual([hoisted('messages.4', /options\.midConversationSystem/)]);
  });

  it('hoists one after an assistant turn (Opus 4.8)', async () => {
    const result = await engine(OPUS).generate({ messages: [user('Q1'), assistant('A1'), sys('Be brief.'), user('Q2')] });
    expect(lastBody()).toMatchObject({ system: 'Be brief.', messages: [{ role: 'user' }, { role: 'assistant' }, { role: 'user', content: text('Q2') }] });
    expect(result.warnings).toEqual([hoisted('messages.2', /follows an assistant turn, and a mid-conversation system message must follow a user turn/)]);
    expect(systemMessageProblem({ messages: [{ role: 'user', content: 'Q1' }, { role: 'assistant', content: 'A1' }, { role: 'system', content: 'x' }, { role: 'user', content: 'Q2' }] }, true)).toMatch(/must immediately follow a user message/);
  });

  it('hoists one between two user turns and merges them as before (sending it in place would split them)', async () => {
    const result = await engine(OPUS).generate({ messages: [sys('Top.'), user('Q1'), sys('Mid.'), user('Q2')] });
    expect(lastBody()).toMatchObject({ system: 'Top.\n\nMid.', messages: [{ role: 'user', content: [...text('Q1'), ...text('Q2')] }] });
    expect((lastBody().messages as unknown[]).length).toBe(1);
    expect(result.warnings).toEqual([hoisted('messages.2', /a user or tool turn follows it/)]);
    expect(systemMessageProblem({ messages: [{ role: 'user', content: 'Q1' }, { role: 'system', content: 'x' }, { role: 'user', content: 'Q2' }] }, true)).toMatch(/followed by an assistant message/);
  });

  it('hoists one between a tool result and the user text after it, which stay one user turn', async () => {
    const result = await engine(OPUS).generate({
      messages: [user('Q1'), assistant(null, { toolCalls: [call] }), { role: 'tool', toolCallId: 'toolu_1', content: 'found' }, sys('Cite it.'), user('Go on.')],
      tools,
    });
    expect(lastBody().messages).toEqual([
      { role: 'user', content: text('Q1') },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'found' }, ...text('Go on.')] },
    ]);
    expect(result.warnings).toEqual([hoisted('messages.3', /a user or tool turn follows it/)]);
  });

  it('hoists one with no turn sent before it (only an empty assistant turn came first)', async () => {
    const result = await engine(OPUS).generate({ messages: [sys('Top.'), assistant(''), sys('Late.'), user('Q1')] });
    expect(lastBody()).toMatchObject({ system: 'Top.\n\nLate.', messages: [{ role: 'user', content: text('Q1') }] });
    expect(result.warnings).toEqual([hoisted('messages.2', /cannot be the first entry/)]);
  });

  it('names every message of a hoisted run, in the request\u2019s own indexes, and keeps their marks as top-level blocks', async () => {
    const result = await engine().generate({ messages: [user('Q1'), sys('A.'), sys('B.', { cacheControl: m5 }), assistant('A1'), user('Q2')] });
    expect(lastBody().system).toEqual([{ type: 'text', text: 'A.' }, { type: 'text', text: 'B.', cache_control: wire5 }]);
    expect(result.warnings?.map((w) => w.field)).toEqual(['messages.1', 'messages.2']);
  });

  it('hoists only what must be: one run hoisted, a later one in place', async () => {
    const result = await engine(OPUS).generate({ messages: [user('Q1'), sys('Early.'), user('Q2'), assistant('A1'), user('Q3'), sys('Late.')] });
    expect(lastBody().system).toBe('Early.');
    expect(lastBody().messages).toEqual([
      { role: 'user', content: [...text('Q1'), ...text('Q2')] },
      { role: 'assistant', content: text('A1') },
      { role: 'user', content: text('Q3') },
      { role: 'system', content: 'Late.' },
    ]);
    expect(result.warnings?.map((w) => w.field)).toEqual(['messages.1']);
  });
});

describe('anthropic: mid-conversation system messages in streams, counts and config', () => {
  const request: GenerateRequest = { messages: conversation };

  it('a stream starts with the warnings part when the message was hoisted, and has none when it went in place', async () => {
    const hoisted = await collect(engine().stream(request));
    expect(hoisted[0]).toEqual({ type: 'warnings', warnings: [{ code: 'system_message_hoisted', field: 'messages.4', message: expect.any(String) }] });
    expect(hoisted.filter((p) => p.type === 'warnings')).toHaveLength(1);
    expect(hoisted.at(-1)).toMatchObject({ type: 'finish' });
    const inPlace = await collect(engine(OPUS).stream(request));
    expect(inPlace.some((p: StreamPart) => p.type === 'warnings')).toBe(false);
    expect(inPlace[0]).toMatchObject({ type: 'response-metadata' });
    expect(lastBody().messages).toContainEqual({ role: 'system', content: 'From now on answer in French.' });
  });

  it('count_tokens gets the messages of the call: in place on Opus 4.8, hoisted elsewhere (the server takes both)', async () => {
    await expect(engine({ ...OPUS, options: { exactTokenCount: true } }).countTokens(request)).resolves.toBeGreaterThan(0);
    expect(lastBody()).toMatchObject({ system: 'You are terse.', messages: expect.arrayContaining([{ role: 'system', content: 'From now on answer in French.' }]) });
    expect(wire.server.requests.at(-1)!.path).toBe('/v1/messages/count_tokens');
    await expect(engine({ options: { exactTokenCount: true } }).countTokens(request)).resolves.toBeGreaterThan(0);
    expect(lastBody().system).toBe('You are terse.\n\nFrom now on answer in French.');
  });

  it('the local estimate counts a later system message once, as a message, on every deployment', () => {
    const without: GenerateRequest = { messages: conversation.slice(0, -1) };
    const opus = engine(OPUS).countTokens(request) as number;
    expect(opus).toBe(engine().countTokens(request));
    // The message's text (30 characters: 8 tokens) plus one message's framing (4).
    expect(opus - (engine(OPUS).countTokens(without) as number)).toBe(12);
  });

  it('config: options.midConversationSystem is a boolean; a bad value names the field', () => {
    expect(engine(OPUS).midConversationSystem).toBe(true);
    expect(engine().midConversationSystem).toBe(false);
    expect(engine({ options: { midConversationSystem: true } }).midConversationSystem).toBe(true);
    expect(engine({ ...OPUS, options: { midConversationSystem: false } }).midConversationSystem).toBe(false);
    // Microsoft Foundry serves Claude without the feature: off by default there, on when the option says so.
    const foundry = 'https://my-resource.services.ai.azure.com/anthropic';
    expect(engine({ ...OPUS, baseURL: foundry }).midConversationSystem).toBe(false);
    expect(engine({ ...OPUS, baseURL: foundry, options: { midConversationSystem: true } }).midConversationSystem).toBe(true);
    const error = thrown(() => engine({ options: { midConversationSystem: 'yes' } }));
    expect(error).toMatchObject({ code: 'config_invalid', param: 'options.midConversationSystem' });
    expect(error.message).toContain('options.midConversationSystem');
  });
});
