import { describe, expect, it } from 'vitest';
import type { ModelConfigInput, RouterConfigInput } from '../../config/schema.js';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { estimateRequestTokens } from '../../pricing/estimate-tokens.js';
import type { CallOptions, GenerateRequest, GenerateResult, LanguageEngine, StreamPart } from '../../spec/index.js';
import { startOpenAIWireServer } from '../../test/openai-wire-server.js';
import { LLMRouter } from '../llm-router.js';
import type { RankedCandidate, StrategyContext } from '../types.js';
import { BUILTIN_STRATEGIES } from './index.js';
import { createRoundRobinStrategy } from './round-robin.js';

/** An engine whose calls take `latencyMs` on the router's injected clock (or hang while `gate` is pending). */
class ClockEngine implements LanguageEngine {
  readonly specVersion = 'v1' as const;
  readonly provider = 'clock';
  readonly capabilities = { streaming: true, tools: true, json: true };
  gate: Promise<void> | undefined;
  constructor(
    readonly modelId: string,
    private readonly clock: { t: number },
    public latencyMs: number,
  ) {}
  async generate(_r: GenerateRequest, _o?: CallOptions): Promise<GenerateResult> {
    if (this.gate) await this.gate;
    this.clock.t += this.latencyMs;
    return { text: 'ok', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
  }
  async *stream(): AsyncGenerator<StreamPart> {
    yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
  }
}

const models: RouterConfigInput['models'] = [
  { name: 'a', engine: 'fake', priority: 3, quality: 0.9, price: { input: 10, output: 30 }, contextWindow: 128_000, weight: 1 },
  { name: 'b', engine: 'fake', priority: 1, quality: 0.6, price: { input: 1, output: 2 }, contextWindow: 16_000, weight: 3 },
  // engine `fake` is not local and `c-unpriced` is in no price table: price unknown.
  { name: 'c', engine: 'fake', model: 'c-unpriced', priority: 2, contextWindow: 32_000, weight: 1 },
];

function setup(extra: { routing?: NonNullable<RouterConfigInput['routing']> } = {}, random: () => number = Math.random) {
  const clock = { t: 1_000 };
  const engines = { a: new ClockEngine('a', clock, 300), b: new ClockEngine('b', clock, 100), c: new ClockEngine('c-unpriced', clock, 200) };
  const router = new LLMRouter(
    { models, routing: { strategy: 'priority', retries: { max: 0 } }, ...extra },
    { engines, now: () => clock.t, random, engineFactories: { fake: (m) => new MockEngine({ modelId: m.model ?? m.name }) } },
  );
  return { router, engines, clock };
}

/** `list` rotated left by `k` (a round-robin order `k` turns on). */
function rotate(list: readonly string[], k: number): string[] {
  const n = list.length;
  return list.map((_, i) => list[(((i + k) % n) + n) % n]!);
}

async function orderOf(router: LLMRouter, strategy: string, request: string | GenerateRequest = 'Hello there, router', opts = {}) {
  const d = await router.route(request, { strategy, ...opts });
  return d.order;
}

describe('built-in strategies order as documented', () => {
  it('priority and fallback: ascending priority', async () => {
    const { router } = setup();
    expect(await orderOf(router, 'priority')).toEqual(['b', 'c', 'a']);
    expect(await orderOf(router, 'fallback')).toEqual(['b', 'c', 'a']);
  });

  it('quality-first: highest quality, unknown last', async () => {
    const { router } = setup();
    expect(await orderOf(router, 'quality-first')).toEqual(['a', 'b', 'c']);
  });

  it('cost-optimized: cheapest expected cost, unknown price last; the factor is the documented formula', async () => {
    const { router } = setup();
    const decision = await router.route('Hello there, router', { strategy: 'cost-optimized', maxTokens: 100 });
    expect(decision.order).toEqual(['b', 'a', 'c']);
    const input = estimateRequestTokens({ messages: [{ role: 'user', content: 'Hello there, router' }], maxTokens: 100 });
    expect(decision.candidates[0]!.factors!['expectedCostUsd']).toBeCloseTo((input * 1 + 100 * 2) / 1e6, 12);
    expect(decision.candidates[1]!.factors!['expectedCostUsd']).toBeCloseTo((input * 10 + 100 * 30) / 1e6, 12);
    expect(decision.candidates[2]!.note).toBe('price unknown');
  });

  it('cost-optimized: the inputPrice/outputPrice factors are the long-context tier and reasoning rates its expectedCostUsd used', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'tiered', engine: 'mock', price: { input: 1, output: 1, longContext: [{ threshold: 10, input: 5, output: 7 }] } },
        { name: 'reasoning', engine: 'mock', price: { input: 1, output: 2, reasoningOutput: 9 } },
      ],
      routing: { strategy: 'cost-optimized' },
    });
    const decision = await router.route('word '.repeat(200), { explain: true, maxTokens: 100 });
    const byName = new Map(decision.candidates.map((c) => [c.name, c.factors!]));
    const input = estimateRequestTokens({ messages: [{ role: 'user', content: 'word '.repeat(200) }], maxTokens: 100 });
    for (const [name, rates] of [['tiered', [5, 7]], ['reasoning', [1, 9]]] as const) {
      const f = byName.get(name)!;
      expect([f['inputPrice'], f['outputPrice']]).toEqual(rates);
      expect(f['expectedCostUsd']).toBeCloseTo((input * rates[0] + 100 * rates[1]) / 1e6, 12);
    }
    await router.close();
  });

  it('speed-priority: unmeasured explored first, then lowest EWMA latency; explore=false puts unmeasured last', async () => {
    const { router } = setup();
    await router.generate('x', { model: 'a' });
    await router.generate('x', { model: 'b' });
    expect(router.stats()['a']!.latencyMs).toBe(300);
    expect(await orderOf(router, 'speed-priority')).toEqual(['c', 'b', 'a']);
    expect(await orderOf(router, 'speed-priority', 'x', { strategyOptions: { explore: false } })).toEqual(['b', 'a', 'c']);
    await router.generate('x', { model: 'c' });
    expect(await orderOf(router, 'speed-priority')).toEqual(['b', 'c', 'a']);
  });

  it('balanced: weights from routing.weights, min-max normalized, error-rate penalty', async () => {
    const quality = setup({ routing: { strategy: 'balanced', weights: { quality: 1, cost: 0, latency: 0 } } });
    expect(await orderOf(quality.router, 'balanced')).toEqual(['a', 'b', 'c']);
    const cost = setup({ routing: { strategy: 'balanced', weights: { quality: 0, cost: 1, latency: 0 } } });
    const d = await cost.router.route('x', { strategy: 'balanced' });
    // b is the cheapest (1); a the dearest (0) and c unknown (0) tie, broken by priority.
    expect(d.order).toEqual(['b', 'c', 'a']);
    expect(d.candidates[0]!.factors).toMatchObject({ cost: 1, quality: expect.any(Number), latency: 1, errorRate: 0 });
    // Make b fail: its error rate pushes it down.
    cost.engines.b.generate = async () => {
      throw new (await import('../../errors/llm-error.js')).LLMError({ code: 'provider_error', message: 'down', isRetryable: false });
    };
    await cost.router.generate('x', { model: 'b', fallbacks: [] }).catch(() => {});
    await cost.router.generate('x', { model: 'b', fallbacks: [] }).catch(() => {});
    const after = await cost.router.route('x', { strategy: 'balanced' });
    const errorRate = after.candidates.find((c) => c.name === 'b')!.factors!['errorRate']!;
    expect(errorRate).toBeCloseTo(0.36, 5); // EWMA alpha 0.2: 0.2, then 0.36
    expect(after.candidates.find((c) => c.name === 'b')!.score).toBeCloseTo(1 - errorRate, 5);
    // a stronger penalty (option errorPenalty) pushes it below the others
    const harsh = await cost.router.route('x', { strategy: 'balanced', strategyOptions: { errorPenalty: 5 } });
    expect(harsh.order).toEqual(['c', 'a', 'b']);
  });

  it('random: Fisher-Yates with the injected random source', async () => {
    const { router } = setup({}, () => 0);
    // [a,b,c]: i=2 swaps with 0 -> [c,b,a]; i=1 swaps with 0 -> [b,c,a]
    expect(await orderOf(router, 'random')).toEqual(['b', 'c', 'a']);
    const high = setup({}, () => 0.999);
    expect(await orderOf(high.router, 'random')).toEqual(['a', 'b', 'c']);
  });

  it('round-robin: rotates per candidate set; route() previews the next turn without taking it', async () => {
    const { router } = setup();
    const take = async (opts = {}) => (await router.generate('Hello there, router', { strategy: 'round-robin', ...opts })).deployment;
    // A new counter starts at an offset of its own (hashed from the tenant and the set); then it rotates.
    const first = await orderOf(router, 'round-robin');
    expect([...first].sort()).toEqual(['a', 'b', 'c']);
    expect(await orderOf(router, 'round-robin')).toEqual(first); // a preview takes no turn
    expect(await take()).toBe(first[0]);
    expect(await orderOf(router, 'round-robin')).toEqual(rotate(first, 1));
    expect(await take()).toBe(first[1]);
    // another candidate set (the allow-list) has its own counter
    const pair = await orderOf(router, 'round-robin', 'x', { allowedModels: ['a', 'c'] });
    expect(await take({ allowedModels: ['a', 'c'] })).toBe(pair[0]);
    expect(await orderOf(router, 'round-robin')).toEqual(rotate(first, 2));
    expect(await orderOf(router, 'round-robin', 'x', { allowedModels: ['a', 'c'] })).toEqual(rotate(pair, 1));
    expect(await take()).toBe(first[2]);
  });

  it("round-robin: one counter per tenant, so another tenant's calls neither move a tenant's turn nor show in its picks", async () => {
    const { router } = setup();
    router.setTenant({ id: 'alpha' }).setTenant({ id: 'beta' });
    const take = async (tenant: string) => (await router.generate('Hello there, router', { strategy: 'round-robin', tenant })).deployment;
    const betaFirst = await orderOf(router, 'round-robin', 'x', { tenant: 'beta' });
    const beta: string[] = [];
    for (let i = 0; i < 3; i++) {
      await take('alpha');
      await take('alpha');
      beta.push(await take('beta'));
    }
    expect(beta).toEqual(betaFirst);
    // A call without a tenant has its own counter too.
    const none = await orderOf(router, 'round-robin');
    expect((await router.generate('Hello there, router', { strategy: 'round-robin' })).deployment).toBe(none[0]);
    const alpha = await orderOf(router, 'round-robin', 'x', { tenant: 'alpha' });
    expect(await take('alpha')).toBe(alpha[0]);
    expect(await take('beta')).toBe(betaFirst[0]);
    expect(await orderOf(router, 'round-robin', 'x', { tenant: 'alpha' })).toEqual(rotate(alpha, 1));
    // A forgotten tenant starts again (at its own offset); the others keep their turn.
    router.forgetTenant('alpha');
    expect(await orderOf(router, 'round-robin', 'x', { tenant: 'alpha' })).toEqual(alpha);
    expect(await orderOf(router, 'round-robin', 'x', { tenant: 'beta' })).toEqual(rotate(betaFirst, 1));
  });

  it('round-robin: many tenants calling once each spread over the shared deployments (each starts at its own offset)', async () => {
    const { router } = setup();
    const picks = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      router.setTenant({ id: `t${i}` });
      const d = (await router.generate('Hello there, router', { strategy: 'round-robin', tenant: `t${i}` })).deployment;
      picks.set(d, (picks.get(d) ?? 0) + 1);
    }
    // Not all on the first deployment (before: 30, 0, 0): every deployment gets some first calls.
    expect([...picks.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(Math.max(...picks.values())).toBeLessThan(30);
  });

  it("round-robin: a v3 defaultTenant's calls with and without its id share one rotation", async () => {
    const clock = { t: 1_000 };
    const engines = { a: new ClockEngine('a', clock, 300), b: new ClockEngine('b', clock, 100), c: new ClockEngine('c-unpriced', clock, 200) };
    const router = new LLMRouter(
      { version: 3, models, tenants: [{ id: 'main' }], defaultTenant: 'main', routing: { strategy: 'round-robin', retries: { max: 0 } } },
      { engines, now: () => clock.t },
    );
    const first = await orderOf(router, 'round-robin', 'x', { tenant: 'main' });
    const picks: string[] = [];
    for (let i = 0; i < 6; i++) picks.push((await router.generate('hi', i % 2 === 0 ? {} : { tenant: 'main' })).deployment);
    expect(picks).toEqual([...first, ...first]);
  });
});

