import { describe, expect, it } from 'vitest';
import { cacheKey, type CacheScope } from '../../cache/cache-key.js';
import type { GenerateRequest } from '../../spec/index.js';
import { semanticNamespace } from '../semantic-namespace.js';
import { nextRequest } from './next-request.js';
import { PrefetchBudget } from './prefetch-budget.js';
import { userKey } from '../user-key.js';
import { PrefetchRegistry, prefetchEntryBytes } from './prefetch-registry.js';
import { SequenceModel, type Prediction } from './sequence-model.js';

const v = (i: number) => Float32Array.from({ length: 4 }, (_, k) => (k === i ? 1 : 0));
const answer = { text: 'Paris.', toolCalls: [], finishReason: 'stop' };

describe('SequenceModel continuation and nextRequest', () => {
  it('marks a transition as a continuation when the next request extends the conversation, and builds the next request from the live one', () => {
    let t = 0;
    const m = new SequenceModel({ now: () => (t += 1_000) });
    for (const u of ['a', 'b']) {
      const first: GenerateRequest = { messages: [{ role: 'user', content: 'capital of France?' }], temperature: 0, user: u };
      m.observe('k', u, v(0), first);
      m.observe('k', u, v(1), { ...first, messages: [...first.messages, { role: 'assistant', content: `answer for ${u}` }, { role: 'user', content: 'and its population?' }] });
    }
    const live: GenerateRequest = { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'capital of France?' }], temperature: 0, maxTokens: 50, user: 'c' };
    m.observe('k', 'c', v(0), live);
    const [p] = m.predict('k', { sequence: 'c' });
    expect(p).toMatchObject({ continuation: true, support: 2, probability: 1 });
    expect(nextRequest(p!, { request: live, answer })).toEqual({
      messages: [...live.messages, { role: 'assistant', content: 'Paris.' }, { role: 'user', content: 'and its population?' }],
      temperature: 0,
      maxTokens: 50,
      user: 'c',
    });
    // An answer that called tools, or failed, gives no continuation.
    expect(nextRequest(p!, { request: live, answer: { ...answer, toolCalls: [{}] } })).toBeUndefined();
    expect(nextRequest(p!, { request: live, answer: { ...answer, finishReason: 'error' } })).toBeUndefined();
  });

  it('a continuation gives the answer\'s signed thinking blocks back, as an Anthropic client sends its answer back', () => {
    let t = 0;
    const m = new SequenceModel({ now: () => (t += 1_000) });
    for (const u of ['a', 'b']) {
      const first: GenerateRequest = { messages: [{ role: 'user', content: 'capital of France?' }], user: u };
      m.observe('k', u, v(0), first);
      m.observe('k', u, v(1), { ...first, messages: [...first.messages, { role: 'assistant', content: 'Paris.' }, { role: 'user', content: 'and its population?' }] });
    }
    const live: GenerateRequest = { messages: [{ role: 'user', content: 'capital of France?' }], reasoning: { budgetTokens: 1024 }, user: 'c' };
    m.observe('k', 'c', v(0), live);
    const [p] = m.predict('k', { sequence: 'c' });
    const reasoningParts = [
      { type: 'reasoning' as const, text: 'Easy.', signature: 'sig-1' },
      { type: 'reasoning' as const, text: '', redactedData: 'ENC' },
    ];
    expect(nextRequest(p!, { request: live, answer: { ...answer, reasoningParts } })).toEqual({
      messages: [...live.messages, { role: 'assistant', content: 'Paris.', reasoning: reasoningParts }, { role: 'user', content: 'and its population?' }],
      reasoning: { budgetTokens: 1024 },
      user: 'c',
    });
    // Reasoning without blocks (nothing a client gives back) leaves the turn as it was.
    expect(nextRequest(p!, { request: live, answer: { ...answer, reasoningParts: [] } })?.messages[1]).toEqual({ role: 'assistant', content: 'Paris.' });
  });

  it('a fresh (not continued) transition predicts the request seen on it, for the current user', () => {
    let t = 0;
    const m = new SequenceModel({ now: () => (t += 1_000) });
    for (const u of ['a', 'b']) {
      m.observe('k', u, v(0), { messages: [{ role: 'user', content: 'open settings' }], user: u });
      m.observe('k', u, v(1), { messages: [{ role: 'system', content: 'app' }, { role: 'user', content: 'change billing address' }], user: u });
    }
    m.observe('k', 'c', v(0), { messages: [{ role: 'user', content: 'open settings' }], user: 'c' });
    const [p] = m.predict('k', { sequence: 'c' });
    expect(p!.continuation).toBe(false);
    expect(nextRequest(p!, { request: { messages: [{ role: 'user', content: 'open settings' }], user: 'c' }, answer })).toEqual({
      messages: [{ role: 'system', content: 'app' }, { role: 'user', content: 'change billing address' }],
      user: 'c',
    });
  });

  it('a predicted continuation keeps every setting of the live request (topK, penalties, parallelToolCalls, verbosity, logprobs...), so it lands in the follow-up\'s namespace and key', async () => {
    // "What the client will send": a setting dropped here means every prefetch for such a conversation is paid
    // for and stored where the client's follow-up never looks.
    const scope: CacheScope = { models: ['gpt'], tenant: 't1' };
    const live: GenerateRequest = {
      messages: [{ role: 'user', content: 'capital of France?' }],
      temperature: 0,
      topK: 40,
      frequencyPenalty: 0.5,
      presencePenalty: 0.25,
      parallelToolCalls: false,
      verbosity: 'low',
      logprobs: { topLogprobs: 2 },
      user: 'u1',
    };
    const prediction: Prediction = { cluster: 1, probability: 1, support: 2, continuation: true, request: { messages: [{ role: 'user', content: 'and its population?' }] } };
    const next = nextRequest(prediction, { request: live, answer });
    // What the client sends next: its conversation, the answer it got, its question, with its own settings.
    const followUp: GenerateRequest = {
      ...live,
      messages: [...live.messages, { role: 'assistant', content: 'Paris.' }, { role: 'user', content: 'and its population?' }],
    };
    expect(next).toEqual(followUp);
    expect(await semanticNamespace(next!, scope, 'emb')).toBe(await semanticNamespace(followUp, scope, 'emb'));
    expect(await cacheKey(next!, scope)).toBe(await cacheKey(followUp, scope));
  });
});

