/**
 * Content and reasoning frames from a per-stream head and tail, the text put in as it is when
 * JSON writes it unchanged: every frame against `dataFrame` of the chunk object (JSON.stringify), over generated
 * text (every ASCII code unit, DEL, Latin-1, U+2028/U+2029, BOM, lone high and low surrogates, valid pairs, `</script>`,
 * very long text, text of one quote) and generated request ids and deployments, with tool-call, refusal and logprobs
 * frames between; then end to end, a served gateway over an OpenAI-wire upstream streaming DeepSeek-shaped reasoning
 * and answer chunks with such text, read raw (each frame is JSON.stringify of its own parse) and with the openai client.
 */
import type { StreamPart } from '@llmrr/core';
import { seededRandom as random, startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoutePart } from '../streaming/open-stream.js';
import { send } from '../test-support/raw-http.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { ChatStreamEncoder, dataFrame } from './chat-stream-encoder.js';

type Rng = () => number;

/** One piece of generated text: a code unit of a kind JSON treats apart, or a plain run. */
function piece(r: Rng): string {
  const k = Math.floor(r() * 12);
  switch (k) {
    case 0:
      return String.fromCharCode(Math.floor(r() * 0x80)); // any ASCII, controls and DEL included
    case 1:
      return String.fromCharCode(0x80 + Math.floor(r() * 0x80)); // C1 controls and Latin-1
    case 2:
      return ['\u2028', '\u2029', '\ufeff', '\ufffd', '\u007f', '\u0000'][Math.floor(r() * 6)]!;
    case 3:
      return String.fromCharCode(0xd800 + Math.floor(r() * 0x400)); // lone (unless a low one follows) high surrogate
    case 4:
      return String.fromCharCode(0xdc00 + Math.floor(r() * 0x400)); // lone (unless after a high one) low surrogate
    case 5:
      return String.fromCodePoint(0x10000 + Math.floor(r() * 0xfffff)); // a valid pair
    case 6:
      return ['</script>', '"', '\\', '\\u0041', '"}', '"content":"x"'][Math.floor(r() * 6)]!;
    case 7:
      return String.fromCharCode(0x100 + Math.floor(r() * 0xd700)); // other BMP text
    default:
      return ['a', ' word', 'Hello', ' the', '.', ', ', '42'][Math.floor(r() * 7)]!;
  }
}

function text(r: Rng, max = 8): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += piece(r);
  return s;
}

function route(r: Rng): RoutePart {
  return { type: 'route', requestId: `req_${text(r, 4)}`, deployment: text(r, 4) || 'd', provider: 'mock', cached: false } as unknown as RoutePart;
}

/** The chunk object of a delta, as `dataFrame` writes it (the encoder's documented bytes). */
function expectedFrame(rt: RoutePart, includeUsage: boolean, delta: Record<string, unknown>): string {
  return dataFrame({
    id: `chatcmpl-${rt.requestId}`,
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: rt.deployment,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
    ...(includeUsage ? { usage: null } : {}),
  });
}