describe("round-robin's counters past 10,000 (tenant, set) keys", () => {
  const ctxOf = (tenant: string, names: string[]): StrategyContext =>
    ({ tenant, candidates: names.map((name) => ({ name })), request: { messages: [] } }) as unknown as StrategyContext;
  /** The first pick (round-robin ranks synchronously). */
  const first = (ranked: RankedCandidate[] | Promise<RankedCandidate[]>) => (ranked as RankedCandidate[])[0]!.deployment.name;

  it("the least recently used counter goes, never the whole map: one tenant's many sets leave another's turn alone", () => {
    const rr = createRoundRobinStrategy();
    const take = (tenant: string, names: string[]) => first(rr.rank(ctxOf(tenant, names)));
    const start = ['a', 'b', 'c'].indexOf(take('beta', ['a', 'b', 'c']));
    expect(take('beta', ['a', 'b', 'c'])).toBe(['a', 'b', 'c'][(start + 1) % 3]);
    expect(take('beta', ['a', 'b', 'c'])).toBe(['a', 'b', 'c'][(start + 2) % 3]);
    // gamma (or 10,000 tenants calling once) fills the map with 10,000 other keys; beta's, used between, stays.
    let gammaFirst = '';
    for (let i = 0; i < 10_000; i++) {
      const pick = take('gamma', [`own-${i}`, 'x']);
      if (i === 0) gammaFirst = pick;
      if (i === 5_000) expect(take('beta', ['a', 'b', 'c'])).toBe(['a', 'b', 'c'][start]);
    }
    expect(take('beta', ['a', 'b', 'c'])).toBe(['a', 'b', 'c'][(start + 1) % 3]);
    // The least recently used went instead: gamma's first set is a new counter again, starting after gamma's last
    // pick (x: each of its new sets started after it), as in a fresh instance (gamma's offset for the set is own-0);
    // kept, it would be one turn on from its first pick.
    const preview = (r: ReturnType<typeof createRoundRobinStrategy>) => first(r.rank({ ...ctxOf('gamma', ['own-0', 'x']), preview: true } as StrategyContext));
    expect(gammaFirst).toBe('own-0');
    expect(preview(rr)).toBe('own-0');
    expect(preview(createRoundRobinStrategy())).toBe('own-0');
    // While gamma's last set, used once, is one turn on.
    expect(first(rr.rank(ctxOf('gamma', ['own-9999', 'x'])))).toBe('x');
  });

  it('a single-candidate set (a call naming one model) keeps no counter', () => {
    const rr = createRoundRobinStrategy();
    const beta = () => first(rr.rank(ctxOf('beta', ['a', 'b', 'c'])));
    const start = ['a', 'b', 'c'].indexOf(beta());
    for (let t = 0; t < 10_000; t++) for (const m of ['gpt', 'claude']) expect(first(rr.rank(ctxOf(`t${t}`, [m])))).toBe(m);
    expect([beta(), beta()]).toEqual([['a', 'b', 'c'][(start + 1) % 3], ['a', 'b', 'c'][(start + 2) % 3]]);
  });

  it("forgetTenant matches the tenant exactly ('a' is not a prefix of 'a\u0001b' nor of a call without a tenant)", () => {
    const rr = createRoundRobinStrategy();
    const take = (tenant: string | undefined, names = ['x', 'y']) =>
      first(rr.rank({ ...ctxOf('', names), ...(tenant === undefined ? { tenant: undefined } : { tenant }) } as StrategyContext));
    const other = take('a\u0001b');
    const none = take(undefined, ['1:ax', 'y']);
    const own = take('a');
    rr.forgetTenant!('a');
    expect(take('a\u0001b')).not.toBe(other);
    expect(take(undefined, ['1:ax', 'y'])).not.toBe(none);
    // 'a' itself starts again at its offset.
    expect(take('a')).toBe(own);
  });

  it('a set is its names whatever their order: candidates listed in another order each call still take turns', () => {
    const picks = (tenant: string | undefined, orders: string[][]) => {
      const rr = createRoundRobinStrategy();
      return orders.map((names) => first(rr.rank({ ...ctxOf('', names), tenant } as StrategyContext)));
    };
    const alternating = Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? ['a', 'b'] : ['b', 'a']));
    // (Before, the two orders were two counters, each moving every other call: a, b, b, a, a, b.)
    for (const tenant of [undefined, 'beta']) {
      const got = picks(tenant, alternating);
      for (let i = 1; i < got.length; i++) expect(got[i], `${tenant ?? 'no tenant'}, call ${i}`).not.toBe(got[i - 1]);
    }
    // Without a tenant from the first candidate, as ever (before: a, b, then b, a again from the other order's counter).
    expect(picks(undefined, [['a', 'b'], ['a', 'b'], ['b', 'a'], ['b', 'a']])).toEqual(['a', 'b', 'a', 'b']);
    // Three deployments shuffled every call: each gets two of six calls, in the rotation of the call that made the
    // counter; the whole ranking (fallback order) follows it too.
    const rr = createRoundRobinStrategy();
    const shuffled = [['a', 'b', 'c'], ['c', 'a', 'b'], ['b', 'c', 'a'], ['c', 'b', 'a'], ['a', 'c', 'b'], ['b', 'a', 'c']];
    expect(shuffled.map((names) => first(rr.rank({ ...ctxOf('', names), tenant: undefined } as StrategyContext)))).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    const ranked = rr.rank({ ...ctxOf('', ['c', 'b', 'a']), tenant: undefined } as StrategyContext) as RankedCandidate[];
    expect(ranked.map((r) => r.deployment.name)).toEqual(['a', 'b', 'c']);
  });

  it('a set that loses a deployment goes on after the last pick: a, then b drops out of {a, b, c}: c', () => {
    const rr = createRoundRobinStrategy();
    const take = (names: string[]) => first(rr.rank({ ...ctxOf('', names), tenant: undefined } as StrategyContext));
    // (Before, {a, c} was a new counter starting at its first candidate: a, a.)
    expect([take(['a', 'b', 'c']), take(['a', 'c'])]).toEqual(['a', 'c']);
    // A tenant's new set too (its first counter alone starts at its hashed offset), and a set that gains one.
    const tenant = createRoundRobinStrategy();
    const picks = [['a', 'b', 'c'], ['a', 'c'], ['a', 'c'], ['a', 'b', 'c', 'd']].map((names) => first(tenant.rank(ctxOf('beta', names))));
    for (let i = 1; i < picks.length; i++) expect(picks[i], picks.join(', ')).not.toBe(picks[i - 1]);
  });

  it('order alternating and a candidate dropping out: still never the same deployment twice in a row', () => {
    const rr = createRoundRobinStrategy();
    const take = (names: string[]) => first(rr.rank({ ...ctxOf('', names), tenant: undefined } as StrategyContext));
    // a (the counter of {a, b, c}, order a b c), b (the counter's order), then c's circuit opened: {a, b} starts
    // after b (before: at its first candidate, b again).
    expect([take(['a', 'b', 'c']), take(['c', 'b', 'a']), take(['b', 'a'])]).toEqual(['a', 'b', 'a']);
  });

  it('through the router: c fails once and its circuit opens; the call after the fallback to a goes to b', async () => {
    const wire = await startOpenAIWireServer();
    const model = (name: string): ModelConfigInput => ({ name, engine: 'openai-compatible', baseURL: wire.baseURL, apiKey: 'k', model: `m-${name}` });
    const router = new LLMRouter({
      models: [model('a'), model('b'), model('c')],
      routing: { strategy: 'round-robin', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    });
    try {
      wire.setScript([{}, {}, { error: { status: 500 } }, {}, {}]);
      const served: string[] = [];
      for (let i = 0; i < 5; i++) served.push((await router.generate('hi')).deployment);
      // Upstream: a, b, c (500: its circuit opens, the call falls over to a), then b and a over {a, b}.
      expect(wire.requests.map((r) => (r.body as { model: string }).model)).toEqual(['m-a', 'm-b', 'm-c', 'm-a', 'm-b', 'm-a']);
      // (Before: {a, b} was a new counter starting at a, which had just served: a, b, a, a, b.)
      expect(served).toEqual(['a', 'b', 'a', 'b', 'a']);
    } finally {
      await router.close();
      await wire.close();
    }
  });

  it('a set that regains a deployment takes its kept counter on where it stopped: {a,b,c} a b c, {a,b} b a, {a,b,c} again: a (the one repeat), b, c', () => {
    const abc = ['a', 'b', 'c'];
    const sets = [abc, abc, abc, ['a', 'b'], ['a', 'b'], abc, abc, abc];
    for (const tenant of [undefined, 'beta']) {
      const rr = createRoundRobinStrategy();
      const picks = sets.map((names) => first(rr.rank({ ...ctxOf('', names), tenant } as StrategyContext)));
      // The new {a,b} counter starts after the last pick (c is not in it: after a, the first of that ranking in it).
      expect(picks.slice(3, 5), `${tenant ?? 'no tenant'}: ${picks.join(', ')}`).toEqual(['b', 'a']);
      // The kept {a,b,c} counter rotates on from where it stopped (each set rotates on its own: round-robin-sets.test.ts).
      expect(picks.slice(5), `${tenant ?? 'no tenant'}: ${picks.join(', ')}`).toEqual(tenant === undefined ? ['a', 'b', 'c'] : picks.slice(0, 3));
    }
  });

  it('through the router: c fails (its circuit opens), {a, b} takes turns, c\u2019s cooldown ends: {a, b, c} goes on where it stopped', async () => {
    const wire = await startOpenAIWireServer();
    const clock = { t: 1_000 };
    const model = (name: string): ModelConfigInput => ({ name, engine: 'openai-compatible', baseURL: wire.baseURL, apiKey: 'k', model: `m-${name}` });
    const router = new LLMRouter(
      { models: [model('a'), model('b'), model('c')], routing: { strategy: 'round-robin', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 1_000 } } },
      { now: () => clock.t },
    );
    try {
      wire.setScript([{}, {}, { error: { status: 500 } }, {}, {}, {}, {}, {}]);
      const served: string[] = [];
      for (let i = 0; i < 5; i++) served.push((await router.generate('hi')).deployment);
      expect(served).toEqual(['a', 'b', 'a', 'b', 'a']);
      clock.t += 5_000; // c's cooldown is over: the set is {a, b, c} again
      for (let i = 0; i < 2; i++) served.push((await router.generate('hi')).deployment);
      // The {a,b,c} counter was left at "next: a" when c failed: a once more (the documented repeat), then b.
      expect(served).toEqual(['a', 'b', 'a', 'b', 'a', 'a', 'b']);
    } finally {
      await router.close();
      await wire.close();
    }
  });
});

