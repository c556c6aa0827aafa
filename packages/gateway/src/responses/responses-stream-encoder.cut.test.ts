import type { RouterResult, StreamPart } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { OpenAIResponseStreamEventSchema, type OpenAIResponseStreamEvent } from '../schemas/openai-responses.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { parseSse } from '../test-support/harness.js';
import { CHAT_DONE, chatChunk as chunk } from '../test-support/openai-chat-sse.js';
import { openAIOverWire } from '../test-support/openai-over-wire.js';
import { responseEcho, toResponseObject } from './response-object.js';
import { ResponsesStreamEncoder } from './responses-stream-encoder.js';

// A length or content-filter cut while text waits behind a call whose arguments are unfinished (found in a
// review of 707082a): the call is sent first, and used to be closed `completed` while the message that only
// waited behind it, the last item, got the `incomplete` status. The non-streamed answer of the same result
// marks the cut call `incomplete` and the message `completed`; the stream now does the same.

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', provider: 'mock', cached: false } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };

function result(extra: Partial<RouterResult>): RouterResult {
  return { requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls: [], finishReason: 'stop', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1, ...extra } as RouterResult;
}

function stream(parts: StreamPart[], res: RouterResult): OpenAIResponseStreamEvent[] {
  const echo = responseEcho({ model: 'dep', input: 'x' });
  const enc = new ResponsesStreamEncoder({ createdAt: 1, echo, explain: false });
  const frames = [...enc.start(route)];
  for (const p of parts) frames.push(...enc.part(p));
  frames.push(...enc.finish({ type: 'finish', finishReason: res.finishReason, usage }, res));
  return parseSse(frames.join('')).map((f) => OpenAIResponseStreamEventSchema.parse(JSON.parse(f.data)));
}

/** `[type, status]` of each output item, in `output` order. */
const statuses = (output: readonly { type: string; status: string }[]) => output.map((o) => [o.type, o.status]);
/** The same, sorted: the streamed and non-streamed answers may put the items in another order. */
const sortedStatuses = (output: readonly { type: string; status: string }[]) => statuses(output).sort((a, b) => a.join().localeCompare(b.join()));

function lastResponse(events: OpenAIResponseStreamEvent[]) {
  const last = events.at(-1)!;
  if (last.type !== 'response.incomplete' && last.type !== 'response.completed') throw new Error(`last event ${last.type}`);
  return last.response;
}

function nonStreamed(res: RouterResult) {
  return toResponseObject(res, { createdAt: 1, echo: responseEcho({ model: 'dep', input: 'x' }), explain: false });
}

/** The `output_item.done` statuses, in the order they were sent. */
const doneStatuses = (events: OpenAIResponseStreamEvent[]) => events.flatMap((e) => (e.type === 'response.output_item.done' ? [[e.item.type, e.item.status]] : []));

