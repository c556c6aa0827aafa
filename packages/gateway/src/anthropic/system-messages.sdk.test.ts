import type Anthropic from '@anthropic-ai/sdk';
import type { AnthropicWireUsage } from '@llmrr/core/test';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import { UNANSWERED_TOOL_RESULT } from '../test-support/unanswered-tool-result.js';

// System messages inside `messages` (@anthropic-ai/sdk 1.14 SystemMessageParam; Claude Opus 4.8's mid-conversation
// system messages, which Claude Code sends) with the official SDK through a served gateway, to the local wire
// servers: the Anthropic one refuses `{ role: "system" }` entries as the real API does (models other than Opus 4.8,
// places the API does not allow), so a call that succeeds was sent right.

const wire = overWireUpstreams((u) => [
    wireDeployment(u, 'claude', { name: 'opus', model: 'claude-opus-4-8' }),
    wireDeployment(u, 'claude', { name: 'opus-count', model: 'claude-opus-4-8', options: { exactTokenCount: true } }),
    wireDeployment(u, 'claude', { name: 'sonnet', model: 'claude-sonnet-4-5' }),
    wireDeployment(u, 'gpt'),
    wireDeployment(u, 'gem'),
  ]);

const EPH = { type: 'ephemeral' } as const;
const NO_CACHE = { llmrr: { cache: false } } as object;

/** Claude Code's shape: a system message right after the user's latest turn, at the end. */
const conversation: Anthropic.MessageParam[] = [
  { role: 'user', content: 'Plan a weekend trip.' },
  { role: 'assistant', content: 'Which city?' },
  { role: 'user', content: 'Paris.' },
  { role: 'system', content: 'From now on, answer in French.' },
];

const request = (model: string, messages: Anthropic.MessageParam[] = conversation): Anthropic.MessageCreateParamsNonStreaming => ({
  model,
  max_tokens: 100,
  system: 'You plan trips.',
  messages,
  ...NO_CACHE,
});

type WireBody = { system?: unknown; messages: Array<{ role: string; content: unknown }> };
const sentToClaude = () => wire.upstreams.anthropic.requests.at(-1)!.body as WireBody;

describe('/v1/messages: system messages inside messages', () => {
  it('Claude Opus 4.8: the system message reaches the upstream in its place (the top-level prompt stays top-level)', async () => {
    const message = await wire.gw.anthropic().messages.create(request('opus'));
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const body = sentToClaude();
    expect(body.system).toBe('You plan trips.');
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Plan a weekend trip.' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Which city?' }] },
      { role: 'user', content: [{ type: 'text', text: 'Paris.' }] },
      { role: 'system', content: 'From now on, answer in French.' },
    ]);
  });

  it('Claude Opus 4.8: text blocks with a cache mark reach it as blocks, the mark where the client put it', async () => {
    await wire.gw.anthropic().messages.create(
      request('opus', [
        ...conversation.slice(0, 3),
        { role: 'system', content: [{ type: 'text', text: 'Long rules that stay the same.', cache_control: EPH }, { type: 'text', text: 'Answer in French.' }] },
      ]),
    );
    expect(sentToClaude().messages.at(-1)).toEqual({
      role: 'system',
      content: [
        { type: 'text', text: 'Long rules that stay the same.', cache_control: EPH },
        { type: 'text', text: 'Answer in French.' },
      ],
    });
  });

  it('another Claude model (no mid-conversation system messages): the call succeeds, the text joined into the system prompt', async () => {
    const { data: message, response } = await wire.gw.anthropic().messages.create(request('sonnet')).withResponse();
    expect(message.type).toBe('message');
    // Said, not silent: the warning names the client's message (core's is messages.4, after the system prompt).
    expect(response.headers.get('x-llmrr-warnings')).toContain('system_message_hoisted;field="messages.3"');
    const body = sentToClaude();
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(body.system)).toContain('You plan trips.');
    expect(JSON.stringify(body.system)).toContain('From now on, answer in French.');
  });

  it('Claude Opus 4.8, at a place Anthropic refuses (after an assistant turn): the call succeeds, joined into the system prompt, with a warning', async () => {
    const messages: Anthropic.MessageParam[] = [conversation[0]!, conversation[1]!, { role: 'system', content: 'Answer in French.' }, { role: 'user', content: 'Paris.' }];
    const { response } = await wire.gw.anthropic().messages.create(request('opus', messages)).withResponse();
    const body = sentToClaude();
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(body.system)).toContain('Answer in French.');
    expect(response.headers.get('x-llmrr-warnings')).toContain('system_message_hoisted;field="messages.2"');
  });

  it('a system message first in messages (before any turn) is a system instruction, on any model', async () => {
    await wire.gw.anthropic().messages.create(request('sonnet', [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]));
    const body = sentToClaude();
    expect(body.messages.map((m) => m.role)).toEqual(['user']);
    expect(JSON.stringify(body.system)).toContain('Be brief.');
  });

  it('an OpenAI-compatible deployment gets it in place as a chat system message', async () => {
    await wire.gw.anthropic().messages.create(request('gpt'));
    const messages = (wire.upstreams.openai.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['system', 'You plan trips.'],
      ['user', 'Plan a weekend trip.'],
      ['assistant', 'Which city?'],
      ['user', 'Paris.'],
      ['system', 'From now on, answer in French.'],
    ]);
  });

  it('a Gemini deployment gets it joined into systemInstruction, the turns without it', async () => {
    await wire.gw.anthropic().messages.create(request('gem'));
    const body = wire.upstreams.gemini.requests.at(-1)!.body as { systemInstruction?: unknown; contents: Array<{ role: string }> };
    expect(body.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(JSON.stringify(body.systemInstruction)).toContain('You plan trips.');
    expect(JSON.stringify(body.systemInstruction)).toContain('From now on, answer in French.');
  });

  it('an image in a system message: a 400 naming messages.N.content.K.type, no upstream call', async () => {
    const bad = [
      ...conversation.slice(0, 3),
      { role: 'system', content: [{ type: 'text', text: 'Rules.' }, { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] },
    ] as unknown as Anthropic.MessageParam[];
    const error = await wire.gw.anthropic().messages.create(request('opus', bad)).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error' } } });
    expect((error as { error: { error: { message: string } } }).error.error.message).toContain('messages.3.content.1.type: a system message takes text blocks only, not an image block');
    expect(wire.upstreams.anthropic.requests).toHaveLength(0);
  });

  it('count_tokens takes them: the upstream count of an Opus 4.8 deployment gets the message in place', async () => {
    const counted = await wire.gw.anthropic().messages.countTokens({ model: 'opus-count', system: 'You plan trips.', messages: conversation });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const sent = wire.upstreams.anthropic.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages/count_tokens');
    expect((sent.body as WireBody).messages.at(-1)).toEqual({ role: 'system', content: 'From now on, answer in French.' });
    // An estimate (no upstream count) takes them too.
    const estimated = await wire.gw.anthropic().messages.countTokens({ model: 'sonnet', messages: conversation });
    expect(estimated.input_tokens).toBeGreaterThan(0);
  });

  it('an engine\u2019s error names the client\u2019s message with system messages in the array (Gemini: a tool_result answering no call)', async () => {
    const [question, toolCall, toolResults] = UNANSWERED_TOOL_RESULT;
    const error = await wire.gw
      .anthropic()
      .messages.create({
        model: 'gem',
        max_tokens: 50,
        system: 'Rules.',
        messages: [question, { role: 'system', content: 'Use metric units.' }, toolCall, { role: 'system', content: '' }, toolResults],
      })
      .catch((e: unknown) => e);
    // Core's messages: the system prompt, the question, the system message, the tool call, 2 tool results (the empty
    // system message is none): the bad one is core's 5, the client's second block of messages.4.
    expect(error).toMatchObject({ status: 400 });
    const message = (error as { error: { error: { message: string } } }).error.error.message;
    expect(message).toContain('messages.4.content.1: no earlier assistant tool call has id "t9"');
    expect(message).not.toContain('messages.5');
    expect(wire.upstreams.gemini.requests).toHaveLength(0);
  });
});

