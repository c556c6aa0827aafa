import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { collect } from '../../test/async.test-helpers.js';
import { body, dataOf, eventByEvent, kinds, partStream, readSplits, releasedThenCancelled } from '../../test/sse-decoder.test-helpers.js';
import { AnthropicStreamDecoder } from './anthropic-stream-decoder.js';

const FIXTURES = ['anthropic-text.sse', 'anthropic-tool-use.sse', 'anthropic-thinking.sse', 'anthropic-overloaded.sse'];
const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

const decoder = (extra: { jsonToolName?: string; signal?: AbortSignal } = {}) => new AnthropicStreamDecoder({ provider: 'anthropic', deployment: 'claude', ...extra });
const ev = (payload: object) => JSON.stringify(payload);
const start = ev({ type: 'message_start', message: { id: 'm', model: 'x', usage: { input_tokens: 3 } } });
const textBlock = ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
const delta = (text: string) => ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });

describe('AnthropicStreamDecoder: event by event', () => {
  it('gives each event its own parts; message_stop is the terminal part and later input is ignored', () => {
    const d = decoder();
    const perEvent = dataOf(fixture('anthropic-text.sse')).map((data) => {
      expect(d.done).toBe(false);
      return kinds(d.decode(data));
    });
    // message_start, content_block_start, ping, 2 deltas, content_block_stop, message_delta, message_stop
    expect(perEvent).toEqual([['response-metadata', 'usage'], [], [], ['text-delta'], ['text-delta'], [], ['usage'], ['finish']]);
    expect(d.done).toBe(true);
    expect(d.decode(delta('late'))).toEqual([]);
    expect(d.end()).toEqual([]);
    expect(d.interrupted(new TypeError('terminated'))).toEqual([]);
  });

  it('an error event is terminal at once, with the mapped code', () => {
    const d = decoder();
    const perEvent = dataOf(fixture('anthropic-overloaded.sse')).map((data) => d.decode(data));
    const last = perEvent.at(-1)!;
    expect(kinds(last)).toEqual(['error:overloaded']);
    expect(last[0]).toMatchObject({ error: { provider: 'anthropic', deployment: 'claude', isRetryable: true } });
    expect(d.done).toBe(true);
    expect(d.end()).toEqual([]);
  });

  it('a tool block whose whole input came with content_block_start gives its delta and its call from content_block_stop', () => {
    const d = decoder();
    d.decode(start);
    expect(d.decode(ev({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } } }))).toEqual([
      { type: 'tool-call-delta', index: 0, id: 't1', name: 'f', argumentsDelta: '' },
    ]);
    expect(d.decode(ev({ type: 'content_block_stop', index: 0 }))).toEqual([
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"a":1}' },
      { type: 'tool-call', index: 0, toolCall: { id: 't1', name: 'f', arguments: '{"a":1}' } },
    ]);
    expect(d.decode(ev({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 4 } }))).toEqual([
      { type: 'usage', usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 } },
    ]);
    expect(d.decode(ev({ type: 'message_stop' }))).toEqual([
      { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 } },
    ]);
  });

  it("message_delta's usage (cumulative, as Anthropic reports it) is a usage part that replaces message_start's: a stream cut before message_stop keeps the output reported", () => {
    const d = decoder();
    expect(d.decode(ev({ type: 'message_start', message: { id: 'm', model: 'x', usage: { input_tokens: 3, cache_read_input_tokens: 2, output_tokens: 1 } } }))).toContainEqual({
      type: 'usage',
      usage: { inputTokens: 5, outputTokens: 0, totalTokens: 5, cachedInputTokens: 2 },
    });
    d.decode(textBlock);
    d.decode(delta('a long answer'));
    // Server tools can send several message_delta events: each carries the totals so far (input too), not an increment.
    expect(d.decode(ev({ type: 'message_delta', delta: { stop_reason: null }, usage: { input_tokens: 10, output_tokens: 40 } }))).toEqual([
      { type: 'usage', usage: { inputTokens: 12, outputTokens: 40, totalTokens: 52, cachedInputTokens: 2 } },
    ]);
    expect(d.decode(ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 500 } }))).toEqual([
      { type: 'usage', usage: { inputTokens: 12, outputTokens: 500, totalTokens: 512, cachedInputTokens: 2 } },
    ]);
    // Cut here: the error part follows the last usage part (what whoever bills the broken stream reads).
    expect(kinds(d.end())).toEqual(['error:stream_interrupted']);
  });

  it("a message_delta without usage (MiniMax's Anthropic-compatible API): the finish has output 0, not message_start's placeholder", () => {
    for (const placeholder of [1, 0]) {
      const d = decoder();
      d.decode(ev({ type: 'message_start', message: { id: 'm', model: 'x', usage: { input_tokens: 3, cache_read_input_tokens: 2, output_tokens: placeholder } } }));
      d.decode(textBlock);
      d.decode(delta('a long answer'));
      d.decode(ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' } }));
      // Output 0 is "not reported": the router estimates it from the answer (completeUsage); the prompt's counts stand.
      expect(d.decode(ev({ type: 'message_stop' }))).toEqual([{ type: 'finish', finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 0, totalTokens: 5, cachedInputTokens: 2 } }]);
    }
    // A reported output is kept as reported.
    const d = decoder();
    d.decode(ev({ type: 'message_start', message: { id: 'm', model: 'x', usage: { input_tokens: 3, output_tokens: 1 } } }));
    d.decode(ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } }));
    expect(d.decode(ev({ type: 'message_stop' }))).toEqual([{ type: 'finish', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 7, totalTokens: 10 } }]);
  });

  it('ping, unknown event types and deltas of ignored blocks give nothing', () => {
    const d = decoder();
    d.decode(start);
    expect(d.decode(ev({ type: 'ping' }))).toEqual([]);
    expect(d.decode(ev({ type: 'some_future_event', index: 0 }))).toEqual([]);
    expect(d.decode(ev({ type: 'content_block_start', index: 0, content_block: { type: 'server_tool_use', id: 's', name: 'web_search', input: {} } }))).toEqual([]);
    expect(d.decode(ev({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"q":1}' } }))).toEqual([]);
    expect(d.done).toBe(false);
  });
});

describe('AnthropicStreamDecoder: the usage message_start reports', () => {
  // 100 fresh input tokens, 300 read from the prompt cache, 600 written to it (100 of them for an hour).
  const startWithCache = ev({
    type: 'message_start',
    message: {
      id: 'm',
      model: 'x',
      usage: { input_tokens: 100, cache_read_input_tokens: 300, cache_creation_input_tokens: 600, cache_creation: { ephemeral_5m_input_tokens: 500, ephemeral_1h_input_tokens: 100 }, output_tokens: 1 },
    },
  });
  const PROMPT = { inputTokens: 1000, cachedInputTokens: 300, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 };

  it('goes out as a usage part at once, its output 0 (the placeholder output_tokens 1 is not the output)', () => {
    const d = decoder();
    const parts = d.decode(startWithCache);
    expect(parts).toEqual([
      { type: 'response-metadata', id: 'm', model: 'x' },
      { type: 'usage', usage: { ...PROMPT, outputTokens: 0, totalTokens: 1000 } },
    ]);
  });

  it('a stream that breaks after content has handed out the prompt counts before its error part', () => {
    const d = decoder();
    const parts = [...d.decode(startWithCache), ...d.decode(textBlock), ...d.decode(delta('one two')), ...d.decode(ev({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))];
    expect(kinds(parts)).toEqual(['response-metadata', 'usage', 'text-delta', 'error:overloaded']);
    expect(parts.find((p) => p.type === 'usage')).toMatchObject({ usage: PROMPT });
  });

  it('a complete stream still ends with the final usage on its finish part (message_delta output_tokens, the counts of message_start)', () => {
    const d = decoder();
    d.decode(startWithCache);
    d.decode(textBlock);
    d.decode(delta('one two'));
    d.decode(ev({ type: 'content_block_stop', index: 0 }));
    d.decode(ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 40 } }));
    expect(d.decode(ev({ type: 'message_stop' }))).toEqual([{ type: 'finish', finishReason: 'stop', usage: { ...PROMPT, outputTokens: 40, totalTokens: 1040 } }]);
  });

  it('no usage part when message_start reports no input (no usage, or only the output placeholder)', () => {
    expect(kinds(decoder().decode(ev({ type: 'message_start', message: { id: 'm', model: 'x' } })))).toEqual(['response-metadata']);
    expect(kinds(decoder().decode(ev({ type: 'message_start', message: { id: 'm', model: 'x', usage: { input_tokens: 0, output_tokens: 1 } } })))).toEqual(['response-metadata']);
  });
});

