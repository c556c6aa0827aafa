import type Anthropic from '@anthropic-ai/sdk';
import { startAnthropicWireServer, startOpenAIWireServer, type AnthropicWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// /v1/messages driven by the official @anthropic-ai/sdk client: what the client sends and what an Anthropic deployment
// answers pass through the gateway unchanged (stop_sequence, tool_result is_error and content blocks, images in a tool
// result); a deployment of another provider gets what it can take, and the client is told what it could not. An
// error tool_result without content goes with the content "Error" (Anthropic refuses `is_error` with empty content:
// 400 "content cannot be empty if `is_error` is true"), and an image in a tool_result needs a deployment with vision.

let claudeUp: AnthropicWireServer;
let gptUp: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  claudeUp = await startAnthropicWireServer({ apiKey: 'ak' });
  gptUp = await startOpenAIWireServer();
  gw = await servedGateway({
    models: [
      { name: 'sonnet', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-sonnet-4-5', apiKey: 'ak', capabilities: ['chat', 'streaming', 'tools', 'vision'] },
      { name: 'gpt', engine: 'openai-compatible', baseURL: gptUp.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools', 'vision'] },
      // A deployment declared without vision.
      { name: 'textonly', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-text', apiKey: 'ak', capabilities: ['chat', 'streaming', 'tools'] },
    ],
    cache: { exact: { enabled: true } },
    upstreams: [claudeUp, gptUp],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp, gptUp));

const TOOLS: Anthropic.Tool[] = [{ name: 'screenshot', input_schema: { type: 'object', properties: {} } }];
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function toolTurn(result: Anthropic.ToolResultBlockParam): Anthropic.MessageParam[] {
  return [
    { role: 'user', content: 'Take a screenshot' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'screenshot', input: {} }] },
    { role: 'user', content: [result] },
  ];
}

/** The tool_result block the Anthropic upstream received for `toolu_1`. */
function upstreamToolResult(): Record<string, unknown> {
  const body = claudeUp.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> };
  const blocks = body.messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as Array<Record<string, unknown>>) : []));
  const block = blocks.find((b) => b.type === 'tool_result' && b.tool_use_id === 'toolu_1');
  expect(block).toBeDefined();
  return block!;
}

/** The tool message the OpenAI-wire upstream received for `toolu_1`. */
function upstreamToolMessage(): Record<string, unknown> {
  const body = gptUp.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> };
  const message = body.messages.find((m) => m.role === 'tool' && m.tool_call_id === 'toolu_1');
  expect(message).toBeDefined();
  return message!;
}