describe('built-in strategies order as documented (continued)', () => {
  it('least-loaded: in-flight / maxConcurrency, then latency', async () => {
    const clock = { t: 0 };
    const engines = { a: new ClockEngine('a', clock, 10), b: new ClockEngine('b', clock, 10), c: new ClockEngine('c', clock, 10) };
    const router = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'mock', limits: { maxConcurrency: 4 } },
          { name: 'b', engine: 'mock' },
          { name: 'c', engine: 'mock' },
        ],
        routing: { retries: { max: 0 } },
      },
      { engines, now: () => clock.t },
    );
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    engines.a.gate = gate;
    engines.b.gate = gate;
    const pending = [router.generate('x', { model: 'a' }), router.generate('x', { model: 'b' })];
    for (let i = 0; i < 100 && router.stats()['b']!.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 0));
    const d = await router.route('x', { strategy: 'least-loaded' });
    expect(d.order).toEqual(['c', 'a', 'b']); // 0, 1/4, 1/1
    expect(d.candidates[1]!.factors).toMatchObject({ load: 0.25, inFlight: 1, capacity: 4 });
    open();
    await Promise.all(pending);
    expect(await orderOf(router, 'least-loaded')).toEqual(['c', 'a', 'b']); // all idle: latency (c unmeasured = 0) first
  });

  it('capability-match: fewest extra capabilities, then smallest sufficient context window', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'big', engine: 'mock', capabilities: ['chat', 'tools', 'json', 'vision', 'streaming'], contextWindow: 200_000 },
        { name: 'exact-large', engine: 'mock', capabilities: ['chat', 'tools'], contextWindow: 128_000 },
        { name: 'exact-small', engine: 'mock', capabilities: ['chat', 'tools'], contextWindow: 8_000 },
        { name: 'one-extra', engine: 'mock', capabilities: ['chat', 'tools', 'json'], contextWindow: 4_000 },
        { name: 'no-tools', engine: 'mock', capabilities: ['chat'], contextWindow: 4_000 },
      ],
    });
    const request: GenerateRequest = { messages: [{ role: 'user', content: 'weather?' }], tools: [{ name: 'weather', parameters: { type: 'object' } }] };
    const d = await router.route(request, { strategy: 'capability-match' });
    expect(d.order).toEqual(['exact-small', 'exact-large', 'one-extra', 'big']);
    expect(d.excluded).toEqual([{ name: 'no-tools', reason: 'lacks capabilities: tools', kind: 'unfit' }]);
    expect(d.candidates[0]!.factors).toMatchObject({ extraCapabilities: 0, contextWindow: 8_000 });
  });

  it('weighted: the first pick follows weight / sum (b has 3 of 5)', async () => {
    let seed = 42;
    const prng = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const { router } = setup({}, prng);
    const firsts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const n = 3_000;
    for (let i = 0; i < n; i++) firsts[(await orderOf(router, 'weighted'))[0]!]!++;
    expect(firsts['b']! / n).toBeGreaterThan(0.55);
    expect(firsts['b']! / n).toBeLessThan(0.65);
    expect(firsts['a']! / n).toBeGreaterThan(0.15);
    expect(firsts['c']! / n).toBeGreaterThan(0.15);
  });

  it('weighted: weight 0 is last', async () => {
    const router = new LLMRouter({ models: [{ name: 'zero', engine: 'mock', weight: 0 }, { name: 'one', engine: 'mock', weight: 1 }] }, { random: () => 0.01 });
    expect(await orderOf(router, 'weighted')).toEqual(['one', 'zero']);
  });

  it('every built-in strategy explains itself with factors', async () => {
    const { router } = setup();
    for (const name of BUILTIN_STRATEGIES) {
      const d = await router.route('Explain', { strategy: name });
      expect(d.strategy).toBe(name);
      expect(d.candidates).toHaveLength(3);
      expect(d.reason).toContain(`ranked first by ${name}`);
      for (const c of d.candidates) expect(c.factors ?? c.note, `${name}/${c.name}`).toBeDefined();
    }
  });
});
