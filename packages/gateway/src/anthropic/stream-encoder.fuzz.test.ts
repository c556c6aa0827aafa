import type { RouterResult, StreamPart } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import type { RoutePart } from '../streaming/open-stream.js';
import { parseSse } from '../test-support/harness.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

// Seeded fuzz of OpenAI-wire orders (calls' pieces interleaved at random, split at
// random points, the whole calls at the finish in index order), checked with a strict sequential-block
// client. Bounded: 400 cases.

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', model: 'm', provider: 'mock' } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const result = { requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls: [], finishReason: 'tool-calls', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1 } as unknown as RouterResult;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const samples = ['{"city":"Oslo"}', '{"a":[1,2,{"b":"}"}],"c":"]"}', '{}', ' {"x": "y z"} ', '{"n":-1.5e3,"t":true,"u":null}', '{"s":"\\"}\\\\"}', '[1,2]'];

describe('AnthropicStreamEncoder: seeded random interleavings', () => {
  it('every call arrives whole, blocks strictly sequential, no error', () => {
    const r = rng(42);
    for (let k = 0; k < 400; k++) {
      const n = 1 + Math.floor(r() * 3);
      const args = Array.from({ length: n }, () => samples[Math.floor(r() * samples.length)]!);
      // Split each call's arguments into pieces, first piece carries id/name (maybe empty args).
      const queues: StreamPart[][] = args.map((a, i) => {
        const cuts: string[] = [];
        let rest = a;
        if (r() < 0.5) cuts.push('');
        while (rest.length > 0) {
          const len = 1 + Math.floor(r() * 4);
          cuts.push(rest.slice(0, len));
          rest = rest.slice(len);
        }
        return cuts.map((c, j) => ({ type: 'tool-call-delta', index: i, ...(j === 0 ? { id: `c${i}`, name: `f${i}` } : {}), argumentsDelta: c }) as StreamPart);
      });
      const parts: StreamPart[] = [];
      if (r() < 0.3) parts.push({ type: 'text-delta', delta: 'Hi.' });
      // Calls start in any order, their pieces interleaved at random.
      const started = new Set<number>();
      while (queues.some((q) => q.length > 0)) {
        const live = queues.map((q, i) => i).filter((i) => queues[i]!.length > 0 && (started.has(i) || r() < 0.7));
        const pool = live.length > 0 ? live : queues.map((q, j) => j).filter((j) => queues[j]!.length > 0);
        const i = pool[Math.floor(r() * pool.length)]!;
        started.add(i);
        parts.push(queues[i]!.shift()!);
      }
      args.forEach((a, i) => parts.push({ type: 'tool-call', index: i, toolCall: { id: `c${i}`, name: `f${i}`, arguments: a } }));
      const enc = new AnthropicStreamEncoder({ explain: false });
      const frames = [...enc.start(route)];
      for (const p of parts) frames.push(...enc.part(p));
      frames.push(...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result));
      const events = parseSse(frames.join('')).map((f) => JSON.parse(f.data) as { type: string; index?: number; content_block?: { type: string; id?: string }; delta?: { type: string; partial_json?: string } });
      const blocks: { id?: string; json: string }[] = [];
      let open: number | undefined;
      for (const e of events) {
        if (e.type === 'content_block_start') {
          expect(open).toBeUndefined();
          expect(e.index).toBe(blocks.length);
          blocks.push({ id: e.content_block!.id, json: '' });
          open = e.index;
        } else if (e.type === 'content_block_delta') {
          expect(e.index).toBe(open);
          if (e.delta!.type === 'input_json_delta') blocks[e.index!]!.json += e.delta!.partial_json;
        } else if (e.type === 'content_block_stop') {
          expect(e.index).toBe(open);
          open = undefined;
        }
      }
      const tools = blocks.filter((b) => b.id !== undefined);
      // Blocks come in the order calls could be sent (not necessarily index order): compare by id.
      expect(tools.map((b) => b.id).sort()).toEqual(args.map((_, i) => `c${i}`));
      for (const b of tools) expect(JSON.parse(b.json)).toEqual(JSON.parse(args[Number(b.id!.slice(1))]!));
    }
  });
});
