/**
 * An answer the upstream broke (cut, stalled, ended without a finish, errored mid-stream, walked away from)
 * must never be stored in the exact cache and replayed as a complete answer; nor a blank one (no text, no tool
 * call, no refusal: an upstream glitch), which would answer every retry with nothing for the TTL. Official openai client, local
 * OpenAI- and Anthropic-wire upstreams, exact cache on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';

const PRICE = { price: { input: 1, output: 2 } };
/**
 * gpt-timed's `timeouts.totalMs`: long enough that its successful call (the same request again) ends well within it on
 * a loaded machine, while the stalled one (an upstream that never sends the rest) can only end by it.
 */
const TOTAL_MS = 5000;

let up: WireUpstreams;
let gw: SdkGateway;
beforeAll(async () => {
  const served = await servedOverWireUpstreams(
    (u) => [wireDeployment(u, 'gpt', PRICE), wireDeployment(u, 'claude', PRICE), wireDeployment(u, 'gem', PRICE), { ...wireDeployment(u, 'gpt', { ...PRICE, timeouts: { totalMs: TOTAL_MS } }), name: 'gpt-timed' }],
    { routing: { strategy: 'priority', retries: { max: 0 } }, cache: { exact: { enabled: true, ttlMs: 3_600_000 } } },
  );
  up = served.upstreams;
  gw = served.gw;
});
afterAll(async () => gw?.close());

let seq = 0;

async function stream(model: string, content: string, leaveAfter?: number) {
  const { data: s, response } = await gw.openai().chat.completions.create({ model, messages: [{ role: 'user', content }], stream: true }).withResponse();
  let text = '';
  let error: unknown;
  let n = 0;
  try {
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      if (leaveAfter !== undefined && ++n >= leaveAfter) break;
    }
  } catch (e) {
    error = e;
  }
  return { text, error, cache: response.headers.get('x-llmrr-cache') };
}

async function json(model: string, content: string) {
  const { data, response } = await gw.openai().chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
  return { text: data.choices[0]!.message.content, cache: response.headers.get('x-llmrr-cache') };
}

/** After a broken first call: the same request, streamed and not, goes to the upstream again and is whole. */
async function expectNotCached(model: string, content: string, whole: string, fix: () => void): Promise<void> {
  fix();
  const again = await stream(model, content);
  expect(again.cache, 'a broken answer was replayed from the cache').toBe('miss');
  expect(again.error).toBeUndefined();
  expect(again.text).toBe(whole);
}

describe('a broken stream is not cached', () => {
  it('OpenAI upstream cut mid-stream', async () => {
    const content = `cut ${seq++}`;
    up.openai.setScript({ text: 'one two three four five six', cutAfterChunks: 3 });
    const first = await stream('gpt', content);
    expect(first.error).toBeDefined();
    await expectNotCached('gpt', content, 'one two three four five six', () => up.openai.setScript({ text: 'one two three four five six' }));
  });

  it('OpenAI upstream ending without finish_reason and [DONE]', async () => {
    const content = `nofinish ${seq++}`;
    up.openai.setScript({ text: 'one two three', finishReason: null, omitDone: true });
    await stream('gpt', content);
    await expectNotCached('gpt', content, 'one two three four', () => up.openai.setScript({ text: 'one two three four' }));
  });

  it('OpenAI upstream stalled past totalMs', async () => {
    const content = `stall ${seq++}`;
    up.openai.setScript({ text: 'one two three four five six', hangAfterChunks: 3 });
    const first = await stream('gpt-timed', content);
    expect(first.error).toBeDefined();
    expect(first.text).not.toBe('one two three four five six');
    await expectNotCached('gpt-timed', content, 'one two three four five six', () => up.openai.setScript({ text: 'one two three four five six' }));
  });

  it('a client that leaves mid-stream', async () => {
    const content = `leave ${seq++}`;
    up.openai.setScript({ text: 'one two three four five six seven eight', chunkDelayMs: 20 });
    await stream('gpt', content, 2);
    await expectNotCached('gpt', content, 'one two three four five six seven eight', () => up.openai.setScript({ text: 'one two three four five six seven eight' }));
  });

  it('Anthropic upstream overloaded_error mid-stream', async () => {
    const content = `anth ${seq++}`;
    up.anthropic.enqueue({ content: 'alpha beta gamma delta', chunks: 4, streamError: { afterEvents: 4 } });
    const first = await stream('claude', content);
    expect(first.error).toBeDefined();
    await expectNotCached('claude', content, 'whole claude', () => up.anthropic.enqueue({ content: 'whole claude' }));
  });

  it('Gemini upstream ending without finishReason', async () => {
    const content = `gem ${seq++}`;
    up.gemini.enqueue({ parts: 'alpha beta gamma delta', chunks: 4, endAfterEvents: 2 });
    const first = await stream('gem', content);
    expect(first.error).toBeDefined();
    await expectNotCached('gem', content, 'whole gem', () => up.gemini.enqueue({ parts: 'whole gem' }));
  });

  it('a non-streamed answer the upstream cut (finish_reason length) is cached as it is, and replays as length, not stop', async () => {
    const content = `len ${seq++}`;
    up.openai.setScript({ text: 'one two three', finishReason: 'length' });
    const a = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content }] });
    expect(a.choices[0]!.finish_reason).toBe('length');
    const { data: s } = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content }], stream: true }).withResponse();
    let finish: string | null = null;
    for await (const c of s) finish = c.choices[0]?.finish_reason ?? finish;
    expect(finish).toBe('length');
    const b = await json('gpt', content);
    expect(b.text).toBe('one two three');
    up.openai.setScript({});
  });
});

describe('a blank answer is not cached', () => {
  it('JSON: the retry of a blank stop answer asks the model (streamed or not)', async () => {
    const content = `blank ${seq++}`;
    up.openai.setScript({ text: '', usage: { prompt_tokens: 6, completion_tokens: 0 } });
    const calls = up.openai.requests.length;
    expect(await json('gpt', content)).toEqual({ text: '', cache: 'miss' });
    await expectNotCached('gpt', content, 'The meeting agreed on the plan.', () => up.openai.setScript({ text: 'The meeting agreed on the plan.' }));
    expect(up.openai.requests.length - calls).toBe(2);
    up.openai.setScript({});
  });

  it('streamed: a blank stream (Anthropic, an empty text block) is not replayed to the retry', async () => {
    const content = `blank stream ${seq++}`;
    up.anthropic.enqueue({ content: '' });
    expect(await stream('claude', content)).toMatchObject({ text: '', error: undefined, cache: 'miss' });
    await expectNotCached('claude', content, 'whole claude', () => up.anthropic.enqueue({ content: 'whole claude' }));
  });
});
