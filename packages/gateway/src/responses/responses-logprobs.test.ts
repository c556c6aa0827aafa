/**
 * Log probabilities in Responses answers: the message's `output_text` part (token, bytes, logprob, top_logprobs),
 * the `response.output_text.delta` events (each with its own tokens), `response.output_text.done` and the final
 * response. Without them asked for, the events are as before (`logprobs: []`).
 */
import { toLLMError, type RouterResult, type StreamPart, type TokenLogprob } from '@llmrr/core';
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

  it('JSON answer: the message\'s output_text carries them when asked for; [] when the result has none or they were not asked for', () => {
    const withThem = OpenAIResponseSchema.parse(toResponseObject(result({ logprobs: TOKENS }), { createdAt: 1, echo, explain: false, logprobs: true }));
    expect(withThem.output[0]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'Hi there', logprobs: OUTPUT_TEXT }] });
    const without = toResponseObject(result(), { createdAt: 1, echo, explain: false, logprobs: true });
    expect(without.output[0]).toMatchObject({ content: [{ logprobs: [] }] });
    // Not asked for: never rendered, even when the result has them (as the stream encoder does).
    expect(toResponseObject(result({ logprobs: TOKENS }), { createdAt: 1, echo, explain: false }).output[0]).toMatchObject({ content: [{ logprobs: [] }] });
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

describe('Responses with logprobs: a held text delta is never lost', () => {
  // With logprobs asked for, each text delta waits for the next part. When that part (or the finish) fails, the
  // held text (its frames already numbered) still reaches the client as its response.output_text.delta before the
  // error event, as on an ordinary stream (where it went out at once). The calls replay what `SseFrames` does.
  function failing(logprobs: boolean, parts: StreamPart[], end?: RouterResult): OpenAIResponseStreamEvent[] {
    const enc = new ResponsesStreamEncoder({ createdAt: 1, echo, explain: false, logprobs });
    const frames = [...enc.start(route)];
    try {
      for (const p of parts) frames.push(...enc.part(p));
      if (end) frames.push(...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, end));
      throw new Error('the stream was expected to fail');
    } catch (e) {
      frames.push(...enc.error(toLLMError(e), 'req_abc'));
    }
    return decode(frames);
  }
  const textOf = (events: OpenAIResponseStreamEvent[]) => events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
  const opened: StreamPart = { type: 'tool-call-delta', index: 0, id: 'call_a', name: 'f', argumentsDelta: '{"a":1}' };

  it.each([false, true])('sends the held delta before the error event when the part after it fails (logprobs %s)', (logprobs) => {
    const parts: StreamPart[] = [
      opened,
      // Text after a finished call: the call's item is done when the text's message opens.
      text('Hello'),
      // More arguments for the done call: the encoder throws (invalid_response).
      { type: 'tool-call-delta', index: 0, argumentsDelta: ',"b":2}' },
    ];
    const events = failing(logprobs, parts);
    expect(events.at(-1)?.type).toBe('error');
    expect(textOf(events)).toBe('Hello');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it.each([false, true])('sends the held delta before the error event when the finish fails (the result contradicts a done call; logprobs %s)', (logprobs) => {
    const end = result({ text: 'Hello', finishReason: 'tool-calls', toolCalls: [{ id: 'call_a', name: 'f', arguments: '{"a":2}' }] });
    const events = failing(logprobs, [opened, text('Hello')], end);
    expect(events.at(-1)?.type).toBe('error');
    expect(textOf(events)).toBe('Hello');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });
});