describe('/v1/messages stop_sequence', () => {
  it('an Anthropic upstream that stopped on a stop sequence: stop_reason "stop_sequence" and the sequence (JSON)', async () => {
    claudeUp.enqueue({ content: 'one two ', stopReason: 'stop_sequence' });
    const msg = await gw.anthropic().messages.create({ model: 'sonnet', max_tokens: 50, stop_sequences: ['three'], messages: [{ role: 'user', content: 'Count' }] });
    expect(claudeUp.requests.at(-1)!.body).toMatchObject({ stop_sequences: ['three'] });
    expect(msg).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'three' });
  });

  it('the same, streamed: message_delta carries stop_reason "stop_sequence" and the sequence', async () => {
    claudeUp.enqueue({ content: 'one two ', stopReason: 'stop_sequence', stopSequence: 'four' });
    const stream = gw.anthropic().messages.stream({ model: 'sonnet', max_tokens: 50, stop_sequences: ['three', 'four'], messages: [{ role: 'user', content: 'Count on' }] });
    const deltas: Anthropic.MessageDeltaEvent['delta'][] = [];
    stream.on('streamEvent', (e) => {
      if (e.type === 'message_delta') deltas.push(e.delta);
    });
    const final = await stream.finalMessage();
    expect(deltas).toEqual([expect.objectContaining({ stop_reason: 'stop_sequence', stop_sequence: 'four' })]);
    expect(final).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'four', content: [{ type: 'text', text: 'one two ' }] });
  });

  it('an answer that ended otherwise: stop_sequence null', async () => {
    claudeUp.enqueue({ content: 'one two three' });
    const msg = await gw.anthropic().messages.create({ model: 'sonnet', max_tokens: 50, stop_sequences: ['ten'], messages: [{ role: 'user', content: 'Count to three' }] });
    expect(msg).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
  });

  it('an exact-cache hit keeps it, as JSON and as a replayed stream', async () => {
    claudeUp.enqueue({ content: 'a b ', stopReason: 'stop_sequence' });
    const ask = { model: 'sonnet', max_tokens: 50, stop_sequences: ['c'], messages: [{ role: 'user' as const, content: 'Letters' }] };
    const miss = await gw.anthropic().messages.create(ask).withResponse();
    expect(miss.response.headers.get('x-llmrr-cache')).toBe('miss');
    const hit = await gw.anthropic().messages.create(ask).withResponse();
    expect(hit.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(hit.data).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'c' });
    const replayed = await gw.anthropic().messages.stream(ask).finalMessage();
    expect(replayed).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'c', content: [{ type: 'text', text: 'a b ' }] });
    expect(claudeUp.requests).toHaveLength(1);
  });

  it('an OpenAI-compatible deployment does not say which sequence it stopped on: end_turn, stop_sequence null', async () => {
    gptUp.setScript({ text: 'one two ' });
    const msg = await gw.anthropic().messages.create({ model: 'gpt', max_tokens: 50, stop_sequences: ['three'], messages: [{ role: 'user', content: 'Count' }] });
    expect(gptUp.requests.at(-1)!.body).toMatchObject({ stop: ['three'] });
    expect(msg).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
  });
});