describe('AnthropicStreamDecoder: failures', () => {
  it('end() before message_stop is one stream_interrupted error', () => {
    const d = decoder();
    d.decode(start);
    const parts = d.end();
    expect(kinds(parts)).toEqual(['error:stream_interrupted']);
    expect(parts[0]).toMatchObject({ error: { message: 'anthropic: stream ended before message_stop', isRetryable: true } });
    expect(d.done).toBe(true);
    expect(d.end()).toEqual([]);
  });

  it('interrupted(): a cut connection is stream_interrupted; after an abort it is aborted or timeout; an LLMError keeps its code', () => {
    const cut = decoder().interrupted(new TypeError('terminated'));
    expect(cut[0]).toMatchObject({ error: { code: 'stream_interrupted', message: 'anthropic: stream interrupted: terminated', isRetryable: true } });
    expect(kinds(decoder({ signal: AbortSignal.abort() }).interrupted(new TypeError('terminated')))).toEqual(['error:aborted']);
    const timedOut = AbortSignal.abort(new DOMException('timed out', 'TimeoutError'));
    expect(kinds(decoder({ signal: timedOut }).interrupted(new Error('x')))).toEqual(['error:timeout']);
    const own = decoder().interrupted(new LLMError({ code: 'invalid_response', message: 'Response has no body' }));
    expect(own[0]).toMatchObject({ error: { code: 'invalid_response', message: 'Response has no body', provider: 'anthropic', deployment: 'claude' } });
  });

  it('invalid JSON and a delta for an unknown block are invalid_response', () => {
    const a = decoder();
    expect(kinds(a.decode('{nope'))).toEqual(['error:invalid_response']);
    expect(a.done).toBe(true);
    const b = decoder();
    b.decode(start);
    expect(kinds(b.decode(delta('x')))).toEqual(['error:invalid_response']);
  });

  it('an event of an unexpected shape keeps the parts before it and ends with stream_interrupted', () => {
    const d = decoder();
    expect(kinds(d.decode(start))).toEqual(['response-metadata', 'usage']);
    d.decode(textBlock);
    expect(kinds(d.decode(delta('hi')))).toEqual(['text-delta']);
    const parts = d.decode(ev({ type: 'content_block_start', index: 1 }));
    expect(kinds(parts)).toEqual(['error:stream_interrupted']);
    expect(parts[0]).toMatchObject({ error: { message: expect.stringContaining('anthropic: stream interrupted:') } });
    expect(d.done).toBe(true);
  });
});

describe('AnthropicStreamDecoder through SsePartStream', () => {
  it.each(FIXTURES)('%s: the same parts in any read sizes as event by event', async (name) => {
    const text = fixture(name);
    const expected = eventByEvent(decoder(), text);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    for (const reads of readSplits(text)) {
      expect(await collect(partStream(body(reads), decoder()))).toEqual(expected);
    }
  });

  it('message_stop releases a body that stays open (cancelled if it does not end), and the stream ends with finish', async () => {
    const b = body([new TextEncoder().encode(fixture('anthropic-text.sse'))], true);
    const parts = await releasedThenCancelled(b, () => partStream(b, decoder()));
    expect(kinds(parts).at(-1)).toBe('finish');
  });

  it('an error event releases a body that stays open (cancelled if it does not end)', async () => {
    const b = body([new TextEncoder().encode(fixture('anthropic-overloaded.sse'))], true);
    const parts = await releasedThenCancelled(b, () => partStream(b, decoder()));
    expect(kinds(parts).at(-1)).toBe('error:overloaded');
  });
});