describe('ChatStreamEncoder text frames against JSON.stringify of the chunk', () => {
  it('are dataFrame of the chunk object, byte for byte, for 40 000 generated texts between tool-call and refusal frames', () => {
    const r = random(75276);
    for (let s = 0; s < 400; s++) {
      const includeUsage = r() < 0.5;
      const rt = route(r);
      const enc = new ChatStreamEncoder({ created: 1_700_000_000, includeUsage, explain: false });
      enc.start(rt);
      let call = 0;
      for (let i = 0; i < 100; i++) {
        const t = text(r);
        const k = r();
        if (k < 0.45) {
          expect(enc.part({ type: 'text-delta', delta: t }), JSON.stringify(t)).toEqual(t === '' ? [] : [expectedFrame(rt, includeUsage, { content: t })]);
        } else if (k < 0.9) {
          expect(enc.part({ type: 'reasoning-delta', delta: t }), JSON.stringify(t)).toEqual(t === '' ? [] : [expectedFrame(rt, includeUsage, { reasoning_content: t })]);
        } else if (k < 0.95) {
          expect(enc.part({ type: 'text-delta', delta: t, refusal: true } as StreamPart)).toEqual(t === '' ? [] : [expectedFrame(rt, includeUsage, { refusal: t })]);
        } else {
          // A whole tool call between text frames: the text frames after it keep their bytes.
          const index = call++;
          const frames = enc.part({ type: 'tool-call', index, toolCall: { id: `call_${index}`, name: 'f', arguments: '{}' } });
          expect(frames).toEqual([expectedFrame(rt, includeUsage, { tool_calls: [{ index, id: `call_${index}`, type: 'function', function: { name: 'f', arguments: '{}' } }] })]);
        }
      }
    }
  });

  it('are dataFrame of the chunk object for very long text, text of one quote, and one escape at either end', () => {
    const rt = route(random(1));
    const enc = new ChatStreamEncoder({ created: 1_700_000_000, includeUsage: true, explain: false });
    enc.start(rt);
    const long = 'x'.repeat(1 << 20);
    for (const t of ['"', '\\', '""', long, `${long}"`, `\u0001${long}`, `${long}\ud800`, `\udfff${long}`, `${long}\ud83d\ude00`, '\u2028\u2029', '\u007f', ' ']) {
      expect(enc.part({ type: 'text-delta', delta: t })).toEqual([expectedFrame(rt, true, { content: t })]);
      expect(enc.part({ type: 'reasoning-delta', delta: t })).toEqual([expectedFrame(rt, true, { reasoning_content: t })]);
    }
  });

  it('tool-call argument pieces are dataFrame of their chunk object, byte for byte, for generated pieces of calls sent one after another', () => {
    const r = random(3317);
    for (let s = 0; s < 200; s++) {
      const includeUsage = r() < 0.5;
      const rt = route(r);
      const enc = new ChatStreamEncoder({ created: 1_700_000_000, includeUsage, explain: false });
      enc.start(rt);
      // Each call's arguments are whole JSON (so the next call goes out at once, at the next wire index) made of
      // generated pieces: a string value of generated text, cut anywhere.
      for (let call = 0; call < 3; call++) {
        const args = JSON.stringify({ q: text(r, 12) });
        const cuts = [0];
        while (cuts[cuts.length - 1]! < args.length) cuts.push(Math.min(args.length, cuts[cuts.length - 1]! + 1 + Math.floor(r() * 6)));
        const id = `call_${call}`;
        const first = args.slice(0, cuts[1]);
        expect(enc.part({ type: 'tool-call-delta', index: call, id, name: 'f', argumentsDelta: first })).toEqual([
          expectedFrame(rt, includeUsage, { tool_calls: [{ index: call, id, type: 'function', function: { name: 'f', arguments: first } }] }),
        ]);
        for (let i = 1; i < cuts.length - 1; i++) {
          const piece = args.slice(cuts[i], cuts[i + 1]);
          expect(enc.part({ type: 'tool-call-delta', index: call, argumentsDelta: piece }), JSON.stringify(piece)).toEqual([
            expectedFrame(rt, includeUsage, { tool_calls: [{ index: call, function: { arguments: piece } }] }),
          ]);
        }
      }
    }
  });

  it('with logprobs asked for, a held text flushed by the next part is still dataFrame of its chunk', () => {
    const r = random(9);
    const rt = route(r);
    const enc = new ChatStreamEncoder({ created: 1_700_000_000, includeUsage: false, explain: false, logprobs: true });
    enc.start(rt);
    for (let i = 0; i < 2000; i++) {
      const t = text(r) || 'a';
      expect(enc.part({ type: 'text-delta', delta: t })).toEqual([]);
      const u = text(r) || 'b';
      // The reasoning delta sends the held text first, then its own frame.
      expect(enc.part({ type: 'reasoning-delta', delta: u })).toEqual([expectedFrame(rt, false, { content: t }), expectedFrame(rt, false, { reasoning_content: u })]);
    }
  });
});

