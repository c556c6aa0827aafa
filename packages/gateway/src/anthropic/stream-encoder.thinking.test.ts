import type { RouterResult, StreamPart } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { AnthropicStreamEventSchema, type AnthropicStreamEvent } from '../schemas/anthropic-messages.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { parseSse } from '../test-support/harness.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

// Reasoning parts -> `thinking` / `redacted_thinking` content blocks of a /v1/messages stream: every frame parsed
// with the stream event schema, and the content rebuilt the way a strict client (the Anthropic SDK) does.

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', model: 'm', provider: 'mock' } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const result = { requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls: [], finishReason: 'tool-calls', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 5 } as unknown as RouterResult;

const think = (delta: string, signature?: string): StreamPart => ({ type: 'reasoning-delta', delta, ...(signature !== undefined ? { signature } : {}) });
const redacted = (redactedData: string): StreamPart => ({ type: 'reasoning-delta', delta: '', redactedData });
const text = (delta: string): StreamPart => ({ type: 'text-delta', delta });
const piece = (index: number, argumentsDelta: string, id?: string, name?: string): StreamPart => ({ type: 'tool-call-delta', index, ...(id ? { id, name } : {}), argumentsDelta });
const whole = (index: number, id: string, name: string, args: string): StreamPart => ({ type: 'tool-call', index, toolCall: { id, name, arguments: args } });

function events(parts: StreamPart[], finals: RouterResult['toolCalls'] = []): AnthropicStreamEvent[] {
  const enc = new AnthropicStreamEncoder({ explain: false });
  const frames = [...enc.start(route), ...parts.flatMap((p) => enc.part(p)), ...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, { ...result, toolCalls: finals })];
  return parseSse(frames.join('')).map((f) => {
    const e = AnthropicStreamEventSchema.parse(JSON.parse(f.data));
    expect(f.event).toBe(e.type);
    return e;
  });
}

type Block =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

/** Content as the Anthropic SDK's MessageStream builds it: one open block at a time, numbered 0, 1, 2... */
function content(evs: AnthropicStreamEvent[]): Block[] {
  const blocks: Block[] = [];
  let open: number | undefined;
  let json = '';
  for (const e of evs) {
    if (e.type === 'content_block_start') {
      expect(open).toBeUndefined();
      expect(e.index).toBe(blocks.length);
      open = e.index;
      json = '';
      blocks.push({ ...e.content_block } as Block);
    } else if (e.type === 'content_block_delta') {
      expect(e.index).toBe(open);
      const b = blocks[e.index]!;
      const d = e.delta;
      if (d.type === 'thinking_delta' && b.type === 'thinking') b.thinking += d.thinking;
      else if (d.type === 'signature_delta' && b.type === 'thinking') b.signature = d.signature;
      else if (d.type === 'text_delta' && b.type === 'text') b.text += d.text;
      else if (d.type === 'input_json_delta' && b.type === 'tool_use') json += d.partial_json;
      else throw new Error(`${d.type} for a ${b.type} block`);
    } else if (e.type === 'content_block_stop') {
      expect(e.index).toBe(open);
      const b = blocks[e.index]!;
      if (b.type === 'tool_use') b.input = json === '' ? {} : JSON.parse(json);
      open = undefined;
    }
  }
  expect(open).toBeUndefined();
  return blocks;
}

describe('anthropic stream encoder: thinking blocks', () => {
  it('thinking_delta pieces, then signature_delta right before the block stops; text and tool_use after it', () => {
    const evs = events([think('Let me '), think('think.'), think('', 'sig-1'), text('Checking.'), piece(0, '', 'toolu_1', 'get_weather'), piece(0, '{"city":"Paris"}'), whole(0, 'toolu_1', 'get_weather', '{"city":"Paris"}')], [
      { id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
    ]);
    expect(content(evs)).toEqual([
      { type: 'thinking', thinking: 'Let me think.', signature: 'sig-1' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    const sig = evs.findIndex((e) => e.type === 'content_block_delta' && e.delta.type === 'signature_delta');
    expect(evs[sig + 1]).toEqual({ type: 'content_block_stop', index: 0 });
    expect(evs[2]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } });
  });

  it('several blocks: a signature ends one, the next reasoning opens another; a redacted block comes whole', () => {
    const evs = events([think('a'), think('', 's1'), redacted('ENCRYPTED'), think('', 's2'), think('b'), think('', 's3'), text('Hi')]);
    expect(content(evs)).toEqual([
      { type: 'thinking', thinking: 'a', signature: 's1' },
      { type: 'redacted_thinking', data: 'ENCRYPTED' },
      // An empty signed block (thinking display omitted) is a block of its own.
      { type: 'thinking', thinking: '', signature: 's2' },
      { type: 'thinking', thinking: 'b', signature: 's3' },
      { type: 'text', text: 'Hi' },
    ]);
    const redactedStart = evs.find((e) => e.type === 'content_block_start' && e.content_block.type === 'redacted_thinking');
    expect(evs[evs.indexOf(redactedStart!) + 1]).toEqual({ type: 'content_block_stop', index: 1 });
  });

  it('unsigned reasoning (an OpenAI-compatible model): one thinking block with an empty signature, no signature_delta', () => {
    const evs = events([think('Hmm, '), think('six times seven.'), text('42')]);
    expect(content(evs)).toEqual([
      { type: 'thinking', thinking: 'Hmm, six times seven.', signature: '' },
      { type: 'text', text: '42' },
    ]);
    expect(evs.some((e) => e.type === 'content_block_delta' && e.delta.type === 'signature_delta')).toBe(false);
  });

  it('empty reasoning deltas send nothing', () => {
    expect(content(events([think(''), text('x')]))).toEqual([{ type: 'text', text: 'x' }]);
  });

  it('reasoning that arrives while a tool block is unfinished waits for it, then comes in order', () => {
    const evs = events(
      [piece(0, '{"ci', 'toolu_1', 'f'), think('late '), think('thought', 's1'), redacted('R'), think('more'), piece(0, 'ty":"Oslo"}'), think(' still')],
      [{ id: 'toolu_1', name: 'f', arguments: '{"city":"Oslo"}' }],
    );
    expect(content(evs)).toEqual([
      { type: 'tool_use', id: 'toolu_1', name: 'f', input: { city: 'Oslo' } },
      { type: 'thinking', thinking: 'late thought', signature: 's1' },
      { type: 'redacted_thinking', data: 'R' },
      { type: 'thinking', thinking: 'more still', signature: '' },
    ]);
  });
});
