import { describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest, type StreamPart, type TokenLogprob } from '../spec/index.js';
import type { CacheStore } from './cache-store.js';
import { ExactCache, type CachedAnswer } from './exact-cache.js';
import { replayAsStream, splitWords } from './replay-stream.js';

const req: GenerateRequest = { messages: [{ role: 'user', content: 'Say hi' }], temperature: 0 };
const scope = { models: ['m1', 'm2'], tenant: 't1' };

function answer(over: Partial<CachedAnswer> = {}): Omit<CachedAnswer, 'createdAt'> {
  return {
    text: 'Hi there!',
    toolCalls: [],
    finishReason: 'stop',
    usage: makeUsage(5, 3),
    deployment: 'm1',
    model: 'mock-1',
    provider: 'mock',
    ...over,
  };
}

function clock(start = 10_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

async function collect(it: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const out: StreamPart[] = [];
  for await (const p of it) out.push(p);
  return out;
}

describe('ExactCache', () => {
  it('misses, stores, then hits with the stored answer and createdAt from the clock', async () => {
    const c = clock();
    const cache = new ExactCache({ config: { enabled: true }, now: c.now });
    expect(await cache.lookup(req, scope)).toBeUndefined();
    expect(await cache.store(req, scope, answer())).toBe(true);
    const hit = await cache.lookup(req, scope);
    expect(hit).toEqual({ ...answer(), createdAt: 10_000 });
    expect(cache.stats).toEqual({ hits: 1, misses: 1, stores: 1, bypassed: 0 });
  });

  it('scopes by tenant and model set', async () => {
    const cache = new ExactCache();
    await cache.store(req, scope, answer());
    expect(await cache.lookup(req, { ...scope, tenant: 't2' })).toBeUndefined();
    expect(await cache.lookup(req, { ...scope, models: ['m1'] })).toBeUndefined();
    expect(await cache.lookup(req, { tenant: 't1', models: ['m2', 'm1'] })).toBeDefined();
  });

  it('expires entries after ttlMs', async () => {
    const c = clock();
    const cache = new ExactCache({ config: { ttlMs: 5_000 }, now: c.now });
    await cache.store(req, scope, answer());
    c.advance(4_999);
    expect(await cache.lookup(req, scope)).toBeDefined();
    c.advance(2);
    expect(await cache.lookup(req, scope)).toBeUndefined();
  });

  it('evicts past maxEntries', async () => {
    const cache = new ExactCache({ config: { maxEntries: 2 } });
    const reqs = ['a', 'b', 'c'].map((content): GenerateRequest => ({ messages: [{ role: 'user', content }] }));
    for (const r of reqs) await cache.store(r, scope, answer());
    expect(await cache.lookup(reqs[0]!, scope)).toBeUndefined();
    expect(await cache.lookup(reqs[2]!, scope)).toBeDefined();
  });

  it('never stores error or content-filter answers', async () => {
    const cache = new ExactCache();
    expect(await cache.store(req, scope, answer({ finishReason: 'error' }))).toBe(false);
    expect(await cache.store(req, scope, answer({ finishReason: 'content-filter' }))).toBe(false);
    expect(await cache.lookup(req, scope)).toBeUndefined();
    expect(await cache.store(req, scope, answer({ finishReason: 'length' }))).toBe(true);
    expect(cache.stats.bypassed).toBe(2);
  });

  it('bounds the memory store by cache.exact.maxSizeBytes: past it the least recently used go; one larger alone is not kept', async () => {
    expect(new ExactCache().config.maxSizeBytes).toBe(64_000_000);
    const cache = new ExactCache({ config: { maxSizeBytes: 12_000 } });
    const ask = (i: number): GenerateRequest => ({ ...req, messages: [{ role: 'user', content: `question ${i}` }] });
    for (let i = 0; i < 4; i++) await cache.store(ask(i), scope, answer({ text: 'x'.repeat(3_000) }));
    // About 3,400 bytes each: three fit, the first stored went.
    expect(await cache.lookup(ask(0), scope)).toBeUndefined();
    for (let i = 1; i < 4; i++) expect((await cache.lookup(ask(i), scope))?.text).toHaveLength(3_000);
    // Larger than the bound alone: not stored, and said so (not counted as a store).
    const stores = cache.stats.stores;
    expect(await cache.store(ask(9), scope, answer({ text: 'x'.repeat(20_000) }))).toBe(false);
    expect(cache.stats.stores).toBe(stores);
    expect(await cache.lookup(ask(9), scope)).toBeUndefined();
    expect(await cache.lookup(ask(3), scope)).toBeDefined(); // the others stay
    expect(() => new ExactCache({ config: { maxSizeBytes: 0 } })).toThrow(/maxSizeBytes/);
  });

  it('counts top log probabilities, their bytes and non-Latin text (UTF-8) against maxSizeBytes: what stays is about the bound', async () => {
    const utf8 = new TextEncoder();
    const jsonBytes = (v: unknown) => utf8.encode(JSON.stringify(v)).length;
    const bound = 1_000_000;
    /** The UTF-8 JSON bytes of the entries still served. */
    const keptBytes = async (cache: ExactCache, requests: GenerateRequest[]) => {
      let n = 0;
      for (const r of requests) {
        const hit = await cache.lookup(r, scope);
        if (hit) n += jsonBytes(hit);
      }
      return n;
    };
    const ask = (i: number, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ ...req, messages: [{ role: 'user', content: `question ${i}` }], ...extra });
    // top_logprobs 20 in OpenAI's shape (with bytes): about 170 kB of JSON an answer.
    const tok = (t: string, lp: number) => ({ token: t, logprob: lp, bytes: [...utf8.encode(t)] });
    const logprobs: TokenLogprob[] = Array.from({ length: 200 }, (_, i) => ({
      ...tok(` word${i}`, -0.01),
      topLogprobs: Array.from({ length: 20 }, (_, j) => tok(` alt${j}_${i}`, -1 - j)),
    }));
    const withTop = new ExactCache({ config: { maxSizeBytes: bound, maxEntries: 10_000 } });
    const asked = Array.from({ length: 100 }, (_, i) => ask(i, { logprobs: { topLogprobs: 20 } }));
    for (const r of asked) expect(await withTop.store(r, scope, answer({ text: logprobs.map((l) => l.token).join(''), logprobs }))).toBe(true);
    const kept = await keptBytes(withTop, asked);
    expect(kept).toBeGreaterThan(bound / 3);
    expect(kept).toBeLessThanOrEqual(bound * 1.5);
    // 3 UTF-8 bytes a character (2 in memory).
    const cjk = new ExactCache({ config: { maxSizeBytes: bound, maxEntries: 10_000 } });
    const plain = Array.from({ length: 40 }, (_, i) => ask(i));
    for (const r of plain) expect(await cjk.store(r, scope, answer({ text: '\u65e5\u672c\u8a9e'.repeat(30_000) }))).toBe(true);
    expect(await keptBytes(cjk, plain)).toBeLessThanOrEqual(bound * 1.5);
  });

  it('never stores a blank answer (no text, no tool call, no refusal): the retry asks the model again', async () => {
    const cache = new ExactCache();
    expect(await cache.store(req, scope, answer({ text: '' }))).toBe(false);
    expect(await cache.store(req, scope, answer({ text: ' \n\t', finishReason: 'length' }))).toBe(false);
    expect(await cache.store(req, scope, answer({ text: '', reasoning: 'thought it through' }))).toBe(false);
    expect(await cache.lookup(req, scope)).toBeUndefined();
    expect(cache.stats.bypassed).toBe(3);
    // Not blank: a tool call or a refusal without text.
    expect(await cache.store(req, scope, answer({ text: '', refusal: 'I cannot help with that.' }))).toBe(true);
    expect(await cache.store({ ...req, messages: [{ role: 'user', content: 'Call it' }] }, scope, answer({ text: '', finishReason: 'tool-calls', toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] }))).toBe(true);
  });

  it('applies the temperature rule to lookup and store', async () => {
    const hot: GenerateRequest = { ...req, temperature: 0.8 };
    const strict = new ExactCache();
    expect(await strict.store(hot, scope, answer())).toBe(false);
    expect(await strict.lookup(hot, scope)).toBeUndefined();
    expect(strict.stats).toEqual({ hits: 0, misses: 0, stores: 0, bypassed: 2 });
    const loose = new ExactCache({ config: { allowNonZeroTemperature: true } });
    expect(await loose.store(hot, scope, answer())).toBe(true);
    expect(await loose.lookup(hot, scope)).toBeDefined();
  });

  it('keeps only the answer fields and returns copies callers cannot corrupt', async () => {
    const cache = new ExactCache();
    const routerResult = { ...answer({ toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] }), cost: { totalUsd: 1 }, attempts: [{ x: 1 }] };
    await cache.store(req, scope, routerResult);
    const first = await cache.lookup(req, scope);
    expect(first).not.toHaveProperty('cost');
    expect(first).not.toHaveProperty('attempts');
    first!.text = 'mutated';
    first!.toolCalls[0]!.name = 'mutated';
    routerResult.toolCalls[0]!.arguments = 'mutated';
    const second = await cache.lookup(req, scope);
    expect(second?.text).toBe('Hi there!');
    expect(second?.toolCalls[0]).toEqual({ id: 'c1', name: 'f', arguments: '{}' });
  });

  it('works over an async store and passes the TTL to it', async () => {
    const data = new Map<string, CachedAnswer>();
    const ttls: Array<number | undefined> = [];
    const store: CacheStore<CachedAnswer> = {
      get: async (k) => data.get(k),
      set: async (k, v, ttl) => {
        ttls.push(ttl);
        data.set(k, v);
      },
      delete: async (k) => data.delete(k),
      clear: async () => data.clear(),
    };
    const cache = new ExactCache({ store, config: { ttlMs: 1234 } });
    await cache.store(req, scope, answer());
    expect(ttls).toEqual([1234]);
    expect((await cache.lookup(req, scope))?.text).toBe('Hi there!');
    await expect(cache.invalidateTenant('t1')).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('invalidates one tenant only', async () => {
    const cache = new ExactCache();
    await cache.store(req, scope, answer());
    await cache.store(req, { ...scope, tenant: 't2' }, answer());
    expect(await cache.invalidateTenant('t1')).toBe(1);
    expect(await cache.lookup(req, scope)).toBeUndefined();
    expect(await cache.lookup(req, { ...scope, tenant: 't2' })).toBeDefined();
    await cache.clear();
    expect(await cache.lookup(req, { ...scope, tenant: 't2' })).toBeUndefined();
  });

  it('validates its config', () => {
    try {
      new ExactCache({ config: { maxEntries: -1 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'config_invalid', param: 'cache.exact.maxEntries' });
      expect((e as Error).message).toContain('cache.exact.maxEntries');
    }
  });
});

describe('replayAsStream', () => {
  it('yields metadata, word chunks that join to the text, and finish with the original usage', async () => {
    const text = '  Hello,  world!\nThis is   cached.\t';
    const usage = makeUsage(12, 7, { cachedInputTokens: 2, reasoningTokens: 4 });
    const parts = await collect(replayAsStream({ ...answer({ text, usage, id: 'resp-1' }), createdAt: 1 }));
    expect(parts[0]).toEqual({ type: 'response-metadata', model: 'mock-1', id: 'resp-1' });
    // Before the content, the prompt's usage (as an Anthropic upstream reports it at message_start): no output or reasoning.
    expect(parts[1]).toEqual({ type: 'usage', usage: { inputTokens: 12, outputTokens: 0, totalTokens: 12, cachedInputTokens: 2 } });
    expect(parts.filter((p) => p.type === 'usage')).toHaveLength(1);
    const deltas = parts.filter((p) => p.type === 'text-delta').map((p) => (p as { delta: string }).delta);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(text);
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage });
    expect(parts.filter((p) => p.type === 'finish')).toHaveLength(1);
  });

  it('replays reasoning and tool calls', async () => {
    const toolCalls = [
      { id: 'a', name: 'f', arguments: '{"x":1}' },
      { id: 'b', name: 'g', arguments: '{}' },
    ];
    const parts = await collect(replayAsStream({ ...answer({ text: '', toolCalls, finishReason: 'tool-calls', reasoning: 'think first' }), createdAt: 1 }));
    expect(parts.map((p) => p.type)).toEqual([
      'response-metadata',
      'usage',
      'reasoning-delta',
      'reasoning-delta',
      'tool-call-delta',
      'tool-call',
      'tool-call-delta',
      'tool-call',
      'finish',
    ]);
    expect(parts[5]).toEqual({ type: 'tool-call', index: 0, toolCall: toolCalls[0] });
    expect(parts[6]).toEqual({ type: 'tool-call-delta', index: 1, id: 'b', name: 'g', argumentsDelta: '{}' });
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
  });

  it('splitWords keeps every character', () => {
    for (const s of ['', ' ', 'a', 'a b', ' a  b ', '你好 世界', 'x\n\ny']) expect(splitWords(s).join('')).toBe(s);
    expect(splitWords('a  b')).toEqual(['a  ', 'b']);
  });
});

