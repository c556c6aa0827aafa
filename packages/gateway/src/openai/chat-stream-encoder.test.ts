import type { RouterResult, StreamPart } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import type { RoutePart } from '../streaming/open-stream.js';
import { jsonParseChars } from '../test-support/json-parse-chars.js';
import { llmrrInfo } from '../http/llmrr-info.js';
import { answerUsage } from '../schemas/answer-usage.js';
import { ChatStreamEncoder, DONE_FRAME, dataFrame } from './chat-stream-encoder.js';
import { toOpenAIFinishReason } from './finish-reason.js';
import { toOpenAIUsage } from './usage.js';

const route = { type: 'route', requestId: 'req_"quoted"\u2028', deployment: 'dépl\\oy', provider: 'mock', cached: false } as unknown as RoutePart;

describe('ChatStreamEncoder content and reasoning chunks', () => {
  it.each([true, false])('are byte for byte the serialized chunk object (include_usage %s)', (includeUsage) => {
    const enc = new ChatStreamEncoder({ created: 1_700_000_000, includeUsage, explain: false });
    enc.start(route);
    // Text JSON writes as it is, and each kind it escapes (quote, backslash, controls, lone surrogates of both halves).
    const deltas = ['hello', ' "quoted" \n\t', 'emoji 🙂 and \u2028', 'lone \ud800 surrogate', 'low \udc00', 'back\\slash', '\u0000\u001f\u007f', 'café ü', '</script>', ''];
    const expected = (delta: Record<string, string>) => [
      dataFrame({
        id: `chatcmpl-${route.requestId}`,
        object: 'chat.completion.chunk',
        created: 1_700_000_000,
        model: route.deployment,
        system_fingerprint: null,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
        ...(includeUsage ? { usage: null } : {}),
      }),
    ];
    for (const delta of deltas) {
      expect(enc.part({ type: 'text-delta', delta })).toEqual(delta === '' ? [] : expected({ content: delta }));
      expect(enc.part({ type: 'reasoning-delta', delta })).toEqual(delta === '' ? [] : expected({ reasoning_content: delta }));
    }
  });
});

describe('ChatStreamEncoder start and finish chunks', () => {
  const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7, cachedInputTokens: 1 };
  const result = (explainable: boolean) =>
    ({
      requestId: 'req_"r"',
      deployment: 'dépl\\oy',
      provider: 'mock',
      text: 'hi',
      toolCalls: [],
      finishReason: 'length',
      usage,
      cost: { totalUsd: 0.000123, estimated: true },
      cached: false,
      latencyMs: 12,
      ...(explainable ? { decision: { strategy: 'x', reason: 'quoted "why" \u2028' } } : {}),
    }) as unknown as RouterResult;
  const cases = [true, false].flatMap((includeUsage) => [true, false].flatMap((explain) => (['stop', 'length', 'tool-calls', 'content-filter', 'error'] as const).map((finishReason) => ({ includeUsage, explain, finishReason }))));
  it.each(cases)('are byte for byte the serialized chunk objects ($includeUsage, $explain, $finishReason)', ({ includeUsage, explain, finishReason }) => {
    const enc = new ChatStreamEncoder({ created: 1_700_000_000, includeUsage, explain });
    const envelope = { id: `chatcmpl-${route.requestId}`, object: 'chat.completion.chunk', created: 1_700_000_000, model: route.deployment, system_fingerprint: null };
    // The role chunk has `content: null`: it goes out before the answer is known to have text (an empty string would
    // be an empty text part for clients that take any non-null content as text, before a tool-only answer's call).
    expect(enc.start(route)).toEqual([dataFrame({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: null, refusal: null }, logprobs: null, finish_reason: null }], ...(includeUsage ? { usage: null } : {}) })]);
    const r = result(explain);
    const info = llmrrInfo(r, explain);
    const last = { ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: toOpenAIFinishReason(finishReason) }] };
    const expected = includeUsage
      ? [dataFrame({ ...last, usage: null }), dataFrame({ ...envelope, choices: [], usage: toOpenAIUsage(answerUsage(r)), llmrr: info }), DONE_FRAME]
      : [dataFrame({ ...last, llmrr: info }), DONE_FRAME];
    expect(enc.finish({ type: 'finish', finishReason, usage }, r)).toEqual(expected);
  });
});

