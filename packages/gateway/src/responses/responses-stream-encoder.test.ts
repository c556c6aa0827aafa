import { LLMError, type RouterResult } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { OpenAIResponseStreamEventSchema, type OpenAIResponseStreamEvent } from '../schemas/openai-responses.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { parseSse } from '../test-support/harness.js';
import { responseEcho } from './response-object.js';
import { ResponsesStreamEncoder } from './responses-stream-encoder.js';

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', provider: 'mock', cached: false } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };

function result(extra: Partial<RouterResult> = {}): RouterResult {
  return {
    requestId: 'req_abc',
    deployment: 'dep',
    provider: 'mock',
    text: '',
    toolCalls: [],
    finishReason: 'stop',
    usage,
    cost: { totalUsd: 0.001, estimated: false },
    cached: false,
    latencyMs: 5,
    ...extra,
  } as RouterResult;
}

function encoder() {
  return new ResponsesStreamEncoder({ createdAt: 1_700_000_000, echo: responseEcho({ model: 'dep', input: 'x' }), explain: false });
}

function decode(frames: string[]): OpenAIResponseStreamEvent[] {
  return parseSse(frames.join('')).map((f) => {
    const e = OpenAIResponseStreamEventSchema.parse(JSON.parse(f.data));
    expect(f.event).toBe(e.type);
    return e;
  });
}

function completedOf(list: OpenAIResponseStreamEvent[]) {
  const last = list.at(-1)!;
  if (last.type !== 'response.completed' && last.type !== 'response.incomplete') throw new Error(`last event is ${last.type}`);
  return last.response;
}