describe('PrefetchBudget', () => {
  it('counts calls and USD in a sliding window, settles real costs and refunds cache answers', () => {
    let t = 0;
    const b = new PrefetchBudget({ maxCalls: 2, maxUsd: 1, periodMs: 1_000 }, { vip: { maxCalls: 5, periodMs: 1_000 } }, () => t);
    const first = b.reserve('a', 0.4)!;
    b.settle(first, 0.7);
    expect(b.reserve('a', 0.4)).toBeUndefined(); // 0.7 + 0.4 > 1
    const small = b.reserve('a', 0.2)!;
    expect(b.spent('a')).toEqual({ calls: 2, usd: 0.7 + 0.2 });
    expect(b.reserve('a', 0)).toBeUndefined(); // 2 calls
    b.refund(small);
    expect(b.spent('a').calls).toBe(1);
    t = 1_000; // the window moved past the first charge
    expect(b.spent('a')).toEqual({ calls: 0, usd: 0 });
    expect(b.limitsOf('vip').maxCalls).toBe(5);
  });

  it('refuses a call of unknown price under maxUsd (it would count as free), and lets it through a calls-only budget', () => {
    const b = new PrefetchBudget({ maxUsd: 1, periodMs: 1_000 }, { calls: { maxCalls: 1, periodMs: 1_000 } }, () => 0);
    expect(b.reserve('a', undefined)).toBeUndefined();
    expect(b.spent('a')).toEqual({ calls: 0, usd: 0 });
    expect(b.reserve('calls', undefined)).toBeDefined();
    expect(b.reserve('calls', undefined)).toBeUndefined(); // 1 call
  });

  it('gives a tenant named like an Object.prototype member ("constructor", "toString") the default budget', () => {
    const b = new PrefetchBudget({ maxCalls: 1, periodMs: 1_000 }, { vip: { maxCalls: 5, periodMs: 1_000 } }, () => 0);
    for (const tenant of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
      expect(b.limitsOf(tenant)).toEqual({ maxCalls: 1, periodMs: 1_000 });
      expect(b.reserve(tenant, 0)).toBeDefined();
      expect(b.reserve(tenant, 0)).toBeUndefined();
    }
  });
});

