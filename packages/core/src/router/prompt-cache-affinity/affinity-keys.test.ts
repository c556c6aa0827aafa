import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, GenerateRequest } from '../../spec/index.js';
import { frameValue } from './prefix-frame.js';
import { AFFINITY_LOOKBACK, AFFINITY_MAX_MARKS, affinityKeys, hasAffinitySignal, useWebCryptoForAffinity } from './affinity-keys.js';

const TTLS = { ttlMs: 300_000, ttl1hMs: 3_600_000 };
const mark = { type: 'ephemeral' } as const;
const SYSTEM = 'You are a careful assistant. '.repeat(20);

/** Turn `n` of a conversation (n >= 1): the marked system prompt, n user turns and n-1 answers, the last user turn marked. */
function turn(n: number, marks = true): GenerateRequest {
  const messages: ChatMessage[] = [{ role: 'system', content: SYSTEM, ...(marks ? { cacheControl: mark } : {}) }];
  for (let i = 1; i <= n; i++) {
    const last = i === n;
    messages.push({ role: 'user', content: `question ${i}`, ...(marks && last ? { cacheControl: mark } : {}) });
    if (!last) messages.push({ role: 'assistant', content: `answer ${i}` });
  }
  return { messages };
}

describe('hasAffinitySignal', () => {
  it('is false for a request with neither marks nor promptCacheKey, true for any mark or key', () => {
    expect(hasAffinitySignal(turn(3, false))).toBe(false);
    expect(hasAffinitySignal({ ...turn(1, false), promptCacheKey: 'k' })).toBe(true);
    expect(hasAffinitySignal({ ...turn(1, false), cacheControl: mark })).toBe(true);
    expect(hasAffinitySignal({ messages: [{ role: 'user', content: 'x' }], tools: [{ name: 't', parameters: {}, cacheControl: mark }] })).toBe(true);
    expect(hasAffinitySignal({ messages: [{ role: 'system', content: 'ab', parts: [{ type: 'text', text: 'a', cacheControl: mark }, { type: 'text', text: 'b' }] }] })).toBe(true);
    expect(hasAffinitySignal({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a', cacheControl: mark }] }] })).toBe(true);
    expect(hasAffinitySignal({ messages: [{ role: 'tool', toolCallId: 'c', content: 'r', cacheControl: mark }] })).toBe(true);
  });

  it('gives no keys for an unmarked request', async () => {
    expect(await affinityKeys(turn(2, false), {}, TTLS)).toBeUndefined();
  });
});

describe('affinityKeys', () => {
  it("finds the previous turn's marked prefix from the next turn, although the last mark moved forward", async () => {
    const t1 = (await affinityKeys(turn(1), { tenant: 't' }, TTLS))!;
    const t2 = (await affinityKeys(turn(2), { tenant: 't' }, TTLS))!;
    expect(t1.source).toBe('prefix');
    // Turn 1 caches the system prefix and the whole turn-1 prompt.
    expect(t1.remember).toHaveLength(2);
    const [whole1, system1] = t1.remember.map((k) => k.key);
    // Turn 2 looks up its own marks first, then the message ends before its last mark (turn 1's last mark among them), then the system prefix.
    expect(t2.lookup[0]).toBe(t2.remember[0]!.key);
    expect(t2.lookup).toContain(whole1);
    expect(t2.lookup.at(-1)).toBe(system1);
    expect(t2.lookup.indexOf(whole1!)).toBeLessThan(t2.lookup.indexOf(system1!));
  });

  it('keys do not depend on where the marks are, only on the prefix text; scope and content change them', async () => {
    const a = (await affinityKeys(turn(2), {}, TTLS))!;
    // The same prompt with the mark on the system message only: its system prefix key is the same.
    const onlySystem = turn(2);
    onlySystem.messages = onlySystem.messages.map((m, i) => (i === 0 ? m : ({ ...m, cacheControl: undefined } as ChatMessage)));
    for (const m of onlySystem.messages) if (m.cacheControl === undefined) delete m.cacheControl;
    const b = (await affinityKeys(onlySystem, {}, TTLS))!;
    expect(b.remember).toHaveLength(1);
    expect(b.remember[0]!.key).toBe(a.remember.at(-1)!.key);
    const otherTenant = (await affinityKeys(turn(2), { tenant: 'x' }, TTLS))!;
    const otherModel = (await affinityKeys(turn(2), { model: 'claude' }, TTLS))!;
    const otherText = turn(2);
    otherText.messages[0] = { role: 'system', content: `${SYSTEM}!`, cacheControl: mark };
    const changed = (await affinityKeys(otherText, {}, TTLS))!;
    for (const other of [otherTenant, otherModel, changed]) for (const k of other.lookup) expect(a.lookup).not.toContain(k);
  });

  it('a mid-conversation system message keeps its place: the marked prefixes before it keep their keys', async () => {
    const t2 = (await affinityKeys(turn(2), { tenant: 't' }, TTLS))!;
    // Turn 3 adds a system message after the second user turn (Claude Opus 4.8 takes it there), then the answer and turn 3.
    const t3 = turn(3);
    t3.messages.splice(4, 0, { role: 'system', content: 'From now on, answer in French.' });
    const keys3 = (await affinityKeys(t3, { tenant: 't' }, TTLS))!;
    // Turn 2's whole marked prompt is still a prefix of turn 3 and is looked up.
    expect(keys3.lookup).toContain(t2.remember[0]!.key);
    // The same system text at the front would be another prompt: no prefix of it matches turn 2's whole prompt.
    const hoisted = turn(3);
    hoisted.messages.splice(1, 0, { role: 'system', content: 'From now on, answer in French.' });
    const keysHoisted = (await affinityKeys(hoisted, { tenant: 't' }, TTLS))!;
    expect(keysHoisted.lookup).not.toContain(t2.remember[0]!.key);
  });

  it('a system message given as marked parts keys like the same parts however the marks sit', async () => {
    const parts = (m1: boolean, m2: boolean): GenerateRequest => ({
      messages: [
        { role: 'system', content: 'AB', parts: [{ type: 'text', text: 'A', ...(m1 ? { cacheControl: mark } : {}) }, { type: 'text', text: 'B', ...(m2 ? { cacheControl: mark } : {}) }] },
        { role: 'user', content: 'q' },
      ],
    });
    const both = (await affinityKeys(parts(true, true), {}, TTLS))!;
    const first = (await affinityKeys(parts(true, false), {}, TTLS))!;
    expect(both.remember).toHaveLength(2);
    expect(first.remember).toHaveLength(1);
    expect(both.remember.map((k) => k.key)).toContain(first.remember[0]!.key);
  });

  it("a request-level cacheControl marks the whole prompt; '1h' marks get the 1h TTL", async () => {
    const auto = (await affinityKeys({ ...turn(2, false), cacheControl: { type: 'ephemeral', ttl: '1h' } }, {}, TTLS))!;
    expect(auto.remember).toEqual([{ key: auto.lookup[0], ttlMs: 3_600_000 }]);
    const marked = (await affinityKeys(turn(2), {}, TTLS))!;
    // The same whole prompt, whichever way it was marked.
    expect(marked.remember[0]!.key).toBe(auto.lookup[0]);
    expect(marked.remember[0]!.ttlMs).toBe(300_000);
  });

  it('tools come first in the prefix, marked or not', async () => {
    const tool = { name: 'search', parameters: { type: 'object' } };
    const withTool = (await affinityKeys({ ...turn(1), tools: [tool] }, {}, TTLS))!;
    const without = (await affinityKeys(turn(1), {}, TTLS))!;
    for (const k of withTool.lookup) expect(without.lookup).not.toContain(k);
    const toolMarked = (await affinityKeys({ messages: [{ role: 'user', content: 'q' }], tools: [{ ...tool, cacheControl: mark }] }, {}, TTLS))!;
    expect(toolMarked.remember).toHaveLength(1);
  });

  it('a promptCacheKey is the only key, scoped by tenant and model', async () => {
    const a = (await affinityKeys({ ...turn(3), promptCacheKey: 'conv-1' }, { tenant: 't' }, TTLS))!;
    const b = (await affinityKeys({ messages: [{ role: 'user', content: 'other' }], promptCacheKey: 'conv-1' }, { tenant: 't' }, TTLS))!;
    const c = (await affinityKeys({ messages: [{ role: 'user', content: 'other' }], promptCacheKey: 'conv-1' }, { tenant: 'u' }, TTLS))!;
    expect(a.source).toBe('promptCacheKey');
    expect(a.lookup).toEqual(b.lookup);
    expect(a.lookup).toHaveLength(1);
    expect(c.lookup[0]).not.toBe(a.lookup[0]);
  });

  it('looks up at most AFFINITY_LOOKBACK message ends besides the marks, in a long conversation', async () => {
    const keys = (await affinityKeys(turn(100), {}, TTLS))!;
    expect(keys.lookup).toHaveLength(AFFINITY_LOOKBACK + 2);
    expect(new Set(keys.lookup).size).toBe(keys.lookup.length);
  });
});

describe('the two SHA-256 paths', () => {
  afterEach(() => useWebCryptoForAffinity(false));

  it("Web Crypto (edge runtimes) and Node's incremental hash give the same keys, and match SHA-256 of the prefix text", async () => {
    const requests: GenerateRequest[] = [turn(1), turn(7), { ...turn(3, false), promptCacheKey: 'conv-9' }, { ...turn(2, false), cacheControl: mark }];
    const viaNode = await Promise.all(requests.map((r) => affinityKeys(r, { tenant: 't', model: 'm' }, TTLS)));
    useWebCryptoForAffinity(true);
    const viaWeb = await Promise.all(requests.map((r) => affinityKeys(r, { tenant: 't', model: 'm' }, TTLS)));
    expect(viaWeb).toEqual(viaNode);
    // The promptCacheKey key is SHA-256 of the scope header and the key (independent check with node:crypto).
    const { createHash } = await import('node:crypto');
    const header = frameValue({ model: 'm', tenant: 't', v: 2 });
    expect(viaNode[2]!.lookup[0]).toBe(`k:${createHash('sha256').update(`${header}\nconv-9`).digest('hex')}`);
  });
});

describe('affinityKeys: marks the provider uses', () => {
  it('remembers and looks up only the last AFFINITY_MAX_MARKS marks in render order; the lookback stays bounded', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => ({ type: 'text' as const, text: `p${i}`, cacheControl: mark }));
    const keys = (await affinityKeys({ messages: [{ role: 'user', content: parts }] }, {}, TTLS))!;
    expect(keys.remember).toHaveLength(AFFINITY_MAX_MARKS);
    expect(keys.lookup).toHaveLength(AFFINITY_MAX_MARKS);
    // The kept marks are the last ones: dropping the earlier marks does not change the keys.
    const fewer = parts.map((p, i) => (i < 46 ? { type: 'text' as const, text: p.text } : p));
    expect((await affinityKeys({ messages: [{ role: 'user', content: fewer }] }, {}, TTLS))!.remember).toEqual(keys.remember);
    // A long conversation: 4 marks plus at most AFFINITY_LOOKBACK message ends.
    const long = turn(60);
    expect((await affinityKeys(long, {}, TTLS))!.lookup.length).toBeLessThanOrEqual(2 + AFFINITY_LOOKBACK);
  });

  it("gives a '1h' mark after a '5m' one the 5-minute TTL (as the Anthropic engine sends it); a '1h' before any '5m' keeps the hour", async () => {
    const h = { type: 'ephemeral', ttl: '1h' } as const;
    const m5 = { type: 'ephemeral', ttl: '5m' } as const;
    const req = (first: typeof h | typeof m5, second: typeof h | typeof m5): GenerateRequest => ({
      messages: [
        { role: 'system', content: SYSTEM, cacheControl: first },
        { role: 'user', content: 'q', cacheControl: second },
      ],
    });
    expect((await affinityKeys(req(m5, h), {}, TTLS))!.remember.map((k) => k.ttlMs)).toEqual([300_000, 300_000]);
    expect((await affinityKeys(req(h, m5), {}, TTLS))!.remember.map((k) => k.ttlMs)).toEqual([300_000, 3_600_000]);
    expect((await affinityKeys(req(h, h), {}, TTLS))!.remember.map((k) => k.ttlMs)).toEqual([3_600_000, 3_600_000]);
  });

  it('frames text unambiguously: moving text across a message boundary or between fields changes the key', async () => {
    const a = (await affinityKeys({ messages: [{ role: 'user', content: 'ab' }, { role: 'assistant', content: 'c' }, { role: 'user', content: 'q', cacheControl: mark }] }, {}, TTLS))!;
    const b = (await affinityKeys({ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'bc' }, { role: 'user', content: 'q', cacheControl: mark }] }, {}, TTLS))!;
    const c = (await affinityKeys({ messages: [{ role: 'user', content: 'ab', name: 'c' }, { role: 'user', content: 'q', cacheControl: mark }] }, {}, TTLS))!;
    const d = (await affinityKeys({ messages: [{ role: 'user', content: 'abc' }, { role: 'user', content: 'q', cacheControl: mark }] }, {}, TTLS))!;
    const keys = [a, b, c, d].map((k) => k.remember[0]!.key);
    expect(new Set(keys).size).toBe(4);
  });
});
