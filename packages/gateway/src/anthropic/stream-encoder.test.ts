import { LLMError, type RouterResult, type StreamPart } from '@llmrr/core';
import { seededRandom } from '@llmrr/core/test';
import { describe, expect, it } from 'vitest';
import { AnthropicStreamEventSchema, type AnthropicStreamEvent } from '../schemas/anthropic-messages.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { parseSse } from '../test-support/harness.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

const route = { type: 'route', requestId: 'req_abc', deployment: 'dep', model: 'm', provider: 'mock' } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const result = {
  requestId: 'req_abc',
  deployment: 'dep',
  provider: 'mock',
  text: '',
  toolCalls: [],
  finishReason: 'tool-calls',
  usage,
  cost: { totalUsd: 0.001, estimated: false },
  cached: false,
  latencyMs: 5,
} as unknown as RouterResult;

const piece = (index: number, argumentsDelta: string, id?: string, name?: string): StreamPart => ({
  type: 'tool-call-delta',
  index,
  ...(id ? { id } : {}),
  ...(name ? { name } : {}),
  argumentsDelta,
});
const whole = (index: number, id: string, name: string, args: string): StreamPart => ({ type: 'tool-call', index, toolCall: { id, name, arguments: args } });
const text = (delta: string): StreamPart => ({ type: 'text-delta', delta });
const call = (id: string, name: string, args: string) => ({ id, name, arguments: args });

/**
 * Feeds `parts` (then the finish) and returns the frames each call gave: `[start, ...parts, finish]`.
 * `finals`: the router result's tool calls (what the non-streamed answer has); none by default.
 */
function encode(parts: StreamPart[], finals: RouterResult['toolCalls'] = []): string[][] {
  const enc = new AnthropicStreamEncoder({ explain: false });
  const out = [enc.start(route), ...parts.map((p) => enc.part(p)), enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, { ...result, toolCalls: finals })];
  // message_start and ping go out with the first frames sent (the gateway writes them with the start, at once):
  // counted here as the start's, so each part's frames are its own.
  expect(out[0]).toEqual([]);
  out[0] = out.find((f) => f.length > 0)!.splice(0, 2);
  return out;
}

/** The error `finish` throws (the stream then ends with the error event), or undefined. */
function finishError(parts: StreamPart[], finals: RouterResult['toolCalls']): unknown {
  const enc = new AnthropicStreamEncoder({ explain: false });
  enc.start(route);
  for (const p of parts) enc.part(p);
  try {
    enc.finish({ type: 'finish', finishReason: 'tool-calls', usage }, { ...result, toolCalls: finals });
  } catch (e) {
    return e;
  }
  return undefined;
}

function decode(frames: string[]): AnthropicStreamEvent[] {
  return parseSse(frames.join('')).map((f) => {
    const e = AnthropicStreamEventSchema.parse(JSON.parse(f.data));
    expect(f.event).toBe(e.type);
    return e;
  });
}

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

/**
 * The content a strict client builds (as the Anthropic SDK and the Vercel AI SDK do): blocks numbered
 * 0, 1, 2... one open at a time, every delta and stop for the open block; tool input parsed at its stop.
 */
function content(events: AnthropicStreamEvent[]): Block[] {
  const blocks: Block[] = [];
  let open: { index: number; json: string } | undefined;
  for (const e of events) {
    if (e.type === 'content_block_start') {
      expect(open, `block ${e.index} started while block ${open?.index} is open`).toBeUndefined();
      expect(e.index).toBe(blocks.length);
      const b = e.content_block as { type: string; id?: string; name?: string };
      blocks.push(b.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: b.id!, name: b.name!, input: {} });
      open = { index: e.index, json: '' };
    } else if (e.type === 'content_block_delta') {
      expect(e.index, 'a delta for a block that is not open').toBe(open?.index);
      const b = blocks[e.index]!;
      if (e.delta.type === 'text_delta' && b.type === 'text') b.text += e.delta.text;
      else if (e.delta.type === 'input_json_delta' && b.type === 'tool_use') open!.json += e.delta.partial_json;
      else throw new Error(`delta ${e.delta.type} for a ${b.type} block`);
    } else if (e.type === 'content_block_stop') {
      expect(e.index, 'a stop for a block that is not open').toBe(open?.index);
      const b = blocks[e.index]!;
      if (b.type === 'tool_use' && open!.json !== '') b.input = JSON.parse(open!.json);
      open = undefined;
    }
  }
  expect(open).toBeUndefined();
  return blocks;
}