// 50 uncached input tokens, 4000 read from the cache, 1000 written (600 for 5 minutes, 400 for an hour), 20 out.
const CACHE_USAGE = {
  input_tokens: 50,
  output_tokens: 20,
  cache_read_input_tokens: 4000,
  cache_creation_input_tokens: 1000,
  cache_creation: { ephemeral_5m_input_tokens: 600, ephemeral_1h_input_tokens: 400 },
} as AnthropicWireUsage;

/** The SDK stream's message_start usage and final message. */
async function streamed(params: Anthropic.MessageCreateParamsNonStreaming): Promise<{ start: Anthropic.Usage | undefined; message: Anthropic.Message }> {
  const s = wire.gw.anthropic().messages.stream(params);
  let start: Anthropic.Usage | undefined;
  s.on('streamEvent', (e) => {
    if (e.type === 'message_start') start = { ...e.message.usage };
  });
  const message = await s.finalMessage();
  return { start, message };
}

describe('streamed message_start carries the prompt usage', () => {
  it('from an Anthropic upstream: input (without cache reads and writes), cache reads and writes with the TTL split; finalMessage() agrees with the JSON answer', async () => {
    wire.upstreams.anthropic.enqueue({ content: 'Bonjour.', usage: CACHE_USAGE }, { content: 'Bonjour.', usage: CACHE_USAGE });
    const { start, message } = await streamed(request('opus'));
    // Streamed too, the system message went in place.
    expect((wire.upstreams.anthropic.requests[0]!.body as WireBody).messages.at(-1)).toEqual({ role: 'system', content: 'From now on, answer in French.' });
    expect(wire.upstreams.anthropic.requests[0]!.body!.stream).toBe(true);
    expect(start).toMatchObject({
      input_tokens: 50,
      output_tokens: 0,
      cache_read_input_tokens: 4000,
      cache_creation_input_tokens: 1000,
      cache_creation: { ephemeral_5m_input_tokens: 600, ephemeral_1h_input_tokens: 400 },
    });
    const json = await wire.gw.anthropic().messages.create(request('opus'));
    expect(json.usage).toEqual({
      input_tokens: 50,
      output_tokens: 20,
      cache_read_input_tokens: 4000,
      cache_creation_input_tokens: 1000,
      cache_creation: { ephemeral_5m_input_tokens: 600, ephemeral_1h_input_tokens: 400 },
    });
    expect(message.usage).toEqual(json.usage);
  });

  it('from an OpenAI-compatible upstream (usage at the end): 0 at message_start, the totals at the end', async () => {
    const { start, message } = await streamed(request('gpt'));
    expect(start).toEqual({ input_tokens: 0, output_tokens: 0 });
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });
});