describe('ExactCache: warnings', () => {
  it('an answer stored with warnings (a whole router result) comes back without them, and replays without a warnings part', async () => {
    const cache = new ExactCache({ config: { enabled: true } });
    const warned = { ...answer(), warnings: [{ code: 'setting_not_sent', field: 'user', message: 'user was not sent.' }] };
    expect(await cache.store(req, scope, warned)).toBe(true);
    const hit = await cache.lookup(req, scope);
    expect(hit?.text).toBe('Hi there!');
    expect(hit).not.toHaveProperty('warnings');
    const parts = await collect(replayAsStream(hit!));
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
  });

  it('an answer to a prefill asked to be continued, warned as not continued (a new turn), is not stored; other warnings do not keep one out', async () => {
    const cache = new ExactCache({ config: { enabled: true } });
    const prefill = { ...req, messages: [...req.messages, { role: 'assistant' as const, content: '{"a": "' }], continueFinalMessage: true };
    const notContinued = { code: 'setting_not_sent', field: `messages.${prefill.messages.length - 1}`, message: 'not continued' };
    expect(await cache.store(prefill, scope, { ...answer(), warnings: [notContinued] })).toBe(false);
    expect(await cache.lookup(prefill, scope)).toBeUndefined();
    // Another message's warning, or the same request without continueFinalMessage (no continuation asked): stored.
    expect(await cache.store(prefill, scope, { ...answer(), warnings: [{ ...notContinued, field: 'messages.0' }] })).toBe(true);
    const plain = { ...prefill, continueFinalMessage: undefined };
    expect(await cache.store(plain, scope, { ...answer(), warnings: [notContinued] })).toBe(true);
  });
});