describe('/v1/messages tool_result blocks reach an Anthropic deployment', () => {
  it('is_error: true is passed on (the model is told the tool failed)', async () => {
    const msg = await gw.anthropic().messages.create({
      model: 'sonnet',
      max_tokens: 50,
      tools: TOOLS,
      messages: toolTurn({ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ENOENT: display not found', is_error: true }),
    });
    expect(msg.type).toBe('message');
    expect(upstreamToolResult()).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ENOENT: display not found', is_error: true });
  });

  it('several text blocks of one tool_result keep their boundary (not run together)', async () => {
    await gw.anthropic().messages.create({
      model: 'sonnet',
      max_tokens: 50,
      tools: TOOLS,
      messages: toolTurn({
        type: 'tool_result',
        tool_use_id: 'toolu_1',
        // An MCP tool's result: one text item per hit.
        content: [
          { type: 'text', text: 'hit 1: Paris' },
          { type: 'text', text: 'hit 2: Rome' },
        ],
      }),
    });
    expect(upstreamToolResult().content).toEqual([
      { type: 'text', text: 'hit 1: Paris' },
      { type: 'text', text: 'hit 2: Rome' },
    ]);
  });

  it('an image block inside tool_result content is passed on, with the text around it, and no warning', async () => {
    const res = await gw
      .anthropic()
      .messages.create({
        model: 'sonnet',
        max_tokens: 50,
        tools: TOOLS,
        messages: toolTurn({
          type: 'tool_result',
          tool_use_id: 'toolu_1',
          content: [
            { type: 'text', text: 'Here it is:' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
        }),
      })
      .withResponse();
    expect(upstreamToolResult().content).toEqual([
      { type: 'text', text: 'Here it is:' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
    ]);
    expect(res.response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('count_tokens counts the image of a tool_result', async () => {
    const messages = (content: Anthropic.ToolResultBlockParam['content']) => toolTurn({ type: 'tool_result', tool_use_id: 'toolu_1', content });
    const count = (m: Anthropic.MessageParam[]) => gw.anthropic().messages.countTokens({ model: 'sonnet', tools: TOOLS, messages: m });
    const textOnly = await count(messages([{ type: 'text', text: 'Here it is:' }]));
    const withImage = await count(messages([{ type: 'text', text: 'Here it is:' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }]));
    // The engine's local estimate counts an image at Anthropic's cap (1,600 tokens).
    expect(withImage.input_tokens - textOnly.input_tokens).toBeGreaterThanOrEqual(1_600);
  });
});

describe('/v1/messages tool_result blocks on an OpenAI-compatible deployment', () => {
  it('the text blocks go joined with newlines; the image and is_error are not sent, each named in x-llmrr-warnings', async () => {
    const res = await gw
      .anthropic()
      .messages.create({
        model: 'gpt',
        max_tokens: 50,
        tools: TOOLS,
        messages: toolTurn({
          type: 'tool_result',
          tool_use_id: 'toolu_1',
          is_error: true,
          content: [
            { type: 'text', text: 'Partial capture:' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'text', text: 'then the display went away' },
          ],
        }),
      })
      .withResponse();
    expect(upstreamToolMessage().content).toBe('Partial capture:\nthen the display went away');
    expect(JSON.stringify(gptUp.requests.at(-1)!.body)).not.toContain(PNG);
    expect(readWarnings(res.response.headers.get('x-llmrr-warnings'))).toEqual([
      ['setting_not_sent', 'messages.2.content.0.content.1'],
      ['setting_not_sent', 'messages.2.content.0.is_error'],
    ]);
  });
});

describe('/v1/messages: an error tool_result with empty content', () => {
  it.each([
    ['no content', { type: 'tool_result', tool_use_id: 'toolu_1', is_error: true }],
    ['content ""', { type: 'tool_result', tool_use_id: 'toolu_1', is_error: true, content: '' }],
    ['content []', { type: 'tool_result', tool_use_id: 'toolu_1', is_error: true, content: [] }],
  ] as Array<[string, Anthropic.ToolResultBlockParam]>)('%s: sent as "Error" with is_error (not a body Anthropic refuses)', async (name, block) => {
    // The three are one core request: a prompt of its own each, so none is an exact-cache hit of another.
    const [ask, ...rest] = toolTurn(block);
    await gw.anthropic().messages.create({ model: 'sonnet', max_tokens: 50, tools: TOOLS, messages: [{ ...ask!, content: `${ask!.content as string} (${name})` }, ...rest] });
    expect(upstreamToolResult()).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Error', is_error: true });
  });
});

describe('/v1/messages: an image inside a tool_result and the vision capability', () => {
  it('a user image to the deployment without vision is refused (400, lacks vision), nothing sent', async () => {
    const e = await gw
      .anthropic()
      .messages.create({ model: 'textonly', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] }] })
      .then(
        () => undefined,
        (err: unknown) => err as { status?: number; message?: string },
      );
    expect(e?.status).toBe(400);
    expect(claudeUp.requests).toHaveLength(0);
  });

  it('a tool_result image to the deployment without vision is refused the same way, nothing sent', async () => {
    const e = await gw
      .anthropic()
      .messages.create({
        model: 'textonly',
        max_tokens: 10,
        tools: TOOLS,
        messages: toolTurn({
          type: 'tool_result',
          tool_use_id: 'toolu_1',
          content: [
            { type: 'text', text: 'Here it is:' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
        }),
      })
      .then(
        () => undefined,
        (err: unknown) => err as { status?: number; message?: string },
      );
    expect(e?.status).toBe(400);
    expect(e?.message).toContain('textonly: lacks capabilities: vision');
    expect(claudeUp.requests).toHaveLength(0);
  });

  it('the same tool_result without its image is served by it', async () => {
    await gw.anthropic().messages.create({ model: 'textonly', max_tokens: 10, tools: TOOLS, messages: toolTurn({ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'Here it is:' }] }) });
    // (One text block goes as the content string: the same to Anthropic.)
    expect(upstreamToolResult()).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Here it is:' });
  });
});