/** The `input_json_delta` texts of the events, in order. */
const jsonDeltas = (frames: string[]) =>
  decode(frames).flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' ? [[e.index, e.delta.partial_json] as const] : []));

const ev = {
  textStart: (index: number) => ({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }),
  text: (index: number, text: string) => ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }),
  toolStart: (index: number, id: string, name: string) => ({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name, input: {} } }),
  json: (index: number, partial_json: string) => ({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }),
  stop: (index: number) => ({ type: 'content_block_stop', index }),
};

describe('AnthropicStreamEncoder: sequential tool calls stream live, exactly as before', () => {
  it('OpenAI-wire order (pieces of call 0, pieces of call 1, the whole calls at the finish): the same frames, each piece sent as it comes', () => {
    const parts = [
      piece(0, '', 'call_a', 'get_weather'),
      piece(0, '{"city":'),
      piece(0, '"Oslo"}'),
      piece(1, '{"city"', 'call_b', 'get_time'),
      piece(1, ':"Bergen"}'),
      whole(0, 'call_a', 'get_weather', '{"city":"Oslo"}'),
      whole(1, 'call_b', 'get_time', '{"city":"Bergen"}'),
    ];
    const out = encode(parts);
    // These frames are the ones the encoder gave before parallel pieces were buffered (checked against it).
    expect(out.slice(1, -1).map((frames) => decode(frames))).toEqual([
      [ev.toolStart(0, 'call_a', 'get_weather')],
      [ev.json(0, '{"city":')],
      [ev.json(0, '"Oslo"}')],
      [ev.stop(0), ev.toolStart(1, 'call_b', 'get_time'), ev.json(1, '{"city"')],
      [ev.json(1, ':"Bergen"}')],
      [],
      [],
    ]);
    const last = decode(out.at(-1)!);
    expect(last.map((e) => e.type)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(last[0]).toEqual(ev.stop(1));
    expect(last[1]).toMatchObject({ delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 4, input_tokens: 3 } });
    expect(decode(out[0]!).map((e) => e.type)).toEqual(['message_start', 'ping']);
  });

  it('Anthropic-wire order (each call closed by its whole part) and whole calls without pieces (Gemini): the same frames as before', () => {
    const out = encode([
      text('Checking.'),
      piece(0, '', 'toolu_1', 'get_weather'),
      piece(0, '{"city": "Oslo"}'),
      whole(0, 'toolu_1', 'get_weather', '{"city": "Oslo"}'),
      whole(1, 'toolu_2', 'get_time', '{}'),
      piece(2, '{"tz":"CET"}', 'toolu_3', 'get_date'),
      whole(2, 'toolu_3', 'get_date', '{"tz":"CET"}'),
    ]);
    expect(out.slice(1, -1).map((frames) => decode(frames))).toEqual([
      [
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking.' } },
      ],
      [ev.stop(0), ev.toolStart(1, 'toolu_1', 'get_weather')],
      [ev.json(1, '{"city": "Oslo"}')],
      [],
      [ev.stop(1), ev.toolStart(2, 'toolu_2', 'get_time'), ev.json(2, '{}')],
      [ev.stop(2), ev.toolStart(3, 'toolu_3', 'get_date'), ev.json(3, '{"tz":"CET"}')],
      [],
    ]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
      { type: 'tool_use', id: 'toolu_3', name: 'get_date', input: { tz: 'CET' } },
    ]);
  });
});

