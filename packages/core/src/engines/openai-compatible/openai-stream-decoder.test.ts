import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { StreamPart } from '../../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { sseEvents } from '../../util/http.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './openai-compatible-engine.js';
import { OpenAIStreamDecoder } from './openai-stream-decoder.js';

function fixture(name: string): string {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
}

/** A response whose body arrives in `size`-byte pieces, so SSE lines are split at arbitrary places. */
function responseInPieces(text: string, size: number): Response {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

async function replay(text: string, pieceSize = 13): Promise<StreamPart[]> {
  const decoder = new OpenAIStreamDecoder({ provider: 'openai', deployment: 'fixture', estimateInputTokens: () => 99 });
  const parts: StreamPart[] = [];
  for await (const event of sseEvents(responseInPieces(text, pieceSize))) {
    parts.push(...decoder.decode(event.data));
    if (decoder.done) break;
  }
  parts.push(...decoder.end());
  return parts;
}

const text = (parts: StreamPart[]) => parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');

describe('fixture replay', () => {
  it('decodes an OpenAI text stream with a usage chunk', async () => {
    const parts = await replay(fixture('openai-text-stream.sse.txt'));
    expect(parts[0]).toEqual({ type: 'response-metadata', id: 'chatcmpl-Bx7kq2LrTf0aZ9uWcN4vYhQe1sP3d', model: 'gpt-4o-mini-2024-07-18' });
    expect(text(parts)).toBe('The capital of France is Paris.');
    // the empty first content delta is not a part
    expect(parts.filter((p) => p.type === 'text-delta')).toHaveLength(7);
    const usage = { inputTokens: 24, outputTokens: 7, totalTokens: 31, cachedInputTokens: 0, reasoningTokens: 0 };
    expect(parts.slice(-2)).toEqual([
      { type: 'usage', usage },
      { type: 'finish', finishReason: 'stop', usage },
    ]);
  });

  it('decodes OpenAI parallel tool calls', async () => {
    const parts = await replay(fixture('openai-tool-calls-stream.sse.txt'), 7);
    expect(parts.filter((p) => p.type === 'tool-call-delta')).toHaveLength(10);
    expect(parts.filter((p) => p.type === 'tool-call')).toEqual([
      { type: 'tool-call', index: 0, toolCall: { id: 'call_Qm3vT8pLw2ZkY7rN1xHdA5sE', name: 'get_weather', arguments: '{"city": "Paris"}' } },
      { type: 'tool-call', index: 1, toolCall: { id: 'call_Hk9pR2wX6tLm4QvZ8nB3cJ7y', name: 'get_weather', arguments: '{"city": "Tokyo"}' } },
    ]);
    expect(text(parts)).toBe('');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 82, outputTokens: 46 } });
  });

  it('decodes DeepSeek reasoning_content and usage on the finish chunk', async () => {
    const parts = await replay(fixture('deepseek-reasoner-stream.sse.txt'));
    const reasoning = parts.map((p) => (p.type === 'reasoning-delta' ? p.delta : '')).join('');
    expect(reasoning).toBe('The user asks for 2+2. That is 4.');
    expect(text(parts)).toBe('2 + 2 = 4.');
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: 14, outputTokens: 25, totalTokens: 39, cachedInputTokens: 0, reasoningTokens: 17 },
    });
  });

  describe('through the engine and a real socket', () => {
    let server: OpenAIWireServer;
    beforeAll(async () => {
      server = await startOpenAIWireServer();
    });
    afterAll(async () => {
      await server.close();
    });

    it('gives the same parts as the direct replay', async () => {
      const sse = fixture('openai-tool-calls-stream.sse.txt');
      server.setScript({ rawSSE: sse, chunkDelayMs: 1 });
      const engine = new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'gpt-4o-mini', baseURL: server.baseURL }), defaultEngineContext({ env: {} }));
      const viaEngine: StreamPart[] = [];
      for await (const part of engine.stream({ messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }] })) viaEngine.push(part);
      const direct = await replay(sse);
      expect(viaEngine).toEqual(direct);
    });
  });
});

