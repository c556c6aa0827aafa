import { describe, expect, it, vi } from 'vitest';
import '../../engines/index.js';
import type { ChatMessage, GenerateRequest } from '../../spec/index.js';
import { anthropicDeployment as deployment, CACHE_MARK as mark, markedTurn, SYSTEM_PROMPT as SHARED_SYSTEM, useTwoAnthropicWireServers } from './two-anthropic-deployments.test-helpers.js';
import type { LLMRouter } from '../llm-router.js';
import type { RankedCandidate, StrategyContext } from '../types.js';

// Review of 280c8ba (prompt-cache affinity). Each test here FAILS on that commit and shows one bug.

const wire = useTwoAnthropicWireServers();
const router = wire.router;

/**
 * Turn `n` of conversation `id` over the marked system prompt (by default the one shared by every conversation, as
 * every Claude Code session of a tenant shares its system prompt and tools), the last user turn marked.
 */
const turn = (id: string, n: number, system = SHARED_SYSTEM): GenerateRequest => markedTurn(n, { system, prefix: `${id} `, maxTokens: 64 });

describe('review 280c8ba: prompt-cache affinity', () => {
  it('bug: the number of keys one request remembers is not bounded (Anthropic keeps 4 marks): one request of another tenant evicts every remembered prefix', async () => {
    // Default maxEntries (10 000). Tenant t1's conversation is remembered on some deployment.
    const r = router([deployment('claude-a', wire.a), deployment('claude-b', wire.b)], { strategy: 'round-robin' });
    const where = (await r.generate(turn('t1-conv', 1, `${SHARED_SYSTEM} t1`), { tenant: 't1' })).deployment;
    expect((await r.route(turn('t1-conv', 2, `${SHARED_SYSTEM} t1`), { tenant: 't1' })).affinity?.remembered).toBe(where);
    // Tenant t2 sends ONE ordinary-sized request (~200 KB) whose user message has 10 001 marked text parts. The
    // Anthropic engine sends only the last 4 marks (the wire server refuses more), so the provider caches at most
    // 4 prefixes; affinity hashes and remembers all 10 001 of them.
    const flood: GenerateRequest = {
      messages: [{ role: 'user', content: Array.from({ length: 10_001 }, (_, i) => ({ type: 'text' as const, text: `p${i}`, cacheControl: mark })) }],
      maxTokens: 8,
    };
    await r.generate(flood, { tenant: 't2' });
    // t1's conversation should still be remembered: nothing of t1 changed, and t2's request held at most 4 cached prefixes.
    const decision = await r.route(turn('t1-conv', 2, `${SHARED_SYSTEM} t1`), { tenant: 't1' });
    expect(decision.affinity?.remembered).toBe(where);
  }, 60_000);

  it("bug: under priority (a preference order, not a spreading strategy) one transient failure of the primary moves every marked conversation sharing the system prompt to the backup while the primary is healthy", async () => {
    const r = router([deployment('primary', wire.a, { priority: 1 }), deployment('backup', wire.b, { priority: 2 })], { strategy: 'priority' });
    // One 500 from the primary (its circuit stays closed: default failureThreshold 5): the backup serves, as it should.
    wire.a.enqueue({ error: { status: 500, message: 'transient' } });
    const first = await r.generate(turn('conv-1', 1));
    expect(first.attempts.map((x) => [x.deployment, x.ok])).toEqual([
      ['primary', false],
      ['backup', true],
    ]);
    expect(r.models().find((m) => m.name === 'primary')?.stats.circuit).toBe('closed');
    // The primary is healthy again. New conversations (nothing of theirs is cached anywhere but the shared system
    // prompt, 1 of their marks) should follow the configured priority: the primary.
    const served: string[] = [];
    for (let c = 2; c <= 5; c++) served.push((await r.generate(turn(`conv-${c}`, 1))).deployment);
    expect(served).toEqual(['primary', 'primary', 'primary', 'primary']);
  });

  it('bug: affinity remembers one deployment per key across models: a conversation whose turns alternate between two models (router-chosen model) loses affinity on every switch', async () => {
    // Two models, two deployments each. The strategy picks the model per request (as intelligent or
    // cost-optimized do for an unnamed model) and spreads within it (round robin per model).
    const rr: Record<string, number> = {};
    const pick = (ctx: StrategyContext): RankedCandidate[] => {
      const want = ctx.metadata['want'] as string;
      const same = ctx.candidates.filter((d) => d.config.model === want);
      const others = ctx.candidates.filter((d) => d.config.model !== want);
      const k = (rr[want] = (rr[want] ?? -1) + 1) % same.length;
      return [...same.slice(k), ...same.slice(0, k), ...others].map((deployment) => ({ deployment }));
    };
    const r = router(
      [
        deployment('x1', wire.a, { model: 'claude-x' }),
        deployment('x2', wire.b, { model: 'claude-x' }),
        deployment('y1', wire.a, { model: 'claude-y' }),
        deployment('y2', wire.b, { model: 'claude-y' }),
      ],
      { strategy: 'pick' },
      { strategies: { pick: { name: 'pick', spreads: true, rank: pick } } }, // a custom strategy opts in to affinity (fix 2)
    );
    const byModel: Record<string, string[]> = { 'claude-x': [], 'claude-y': [] };
    for (let n = 1; n <= 8; n++) {
      const want = n % 2 === 1 ? 'claude-x' : 'claude-y';
      const res = await r.generate(turn('conv', n), { metadata: { want } });
      expect(res.model).toBe(want);
      byModel[want]!.push(res.deployment);
    }
    // Each model's turns should stay on the deployment that holds that model's cache of this conversation.
    expect(new Set(byModel['claude-x'])).toHaveProperty('size', 1);
    expect(new Set(byModel['claude-y'])).toHaveProperty('size', 1);
  });
  it("bug: a '1h' mark the Anthropic engine sends as 5 minutes (it follows a 5-minute mark) is remembered for an hour", async () => {
    let now = 1_000_000;
    const r = router([deployment('claude-a', wire.a), deployment('claude-b', wire.b)], { strategy: 'round-robin' }, { now: () => now });
    // Claude Code style: the system prompt marked 5m, the last user turn marked 1h. Anthropic refuses a 1h entry after a
    // 5m one, so the engine downgrades the 1h mark to 5m (anthropic-cache-control.ts rule 3): the provider keeps
    // nothing of this prompt beyond 5 minutes.
    const req: GenerateRequest = {
      messages: [
        { role: 'system', content: `${SHARED_SYSTEM} ttl`, cacheControl: { type: 'ephemeral', ttl: '5m' } },
        { role: 'user', content: 'question 1', cacheControl: { type: 'ephemeral', ttl: '1h' } },
      ],
      maxTokens: 16,
    };
    const served = (await r.generate(req)).deployment;
    const sent = (served === 'claude-a' ? wire.a : wire.b).requests.at(-1)!.body as { messages: Array<{ content: Array<{ cache_control?: { ttl?: string } }> }> };
    expect(sent.messages.at(-1)!.content.at(-1)!.cache_control?.ttl).toBe('5m');
    now += 10 * 60_000; // 10 minutes later: both provider entries are gone
    const decision = await r.route({ ...req, messages: [...req.messages, { role: 'assistant', content: 'answer 1' }, { role: 'user', content: 'question 2', cacheControl: { type: 'ephemeral', ttl: '1h' } }] });
    expect(decision.affinity?.remembered).toBeUndefined();
  });
  it('bug: explain decisionUs leaves out the affinity work (hashing the marked prefix, the store lookup), the bulk of a long marked prompt\'s decision', async () => {
    // A long marked conversation (~3 MB of text): hashing its marked prefixes takes milliseconds.
    const messages: ChatMessage[] = [{ role: 'system', content: SHARED_SYSTEM, cacheControl: mark }];
    for (let i = 0; i < 100; i++) messages.push({ role: 'user', content: `q${i} ${'lorem ipsum '.repeat(1_250)}` }, { role: 'assistant', content: `a${i} ${'dolor sit '.repeat(1_500)}` });
    messages.push({ role: 'user', content: 'last question', cacheControl: mark });
    const request: GenerateRequest = { messages, maxTokens: 16 };
    const models = [deployment('claude-a', wire.a, { contextWindow: 10_000_000 }), deployment('claude-b', wire.b, { contextWindow: 10_000_000 })];
    const off = router(models, { strategy: 'round-robin', promptCacheAffinity: { enabled: false } });
    const on = router(models, { strategy: 'round-robin' });
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
    const sample = async (x: LLMRouter): Promise<{ wallUs: number; decisionUs: number }> => {
      const walls: number[] = [];
      const decisions: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        const d = await x.route(request);
        walls.push((performance.now() - t) * 1000);
        decisions.push(d.decisionUs);
      }
      return { wallUs: median(walls), decisionUs: median(decisions) };
    };
    await sample(on);
    await sample(off);
    const withAffinity = await sample(on);
    const without = await sample(off);
    // What affinity adds to route()'s wall time, and what it adds to the reported decision time.
    const affinityWallUs = withAffinity.wallUs - without.wallUs;
    expect(affinityWallUs).toBeGreaterThan(1_000);
    expect(withAffinity.decisionUs - without.decisionUs).toBeGreaterThan(affinityWallUs / 2);
  }, 60_000);

  it('fix 6: a failing affinity store is a miss reported as cache:error (kind affinity), never a failed call', async () => {
    const failing = { find: () => Promise.reject(new Error('store down')), remember: () => Promise.reject(new Error('store down')) };
    const r = router([deployment('claude-a', wire.a), deployment('claude-b', wire.b)], { strategy: 'round-robin' }, { promptCacheAffinityStore: failing });
    const errors: Array<{ kind: string; message: string; requestId: string | undefined }> = [];
    r.on('cache:error', (e) => errors.push({ kind: e.kind, message: e.error.message, requestId: e.requestId }));
    const res = await r.generate(turn('err', 1), { requestId: 'req-affinity-1' });
    expect(['claude-a', 'claude-b']).toContain(res.deployment);
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(1), { timeout: 5_000 });
    expect(errors.every((e) => e.kind === 'affinity')).toBe(true);
    expect(errors[0]!.message).toContain('store down');
    // With the id of the call that met it.
    expect(errors.every((e) => e.requestId === 'req-affinity-1')).toBe(true);
  });

  it("a store that fails to remember the deployment that answered: cache:error with the call's request id", async () => {
    const failing = { find: () => Promise.resolve([]), remember: () => Promise.reject(new Error('store down')) };
    const r = router([deployment('claude-a', wire.a), deployment('claude-b', wire.b)], { strategy: 'round-robin' }, { promptCacheAffinityStore: failing });
    const errors: Array<{ kind: string; requestId: string | undefined }> = [];
    r.on('cache:error', (e) => errors.push({ kind: e.kind, requestId: e.requestId }));
    const res = await r.generate(turn('remember', 1), { requestId: 'req-affinity-2' });
    expect(['claude-a', 'claude-b']).toContain(res.deployment);
    await vi.waitFor(() => expect(errors).toEqual([{ kind: 'affinity', requestId: 'req-affinity-2' }]), { timeout: 5_000 });
  });
});