describe('AnthropicStreamEncoder: interleaved parallel tool calls', () => {
  it('two calls started together, then their arguments one after the other: both blocks whole, in order', () => {
    const out = encode([
      piece(0, '', 'call_a', 'get_weather'),
      piece(1, '', 'call_b', 'get_weather'),
      piece(0, '{"city":"Oslo"}'),
      piece(1, '{"city":"Bergen"}'),
      whole(0, 'call_a', 'get_weather', '{"city":"Oslo"}'),
      whole(1, 'call_b', 'get_weather', '{"city":"Bergen"}'),
    ]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'call_b', name: 'get_weather', input: { city: 'Bergen' } },
    ]);
    // Call 0 streams live; call 1 waits (nothing sent for its first piece), then opens once call 0 is whole.
    expect(decode(out[2]!)).toEqual([]);
    expect(decode(out[3]!)).toEqual([ev.json(0, '{"city":"Oslo"}'), ev.stop(0), ev.toolStart(1, 'call_b', 'get_weather')]);
    expect(decode(out[4]!)).toEqual([ev.json(1, '{"city":"Bergen"}')]);
  });

  it('three calls whose pieces alternate (one starting out of index order): full arguments, ids and names, blocks in index order', () => {
    const out = encode([
      piece(0, '{"ci', 'call_a', 'get_weather'),
      piece(2, '{"n":', 'call_c', 'count'),
      piece(1, '{"q"', 'call_b'),
      piece(1, '', undefined, 'search'),
      piece(0, 'ty":"Os'),
      piece(2, '1'),
      piece(1, ':"x'),
      piece(0, 'lo"}'),
      piece(2, '2}'),
      piece(1, 'yz"}'),
    ]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'call_b', name: 'search', input: { q: 'xyz' } },
      { type: 'tool_use', id: 'call_c', name: 'count', input: { n: 12 } },
    ]);
    // Call 0 live, piece by piece; call 1 flushed when 0 is whole, then live; call 2 (whole by then) flushed when 1 is.
    expect(jsonDeltas(out.flat())).toEqual([
      [0, '{"ci'],
      [0, 'ty":"Os'],
      [0, 'lo"}'],
      [1, '{"q":"x'],
      [1, 'yz"}'],
      [2, '{"n":12}'],
    ]);
  });

  it('calls still waiting at the finish (no whole parts, call 0 cut short) are flushed in index order', () => {
    const out = encode([piece(0, '{"a":', 'c0', 'f'), piece(2, '{"c":3}', 'c2', 'h'), piece(1, '{"b":2}', 'c1', 'g'), piece(0, '1')]);
    // Call 0 never became whole JSON: it stays open until the finish, and the others wait.
    expect(out.slice(2, 4).flat()).toEqual([]);
    const events = decode(out.flat());
    expect(events.flatMap((e) => (e.type === 'content_block_start' && e.content_block.type === 'tool_use' ? [[e.index, e.content_block.id, e.content_block.name]] : []))).toEqual([
      [0, 'c0', 'f'],
      [1, 'c1', 'g'],
      [2, 'c2', 'h'],
    ]);
    expect(jsonDeltas(out.flat())).toEqual([
      [0, '{"a":'],
      [0, '1'],
      [1, '{"b":2}'],
      [2, '{"c":3}'],
    ]);
    expect(decode(out.at(-1)!).map((e) => e.type)).toEqual([
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('text after interleaved tools closes the open call and flushes the waiting ones first', () => {
    const out = encode([
      text('Let me check.'),
      piece(0, '', 'call_a', 'get_weather'),
      piece(1, '', 'call_b', 'get_time'),
      piece(1, '{"tz":"CET"}'),
      piece(0, '{"city":"Oslo"}'),
      text('Done.'),
      whole(0, 'call_a', 'get_weather', '{"city":"Oslo"}'),
      whole(1, 'call_b', 'get_time', '{"tz":"CET"}'),
    ]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'call_b', name: 'get_time', input: { tz: 'CET' } },
      { type: 'text', text: 'Done.' },
    ]);
  });

  it('text while a call is still waiting: both wait for the open call (here until the finish), the call first', () => {
    const out = encode([piece(0, '{"a":1}', 'c0', 'f'), piece(1, '{"b":', 'c1', 'g'), piece(2, '{"c":3}', 'c2', 'h'), text('Hm.'), whole(2, 'c2', 'h', '{"c":3}')]);
    // Call 0 was whole when call 1 came: closed then, call 1 live; call 2 and the text wait for 1, which never
    // becomes whole JSON, until the finish.
    expect([...out[3]!, ...out[4]!, ...out[5]!]).toEqual([]);
    expect(jsonDeltas(out.flat())).toEqual([
      [0, '{"a":1}'],
      [1, '{"b":'],
      [2, '{"c":3}'],
    ]);
    expect(decode(out.flat()).flatMap((e) => (e.type === 'content_block_start' ? [e.content_block.type] : []))).toEqual(['tool_use', 'tool_use', 'tool_use', 'text']);
  });

  it('whitespace-only pieces do not keep a finished call open, and one for a closed block is harmless', () => {
    const out = encode([
      piece(0, ' ', 'c0', 'f'),
      piece(0, '{"a":1}'),
      piece(0, '\n '),
      piece(1, '  ', 'c1', 'g'),
      piece(0, '\n'),
      piece(1, '{"b":2}'),
      whole(0, 'c0', 'f', ' {"a":1}\n \n'),
      whole(1, 'c1', 'g', '  {"b":2}'),
    ]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'tool_use', id: 'c0', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'c1', name: 'g', input: { b: 2 } },
    ]);
    // Call 1's first piece found call 0 whole (trailing whitespace and all): 0 closed at once, 1 live.
    expect(decode(out[4]!)).toEqual([ev.stop(0), ev.toolStart(1, 'c1', 'g'), ev.json(1, '  ')]);
    expect(out[5]).toEqual([]);
  });
});