describe('decoder edge cases', () => {
  const make = () => new OpenAIStreamDecoder({ provider: 'p', deployment: 'd', estimateInputTokens: () => 10 });

  it('ignores everything after [DONE]', () => {
    const d = make();
    d.decode('{"id":"a","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}');
    expect(d.decode('[DONE]')).toEqual([{ type: 'finish', finishReason: 'stop', usage: { inputTokens: 10, outputTokens: 1, totalTokens: 11, estimated: true } }]);
    expect(d.done).toBe(true);
    expect(d.decode('{"choices":[{"delta":{"content":"late"}}]}')).toEqual([]);
    expect(d.end()).toEqual([]);
  });

  it('turns non-JSON and wrongly shaped chunks into invalid_response', () => {
    const d = make();
    expect(d.decode('not json')[0]).toMatchObject({ type: 'error', error: { code: 'invalid_response' } });
    expect(d.done).toBe(true);
    const e = make();
    expect(e.decode('{"choices":"nope"}')[0]).toMatchObject({ type: 'error', error: { code: 'invalid_response' } });
  });

  it('reports a network failure as stream_interrupted with the chunk count', () => {
    const d = make();
    d.decode('{"choices":[{"delta":{"content":"a"}}]}');
    const [part] = d.interrupted(new TypeError('terminated', { cause: new Error('other side closed') }));
    expect(part).toMatchObject({ type: 'error', error: { code: 'stream_interrupted', isRetryable: true } });
    if (part?.type === 'error') expect(part.error.message).toMatch(/after 1 chunks: terminated \(other side closed\)/);
  });

  it('handles servers that send whole tool calls without index, and tool calls without ids', () => {
    const d = make();
    const a = d.decode('{"choices":[{"delta":{"tool_calls":[{"id":"c1","function":{"name":"f","arguments":"{}"}}]}}]}');
    const b = d.decode('{"choices":[{"delta":{"tool_calls":[{"id":"c2","function":{"name":"g","arguments":"{\\"x\\":1}"}}]}}]}');
    expect(a[0]).toMatchObject({ type: 'tool-call-delta', index: 0, id: 'c1' });
    expect(b[0]).toMatchObject({ type: 'tool-call-delta', index: 1, id: 'c2' });
    const tail = d.decode('[DONE]');
    expect(tail.map((p) => p.type)).toEqual(['tool-call', 'tool-call', 'finish']);
    expect(tail[2]).toMatchObject({ finishReason: 'tool-calls', usage: { estimated: true } });

    const noId = make();
    const parts = noId.decode('{"id":"r9","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}');
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'tool-call-delta', 'tool-call']);
    expect(parts[2]).toMatchObject({ type: 'tool-call', toolCall: { id: 'call_r9_0', name: 'f' } });
    expect(noId.end()).toEqual([{ type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 10, outputTokens: 1, totalTokens: 11, estimated: true } }]);
  });

  it('tells apart parallel calls streamed at one reused index by their ids (Ollama, SGLang, Dynamo)', () => {
    const d = make();
    const call = (index: number, id: string | undefined, fn: Record<string, string>) =>
      d.decode(JSON.stringify({ choices: [{ delta: { tool_calls: [{ index, ...(id ? { id } : {}), function: fn }] } }] }));
    const a = call(0, 'a', { name: 'f', arguments: '{"x":' });
    const aMore = call(0, 'a', { arguments: '1}' });
    const b = call(0, 'b', { name: 'g', arguments: '{"y":' });
    // Pieces without an id at the reused index go to its newest call.
    const bMore = call(0, undefined, { arguments: '2}' });
    // A well-behaved index 1 after that: our index 1 is b's, so it is a call of its own too.
    const c = call(1, 'c', { name: 'h', arguments: '{}' });
    const cMore = call(1, undefined, { arguments: '' });
    expect([a, aMore, b, bMore, c, cMore].map((p) => (p[0]?.type === 'tool-call-delta' ? [p[0].index, p[0].id] : p))).toEqual([
      [0, 'a'],
      [0, 'a'],
      [1, 'b'],
      [1, undefined],
      [2, 'c'],
      [2, undefined],
    ]);
    const tail = d.decode('{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}');
    expect(tail.map((p) => (p.type === 'tool-call' ? [p.index, p.toolCall] : p.type))).toEqual([
      [0, { id: 'a', name: 'f', arguments: '{"x":1}' }],
      [1, { id: 'b', name: 'g', arguments: '{"y":2}' }],
      [2, { id: 'c', name: 'h', arguments: '{}' }],
    ]);
  });

  it('makes up the id of a call sent without one on its first piece, and keeps it to the complete call', () => {
    const d = make();
    const first = d.decode('{"id":"r7","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{\\"a\\":"}}]}}]}');
    const second = d.decode('{"id":"r7","choices":[{"delta":{"tool_calls":[{"index":1,"function":{"name":"g","arguments":""}}]}}]}');
    // A late upstream id does not rename a call whose id was already sent.
    const more = d.decode('{"id":"r7","choices":[{"delta":{"tool_calls":[{"index":0,"id":"late","function":{"arguments":"1}"}}]}}]}');
    const tail = d.decode('{"id":"r7","choices":[{"delta":{},"finish_reason":"tool_calls"}]}');
    expect(first[1]).toEqual({ type: 'tool-call-delta', index: 0, id: 'call_r7_0', name: 'f', argumentsDelta: '{"a":' });
    expect(second[0]).toEqual({ type: 'tool-call-delta', index: 1, id: 'call_r7_1', name: 'g', argumentsDelta: '' });
    expect(more[0]).toEqual({ type: 'tool-call-delta', index: 0, id: 'call_r7_0', argumentsDelta: '1}' });
    expect(tail.map((p) => (p.type === 'tool-call' ? p.toolCall : p.type))).toEqual([
      { id: 'call_r7_0', name: 'f', arguments: '{"a":1}' },
      { id: 'call_r7_1', name: 'g', arguments: '' },
    ]);

    const noChunkId = make();
    expect(noChunkId.decode('{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]}}]}')[0]).toMatchObject({ id: 'call_stream_0' });
  });

  it('reads `reasoning` (OpenRouter / newer vLLM) like `reasoning_content`, and maps finish reasons', () => {
    const d = make();
    expect(d.decode('{"choices":[{"delta":{"reasoning":"hmm"}}]}')).toEqual([{ type: 'reasoning-delta', delta: 'hmm' }]);
    d.decode('{"choices":[{"delta":{"content":"x"},"finish_reason":"length"}]}');
    expect(d.end()[0]).toMatchObject({ type: 'finish', finishReason: 'length' });
    const f = make();
    f.decode('{"choices":[{"delta":{},"finish_reason":"content_filter"}]}');
    expect(f.end()[0]).toMatchObject({ finishReason: 'content-filter' });
  });
});

