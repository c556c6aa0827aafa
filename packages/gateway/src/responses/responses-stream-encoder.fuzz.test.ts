import type { RouterResult } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { OpenAIResponseStreamEventSchema } from '../schemas/openai-responses.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { parseSse } from '../test-support/harness.js';
import { makeToolStreamCase, rng } from '../test-support/tool-stream-cases.js';
import { responseEcho } from './response-object.js';
import { ResponsesStreamEncoder } from './responses-stream-encoder.js';

// Seeded fuzz of OpenAI-wire tool-call streams (test-support/tool-stream-cases.ts: interleaved pieces, text
// between them, calls only whole, only as pieces, or only in the result) through the Responses encoder,
// checked as the `openai` SDK and the AI SDK read the events: items added in output_index order, one text item
// open at a time and never beside an open call, every call's done item with its full arguments, all text, and
// text in arrival order against the calls. Bounded: 400 cases.

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', provider: 'mock', cached: false } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const result = { requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls: [], finishReason: 'tool-calls', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1 } as unknown as RouterResult;

describe('ResponsesStreamEncoder: seeded random tool-call streams with text between the pieces', () => {
  it('every call whole in its done item and the final output, all text, text and calls in arrival order', () => {
    const r = rng(11);
    for (let k = 0; k < 400; k++) {
      const c = makeToolStreamCase(r, true);
      const enc = new ResponsesStreamEncoder({ createdAt: 1, echo: responseEcho({ model: 'dep', input: 'x' }), explain: false });
      const frames = [...enc.start(route)];
      for (const p of c.parts) frames.push(...enc.part(p));
      frames.push(...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, { ...result, toolCalls: c.finals }));
      const events = parseSse(frames.join('')).map((f) => OpenAIResponseStreamEventSchema.parse(JSON.parse(f.data)));
      const last = events.at(-1)!;
      if (last.type !== 'response.completed') throw new Error(`last event ${last.type}`);
      const output = last.response.output;
      const open = new Set<number>();
      let textOpen: number | undefined;
      const seen: string[] = [];
      for (const e of events) {
        if (e.type === 'response.output_item.added') {
          expect(e.output_index).toBe(seen.length);
          if (e.item.type === 'message') {
            expect(open.size, 'a message beside an open call').toBe(0);
            expect(textOpen).toBeUndefined();
            textOpen = e.output_index;
          } else {
            expect(textOpen, 'a call beside an open message').toBeUndefined();
            open.add(e.output_index);
          }
          seen.push(e.item.type === 'function_call' ? e.item.call_id : 'message');
        } else if (e.type === 'response.output_item.done') {
          if (e.item.type === 'function_call') {
            expect(open.delete(e.output_index)).toBe(true);
            const i = Number(e.item.call_id.slice(1));
            expect(JSON.parse(e.item.arguments)).toEqual(JSON.parse(c.args[i]!));
          } else {
            expect(textOpen).toBe(e.output_index);
            textOpen = undefined;
          }
        }
      }
      expect(open.size).toBe(0);
      expect(output.filter((o) => o.type === 'function_call').map((o) => (o.type === 'function_call' ? o.call_id : '')).sort()).toEqual(c.args.map((_, i) => `c${i}`));
      // The client's view as `c<i>` and `t<k>` in output order.
      const view = output.flatMap((o) => (o.type === 'function_call' ? [o.call_id] : o.type === 'message' ? [...(o.content[0]?.type === 'output_text' ? o.content[0].text : '').matchAll(/<(\d+)>/g)].map((m) => `t${m[1]}`) : []));
      const texts = c.arrival.filter((a) => a.startsWith('t'));
      expect(view.filter((a) => a.startsWith('t'))).toEqual(texts);
      for (const t of texts) {
        for (const id of view.filter((a) => a.startsWith('c'))) {
          expect(view.indexOf(t) < view.indexOf(id), `${t} vs ${id} in ${c.arrival.join(' ')} -> ${view.join(' ')}`).toBe(c.arrival.indexOf(t) < c.arrival.indexOf(id));
        }
      }
    }
  });
});