describe('AnthropicStreamEncoder: whole tool-call parts', () => {
  it('completes an open call whose streamed arguments are a prefix with the missing suffix', () => {
    const out = encode([piece(0, '{"city":"Os', 'call_a', 'get_weather'), whole(0, 'call_a', 'get_weather', '{"city":"Oslo"}')]);
    expect(decode(out[2]!)).toEqual([ev.json(0, 'lo"}')]);
    expect(content(decode(out.flat()))).toEqual([{ type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } }]);
  });

  it('a waiting call opens with the whole call (its arguments, its id and name when the pieces had none)', () => {
    const out = encode([piece(0, '{"a":', 'c0', 'f'), piece(1, '{"b"'), whole(1, 'c1', 'g', '{"b":2}'), whole(0, 'c0', 'f', '{"a":1}')]);
    expect(decode(out[3]!)).toEqual([]);
    expect(decode(out[4]!)).toEqual([ev.json(0, '1}'), ev.stop(0), ev.toolStart(1, 'c1', 'g'), ev.json(1, '{"b":2}')]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'tool_use', id: 'c0', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'c1', name: 'g', input: { b: 2 } },
    ]);
  });

  it('a call never seen as pieces is a whole block; while another call is unfinished, it waits for it', () => {
    const out = encode([piece(0, '{"a":', 'c0', 'f'), whole(1, 'c1', 'g', '{"b":2}'), piece(0, '1}')]);
    expect(decode(out[2]!)).toEqual([]);
    expect(decode(out[3]!)).toEqual([ev.json(0, '1}'), ev.stop(0), ev.toolStart(1, 'c1', 'g'), ev.json(1, '{"b":2}')]);
  });

  it('a closed block: the same arguments (even with other whitespace) are fine; different ones end the stream with an error', () => {
    const enc = new AnthropicStreamEncoder({ explain: false });
    enc.start(route);
    enc.part(piece(0, '{"a": 1}', 'c0', 'f'));
    enc.part(piece(1, '{"b":2}', 'c1', 'g'));
    expect(enc.part(whole(0, 'c0', 'f', '{"a":1}'))).toEqual([]);
    enc.part(piece(2, '{}', 'c2', 'h'));
    let thrown: unknown;
    try {
      enc.part(whole(1, 'c1', 'g', '{"b":2,"c":3}'));
    } catch (e) {
      thrown = e;
    }
    expect(LLMError.isInstance(thrown)).toBe(true);
    expect(thrown).toMatchObject({ code: 'invalid_response', message: expect.stringContaining('c1') });
    const error = decode(enc.error(thrown as LLMError, 'req_abc'));
    expect(error).toEqual([{ type: 'error', error: expect.objectContaining({ type: 'api_error', message: expect.stringContaining('{\\"b\\":2,\\"c\\":3}') }) }]);
  });

  it('an open block whose streamed text is not a prefix of the whole call cannot be fixed: an error, not a silent end', () => {
    const enc = new AnthropicStreamEncoder({ explain: false });
    enc.start(route);
    enc.part(piece(0, '{"city":"Ber', 'c0', 'f'));
    expect(() => enc.part(whole(0, 'c0', 'f', '{"city":"Oslo"}'))).toThrow(/c0 \(f\).*"\{\\"city\\":\\"Ber"/);
  });

  it('a piece for a closed block is not dropped silently: an error', () => {
    const enc = new AnthropicStreamEncoder({ explain: false });
    enc.start(route);
    // Whole JSON, so the text closes the call; a later piece would make its arguments something else.
    enc.part(piece(0, '{"a":1}', 'c0', 'f'));
    expect(decode(enc.part(text('text closes the call'))).map((e) => e.type)).toEqual(['content_block_stop', 'content_block_start', 'content_block_delta']);
    expect(() => enc.part(piece(0, ',"b":2}'))).toThrow(expect.objectContaining({ code: 'invalid_response', message: expect.stringContaining('after its block was closed') }));
    // After the whole call came, its later pieces have nothing to add.
    const enc2 = new AnthropicStreamEncoder({ explain: false });
    enc2.start(route);
    enc2.part(piece(0, '{"a":1}', 'c0', 'f'));
    enc2.part(whole(0, 'c0', 'f', '{"a":1}'));
    enc2.part(piece(1, '{}', 'c1', 'g'));
    expect(enc2.part(piece(0, '{"a":1}'))).toEqual([]);
  });
});