describe('ResponsesStreamEncoder', () => {
  it('text, then two tool calls (deltas, a whole call after its deltas, a late delta), then text again: one item each, the calls closed when text starts', () => {
    const enc = encoder();
    const frames = [
      ...enc.start(route),
      ...enc.part({ type: 'text-delta', delta: 'Let me check. ' }),
      ...enc.part({ type: 'tool-call-delta', index: 0, id: 'call_1', name: 'get_weather', argumentsDelta: '{"city":' }),
      ...enc.part({ type: 'tool-call-delta', index: 0, argumentsDelta: '"Oslo"}' }),
      ...enc.part({ type: 'tool-call', index: 0, toolCall: { id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' } }),
      ...enc.part({ type: 'tool-call', index: 1, toolCall: { id: 'call_2', name: 'get_time', arguments: '{}' } }),
      ...enc.part({ type: 'tool-call-delta', index: 0, argumentsDelta: 'late' }),
      ...enc.part({ type: 'text-delta', delta: 'Done.' }),
      ...enc.part({ type: 'usage', usage }),
      ...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result({ text: 'Let me check. Done.' })),
    ];
    const list = decode(frames);
    expect(list.map((e) => e.sequence_number)).toEqual(list.map((_, i) => i));
    expect(list.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const completed = list.at(-1)!;
    if (completed.type !== 'response.completed') throw new Error('no completed event');
    const output = completed.response.output;
    expect(output.map((o) => [o.type, o.id])).toEqual([
      ['message', 'msg_abc'],
      ['function_call', 'fc_abc_0'],
      ['function_call', 'fc_abc_1'],
      ['message', 'msg_abc_1'],
    ]);
    expect(output[1]).toMatchObject({ call_id: 'call_1', arguments: '{"city":"Oslo"}', status: 'completed' });
    expect(output[2]).toMatchObject({ call_id: 'call_2', name: 'get_time', arguments: '{}' });
    // output_index of every event matches the item's position in the final output.
    for (const e of list) {
      if ('item_id' in e) expect(output[e.output_index]!.id).toBe(e.item_id);
      if (e.type === 'response.output_item.added' || e.type === 'response.output_item.done') expect(output[e.output_index]!.id).toBe(e.item.id);
    }
    expect(completed.response.usage).toMatchObject({ input_tokens: 3, output_tokens: 4, total_tokens: 7 });
  });

  it('an answer with no output still has its empty message; a length finish makes it incomplete', () => {
    const enc = encoder();
    const list = decode([...enc.start(route), ...enc.finish({ type: 'finish', finishReason: 'length', usage }, result({ finishReason: 'length' }))]);
    expect(list.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.incomplete',
    ]);
    const last = list.at(-1)!;
    expect(last.type === 'response.incomplete' && last.response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output: [{ type: 'message', status: 'incomplete', content: [{ type: 'output_text', text: '' }] }],
    });
  });

  it('parallel calls whose pieces interleave: one open item per call, events by output_index, all arguments kept', () => {
    const enc = encoder();
    const list = decode([
      ...enc.start(route),
      ...enc.part({ type: 'tool-call-delta', index: 0, id: 'call_a', name: 'get_weather', argumentsDelta: '' }),
      ...enc.part({ type: 'tool-call-delta', index: 1, id: 'call_b', name: 'get_weather', argumentsDelta: '' }),
      ...enc.part({ type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":"Oslo"}' }),
      ...enc.part({ type: 'tool-call-delta', index: 1, argumentsDelta: '{"city":' }),
      ...enc.part({ type: 'tool-call-delta', index: 1, argumentsDelta: '"Bergen"}' }),
      ...enc.part({ type: 'tool-call', index: 0, toolCall: { id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' } }),
      ...enc.part({ type: 'tool-call', index: 1, toolCall: { id: 'call_b', name: 'get_weather', arguments: '{"city":"Bergen"}' } }),
      ...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result()),
    ]);
    const output = completedOf(list).output;
    expect(output.map((o) => (o.type === 'function_call' ? [o.id, o.call_id, o.arguments, o.status] : o.type))).toEqual([
      ['fc_abc_0', 'call_a', '{"city":"Oslo"}', 'completed'],
      ['fc_abc_1', 'call_b', '{"city":"Bergen"}', 'completed'],
    ]);
    // What the openai SDK and the AI SDK do: the deltas of each output_index joined give its arguments.
    const byIndex: Record<number, string> = {};
    for (const e of list) if (e.type === 'response.function_call_arguments.delta') byIndex[e.output_index] = (byIndex[e.output_index] ?? '') + e.delta;
    expect(byIndex).toEqual({ 0: '{"city":"Oslo"}', 1: '{"city":"Bergen"}' });
    for (const e of list) if ('item_id' in e) expect(output[e.output_index]!.id).toBe(e.item_id);
  });

  it('a call that never gets its whole part takes the arguments of the router result call with the same id', () => {
    const enc = encoder();
    const list = decode([
      ...enc.start(route),
      ...enc.part({ type: 'tool-call-delta', index: 0, id: 'call_a', name: 'f', argumentsDelta: '{"a":' }),
      ...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result({ toolCalls: [{ id: 'call_a', name: 'f', arguments: '{"a":1}' }] })),
    ]);
    const done = list.find((e) => e.type === 'response.function_call_arguments.done');
    expect(done?.type === 'response.function_call_arguments.done' && done.arguments).toBe('{"a":1}');
    expect(completedOf(list).output[0]).toMatchObject({ call_id: 'call_a', arguments: '{"a":1}' });
  });

  it('a call id, once sent on output_item.added, is never changed', () => {
    const enc = encoder();
    const list = decode([
      ...enc.start(route),
      ...enc.part({ type: 'tool-call-delta', index: 0, name: 'f', argumentsDelta: '{}' }),
      ...enc.part({ type: 'tool-call', index: 0, toolCall: { id: 'call_other', name: 'f', arguments: '{}' } }),
      ...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result()),
    ]);
    const ids = list.flatMap((e) => (e.type === 'response.output_item.added' || e.type === 'response.output_item.done' ? [e.item.type === 'function_call' ? e.item.call_id : ''] : []));
    expect(ids).toEqual(['call_0', 'call_0']);
    expect(completedOf(list).output[0]).toMatchObject({ call_id: 'call_0' });
  });

  it('reasoning is streamed as reasoning_text content and as one summary part, and closed with both', () => {
    const enc = encoder();
    const list = decode([
      ...enc.start(route),
      ...enc.part({ type: 'reasoning-delta', delta: 'Think ' }),
      ...enc.part({ type: 'reasoning-delta', delta: 'first.' }),
      ...enc.part({ type: 'text-delta', delta: 'Answer.' }),
      ...enc.finish({ type: 'finish', finishReason: 'stop', usage }, result({ text: 'Answer.', reasoning: 'Think first.' })),
    ]);
    expect(list.slice(2, 15).map((e) => e.type)).toEqual([
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.content_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
    ]);
    expect(list[3]).toMatchObject({ item_id: 'rs_abc', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } });
    expect(list[10]).toMatchObject({ summary_index: 0, part: { type: 'summary_text', text: 'Think first.' } });
    expect(completedOf(list).output[0]).toEqual({
      type: 'reasoning',
      id: 'rs_abc',
      summary: [{ type: 'summary_text', text: 'Think first.' }],
      content: [{ type: 'reasoning_text', text: 'Think first.' }],
      status: 'completed',
    });
  });

  it('a length finish marks the last item incomplete (a cut call too), and no empty message after reasoning', () => {
    const cutCall = encoder();
    const a = decode([
      ...cutCall.start(route),
      ...cutCall.part({ type: 'text-delta', delta: 'Checking.' }),
      ...cutCall.part({ type: 'tool-call-delta', index: 0, id: 'call_a', name: 'f', argumentsDelta: '{"a":' }),
      ...cutCall.part({ type: 'tool-call', index: 0, toolCall: { id: 'call_a', name: 'f', arguments: '{"a":' } }),
      ...cutCall.finish({ type: 'finish', finishReason: 'length', usage }, result({ finishReason: 'length' })),
    ]);
    expect(completedOf(a).output.map((o) => [o.type, o.status])).toEqual([
      ['message', 'completed'],
      ['function_call', 'incomplete'],
    ]);

    const cutReasoning = encoder();
    const b = decode([
      ...cutReasoning.start(route),
      ...cutReasoning.part({ type: 'reasoning-delta', delta: 'Let me think' }),
      ...cutReasoning.finish({ type: 'finish', finishReason: 'length', usage }, result({ finishReason: 'length', reasoning: 'Let me think' })),
    ]);
    expect(b.at(-1)!.type).toBe('response.incomplete');
    expect(completedOf(b).output.map((o) => [o.type, o.status])).toEqual([['reasoning', 'incomplete']]);
  });

  it('the error event carries OpenAI fields, the gateway error body and the next sequence number', () => {
    const enc = encoder();
    const start = enc.start(route);
    const [frame] = enc.error(new LLMError({ code: 'rate_limited', message: 'slow down' }), 'req_abc');
    const [e] = decode([frame!]);
    expect(e).toEqual({
      type: 'error',
      code: 'rate_limited',
      message: 'slow down',
      param: null,
      error: { type: 'rate_limit_error', code: 'rate_limited', message: 'slow down', param: null, request_id: 'req_abc' },
      sequence_number: start.length,
    });
  });
});

describe('ResponsesStreamEncoder: text and reasoning that arrive inside an unfinished call, and the finish against the result', () => {
  const piece = (index: number, argumentsDelta: string, id?: string, name?: string) => ({ type: 'tool-call-delta' as const, index, ...(id ? { id } : {}), ...(name ? { name } : {}), argumentsDelta });
  const text = (delta: string) => ({ type: 'text-delta' as const, delta });

  function run(parts: Parameters<ResponsesStreamEncoder['part']>[0][], toolCalls: RouterResult['toolCalls'] = []) {
    const enc = encoder();
    const frames = [...enc.start(route)];
    for (const p of parts) frames.push(...enc.part(p));
    frames.push(...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result({ toolCalls })));
    const list = decode(frames);
    const output = completedOf(list).output;
    // Every event names the item at its output_index; items are added in output order, one text item at a time.
    let added = 0;
    for (const e of list) {
      if ('item_id' in e) expect(output[e.output_index]!.id).toBe(e.item_id);
      if (e.type === 'response.output_item.added') expect(e.output_index).toBe(added++);
    }
    return { list, output };
  }

  /** What a client gets for each call: the streamed deltas joined and the done item's arguments. */
  function callsOf(list: OpenAIResponseStreamEvent[]) {
    const deltas: Record<number, string> = {};
    const done: Record<number, string> = {};
    for (const e of list) {
      if (e.type === 'response.function_call_arguments.delta') deltas[e.output_index] = (deltas[e.output_index] ?? '') + e.delta;
      if (e.type === 'response.output_item.done' && e.item.type === 'function_call') done[e.output_index] = e.item.arguments;
    }
    return { deltas, done };
  }

  it('text between two pieces of a call waits for the call: the call item whole, then the message (it used to close the call cut and drop the rest)', () => {
    const { list, output } = run([piece(0, '{"city":', 'call_a', 'get_weather'), text('One moment.'), piece(0, '"Oslo"}'), text(' Done.')], [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
    expect(output.map((o) => (o.type === 'function_call' ? [o.type, o.arguments] : o.type === 'message' ? [o.type, o.content[0]?.type === 'output_text' ? o.content[0].text : ''] : [o.type]))).toEqual([
      ['function_call', '{"city":"Oslo"}'],
      ['message', 'One moment. Done.'],
    ]);
    expect(callsOf(list)).toEqual({ deltas: { 0: '{"city":"Oslo"}' }, done: { 0: '{"city":"Oslo"}' } });
  });

  it('reasoning and text buffered behind an unfinished call, and a call that starts after them, keep their arrival order', () => {
    const { list, output } = run([
      piece(0, '{"a":', 'c0', 'f'),
      { type: 'reasoning-delta', delta: 'Hmm' },
      text('X'),
      piece(1, '{"b":', 'c1', 'g'),
      text('Y'),
      piece(0, '1}'),
      piece(1, '2}'),
    ]);
    expect(output.map((o) => o.type)).toEqual(['function_call', 'reasoning', 'message', 'function_call', 'message']);
    expect(callsOf(list)).toEqual({ deltas: { 0: '{"a":1}', 3: '{"b":2}' }, done: { 0: '{"a":1}', 3: '{"b":2}' } });
    expect(output[3]).toMatchObject({ call_id: 'c1', name: 'g' });
  });

  it('a piece that would change a call already done is an error, not dropped; whitespace is harmless', () => {
    const enc = encoder();
    enc.start(route);
    enc.part(piece(0, '{"a":1}', 'c0', 'f'));
    // Whole JSON: the text closes the call.
    expect(decode(enc.part(text('T'))).map((e) => e.type)).toContain('response.output_item.done');
    expect(enc.part(piece(0, ' \n'))).toEqual([]);
    expect(() => enc.part(piece(0, ',"b":2}'))).toThrow(expect.objectContaining({ code: 'invalid_response', message: expect.stringContaining('c0') }));
  });

  it('a whole call part whose arguments differ from a call already done is an error; the same JSON is fine', () => {
    const enc = encoder();
    enc.start(route);
    enc.part(piece(0, '{"a": 1}', 'c0', 'f'));
    enc.part(text('T'));
    expect(enc.part({ type: 'tool-call', index: 0, toolCall: { id: 'c0', name: 'f', arguments: '{"a":1}' } })).toEqual([]);
    const enc2 = encoder();
    enc2.start(route);
    enc2.part(piece(0, '{"a":1}', 'c0', 'f'));
    enc2.part(text('T'));
    expect(() => enc2.part({ type: 'tool-call', index: 0, toolCall: { id: 'c0', name: 'f', arguments: '{"a":2}' } })).toThrow(expect.objectContaining({ code: 'invalid_response' }));
  });

  it('a call of the result that never came as a part is added whole at the finish; calls that came are not added twice', () => {
    const { list, output } = run(
      [text('Sure.'), piece(0, '{"a":1}', undefined, 'f'), { type: 'tool-call', index: 1, toolCall: { id: 'c1', name: 'g', arguments: '{}' } }],
      [{ id: 'c1', name: 'g', arguments: '{}' }, { id: '', name: 'f', arguments: '{"a":1}' }, { id: 'c9', name: 'h', arguments: '{"z":9}' }],
    );
    expect(output.map((o) => (o.type === 'function_call' ? o.call_id : o.type))).toEqual(['message', 'call_0', 'c1', 'c9']);
    expect(output[3]).toMatchObject({ name: 'h', arguments: '{"z":9}', status: 'completed' });
    expect(callsOf(list).deltas[3]).toBe('{"z":9}');
  });

  it('final arguments that a call already done does not have: the finish throws (the stream ends with the error event)', () => {
    const enc = encoder();
    enc.start(route);
    enc.part(piece(0, '{"a":1}', 'c0', 'f'));
    enc.part(text('T'));
    expect(() => enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result({ toolCalls: [{ id: 'c0', name: 'f', arguments: '{"a":2}' }] }))).toThrow(
      expect.objectContaining({ code: 'invalid_response', message: expect.stringContaining('c0') }),
    );
  });
});

describe('ResponsesStreamEncoder with encrypted reasoning: a signed block with no text opens its reasoning item where it comes', () => {
  const anthropic = { ...route, provider: 'anthropic' } as RoutePart;
  const redacted = { type: 'reasoning-delta' as const, delta: '', redactedData: 'ENC-1' };

  function run(parts: Parameters<ResponsesStreamEncoder['part']>[0][], finishReason: 'stop' | 'length' | 'tool-calls' = 'stop') {
    const enc = new ResponsesStreamEncoder({ createdAt: 1_700_000_000, echo: responseEcho({ model: 'dep', input: 'x' }), explain: false, encryptedReasoning: true });
    const frames = [...enc.start(anthropic)];
    for (const p of parts) frames.push(...enc.part(p));
    frames.push(...enc.finish({ type: 'finish', finishReason, usage }, result({ provider: 'anthropic', finishReason })));
    const list = decode(frames);
    return { list, output: completedOf(list).output };
  }

  it('redacted thinking, then text: the reasoning item (no text, no empty deltas) before the message, carrying the block', () => {
    const { list, output } = run([redacted, { type: 'text-delta', delta: 'Hi.' }]);
    expect(output.map((o) => [o.type, o.status])).toEqual([
      ['reasoning', 'completed'],
      ['message', 'completed'],
    ]);
    expect(output[0]).toMatchObject({ summary: [{ type: 'summary_text', text: '' }], encrypted_content: expect.stringContaining('"redactedData":"ENC-1"') });
    expect(list.filter((e) => e.type === 'response.reasoning_text.delta' || e.type === 'response.reasoning_summary_text.delta')).toEqual([]);
  });

  it('a thinking block with no text but a signature, then a cut text: the message is the incomplete item', () => {
    const { output } = run([{ type: 'reasoning-delta', delta: '', signature: 'SIG' }, { type: 'text-delta', delta: 'Partial' }], 'length');
    expect(output.map((o) => [o.type, o.status])).toEqual([
      ['reasoning', 'completed'],
      ['message', 'incomplete'],
    ]);
    expect(output[0]).toMatchObject({ encrypted_content: expect.stringContaining('"signature":"SIG"') });
  });

  it('a signed block behind an unfinished call waits with the text, in arrival order; one reasoning item for consecutive blocks', () => {
    const { output } = run(
      [
        { type: 'tool-call-delta', index: 0, id: 'c0', name: 'f', argumentsDelta: '{"a":' },
        redacted,
        { type: 'reasoning-delta', delta: 'More.', signature: 'SIG' },
        { type: 'text-delta', delta: 'Then.' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '1}' },
      ],
      'tool-calls',
    );
    expect(output.map((o) => o.type)).toEqual(['function_call', 'reasoning', 'message']);
    expect(output[1]).toMatchObject({ summary: [{ type: 'summary_text', text: 'More.' }] });
    const blocks = (JSON.parse((output[1] as { encrypted_content: string }).encrypted_content.replace(/^[^:]+:/, '')) as { blocks: unknown[] }).blocks;
    expect(blocks).toEqual([{ redactedData: 'ENC-1' }, { text: 'More.', signature: 'SIG' }]);
  });
});
