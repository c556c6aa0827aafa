import type { RouterResult } from '@llmrr/core';
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { describe, expect, it } from 'vitest';
import type { RoutePart } from '../streaming/open-stream.js';
import { makeToolStreamCase, rng, type ToolStreamCase } from '../test-support/tool-stream-cases.js';
import { ChatStreamEncoder, DONE_FRAME } from './chat-stream-encoder.js';

// Seeded fuzz of OpenAI-wire orders (calls' pieces interleaved at random, split at random points, text pieces
// between them, the whole calls at the finish in index order), read by the official openai client's stream
// helper (`ChatCompletionStream`, what `chat.completions.stream()` returns), which takes a delta for a new
// index as the end of the previous call. Some calls come only whole (no pieces), some only as pieces (no whole
// part: the result has them), some only in the router result (no part at all). Bounded: 300 + 300 cases.

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', model: 'm', provider: 'mock' } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const result = { requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls: [], finishReason: 'tool-calls', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1 } as unknown as RouterResult;

function frames(c: ToolStreamCase): string[] {
  const enc = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false });
  const out = [...enc.start(route)];
  for (const p of c.parts) out.push(...enc.part(p));
  out.push(...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, { ...result, toolCalls: c.finals }));
  return out;
}

interface Seen {
  done: Array<{ index: number; arguments: string }>;
  ids: string[];
  args: string[];
  content: string;
  /** The call ids in the order their first delta came. */
  order: string[];
}

/** What the openai client's stream helper makes of the frames. */
async function read(out: string[]): Promise<Seen> {
  expect(out.at(-1)).toBe(DONE_FRAME);
  const chunks = out.slice(0, -1).map((f) => {
    expect(f.startsWith('data: ') && f.endsWith('\n\n')).toBe(true);
    return JSON.parse(f.slice(6)) as { choices?: Array<{ delta: { tool_calls?: Array<{ index: number; id?: string }> } }>; error?: unknown };
  });
  expect(chunks.filter((c) => c.error !== undefined)).toEqual([]);
  const order: string[] = [];
  for (const c of chunks) for (const t of c.choices?.[0]?.delta.tool_calls ?? []) if (t.id) order.push(t.id);
  const bytes = new TextEncoder().encode(chunks.map((c) => `${JSON.stringify(c)}\n`).join(''));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  const stream = ChatCompletionStream.fromReadableStream(body);
  const done: Seen['done'] = [];
  stream.on('tool_calls.function.arguments.done', (e) => done.push({ index: e.index, arguments: e.arguments }));
  const final = await stream.finalChatCompletion();
  const message = final.choices[0]!.message;
  const calls = (message.tool_calls ?? []) as Array<{ id: string; function: { arguments: string } }>;
  return { done, ids: calls.map((t) => t.id), args: calls.map((t) => t.function.arguments), content: message.content ?? '', order };
}

async function check(c: ToolStreamCase): Promise<Seen> {
  const seen = await read(frames(c));
  // Every call once in the final message (numbered in the order sent), with its arguments.
  expect([...seen.ids].sort()).toEqual(c.args.map((_, i) => `c${i}`).sort());
  expect(seen.ids).toEqual(seen.order);
  const argsOf = (wire: number) => c.args[Number(seen.ids[wire]!.slice(1))]!;
  seen.args.forEach((a, wire) => expect(JSON.parse(a)).toEqual(JSON.parse(argsOf(wire))));
  // `arguments.done` exactly once per call, each with its whole arguments (what a strict tool JSON-parses).
  expect(seen.done.map((d) => d.index)).toEqual(seen.ids.map((_, wire) => wire));
  for (const d of seen.done) expect(JSON.parse(d.arguments)).toEqual(JSON.parse(argsOf(d.index)));
  // All text, in arrival order.
  expect(seen.content).toBe(c.arrival.filter((a) => a.startsWith('t')).map((a) => `<${a.slice(1)}>`).join(''));
  return seen;
}

/** A call's pieces come again after another call's piece. */
function interleaves(c: ToolStreamCase): boolean {
  const left = new Set<number>();
  let current: number | undefined;
  for (const p of c.parts) {
    if (p.type !== 'tool-call-delta' || p.index === current) continue;
    if (left.has(p.index)) return true;
    if (current !== undefined) left.add(current);
    current = p.index;
  }
  return false;
}

describe('ChatStreamEncoder: seeded random interleavings, read by the openai client stream helper', () => {
  it('every call whole, arguments.done once per call with its whole arguments', async () => {
    const r = rng(42);
    let interleaved = 0;
    for (let k = 0; k < 300; k++) {
      const c = makeToolStreamCase(r, false);
      await check(c);
      if (interleaves(c)) interleaved++;
    }
    // The cases do interleave (forwarded as they came, the helper would cut calls short).
    expect(interleaved).toBeGreaterThan(100);
  });

  it('with text pieces between call pieces: every call whole, all text in order', async () => {
    const r = rng(7);
    for (let k = 0; k < 300; k++) await check(makeToolStreamCase(r, true));
  });
});
