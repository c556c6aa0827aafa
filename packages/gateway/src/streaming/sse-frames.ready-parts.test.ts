import { DIRECT_BODY, LLMError, LLMRouter, RELEASES_ABORT_LISTENERS, TAKES_ATTEMPT_SIGNALS, type BodySink } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { openStream } from './open-stream.js';
import { sseReply, type StreamEncoder, type StreamOutcome } from './sse-response.js';

// `SseFrames.pipe` takes the parts a router stream has ready (the rest of one network chunk's parts: core's
// `takeReadyPart`) without awaiting each: the frames written are those `next()` gives, in the same pieces, and a
// client that leaves in the middle of a chunk's parts stops the stream there (settled as aborted, the upstream
// cancelled). The router is a real one over the openai-compatible engine, its upstream body pushed chunk by chunk
// as a socket delivers it (a `DIRECT_BODY`), so that which events share a chunk is known.

const encoder = new TextEncoder();
const event = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const text = (s: string) => event({ content: s });
const ending = `${event({}, 'stop')}data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } })}\n\ndata: [DONE]\n\n`;

const enc: StreamEncoder = {
  start: () => ['<start>'],
  part: (p) => (p.type === 'text-delta' ? [`<${p.delta}>`] : p.type === 'usage' ? [`<usage ${p.usage.outputTokens}>`] : []),
  finish: (p) => [`<finish ${p.finishReason}>`, '<done>'],
  error: (e) => [`<error ${e.code}>`],
};

/** A router stream opened past its first content part, the rest of the answer (`rest`) in one chunk after it. */
async function opened(rest: string) {
  let sink: BodySink | undefined;
  const upstream = { cancelled: false };
  const fetchFn = async (): Promise<Response> => {
    const tap = (s: BodySink) => {
      sink = s;
      s.data(encoder.encode(event({ role: 'assistant', content: '' }) + text('zero')));
      return { pause() {}, resume() {}, cancel: () => void (upstream.cancelled = true), release() {} };
    };
    return Object.assign(new Response(null, { status: 200, headers: { 'content-type': 'text/event-stream' } }), { [DIRECT_BODY]: { tap } });
  };
  const fetch = Object.assign(fetchFn, { [RELEASES_ABORT_LISTENERS]: true, [TAKES_ATTEMPT_SIGNALS]: true }) as unknown as typeof globalThis.fetch;
  const router = new LLMRouter(
    { models: [{ name: 'main', engine: 'openai-compatible', baseURL: 'http://upstream.invalid/v1', model: 'gpt-test', apiKey: 'k' }], routing: { strategy: 'priority', retries: { max: 0 } } },
    { fetch, env: {} },
  );
  const stream = router.stream('x');
  const o = await openStream(stream, 0, () => 1);
  // The rest comes in one read, once the stream is being written.
  setTimeout(() => sink!.data(encoder.encode(rest)), 1);
  return { opened: o, stream, upstream };
}

async function drive(how: 'pipe' | 'next', rest: string, leaveAfter = Infinity) {
  const { opened: o, stream, upstream } = await opened(rest);
  const outcomes: StreamOutcome[] = [];
  const reply = sseReply(o, enc, { requestId: 'req1', headers: {}, signal: undefined, settle: async (x) => void outcomes.push(x) });
  if (typeof reply.body === 'string') throw new Error('not a stream');
  const body = reply.body;
  const out: string[] = [];
  let leaving: Promise<void> | undefined;
  const write = (piece: string) => {
    if (leaving) return true;
    out.push(piece);
    // The client goes away right after this write (its response body cancelled, as the Node adapter does).
    if (out.length === leaveAfter) leaving = body.cancel();
    return true;
  };
  if (how === 'pipe') await body.pipe!({ write, drained: async () => {} });
  else {
    for (let r = await body.frames.next(); !r.done && !leaving; r = await body.frames.next()) write(r.value);
  }
  await leaving;
  const result = await stream.result.then(
    (r) => r.text,
    (e: unknown) => (LLMError.isInstance(e) ? e.code : 'not an LLMError'),
  );
  return { out, outcomes: outcomes.map((x) => x.status), result, cancelled: upstream.cancelled };
}

describe('SseFrames.pipe: the parts of one chunk taken at once', () => {
  it('writes the frames next() gives, in the same pieces', async () => {
    const rest = ['a', 'b', 'c', 'd'].map(text).join('') + ending;
    const piped = await drive('pipe', rest);
    expect(piped.out).toEqual(['<start><zero>', '<a>', '<b>', '<c>', '<d>', '<usage 5>', '<finish stop><done>']);
    expect(piped).toEqual(await drive('next', rest));
    expect(piped.outcomes).toEqual(['success']);
    expect(piped.result).toBe('zeroabcd');
  });

  it("a client gone in the middle of a chunk's parts stops the stream there: aborted, upstream cancelled", async () => {
    // (Gone after the frame of `b`: `c` and `d` are in the same chunk, already decoded; the answer goes on after it.)
    const rest = ['a', 'b', 'c', 'd'].map(text).join('');
    const piped = await drive('pipe', rest, 3);
    expect(piped.out).toEqual(['<start><zero>', '<a>', '<b>']);
    expect(piped.outcomes).toEqual(['aborted']);
    expect(piped.result).toBe('aborted');
    expect(piped.cancelled).toBe(true);
    expect(piped).toEqual(await drive('next', rest, 3));
  });
});
