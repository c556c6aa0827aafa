import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicMessageSchema, AnthropicStreamEventSchema } from '../schemas/anthropic-messages.js';
import { createHarness, mockModel, parseSse, post, type Harness } from '../test-support/harness.js';

const body = { model: 'mock', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }] };

describe('POST /v1/messages', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ models: [mockModel('mock', { failures: [] })] });
  });
  afterEach(() => h.close());

  it('answers an Anthropic message', async () => {
    const res = await post(h.gateway, '/v1/messages', body);
    expect(res.status).toBe(200);
    const msg = AnthropicMessageSchema.parse(await res.json());
    expect(msg.content).toEqual([{ type: 'text', text: 'Mock answer to: hello there' }]);
    expect(msg.stop_reason).toBe('end_turn');
    // The system prompt counts as input: "Be brief." (2) + "hello there" (2).
    expect(msg.usage).toEqual({ input_tokens: 4, output_tokens: 5 });
    expect(msg.id).toMatch(/^msg_req_/);
  });

  it('streams the Messages event sequence', async () => {
    const res = await post(h.gateway, '/v1/messages', { ...body, stream: true });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const frames = parseSse(await res.text());
    const events = frames.map((f) => AnthropicStreamEventSchema.parse(JSON.parse(f.data)));
    // Each frame's `event:` line names its type.
    expect(frames.every((f, i) => f.event === events[i]!.type)).toBe(true);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['message_start', 'ping', 'content_block_start']);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const text = events.flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? [e.delta.text] : [])).join('');
    expect(text).toBe('Mock answer to: hello there');
    const delta = events.find((e) => e.type === 'message_delta');
    expect(delta).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5, input_tokens: 4 } });
  });

  it('maps tools and tool results both ways', async () => {
    const res = await post(h.gateway, '/v1/messages', {
      ...body,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }, { type: 'text', text: 'and now?' }] },
      ],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'any' },
    });
    const msg = AnthropicMessageSchema.parse(await res.json());
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: {} }]);

    const streamed = parseSse(await (await post(h.gateway, '/v1/messages', { ...body, stream: true, tools: [{ name: 'get_weather', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'get_weather' } })).text()).map((f) =>
      AnthropicStreamEventSchema.parse(JSON.parse(f.data)),
    );
    expect(streamed.find((e) => e.type === 'content_block_start')).toMatchObject({ content_block: { type: 'tool_use', name: 'get_weather', input: {} } });
    expect(streamed.find((e) => e.type === 'content_block_delta')).toMatchObject({ delta: { type: 'input_json_delta', partial_json: '{}' } });
    expect(streamed.find((e) => e.type === 'message_delta')).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it('errors use the Anthropic envelope with our fields', async () => {
    const res = await post(h.gateway, '/v1/messages', { ...body, max_tokens: 'many' });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { type: string; error: { type: string; param: string; request_id: string } };
    expect(err.type).toBe('error');
    expect(err.error).toMatchObject({ type: 'invalid_request_error', param: 'max_tokens', request_id: res.headers.get('x-request-id') });
  });
});