describe('PrefetchRegistry', () => {
  it('recognises a live hit on a prefetched answer by its fingerprint, per tenant, and reports unused ones at expiry', () => {
    let t = 0;
    const r = new PrefetchRegistry({ trackMs: 100, max: 2, maxBytes: 1_000_000, now: () => t });
    const a = { text: 'answer A', deployment: 'd', id: 'x1', usage: { inputTokens: 3, outputTokens: 2 } };
    const b = { ...a, text: 'answer B', id: 'x2' };
    const c = { ...a, id: 'x3' };
    r.add('t1', a, 'question A', 0.01, 'u1');
    r.add('t1', b, 'question B', 0.01, undefined);
    expect(r.hit('t2', a)).toBeUndefined(); // another tenant
    expect(r.hit('t1', { ...a, text: 'answer A!' })).toBeUndefined();
    expect(r.hit('t1', a)).toMatchObject({ question: 'question A', hits: 1 });
    // Past max the least recently used leaves: B (A was just hit), never used, so reported as unused early.
    expect(r.add('t1', c, 'question C', 0, undefined).map((e) => e.question)).toEqual(['question B']);
    expect(r.hit('t1', b)).toBeUndefined();
    expect(r.add('t1', { ...a, id: 'x4' }, 'question D', 0, undefined)).toEqual([]); // A leaves now: it was used, not reported
    expect(r.hit('t1', c)).toMatchObject({ question: 'question C', hits: 1 });
    t = 100;
    expect(r.sweep().map((e) => e.question)).toEqual(['question D']);
    expect(r.size).toBe(0);
    expect(r.bytes).toBe(0);
  });

  it('stays within maxBytes (prefetchEntryBytes) whatever the questions hold: the most recently stored or hit stay tracked', () => {
    let t = 0;
    const maxBytes = 100_000;
    const r = new PrefetchRegistry({ trackMs: 1_000, max: 10_000, maxBytes, now: () => t });
    const answer = (i: number) => ({ text: `answer ${i}`, deployment: 'd', id: `x${i}`, usage: { inputTokens: 3, outputTokens: 2 } });
    const question = (i: number) => `question ${i} ${'\u00e9'.repeat(5_000)}`; // ~10 kB each in UTF-8
    const one = prefetchEntryBytes('k', { tenant: 't1', question: question(0), userKey: userKey('u1') });
    expect(one).toBeGreaterThan(10_000);
    const unused: string[] = [];
    for (let i = 0; i < 50; i++) {
      t++;
      unused.push(...r.add('t1', answer(i), question(i), 0, 'u1').map((e) => e.question));
      expect(r.bytes).toBeLessThanOrEqual(maxBytes);
      if (i >= 2) expect(r.hit('t1', answer(2))?.hits).toBe(i - 1); // the oldest but used at every step: never leaves
    }
    const kept = Math.floor(maxBytes / one);
    expect(r.size).toBeGreaterThanOrEqual(kept - 1);
    expect(r.size).toBeLessThanOrEqual(kept);
    // The survivors: entry 2 (hit at every step) and the most recently stored ones; every other was reported unused.
    const survivors = Array.from({ length: 50 }, (_, i) => i).filter((i) => r.hit('t1', answer(i)) !== undefined);
    expect(survivors).toEqual([2, ...Array.from({ length: r.size - 1 }, (_, k) => 50 - r.size + 1 + k)]);
    expect(unused).toEqual(Array.from({ length: 50 }, (_, i) => i).filter((i) => !survivors.includes(i)).map(question));
    // An entry larger than the bound on its own is not tracked (reported at once) and evicts nothing.
    const before = { size: r.size, bytes: r.bytes };
    expect(r.add('t1', answer(99), `big ${'x'.repeat(maxBytes)}`, 0, undefined).map((e) => e.hits)).toEqual([0]);
    expect({ size: r.size, bytes: r.bytes }).toEqual(before);
    r.forget('t1', 'u1');
    expect({ size: r.size, bytes: r.bytes }).toEqual({ size: 0, bytes: 0 });
  });

  it("keeps the user's fixed-size key, not the id: an entry's bytes do not grow with the id, erasure by the id finds it", () => {
    const r = new PrefetchRegistry({ trackMs: 1_000, max: 10, maxBytes: 1_000_000, now: () => 0 });
    const answer = (i: number) => ({ text: `answer ${i}`, deployment: 'd', id: `x${i}`, usage: { inputTokens: 3, outputTokens: 2 } });
    const longId = `user-${'x'.repeat(100_000)}`;
    const unused: Array<{ userKey?: string }> = [];
    r.add('t1', answer(1), 'question', 0, 'u1');
    const withShortId = r.bytes;
    r.add('t1', answer(2), 'question', 0, longId);
    expect(r.bytes - withShortId).toBe(withShortId); // the same size whatever the id's length
    r.add('t1', answer(3), 'question', 0, undefined);
    for (let i = 4; i <= 13; i++) unused.push(...r.add('t1', answer(i), 'question', 0, 'u2'));
    // The entries handed out (to onUnused) carry the key, never the id.
    expect(unused.map((e) => e.userKey)).toEqual([userKey('u1'), userKey(longId), undefined]);
    expect(JSON.stringify(unused)).not.toContain('xxxxxxxx');
    const r2 = new PrefetchRegistry({ trackMs: 1_000, max: 10, maxBytes: 1_000_000, now: () => 0 });
    r2.add('t1', answer(1), 'question', 0, longId);
    r2.add('t1', answer(2), 'question', 0, 'u2');
    r2.forget('t1', longId);
    expect([r2.size, r2.hit('t1', answer(1)), r2.hit('t1', answer(2))?.userKey]).toEqual([1, undefined, userKey('u2')]);
  });

  it("without maxBytes (as constructed before the byte bound) keeps cache.predictive.maxTrackedBytes' default bound", () => {
    const maxTrackedBytes = 16_000_000; // (docs/core/config.md)
    const r = new PrefetchRegistry({ trackMs: 60_000, max: 10_000, now: () => 0 });
    const answer = (i: number) => ({ text: `answer ${i}`, deployment: 'd', id: `x${i}`, usage: { inputTokens: 3, outputTokens: 2 } });
    const question = (i: number) => `question ${i} ${'x'.repeat(1_000_000)}`; // ~1 MB each
    const one = prefetchEntryBytes('k', { tenant: 't1', question: question(10), userKey: userKey('u1') });
    const evicted: string[] = [];
    for (let i = 0; i < 20; i++) evicted.push(...r.add('t1', answer(i), question(i), 0, 'u1').map((e) => e.question));
    expect(r.bytes).toBeLessThanOrEqual(maxTrackedBytes);
    expect(r.size).toBe(Math.floor(maxTrackedBytes / one));
    expect(evicted).toEqual(Array.from({ length: 20 - r.size }, (_, i) => question(i))); // the oldest, never hit
  });
});
