import type { RouterResult } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import type { RoutePart } from '../streaming/open-stream.js';
import { parseSse } from '../test-support/harness.js';
import { makeToolStreamCase, rng, type ToolStreamCase } from '../test-support/tool-stream-cases.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

// Seeded fuzz of OpenAI-wire orders (calls' pieces interleaved at random, split at random points, text pieces
// between them, the whole calls at the finish in index order), checked with a strict sequential-block client.
// Some calls come only whole (no pieces), some only as pieces (no whole part: the result has them), some
// only in the router result (no part at all). Bounded: 400 + 400 cases.

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', model: 'm', provider: 'mock' } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const result = { requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls: [], finishReason: 'tool-calls', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1 } as unknown as RouterResult;

type Event = { type: string; index?: number; content_block?: { type: string; id?: string }; delta?: { type: string; partial_json?: string; text?: string } };

/** The blocks a strict client builds; fails on any out-of-order event. */
function blocksOf(frames: string[]): { id?: string; json: string; text: string }[] {
  const events = parseSse(frames.join('')).map((f) => JSON.parse(f.data) as Event);
  expect(events.some((e) => e.type === 'error')).toBe(false);
  const blocks: { id?: string; json: string; text: string }[] = [];
  let open: number | undefined;
  for (const e of events) {
    if (e.type === 'content_block_start') {
      expect(open).toBeUndefined();
      expect(e.index).toBe(blocks.length);
      blocks.push({ id: e.content_block!.id, json: '', text: '' });
      open = e.index;
    } else if (e.type === 'content_block_delta') {
      expect(e.index).toBe(open);
      if (e.delta!.type === 'input_json_delta') blocks[e.index!]!.json += e.delta!.partial_json;
      else blocks[e.index!]!.text += e.delta!.text;
    } else if (e.type === 'content_block_stop') {
      expect(e.index).toBe(open);
      open = undefined;
    }
  }
  expect(open).toBeUndefined();
  expect(events.at(-1)?.type).toBe('message_stop');
  return blocks;
}

function run(c: ToolStreamCase): string[] {
  const enc = new AnthropicStreamEncoder({ explain: false });
  const frames = [...enc.start(route)];
  for (const p of c.parts) frames.push(...enc.part(p));
  frames.push(...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, { ...result, toolCalls: c.finals }));
  return frames;
}

describe('AnthropicStreamEncoder: seeded random interleavings', () => {
  it('every call arrives whole, blocks strictly sequential, no error', () => {
    const r = rng(42);
    for (let k = 0; k < 400; k++) {
      const c = makeToolStreamCase(r, false);
      const tools = blocksOf(run(c)).filter((b) => b.id !== undefined);
      // Blocks come in the order calls could be sent (not necessarily index order): compare by id.
      expect(tools.map((b) => b.id).sort()).toEqual(c.args.map((_, i) => `c${i}`));
      for (const b of tools) expect(JSON.parse(b.json)).toEqual(JSON.parse(c.args[Number(b.id!.slice(1))]!));
    }
  });

  it('with text pieces between call pieces: every call whole, all text, text and calls in arrival order', () => {
    const r = rng(7);
    let buffered = 0;
    for (let k = 0; k < 400; k++) {
      const c = makeToolStreamCase(r, true);
      const blocks = blocksOf(run(c));
      const tools = blocks.filter((b) => b.id !== undefined);
      expect(tools.map((b) => b.id).sort()).toEqual(c.args.map((_, i) => `c${i}`));
      for (const b of tools) expect(JSON.parse(b.json)).toEqual(JSON.parse(c.args[Number(b.id!.slice(1))]!));
      // What the client sees, as a sequence of `c<i>` and `t<k>`.
      const seen = blocks.flatMap((b) => (b.id !== undefined ? [b.id] : [...b.text.matchAll(/<(\d+)>/g)].map((m) => `t${m[1]}`)));
      const texts = c.arrival.filter((a) => a.startsWith('t'));
      expect(seen.filter((a) => a.startsWith('t'))).toEqual(texts);
      // Every text piece keeps its order relative to every call (calls among themselves may go by index).
      for (const t of texts) {
        for (const id of seen.filter((a) => a.startsWith('c'))) {
          expect(seen.indexOf(t) < seen.indexOf(id), `${t} vs ${id} in ${c.arrival.join(' ')} -> ${seen.join(' ')}`).toBe(c.arrival.indexOf(t) < c.arrival.indexOf(id));
        }
      }
      if (blocks.some((b, i) => b.id === undefined && i > 0 && blocks[i - 1]!.id !== undefined)) buffered++;
    }
    // The cases do exercise text after (and so possibly inside) calls.
    expect(buffered).toBeGreaterThan(100);
  });
});