describe('AnthropicStreamEncoder: text that arrives inside an unfinished tool call waits for it', () => {
  it('text between two pieces of one call: sent after the call closes, the call whole (it used to close the call and end in an error)', () => {
    const out = encode([piece(0, '{"city":', 'call_a', 'get_weather'), text('One moment.'), piece(0, '"Oslo"}'), text(' Done.')]);
    expect(decode(out[2]!)).toEqual([]);
    // The piece that makes the call whole closes it and opens the text with what was buffered.
    expect(decode(out[3]!)).toEqual([ev.json(0, '"Oslo"}'), ev.stop(0), ev.textStart(1), ev.text(1, 'One moment.')]);
    // Then text streams live again.
    expect(decode(out[4]!)).toEqual([ev.text(1, ' Done.')]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'text', text: 'One moment. Done.' },
    ]);
  });

  it('several text pieces while a call is open are one buffered text, sent in one delta', () => {
    const out = encode([piece(0, '{"a":', 'c0', 'f'), text('x'), text('y'), piece(0, '1'), text('z'), piece(0, '}')]);
    expect([...out[2]!, ...out[3]!, ...out[5]!]).toEqual([]);
    // The open call's own pieces still stream live.
    expect(decode(out[4]!)).toEqual([ev.json(0, '1')]);
    expect(decode(out[6]!)).toEqual([ev.json(0, '}'), ev.stop(0), ev.textStart(1), ev.text(1, 'xyz')]);
  });

  it('buffered text and waiting calls keep their arrival order (calls between two texts in index order)', () => {
    const out = encode([
      piece(0, '{"a":', 'c0', 'f'),
      piece(2, '{"c":3}', 'c2', 'h'),
      text('X'),
      piece(1, '{"b":2}', 'c1', 'g'),
      piece(4, '{"e":', 'c4', 'k'),
      piece(3, '{"d":4}', 'c3', 'j'),
      text('Y'),
      piece(0, '1}'),
      piece(4, '5}'),
      text('Z'),
    ]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'tool_use', id: 'c0', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'c2', name: 'h', input: { c: 3 } },
      { type: 'text', text: 'X' },
      { type: 'tool_use', id: 'c1', name: 'g', input: { b: 2 } },
      { type: 'tool_use', id: 'c3', name: 'j', input: { d: 4 } },
      { type: 'tool_use', id: 'c4', name: 'k', input: { e: 5 } },
      { type: 'text', text: 'YZ' },
    ]);
    // Call 0 whole: c2, X, c1, c3 flushed; c4 opens with its buffered piece and stops there (unfinished).
    expect(decode(out[8]!).map((e) => e.type)).toEqual([
      'content_block_delta',
      'content_block_stop',
      ...Array.from({ length: 4 }, () => ['content_block_start', 'content_block_delta', 'content_block_stop']).flat(),
      'content_block_start',
      'content_block_delta',
    ]);
  });

  it('text after an unfinished call that waits behind another: sent after both', () => {
    const out = encode([piece(0, '{"a":1}', 'c0', 'f'), piece(1, '{"b":', 'c1', 'g'), text('Hm.'), piece(1, '2}'), whole(0, 'c0', 'f', '{"a":1}'), whole(1, 'c1', 'g', '{"b":2}')]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'tool_use', id: 'c0', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'c1', name: 'g', input: { b: 2 } },
      { type: 'text', text: 'Hm.' },
    ]);
  });

  it('a whole tool-call part finishes the open call and lets the buffered text out', () => {
    const out = encode([piece(0, '{"a":', 'c0', 'f'), text('T'), whole(0, 'c0', 'f', '{"a":1}')]);
    expect(decode(out[3]!)).toEqual([ev.json(0, '1}'), ev.stop(0), ev.textStart(1), ev.text(1, 'T')]);
  });

  it('text still buffered at the finish (the call never became whole JSON) comes after the call', () => {
    const out = encode([piece(0, '{"a":', 'c0', 'f'), text('T')]);
    expect(decode(out.at(-1)!).map((e) => e.type)).toEqual(['content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(decode(out.at(-1)!)[2]).toEqual(ev.text(1, 'T'));
  });
});

