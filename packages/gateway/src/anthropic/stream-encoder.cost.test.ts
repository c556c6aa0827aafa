import type { RouterResult, StreamPart } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoutePart } from '../streaming/open-stream.js';
import { jsonParseChars } from '../test-support/json-parse-chars.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

// The encoder's work per streamed piece stays linear in the argument length, also while a call waits
// behind an open one (a whole-text check per piece made a long argument quadratic and blocked the event
// loop for seconds), and also while text waits for an unfinished call. Deterministic measures: the
// characters JSON.parse is handed, counted with a spy, and the characters of the frames sent.

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', model: 'm', provider: 'mock' } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const result = { requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls: [], finishReason: 'tool-calls', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1 } as unknown as RouterResult;
const piece = (index: number, argumentsDelta: string, id?: string, name?: string): StreamPart => ({ type: 'tool-call-delta', index, ...(id ? { id } : {}), ...(name ? { name } : {}), argumentsDelta });

/** Call 0 streams `{"items":[{"a":1},{"a":1},...]}` in pieces that each end with `}`; call 1 announced first or not. */
function run(pieces: number, call1AnnouncedFirst: boolean): { parsedChars: number; args: number } {
  const enc = new AnthropicStreamEncoder({ explain: false });
  enc.start(route);
  const parts: StreamPart[] = [piece(0, '', 'call_a', 'write')];
  if (call1AnnouncedFirst) parts.push(piece(1, '', 'call_b', 'write'));
  parts.push(piece(0, '{"items":[{"a":1}'));
  for (let i = 0; i < pieces; i++) parts.push(piece(0, ',{"a":1}'));
  parts.push(piece(0, ']}'));
  if (!call1AnnouncedFirst) parts.push(piece(1, '', 'call_b', 'write'));
  parts.push(piece(1, '{}'));
  const parsedChars = jsonParseChars(() => {
    for (const p of parts) enc.part(p);
    enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result);
  });
  return { parsedChars, args: 18 + pieces * 8 + 2 };
}

afterEach(() => vi.restoreAllMocks());

describe('AnthropicStreamEncoder: per-piece cost', () => {
  it('sequential calls: no JSON.parse per piece (linear)', () => {
    const r = run(4000, false);
    expect(r.parsedChars).toBeLessThan(4 * r.args);
  });

  it('call 1 announced before call 0 streams (both starts in the first chunk): JSON.parse work stays linear in the argument length', () => {
    const small = run(1000, true);
    const big = run(4000, true);
    // Quadratic work (a parse per piece ending in `}`) would be about pieces^2 * 4 characters.
    expect(big.parsedChars).toBeLessThan(4 * big.args);
    expect(small.parsedChars).toBeLessThan(4 * small.args);
  });
});

/**
 * Call 0 open and unfinished while `pieces` text pieces arrive between its pieces (they wait), call 1
 * announced (it waits too); the text goes out when call 0 is whole.
 */
function runWithText(pieces: number): { parsedChars: number; sentChars: number; input: number; frames: string[] } {
  const enc = new AnthropicStreamEncoder({ explain: false });
  const frames = enc.start(route);
  const parts: StreamPart[] = [piece(0, '{"items":[{"a":1}', 'call_a', 'write'), piece(1, '', 'call_b', 'write')];
  for (let i = 0; i < pieces; i++) parts.push({ type: 'text-delta', delta: 'word ' }, piece(0, ',{"a":1}'));
  parts.push(piece(0, ']}'), piece(1, '{}'));
  const parsedChars = jsonParseChars(() => {
    for (const p of parts) frames.push(...enc.part(p));
    frames.push(...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result));
  });
  const input = parts.reduce((n, p) => n + (p.type === 'text-delta' ? p.delta.length : p.type === 'tool-call-delta' ? p.argumentsDelta.length : 0), 0);
  return { parsedChars, sentChars: frames.reduce((n, f) => n + f.length, 0), input, frames };
}

describe('AnthropicStreamEncoder: per-piece cost with text waiting for an unfinished call', () => {
  it('the buffered text is sent once, in one delta; JSON.parse work and bytes sent stay linear', () => {
    const small = runWithText(1000);
    const big = runWithText(4000);
    for (const r of [small, big]) {
      expect(r.parsedChars).toBeLessThan(4 * r.input);
      // Each call piece is one frame of about 150 characters; quadratic re-sending would be pieces^2 * 5.
      expect(r.sentChars).toBeLessThan(200 * (r.input / 13) + 2 * r.input);
    }
    const textDeltas = big.frames.filter((f) => f.includes('"text_delta"'));
    expect(textDeltas).toHaveLength(1);
    expect(textDeltas[0]).toContain('word '.repeat(4000));
  });
});
