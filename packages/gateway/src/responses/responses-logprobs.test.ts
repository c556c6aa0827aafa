/**
 * Log probabilities in Responses answers: the message's `output_text` part (token, bytes, logprob, top_logprobs),
 * the `response.output_text.delta` events (each with its own tokens), `response.output_text.done` and the final
 * response. Without them asked for, the events are as before (`logprobs: []`).
 */
import type { RouterResult, StreamPart, TokenLogprob } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { OpenAIResponseSchema, OpenAIResponseStreamEventSchema, type OpenAIResponseStreamEvent } from '../schemas/openai-responses.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { parseSse } from '../test-support/harness.js';
import { responseEcho, toResponseObject } from './response-object.js';
import { toOutputTextLogprobs, toTextEventLogprobs } from './responses-logprobs.js';
import { ResponsesStreamEncoder } from './responses-stream-encoder.js';

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', provider: 'mock', cached: false } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const echo = responseEcho({ model: 'dep', input: 'x' });
const TOKENS: TokenLogprob[] = [
  { token: 'Hi', logprob: -0.25, bytes: [72, 105], topLogprobs: [{ token: 'Hi', logprob: -0.25, bytes: [72, 105] }, { token: 'H\u00e9', logprob: -2 }] },
  { token: ' there', logprob: -0.5 },
];
const OUTPUT_TEXT = [
  { token: 'Hi', bytes: [72, 105], logprob: -0.25, top_logprobs: [{ token: 'Hi', bytes: [72, 105], logprob: -0.25 }, { token: 'H\u00e9', bytes: [72, 0xc3, 0xa9], logprob: -2 }] },
  { token: ' there', bytes: [32, 116, 104, 101, 114, 101], logprob: -0.5, top_logprobs: [] },
];
const EVENT = [
  { token: 'Hi', logprob: -0.25, top_logprobs: [{ token: 'Hi', logprob: -0.25 }, { token: 'H\u00e9', logprob: -2 }] },
  { token: ' there', logprob: -0.5, top_logprobs: [] },
];

function result(extra: Partial<RouterResult> = {}): RouterResult {
  return { requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: 'Hi there', toolCalls: [], finishReason: 'stop', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 5, ...extra } as RouterResult;
}

function decode(frames: string[]): OpenAIResponseStreamEvent[] {
  return parseSse(frames.join('')).map((f) => OpenAIResponseStreamEventSchema.parse(JSON.parse(f.data)));
}

const text = (delta: string): StreamPart => ({ type: 'text-delta', delta });
const lp = (...tokens: TokenLogprob[]): StreamPart => ({ type: 'logprobs', logprobs: tokens });
const finish = { type: 'finish', finishReason: 'stop', usage } as const;

/** Runs the parts through an encoder: the events. */
function run(parts: StreamPart[], logprobs: boolean, end: RouterResult = result()): OpenAIResponseStreamEvent[] {
  const enc = new ResponsesStreamEncoder({ createdAt: 1, echo, explain: false, logprobs });
  return decode([...enc.start(route), ...parts.flatMap((p) => enc.part(p)), ...enc.finish(finish, end)]);
}

describe('Responses: logprobs', () => {
  it('shapes: output_text logprobs with bytes (the token\'s UTF-8 when the provider gave none); event logprobs without', () => {
    expect(toOutputTextLogprobs(TOKENS)).toEqual(OUTPUT_TEXT);
    expect(toTextEventLogprobs(TOKENS)).toEqual(EVENT);
  });

  it('JSON answer: the message\'s output_text carries them; [] when the result has none', () => {
    const withThem = OpenAIResponseSchema.parse(toResponseObject(result({ logprobs: TOKENS }), { createdAt: 1, echo, explain: false }));
    expect(withThem.output[0]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'Hi there', logprobs: OUTPUT_TEXT }] });
    const without = toResponseObject(result(), { createdAt: 1, echo, explain: false });
    expect(without.output[0]).toMatchObject({ content: [{ logprobs: [] }] });
  });

  it('stream: each output_text.delta carries its tokens; the done event, the part, the item and the response carry all', () => {
    const events = run([text('Hi'), lp(TOKENS[0]!), text(' there'), lp(TOKENS[1]!)], true, result({ logprobs: TOKENS }));
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.map((e) => [e.delta, e.logprobs])).toEqual([['Hi', [EVENT[0]]], [' there', [EVENT[1]]]]);
    const done = events.find((e) => e.type === 'response.output_text.done');
    expect(done).toMatchObject({ text: 'Hi there', logprobs: EVENT });
    expect(events.find((e) => e.type === 'response.content_part.done')).toMatchObject({ part: { type: 'output_text', logprobs: OUTPUT_TEXT } });
    const completed = events.at(-1)!;
    expect(completed.type).toBe('response.completed');
    expect((completed as Extract<OpenAIResponseStreamEvent, { type: 'response.completed' }>).response.output[0]).toMatchObject({ content: [{ logprobs: OUTPUT_TEXT }] });
    // The sequence numbers stay consecutive.
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('stream: text that waits behind an unfinished tool call keeps its tokens; a delta with no logprobs part goes out alone', () => {
    const events = run(
      [
        { type: 'tool-call-delta', index: 0, id: 'call_1', name: 'f', argumentsDelta: '{"a":' },
        text('Hi'),
        lp(TOKENS[0]!),
        { type: 'tool-call-delta', index: 0, argumentsDelta: '1}' },
        text(' there'),
      ],
      true,
    );
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.map((e) => [e.delta, e.logprobs])).toEqual([['Hi', [EVENT[0]]], [' there', []]]);
    expect(events.find((e) => e.type === 'response.output_text.done')).toMatchObject({ text: 'Hi there', logprobs: [EVENT[0]] });
  });

  it('not asked for: the same events as ever (logprobs []), and a logprobs part adds nothing', () => {
    const plain = run([text('Hi'), text(' there')], false);
    const withPart = run([text('Hi'), lp(TOKENS[0]!), text(' there'), lp(TOKENS[1]!)], false);
    expect(withPart).toEqual(plain);
    expect(plain.filter((e) => e.type === 'response.output_text.delta').map((e) => e.logprobs)).toEqual([[], []]);
  });
});