describe('AnthropicStreamEncoder: the finish reconciles the calls sent with the result\'s tool calls', () => {
  it('a call of the result that never came as a part is sent whole, after the rest', () => {
    const out = encode([text('Sure.')], [call('toolu_9', 'get_time', '{"tz":"CET"}')]);
    expect(decode(out.at(-1)!).slice(0, 4)).toEqual([ev.stop(0), ev.toolStart(1, 'toolu_9', 'get_time'), ev.json(1, '{"tz":"CET"}'), ev.stop(1)]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'text', text: 'Sure.' },
      { type: 'tool_use', id: 'toolu_9', name: 'get_time', input: { tz: 'CET' } },
    ]);
    // With no content at all, too.
    expect(content(decode(encode([], [call('toolu_9', 'get_time', '{}')]).flat()))).toEqual([{ type: 'tool_use', id: 'toolu_9', name: 'get_time', input: {} }]);
  });

  it('calls that came as parts are not sent twice (by the id the result knows them by, also without an upstream id)', () => {
    const out = encode(
      [piece(0, '{"a":1}', 'c0', 'f'), piece(1, '{"b":2}', undefined, 'g'), whole(2, 'c2', 'h', '{}'), piece(3, '{}', 'c3', 'k'), whole(3, 'c3-final', 'k', '{}')],
      [call('c2', 'h', '{}'), call('c3-final', 'k', '{}'), call('c0', 'f', '{"a":1}'), call('', 'g', '{"b":2}')],
    );
    expect(content(decode(out.flat())).map((b) => (b.type === 'tool_use' ? b.id : b.type))).toEqual(['c0', 'toolu_1', 'c2', 'c3']);
  });

  it('an open call whose streamed arguments are a prefix of the final ones gets the missing suffix at the finish', () => {
    const out = encode([piece(0, '{"a":', 'c0', 'f')], [call('c0', 'f', '{"a":1}')]);
    expect(jsonDeltas(out.flat())).toEqual([
      [0, '{"a":'],
      [0, '1}'],
    ]);
    expect(content(decode(out.flat()))).toEqual([{ type: 'tool_use', id: 'c0', name: 'f', input: { a: 1 } }]);
  });

  it('a call still waiting at the finish opens with its final arguments (nothing of it was sent)', () => {
    const out = encode([piece(0, '{"a":', 'c0', 'f'), piece(1, '{"b":', 'c1', 'g'), text('T')], [call('c0', 'f', '{"a":1}'), call('c1', 'g', '{"b":2}')]);
    expect(content(decode(out.flat()))).toEqual([
      { type: 'tool_use', id: 'c0', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'c1', name: 'g', input: { b: 2 } },
      { type: 'text', text: 'T' },
    ]);
  });

  it('final arguments that differ only in whitespace change nothing', () => {
    const out = encode([piece(0, '{"a": 1}', 'c0', 'f'), piece(1, '{"b":2}', 'c1', 'g')], [call('c0', 'f', '{"a":1}'), call('c1', 'g', ' {"b": 2}')]);
    expect(jsonDeltas(out.flat())).toEqual([
      [0, '{"a": 1}'],
      [1, '{"b":2}'],
    ]);
  });

  it('final arguments a sent block cannot be put right to (closed, or not an extension): the finish throws, so the stream ends with the error event', () => {
    const closed = finishError([piece(0, '{"a":1}', 'c0', 'f'), piece(1, '{"b":2}', 'c1', 'g')], [call('c0', 'f', '{"a":2}'), call('c1', 'g', '{"b":2}')]);
    expect(LLMError.isInstance(closed)).toBe(true);
    expect(closed).toMatchObject({ code: 'invalid_response', message: expect.stringMatching(/c0 \(f\).*\{\\"a\\":2\}.*\{\\"a\\":1\}/) });
    const open = finishError([piece(0, '{"a":"Ber', 'c0', 'f')], [call('c0', 'f', '{"a":"Oslo"}')]);
    expect(open).toMatchObject({ code: 'invalid_response', message: expect.stringContaining('c0') });
  });
});