describe('ChatStreamEncoder tool calls against the router result', () => {
  const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
  const result = (toolCalls: RouterResult['toolCalls']) =>
    ({ requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls, finishReason: 'tool-calls', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1 }) as unknown as RouterResult;
  const piece = (index: number, argumentsDelta: string, id?: string, name?: string): StreamPart => ({ type: 'tool-call-delta', index, ...(id ? { id } : {}), ...(name ? { name } : {}), argumentsDelta });

  /** The calls an OpenAI client builds from the chunks (joined by index), and the chunk with the finish reason last. */
  function run(parts: StreamPart[], toolCalls: RouterResult['toolCalls']) {
    const enc = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false });
    const frames = [...enc.start(route)];
    for (const p of parts) frames.push(...enc.part(p));
    frames.push(...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result(toolCalls)));
    const chunks = frames.filter((f) => f !== 'data: [DONE]\n\n').map((f) => JSON.parse(f.slice(6)) as { choices: { delta: { tool_calls?: { index: number; id?: string; function: { name?: string; arguments: string } }[] }; finish_reason: string | null }[] });
    const calls: Record<number, { id?: string; name?: string; arguments: string }> = {};
    for (const c of chunks) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) {
        const call = (calls[t.index] ??= { arguments: '' });
        if (t.id) call.id = t.id;
        if (t.function.name) call.name = t.function.name;
        call.arguments += t.function.arguments;
      }
    }
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(chunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
    return calls;
  }

  it('a call of the result that never came as a part is sent whole before the finish chunk, at the next index', () => {
    expect(run([piece(0, '{"a":1}', 'c0', 'f'), { type: 'text-delta', delta: 'x' }], [{ id: 'c0', name: 'f', arguments: '{"a":1}' }, { id: 'c9', name: 'g', arguments: '{"b":2}' }])).toEqual({
      0: { id: 'c0', name: 'f', arguments: '{"a":1}' },
      1: { id: 'c9', name: 'g', arguments: '{"b":2}' },
    });
  });

  it('calls that came as parts are not sent twice (also without an upstream id)', () => {
    expect(run([piece(0, '{"a":1}', undefined, 'f'), { type: 'tool-call', index: 1, toolCall: { id: 'c1', name: 'g', arguments: '{}' } }], [{ id: 'c1', name: 'g', arguments: '{}' }, { id: '', name: 'f', arguments: '{"a":1}' }])).toEqual({
      0: { id: 'call_0', name: 'f', arguments: '{"a":1}' },
      1: { id: 'c1', name: 'g', arguments: '{}' },
    });
  });

  it('streamed arguments that are a prefix of the final ones (a whole part, or the result) get the missing suffix', () => {
    expect(
      run([piece(0, '{"a":', 'c0', 'f'), { type: 'tool-call', index: 0, toolCall: { id: 'c0', name: 'f', arguments: '{"a":1}' } }, piece(1, '{"b":', 'c1', 'g')], [{ id: 'c0', name: 'f', arguments: '{"a":1}' }, { id: 'c1', name: 'g', arguments: '{"b":2}' }]),
    ).toEqual({ 0: { id: 'c0', name: 'f', arguments: '{"a":1}' }, 1: { id: 'c1', name: 'g', arguments: '{"b":2}' } });
    // The same JSON with other whitespace: nothing more.
    expect(run([piece(0, '{"a": 1}', 'c0', 'f')], [{ id: 'c0', name: 'f', arguments: '{"a":1}' }])).toEqual({ 0: { id: 'c0', name: 'f', arguments: '{"a": 1}' } });
  });

  it('final arguments the streamed ones cannot be completed to: an error (the stream ends with its error chunk), not a silent mismatch', () => {
    const enc = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false });
    enc.start(route);
    enc.part(piece(0, '{"a":"Ber', 'c0', 'f'));
    expect(() => enc.part({ type: 'tool-call', index: 0, toolCall: { id: 'c0', name: 'f', arguments: '{"a":"Oslo"}' } })).toThrow(expect.objectContaining({ code: 'invalid_response', message: expect.stringContaining('c0') }));
    const enc2 = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false });
    enc2.start(route);
    enc2.part(piece(0, '{"a":1}', 'c0', 'f'));
    expect(() => enc2.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result([{ id: 'c0', name: 'f', arguments: '{"a":2}' }]))).toThrow(expect.objectContaining({ code: 'invalid_response' }));
  });
});