describe('a served gateway streams generated reasoning and answer text as JSON.stringify writes each chunk', () => {
  let upstream: OpenAIWireServer;
  let gw: SdkGateway;
  beforeAll(async () => {
    upstream = await startOpenAIWireServer();
    gw = await servedGateway({
      models: [{ name: 'ds', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'deepseek-reasoner', apiKey: 'k', capabilities: ['chat', 'streaming', 'reasoning'] }],
      upstreams: [upstream],
    });
  });
  afterAll(async () => gw?.close());

  const envelope = { id: 'chatcmpl-u', object: 'chat.completion.chunk', created: 1, model: 'deepseek-reasoner', system_fingerprint: 'fp_1' };
  const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ ...envelope, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;

  /** DeepSeek's shape: reasoning with `content: null`, then the answer with `reasoning_content: null`. */
  function script(seed: number): { sse: string; reasoning: string; answer: string } {
    const r = random(seed);
    const thinking = Array.from({ length: 40 }, () => text(r, 6));
    const answer = Array.from({ length: 40 }, () => text(r, 6));
    const sse =
      chunk({ role: 'assistant', content: null, reasoning_content: '' }) +
      thinking.map((t) => chunk({ content: null, reasoning_content: t })).join('') +
      answer.map((t) => chunk({ content: t, reasoning_content: null })).join('') +
      chunk({ content: '', reasoning_content: null }, 'stop') +
      `data: ${JSON.stringify({ ...envelope, choices: [], usage: { prompt_tokens: 3, completion_tokens: 80, total_tokens: 83 } })}\n\n` +
      'data: [DONE]\n\n';
    return { sse, reasoning: thinking.join(''), answer: answer.join('') };
  }

  it.each([1, 2, 3, 4])('raw frames (seed %i): each data frame is JSON.stringify of its own parse, the texts whole', async (seed) => {
    const { sse, reasoning, answer } = script(seed);
    upstream.setScript({ rawSSE: sse });
    const res = await send(gw.url, 'POST', '/v1/chat/completions', JSON.stringify({ model: 'ds', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }), {
      authorization: `Bearer ${gw.secret}`,
      'content-type': 'application/json',
    });
    expect(res.status).toBe(200);
    const payloads = res.body
      .split('\n\n')
      .filter((f) => f.startsWith('data: '))
      .map((f) => f.slice(6));
    expect(payloads.at(-1)).toBe('[DONE]');
    let gotReasoning = '';
    let gotAnswer = '';
    for (const p of payloads.slice(0, -1)) {
      const v = JSON.parse(p) as { choices: Array<{ delta: { content?: string | null; reasoning_content?: string } }> };
      expect(JSON.stringify(v), p).toBe(p);
      gotReasoning += v.choices[0]?.delta.reasoning_content ?? '';
      gotAnswer += v.choices[0]?.delta.content ?? '';
    }
    // Lone surrogates went out as \u escapes and came back as they were sent.
    expect(gotReasoning).toBe(reasoning);
    expect(gotAnswer).toBe(answer);
  });

  it('the official openai client reads the same reasoning and answer', async () => {
    const { sse, reasoning, answer } = script(5);
    upstream.setScript({ rawSSE: sse });
    const stream = await gw.openai().chat.completions.create({ model: 'ds', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let gotReasoning = '';
    let gotAnswer = '';
    for await (const c of stream) {
      const d = c.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      gotReasoning += d?.reasoning_content ?? '';
      gotAnswer += d?.content ?? '';
    }
    expect(gotReasoning).toBe(reasoning);
    expect(gotAnswer).toBe(answer);
  });
});
