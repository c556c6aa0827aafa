import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../spec/stream-parts.js';
import { sseEvents } from '../../util/http.js';
import { decodeAnthropicStream, type SseMessage } from './decode-anthropic-stream.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

async function replay(text: string, jsonToolName?: string): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const p of decodeAnthropicStream(sseEvents(new Response(text)), { provider: 'anthropic', jsonToolName })) parts.push(p);
  return parts;
}

async function* from(messages: SseMessage[]): AsyncGenerator<SseMessage> {
  for (const m of messages) yield m;
}

const text = (parts: StreamPart[]) => parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');

describe('decodeAnthropicStream: documented transcripts', () => {
  it('replays the basic text stream', async () => {
    const parts = await replay(fixture('anthropic-text.sse'));
    expect(parts[0]).toEqual({ type: 'response-metadata', id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY', model: 'claude-opus-4-6' });
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { delta: string }).delta)).toEqual(['Hello', '!']);
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 25, outputTokens: 15, totalTokens: 40 } });
    expect(parts.filter((p) => p.type === 'finish' || p.type === 'error')).toHaveLength(1);
  });

  it('reassembles input_json_delta pieces into one tool call', async () => {
    const parts = await replay(fixture('anthropic-tool-use.sse'));
    expect(text(parts)).toBe("Okay, let's check the weather for San Francisco, CA:");
    const deltas = parts.filter((p) => p.type === 'tool-call-delta');
    expect(deltas[0]).toEqual({ type: 'tool-call-delta', index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', argumentsDelta: '' });
    // The empty partial_json is skipped; the other 8 pieces arrive as they came.
    expect(deltas).toHaveLength(9);
    const joined = deltas.map((p) => (p as { argumentsDelta: string }).argumentsDelta).join('');
    const call = parts.find((p) => p.type === 'tool-call');
    expect(call).toEqual({
      type: 'tool-call',
      index: 0,
      toolCall: { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: joined },
    });
    expect(JSON.parse(joined)).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 472, outputTokens: 89 } });
  });

  it('reports thinking as reasoning deltas and tolerates a message_start without usage', async () => {
    const parts = await replay(fixture('anthropic-thinking.sse'));
    const reasoning = parts.map((p) => (p.type === 'reasoning-delta' ? p.delta : '')).join('');
    expect(reasoning).toContain('So GCD(1071, 462) = 21');
    expect(text(parts)).toBe('The greatest common divisor of 1071 and 462 is **21**.');
    expect(parts.findIndex((p) => p.type === 'reasoning-delta')).toBeLessThan(parts.findIndex((p) => p.type === 'text-delta'));
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } });
  });

  it('turns a mid-stream overloaded_error event into a final error part after the text', async () => {
    const parts = await replay(fixture('anthropic-overloaded.sse'));
    expect(text(parts)).toBe('Hello');
    const last = parts.at(-1);
    expect(last?.type).toBe('error');
    if (last?.type !== 'error') return;
    expect(last.error.code).toBe('overloaded');
    expect(last.error.isRetryable).toBe(true);
    expect(last.error.message).toContain('overloaded_error');
    expect(parts.some((p) => p.type === 'finish')).toBe(false);
  });
});

describe('decodeAnthropicStream: edge cases', () => {
  const start: SseMessage = { data: JSON.stringify({ type: 'message_start', message: { id: 'm', model: 'x', usage: { input_tokens: 3 } } }) };

  it('ends with stream_interrupted when the events stop before message_stop', async () => {
    const events = [start, { data: JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) }];
    const parts: StreamPart[] = [];
    for await (const p of decodeAnthropicStream(from(events), { provider: 'anthropic' })) parts.push(p);
    const last = parts.at(-1);
    expect(last?.type === 'error' && last.error.code).toBe('stream_interrupted');
  });

  it('ends with stream_interrupted when the source throws', async () => {
    async function* broken(): AsyncGenerator<SseMessage> {
      yield start;
      throw new TypeError('terminated');
    }
    const parts: StreamPart[] = [];
    for await (const p of decodeAnthropicStream(broken(), { provider: 'anthropic' })) parts.push(p);
    const last = parts.at(-1);
    expect(last?.type === 'error' && last.error.code).toBe('stream_interrupted');
    expect(last?.type === 'error' && last.error.isRetryable).toBe(true);
  });

  it('reports invalid JSON as invalid_response', async () => {
    const parts: StreamPart[] = [];
    for await (const p of decodeAnthropicStream(from([start, { data: '{nope' }]), { provider: 'anthropic' })) parts.push(p);
    const last = parts.at(-1);
    expect(last?.type === 'error' && last.error.code).toBe('invalid_response');
  });

  it('streams a JSON-mode tool input as text, and finishes with stop', async () => {
    const events: SseMessage[] = [
      start,
      { data: JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't1', name: 'json_answer', input: {} } }) },
      { data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"a":' } }) },
      { data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '1}' } }) },
      { data: JSON.stringify({ type: 'content_block_stop', index: 0 }) },
      { data: JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5, cache_read_input_tokens: 2 } }) },
      { data: JSON.stringify({ type: 'message_stop' }) },
    ];
    const parts: StreamPart[] = [];
    for await (const p of decodeAnthropicStream(from(events), { provider: 'anthropic', jsonToolName: 'json_answer' })) parts.push(p);
    expect(text(parts)).toBe('{"a":1}');
    expect(parts.some((p) => p.type === 'tool-call' || p.type === 'tool-call-delta')).toBe(false);
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 5, totalTokens: 10, cachedInputTokens: 2 } });
  });
});
