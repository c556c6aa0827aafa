import { LLMError, type LLMErrorCode, type RouterResult, type StreamPart } from '@llmrr/core';
import { seededRandom } from '@llmrr/core/test';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FinishPart } from '../streaming/sse-response.js';
import type { RoutePart } from '../streaming/open-stream.js';
import type { ResponseEcho } from './response-object.js';
import { ResponsesStreamEncoder } from './responses-stream-encoder.js';

/*
 * The encoder's bytes against __fixtures__/responses-stream-frames.json: the frames the encoder wrote before
 * its delta frames were pre-serialized (every event through `JSON.stringify({ ...event, sequence_number })`),
 * recorded for each scenario (text that needs escaping, reasoning, cut and broken streams, a rich request's
 * echo, explain). The fast path must write the same bytes. Function-call events are not recorded here (their
 * order changed since: see responses-stream-encoder.test.ts and the fuzz test); they go through the same
 * `frame()` as the other events recorded here.
 */

type Step =
  | { op: 'start' }
  | { op: 'part'; part: StreamPart }
  | { op: 'finish'; part: FinishPart; result: RouterResult }
  | { op: 'error'; error: { code: LLMErrorCode; message: string; param?: string } };
interface Scenario {
  name: string;
  echo: ResponseEcho;
  explain: boolean;
  steps: Step[];
  frames: string[];
}

const scenarios = JSON.parse(readFileSync(new URL('./__fixtures__/responses-stream-frames.json', import.meta.url), 'utf8')) as Scenario[];
const requestId = 'req_0193abcdef0123456789abcdef';
const route = { type: 'route', requestId, deployment: 'dep', provider: 'mock', cached: false } as unknown as RoutePart;

describe('ResponsesStreamEncoder bytes', () => {
  it('the fixture holds every scenario', () => {
    expect(scenarios.length).toBe(6);
    expect(scenarios.reduce((n, s) => n + s.frames.length, 0)).toBeGreaterThan(90);
  });

  for (const s of scenarios) {
    it(`${s.name}: the same frames, byte for byte`, () => {
      const enc = new ResponsesStreamEncoder({ createdAt: 1_700_000_000, echo: s.echo, explain: s.explain });
      const frames: string[] = [];
      for (const step of s.steps) {
        if (step.op === 'start') frames.push(...enc.start(route));
        else if (step.op === 'part') frames.push(...enc.part(step.part));
        else if (step.op === 'finish') frames.push(...enc.finish(step.part, step.result));
        else frames.push(...enc.error(new LLMError(step.error), requestId));
      }
      expect(frames).toEqual(s.frames);
    });
  }
});

describe('ResponsesStreamEncoder function_call_arguments.delta bytes', () => {
  it('each piece is JSON.stringify of its event with its sequence_number, for generated arguments cut anywhere', () => {
    const r = seededRandom(4113);
    const chars = ['a', ' ', '"', '\\', '\u0001', '\u2028', '\ud83d\ude00', '\ud800', '\u00e9', '</script>', '{', '}', ':', ','];
    const enc = new ResponsesStreamEncoder({ createdAt: 1_700_000_000, echo: {} as ResponseEcho, explain: false });
    enc.start(route);
    for (let call = 0; call < 60; call++) {
      let q = '';
      for (let i = Math.floor(r() * 12); i > 0; i--) q += chars[Math.floor(r() * chars.length)]!;
      const args = JSON.stringify({ q });
      const cuts = [0];
      while (cuts[cuts.length - 1]! < args.length) cuts.push(Math.min(args.length, cuts[cuts.length - 1]! + 1 + Math.floor(r() * 6)));
      enc.part({ type: 'tool-call-delta', index: call, id: `call_${call}`, name: 'f', argumentsDelta: args.slice(0, cuts[1]) });
      for (let i = 1; i < cuts.length - 1; i++) {
        const delta = args.slice(cuts[i], cuts[i + 1]);
        const frames = enc.part({ type: 'tool-call-delta', index: call, argumentsDelta: delta });
        expect(frames.length).toBe(1);
        const sent = JSON.parse(frames[0]!.slice(frames[0]!.indexOf('data: ') + 6)) as { item_id: string; output_index: number; sequence_number: number };
        const event = { type: 'response.function_call_arguments.delta', item_id: sent.item_id, output_index: sent.output_index, delta, sequence_number: sent.sequence_number };
        expect(frames[0], JSON.stringify(delta)).toBe(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
    }
  });
});