describe('review: streamed and non-streamed answers agree', () => {
  it('a streamed refusal comes as text-delta parts marked refusal, as generate returns message.refusal apart', () => {
    const d = new OpenAIStreamDecoder({ provider: 'openai', estimateInputTokens: () => 1 });
    const parts = [
      ...d.decode(JSON.stringify({ id: 'c1', model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: null, refusal: '' } }] })),
      ...d.decode(JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: { refusal: "I'm sorry, " } }] })),
      ...d.decode(JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: { refusal: 'I cannot help.' }, finish_reason: 'stop' }] })),
      ...d.decode('[DONE]'),
    ];
    const text = parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
    expect(text).toBe("I'm sorry, I cannot help.");
    expect(parts.filter((p) => p.type === 'text-delta').every((p) => p.refusal === true)).toBe(true);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });
});

describe('OpenAIStreamDecoder: logprobs', () => {
  const decoder = (logprobs = true) => new OpenAIStreamDecoder({ provider: 'openai', estimateInputTokens: () => 1, logprobs });
  const chunk = (choice: object) => JSON.stringify({ id: 'c', model: 'm', choices: [{ index: 0, ...choice }] });
  const lp = (token: string, logprob = -1) => ({ token, logprob });

  it('a logprobs part right after the chunk\'s text-delta; refusal tokens and empty lists make none', () => {
    const d = decoder();
    expect(d.decode(chunk({ delta: { role: 'assistant', content: 'Hi' }, logprobs: { content: [{ token: 'Hi', logprob: -0.25, bytes: [72, 105], top_logprobs: [] }], refusal: null } }))).toEqual([
      { type: 'response-metadata', id: 'c', model: 'm' },
      { type: 'text-delta', delta: 'Hi' },
      { type: 'logprobs', logprobs: [{ token: 'Hi', logprob: -0.25, bytes: [72, 105] }] },
    ]);
    expect(d.decode(chunk({ delta: { refusal: 'No' }, logprobs: { content: null, refusal: [{ token: 'No', logprob: -1, bytes: null, top_logprobs: [] }] } }))).toEqual([{ type: 'text-delta', delta: 'No', refusal: true }]);
    expect(d.decode(chunk({ delta: { content: '' }, logprobs: { content: [] } }))).toEqual([]);
    // Tokens without text (a server that sends them on their own chunk): a part of their own.
    expect(d.decode(chunk({ delta: {}, logprobs: { content: [{ token: '', logprob: -2 }] } }))).toEqual([{ type: 'logprobs', logprobs: [{ token: '', logprob: -2 }] }]);
  });

  it('a chunk with content and a refusal: the content\'s logprobs part right after its text-delta, before the refusal\'s', () => {
    const d = decoder();
    d.decode(chunk({ delta: { role: 'assistant', content: 'Sure' }, logprobs: { content: [lp('Sure')] } }));
    expect(d.decode(chunk({ delta: { content: ' no', refusal: 'I cannot.' }, logprobs: { content: [lp(' no')], refusal: [lp('I cannot.')] } }))).toEqual([
      { type: 'text-delta', delta: ' no' },
      { type: 'logprobs', logprobs: [{ token: ' no', logprob: -1 }] },
      { type: 'text-delta', delta: 'I cannot.', refusal: true },
    ]);
  });

  it('content chunks learned by the template never swallow a later chunk that carries logprobs', () => {
    const d = decoder();
    const plain = (text: string) => JSON.stringify({ id: 'c', model: 'm', choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }] });
    d.decode(plain('a'));
    d.decode(plain('b'));
    expect(d.decode(plain('c'))).toEqual([{ type: 'text-delta', delta: 'c' }]);
    const withLogprobs = JSON.stringify({ id: 'c', model: 'm', choices: [{ index: 0, delta: { content: 'd' }, logprobs: { content: [{ token: 'd', logprob: -1 }] }, finish_reason: null }] });
    expect(d.decode(withLogprobs)).toEqual([
      { type: 'text-delta', delta: 'd' },
      { type: 'logprobs', logprobs: [{ token: 'd', logprob: -1 }] },
    ]);
  });

  it('not asked for (the default): logprobs are not read, and a malformed one fails nothing', () => {
    const d = decoder(false);
    expect(d.decode(chunk({ delta: { content: 'Hi' }, logprobs: { content: [lp('Hi')] } }))).toEqual([
      { type: 'response-metadata', id: 'c', model: 'm' },
      { type: 'text-delta', delta: 'Hi' },
    ]);
    expect(d.decode(chunk({ delta: { content: '!' }, logprobs: { content: [{ token: 7 }] } }))).toEqual([{ type: 'text-delta', delta: '!' }]);
    expect(d.decode(chunk({ delta: {}, logprobs: 'x', finish_reason: 'stop' }))).toEqual([]);
    expect(d.decode('[DONE]')).toMatchObject([{ type: 'finish', finishReason: 'stop' }]);
  });

  it('asked for, and malformed: no logprobs from there on, the text and the finish still come', () => {
    const d = decoder();
    expect(d.decode(chunk({ delta: { content: 'a' }, logprobs: { content: [lp('a')] } }))).toContainEqual({ type: 'logprobs', logprobs: [lp('a')] });
    expect(d.decode(chunk({ delta: { content: 'b' }, logprobs: { content: [{ token: 'b', logprob: '-1' }] } }))).toEqual([{ type: 'text-delta', delta: 'b' }]);
    // Later well-formed logprobs are not read either: the parts stay a prefix of the text's tokens.
    expect(d.decode(chunk({ delta: { content: 'c' }, logprobs: { content: [lp('c')] } }))).toEqual([{ type: 'text-delta', delta: 'c' }]);
    expect(d.decode(chunk({ delta: {}, finish_reason: 'stop' }))).toEqual([]);
    expect(d.decode('[DONE]')).toMatchObject([{ type: 'finish', finishReason: 'stop' }]);
  });

  it('in a chunk with text and tool calls, the logprobs part comes right after the text-delta', () => {
    const d = decoder();
    const parts = d.decode(
      chunk({ delta: { content: 'Hi', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, logprobs: { content: [lp('Hi')] } }),
    );
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'logprobs', 'tool-call-delta']);
  });

  it('reasoning chunks (vLLM with a reasoning parser sends their tokens too) give no logprobs part; text in the same chunk keeps only its own tokens', () => {
    const d = decoder();
    expect(d.decode(chunk({ delta: { reasoning_content: 'Hm' }, logprobs: { content: [lp('<think>'), lp('Hm')] } }))).toEqual([
      { type: 'response-metadata', id: 'c', model: 'm' },
      { type: 'reasoning-delta', delta: 'Hm' },
    ]);
    // Tokens without text between the reasoning and the answer (the end of the thinking) are not the answer's.
    expect(d.decode(chunk({ delta: {}, logprobs: { content: [lp('</think>')] } }))).toEqual([]);
    expect(d.decode(chunk({ delta: { reasoning: '.', content: 'Hi' }, logprobs: { content: [lp('.'), lp('</think>'), lp('H'), lp('i')] } }))).toEqual([
      { type: 'reasoning-delta', delta: '.' },
      { type: 'text-delta', delta: 'Hi' },
      { type: 'logprobs', logprobs: [lp('H'), lp('i')] },
    ]);
    // Once the answer started, tokens without text are its own again (a token holding part of a character).
    expect(d.decode(chunk({ delta: {}, logprobs: { content: [lp('bytes:\\xe2')] } }))).toEqual([{ type: 'logprobs', logprobs: [lp('bytes:\\xe2')] }]);
    // A chunk of reasoning and text whose tokens do not end in that text: none.
    expect(d.decode(chunk({ delta: { reasoning_content: 'x', content: 'y' }, logprobs: { content: [lp('xy?')] } }))).toEqual([
      { type: 'reasoning-delta', delta: 'x' },
      { type: 'text-delta', delta: 'y' },
    ]);
  });
});