describe('AnthropicStreamEncoder: delta frames are the event object as JSON.stringify writes it, byte for byte', () => {
  /** Generated text: runs of code units JSON writes escaped (quotes, backslashes, controls, lone and paired surrogates, U+2028) and plain ones. */
  function generated(r: () => number): string {
    const kinds = [
      () => String.fromCharCode(Math.floor(r() * 0x80)),
      () => String.fromCharCode(0x80 + Math.floor(r() * 0x80)),
      () => ['\u2028', '\u2029', '\ufeff', '"', '\\', '</script>', '\u0000'][Math.floor(r() * 7)]!,
      () => String.fromCharCode(0xd800 + Math.floor(r() * 0x800)),
      () => String.fromCodePoint(0x10000 + Math.floor(r() * 0xfffff)),
      () => String.fromCharCode(0x100 + Math.floor(r() * 0xd700)),
      () => [' word', 'Hello', ',', ' 42'][Math.floor(r() * 4)]!,
      () => [' word', 'Hello', ',', ' 42'][Math.floor(r() * 4)]!,
    ];
    let s = '';
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) s += kinds[Math.floor(r() * kinds.length)]!();
    return s;
  }
  const expected = (index: number, delta: Record<string, string>) => `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index, delta })}\n\n`;

  it('text, thinking and signature deltas, for 3 000 generated texts each', () => {
    const r = seededRandom(6021);
    const enc = new AnthropicStreamEncoder({ explain: false });
    enc.start(route);
    enc.part({ type: 'reasoning-delta', delta: 'Let me see.' });
    for (let i = 0; i < 3000; i++) {
      const t = generated(r);
      expect(enc.part({ type: 'reasoning-delta', delta: t }), JSON.stringify(t)).toEqual([expected(0, { type: 'thinking_delta', thinking: t })]);
    }
    const signature = generated(r);
    // (The signature ends the thinking block: its delta, then the block's stop.)
    expect(enc.part({ type: 'reasoning-delta', delta: '', signature })[0]).toBe(expected(0, { type: 'signature_delta', signature }));
    enc.part({ type: 'text-delta', delta: 'Hi' });
    for (let i = 0; i < 3000; i++) {
      const t = generated(r);
      expect(enc.part({ type: 'text-delta', delta: t }), JSON.stringify(t)).toEqual([expected(1, { type: 'text_delta', text: t })]);
    }
  });

  it('tool-call argument pieces (input_json_delta), for generated arguments cut anywhere', () => {
    const r = seededRandom(6022);
    const enc = new AnthropicStreamEncoder({ explain: false });
    enc.start(route);
    for (let call = 0; call < 100; call++) {
      const args = JSON.stringify({ q: generated(r) });
      const cuts = [0];
      while (cuts[cuts.length - 1]! < args.length) cuts.push(Math.min(args.length, cuts[cuts.length - 1]! + 1 + Math.floor(r() * 6)));
      enc.part(piece(call, args.slice(0, cuts[1]), `toolu_${call}`, 'f'));
      for (let i = 1; i < cuts.length - 1; i++) {
        const json = args.slice(cuts[i], cuts[i + 1]);
        expect(enc.part(piece(call, json)), JSON.stringify(json)).toEqual([expected(call, { type: 'input_json_delta', partial_json: json })]);
      }
    }
  });
});