describe('a length cut while text waits behind an unfinished call', () => {
  const parts: StreamPart[] = [
    { type: 'tool-call-delta', index: 0, id: 'call_a', name: 'get_weather', argumentsDelta: '{"city":' },
    { type: 'text-delta', delta: 'One moment.' },
    // The answer is cut here (max_output_tokens): the call's arguments never finish.
  ];
  const res = result({ finishReason: 'length', text: 'One moment.', toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":' }] });

  it('the cut call is incomplete in response.incomplete, as in the non-streamed answer of the same result', () => {
    const events = stream(parts, res);
    const last = events.at(-1)!;
    if (last.type !== 'response.incomplete') throw new Error(`last event ${last.type}`);
    const streamedCall = last.response.output.find((o) => o.type === 'function_call');
    const nonStreamed = toResponseObject(res, { createdAt: 1, echo: responseEcho({ model: 'dep', input: 'x' }), explain: false });
    const plainCall = nonStreamed.output.find((o) => o.type === 'function_call');
    expect(plainCall).toMatchObject({ arguments: '{"city":', status: 'incomplete' });
    // Streamed: {"city": (not JSON) reported as a completed call.
    expect(streamedCall).toMatchObject({ arguments: '{"city":', status: plainCall!.status });
  });

  it('no output_item.done says completed for a function call whose arguments are not JSON', () => {
    const events = stream(parts, res);
    for (const e of events) {
      if (e.type === 'response.output_item.done' && e.item.type === 'function_call' && e.item.status === 'completed') {
        expect(() => JSON.parse(e.item.type === 'function_call' ? e.item.arguments : ''), `completed call ${e.item.call_id}`).not.toThrow();
      }
    }
  });
});

describe('cut finishes: the streamed statuses are the non-streamed answer\u2019s', () => {
  const cutCall: StreamPart = { type: 'tool-call-delta', index: 0, id: 'call_a', name: 'get_weather', argumentsDelta: '{"city":' };
  const cutResult = (finishReason: RouterResult['finishReason'], extra: Partial<RouterResult> = {}) =>
    result({ finishReason, text: 'One moment.', toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":' }], ...extra });

  it('length: the cut call incomplete, the message that waited behind it completed, in the done events and the final output', () => {
    const res = cutResult('length');
    const events = stream([cutCall, { type: 'text-delta', delta: 'One moment.' }], res);
    expect(doneStatuses(events)).toEqual([
      ['function_call', 'incomplete'],
      ['message', 'completed'],
    ]);
    expect(statuses(lastResponse(events).output)).toEqual([
      ['function_call', 'incomplete'],
      ['message', 'completed'],
    ]);
    expect(sortedStatuses(lastResponse(events).output)).toEqual(sortedStatuses(nonStreamed(res).output));
  });

  it('content filter: the same, with the content_filter reason', () => {
    const res = cutResult('content-filter');
    const events = stream([cutCall, { type: 'text-delta', delta: 'One moment.' }], res);
    const response = lastResponse(events);
    expect(response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
    expect(statuses(response.output)).toEqual([
      ['function_call', 'incomplete'],
      ['message', 'completed'],
    ]);
    expect(sortedStatuses(response.output)).toEqual(sortedStatuses(nonStreamed(res).output));
  });

  it('the whole call part with the cut arguments before the finish (as the openai-compatible engine sends it): the call stays open, the text waits, the call is incomplete', () => {
    const res = cutResult('length');
    const events = stream(
      [cutCall, { type: 'text-delta', delta: 'One moment.' }, { type: 'tool-call', index: 0, toolCall: { id: 'call_a', name: 'get_weather', arguments: '{"city":' } }],
      res,
    );
    expect(doneStatuses(events)).toEqual([
      ['function_call', 'incomplete'],
      ['message', 'completed'],
    ]);
    expect(sortedStatuses(lastResponse(events).output)).toEqual(sortedStatuses(nonStreamed(res).output));
  });

  it('text then a cut call: the message completed (closed when the call came), the call incomplete', () => {
    const res = result({ finishReason: 'length', text: 'Checking.', toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":' }] });
    const events = stream([{ type: 'text-delta', delta: 'Checking.' }, cutCall], res);
    expect(statuses(lastResponse(events).output)).toEqual([
      ['message', 'completed'],
      ['function_call', 'incomplete'],
    ]);
    expect(statuses(nonStreamed(res).output)).toEqual(statuses(lastResponse(events).output));
  });

  it('reasoning and text waiting behind a cut call: only the call is incomplete', () => {
    const res = cutResult('length', { reasoning: 'Hmm.' });
    const events = stream([cutCall, { type: 'reasoning-delta', delta: 'Hmm.' }, { type: 'text-delta', delta: 'One moment.' }], res);
    expect(statuses(lastResponse(events).output)).toEqual([
      ['function_call', 'incomplete'],
      ['reasoning', 'completed'],
      ['message', 'completed'],
    ]);
    expect(sortedStatuses(lastResponse(events).output)).toEqual(sortedStatuses(nonStreamed(res).output));
  });

  it('a cut with whole calls only: the last item is incomplete, as before', () => {
    const res = result({ finishReason: 'length', text: 'Checking.', toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
    const events = stream([{ type: 'text-delta', delta: 'Checking.' }, { type: 'tool-call-delta', index: 0, id: 'call_a', name: 'get_weather', argumentsDelta: '{"city":"Oslo"}' }], res);
    expect(statuses(lastResponse(events).output)).toEqual([
      ['message', 'completed'],
      ['function_call', 'incomplete'],
    ]);
    expect(statuses(nonStreamed(res).output)).toEqual(statuses(lastResponse(events).output));
  });

  it('arguments that are not JSON on a finish that is not a cut: completed, as in the non-streamed answer', () => {
    const res = result({ finishReason: 'tool-calls', text: 'One moment.', toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":' }] });
    const events = stream([cutCall, { type: 'text-delta', delta: 'One moment.' }], res);
    expect(lastResponse(events).status).toBe('completed');
    expect(doneStatuses(events)).toEqual([
      ['function_call', 'completed'],
      ['message', 'completed'],
    ]);
    expect(sortedStatuses(lastResponse(events).output)).toEqual(sortedStatuses(nonStreamed(res).output));
  });
});

describe('the same cut through the gateway, read by the openai SDK', () => {
  const wire = openAIOverWire();

  it('responses.stream().finalResponse(): the call cut by max_output_tokens is not reported completed', async () => {
    wire.upstream.setScript({
      rawSSE:
        chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] }) +
        chunk({ content: 'One moment.' }) +
        chunk({}, 'length') +
        CHAT_DONE,
    });
    const client = wire.gw.openai();
    const weatherTool = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false };
    const final = await client.responses.stream({ model: 'gpt', input: 'Weather in Oslo?', tools: [weatherTool], max_output_tokens: 16 }).finalResponse();
    expect(final.status).toBe('incomplete');
    const call = final.output.find((o) => o.type === 'function_call');
    expect(call && call.type === 'function_call' && [call.arguments, call.status]).toEqual(['{"city":', 'incomplete']);
  });
});
