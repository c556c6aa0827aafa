import type { RouterResult, StreamPart } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoutePart } from '../streaming/open-stream.js';
import { responseEcho } from './response-object.js';
import { ResponsesStreamEncoder } from './responses-stream-encoder.js';

// Text that waits for an unfinished call costs O(piece) per piece: the whole-JSON check is incremental and the
// waiting text goes out once. Deterministic measures: the characters JSON.parse is handed (a spy) and the
// characters of the frames sent.

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', provider: 'mock', cached: false } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const result = { requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls: [], finishReason: 'tool-calls', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1 } as unknown as RouterResult;
const piece = (index: number, argumentsDelta: string, id?: string, name?: string): StreamPart => ({ type: 'tool-call-delta', index, ...(id ? { id } : {}), ...(name ? { name } : {}), argumentsDelta });

afterEach(() => vi.restoreAllMocks());

function run(pieces: number) {
  const enc = new ResponsesStreamEncoder({ createdAt: 1, echo: responseEcho({ model: 'dep', input: 'x' }), explain: false });
  const frames = enc.start(route);
  const parts: StreamPart[] = [piece(0, '{"items":[{"a":1}', 'call_a', 'write'), piece(1, '{', 'call_b', 'write')];
  for (let i = 0; i < pieces; i++) parts.push({ type: 'text-delta', delta: 'word ' }, piece(0, ',{"a":1}'), piece(1, ' '));
  parts.push(piece(0, ']}'), piece(1, '}'));
  let parsedChars = 0;
  const real = JSON.parse;
  vi.spyOn(JSON, 'parse').mockImplementation(((text: string, reviver?: never) => {
    parsedChars += text.length;
    return real(text, reviver);
  }) as typeof JSON.parse);
  for (const p of parts) frames.push(...enc.part(p));
  vi.restoreAllMocks();
  const input = parts.reduce((n, p) => n + (p.type === 'text-delta' ? p.delta.length : p.type === 'tool-call-delta' ? p.argumentsDelta.length : 0), 0);
  return { parsedChars, parts: parts.length, input, frames };
}

describe('ResponsesStreamEncoder: per-piece cost while text waits for unfinished calls', () => {
  it('the waiting text is sent once, in one delta; JSON.parse work and bytes sent stay linear', () => {
    for (const n of [1000, 4000]) {
      const r = run(n);
      expect(r.parsedChars).toBeLessThan(4 * r.input);
      // Each call piece is one frame of about 200 characters; re-sending the waiting text would be n^2 * 5.
      const sent = r.frames.reduce((k, f) => k + f.length, 0);
      expect(sent).toBeLessThan(300 * r.parts + 2 * r.input);
      const textDeltas = r.frames.filter((f) => f.startsWith('event: response.output_text.delta'));
      expect(textDeltas).toHaveLength(1);
      expect(textDeltas[0]).toContain('word '.repeat(n));
    }
  });
});