describe('ChatStreamEncoder: parallel tool calls go out one after another', () => {
  const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
  const result = (toolCalls: RouterResult['toolCalls']) =>
    ({ requestId: 'req_abc', deployment: 'dep', provider: 'mock', text: '', toolCalls, finishReason: 'tool-calls', usage, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1 }) as unknown as RouterResult;
  const piece = (index: number, argumentsDelta: string, id?: string, name?: string): StreamPart => ({ type: 'tool-call-delta', index, ...(id ? { id } : {}), ...(name ? { name } : {}), argumentsDelta });
  type Delta = { content?: string; tool_calls?: { index: number; id?: string; function: { name?: string; arguments: string } }[] };
  const deltas = (frames: string[]) => frames.filter((f) => f !== 'data: [DONE]\n\n').map((f) => (JSON.parse(f.slice(6)) as { choices: { delta: Delta }[] }).choices[0]?.delta);
  /** Each part's frames, as `index:arguments` for tool-call deltas and `"text"` for content. */
  function run(parts: StreamPart[], toolCalls: RouterResult['toolCalls'] = []): string[][] {
    const enc = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false });
    enc.start(route);
    const show = (frames: string[]) => deltas(frames).flatMap((d) => (d?.tool_calls ?? []).map((t) => `${t.index}${t.id ? `(${t.id})` : ''}:${t.function.arguments}`).concat(d?.content !== undefined ? [JSON.stringify(d.content)] : []));
    const out = parts.map((p) => show(enc.part(p)));
    out.push(show(enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result(toolCalls))));
    return out;
  }

  it('a call that starts while another is unfinished waits, buffered, and goes out when that one is whole; text stays live', () => {
    expect(run([piece(0, '{"a":', 'c0', 'f'), piece(1, '{"b"', 'c1', 'g'), { type: 'text-delta', delta: 'hi' }, piece(1, ':2}'), piece(0, '1}'), piece(1, ' ')])).toEqual([
      ['0(c0):{"a":'],
      [],
      ['"hi"'],
      [],
      ['0:1}', '1(c1):{"b":2}'],
      // Call 1 is open (whole): its late whitespace is harmless.
      ['1: '],
      [],
    ]);
  });

  it('waiting calls go in engine index order, numbered 0, 1, 2 as they are sent; a skipped engine index leaves no hole', () => {
    expect(run([piece(5, '{', 'c5', 'f'), piece(3, '[]', 'c3', 'g'), piece(2, '{}', 'c2', 'h'), piece(5, '}')], [{ id: 'c9', name: 'k', arguments: '{}' }])).toEqual([['0(c5):{'], [], [], ['0:}', '1(c2):{}', '2(c3):[]'], ['3(c9):{}']]);
  });

  it("an open call's whole part completes it and releases what waits; a waiting call's whole part is what it opens with", () => {
    expect(
      run([
        piece(0, '{"a":', 'c0', 'f'),
        piece(1, '{"b":', 'c1', 'g'),
        { type: 'tool-call', index: 1, toolCall: { id: 'c1x', name: 'g', arguments: '{"b":2}' } },
        { type: 'tool-call', index: 0, toolCall: { id: 'c0', name: 'f', arguments: '{"a":1}' } },
      ]),
    ).toEqual([['0(c0):{"a":'], [], [], ['0:1}', '1(c1x):{"b":2}'], []]);
  });

  it('at the finish: the open call gets its suffix from the result, then the waiting calls go out whole', () => {
    expect(run([piece(0, '{"a":', 'c0', 'f'), piece(1, '{"b":', 'c1', 'g')], [{ id: 'c0', name: 'f', arguments: '{"a":1}' }, { id: 'c1', name: 'g', arguments: '{"b":2}' }])).toEqual([['0(c0):{"a":'], [], ['0:1}', '1(c1):{"b":2}']]);
  });

  it('a legacy functions request: the first call sent is delta.function_call, later ones (waiting, whole, or only in the result) send nothing', () => {
    const enc = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false, legacyFunctions: true });
    enc.start(route);
    const parts: StreamPart[] = [piece(0, '{"a":', 'c0', 'f'), piece(1, '{"b"', 'c1', 'g'), piece(1, ':2}'), piece(0, '1}'), piece(1, ' '), { type: 'tool-call', index: 2, toolCall: { id: 'c2', name: 'h', arguments: '{}' } }];
    const frames = parts.flatMap((p) => enc.part(p));
    frames.push(...enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result([{ id: 'c0', name: 'f', arguments: '{"a":1}' }, { id: 'c1', name: 'g', arguments: '{"b":2}' }, { id: 'c2', name: 'h', arguments: '{}' }, { id: 'c9', name: 'k', arguments: '{}' }])));
    const chunks = frames.filter((f) => f !== DONE_FRAME).map((f) => (JSON.parse(f.slice(6)) as { choices: { delta: Delta & { function_call?: { name?: string; arguments: string } }; finish_reason: string | null }[] }).choices[0]!);
    expect(chunks.flatMap((c) => c.delta.tool_calls ?? [])).toEqual([]);
    expect(chunks.map((c) => c.delta.function_call).filter((f) => f !== undefined)).toEqual([{ name: 'f', arguments: '{"a":' }, { arguments: '1}' }]);
    expect(chunks.at(-1)!.finish_reason).toBe('function_call');
  });

  it('a closed call: whitespace is dropped (it would reopen the call), anything else is an error', () => {
    const enc = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false });
    enc.start(route);
    enc.part(piece(0, '{}', 'c0', 'f'));
    enc.part(piece(1, '{', 'c1', 'g'));
    expect(enc.part(piece(0, '\n'))).toEqual([]);
    expect(() => enc.part(piece(0, '{}'))).toThrow(expect.objectContaining({ code: 'invalid_response', message: expect.stringContaining('c0') }));
    // A closed call's final arguments that differ (a suffix would come after its `done`): an error too.
    const enc2 = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false });
    enc2.start(route);
    enc2.part(piece(0, '{}', 'c0', 'f'));
    enc2.part(piece(1, '{}', 'c1', 'g'));
    expect(() => enc2.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result([{ id: 'c0', name: 'f', arguments: '{"a":1}' }, { id: 'c1', name: 'g', arguments: '{}' }]))).toThrow(expect.objectContaining({ code: 'invalid_response' }));
  });

  it('per-piece work stays linear while a call waits behind a long open one (JSON.parse is handed each argument once)', () => {
    const measure = (n: number) => {
      const enc = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false });
      enc.start(route);
      const parts: StreamPart[] = [piece(0, '', 'call_a', 'write'), piece(1, '', 'call_b', 'write'), piece(0, '{"items":[{"a":1}')];
      for (let i = 0; i < n; i++) parts.push(piece(0, ',{"a":1}'));
      parts.push(piece(0, ']}'), piece(1, '{}'));
      const parsedChars = jsonParseChars(() => {
        for (const p of parts) enc.part(p);
        enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, result([]));
      });
      return { parsedChars, args: 18 + n * 8 + 2 };
    };
    for (const r of [measure(1000), measure(4000)]) expect(r.parsedChars).toBeLessThan(4 * r.args);
  });
});
