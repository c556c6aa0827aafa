/**
 * round-robin with a tenant whose calls alternate between two candidate sets (tool calls over the tool-capable
 * deployments, plain calls over all): each set rotates on its own ("a request needing tools rotates among the
 * tool-capable deployments independently"), and a deployment common to two sets is not starved. (A kept counter that
 * skipped the turn of the tenant's last pick, tried once, starved it.)
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { startOpenAIWireServer } from '../../test/openai-wire-server.js';
import { LLMRouter } from '../llm-router.js';
import type { RankedCandidate, StrategyContext } from '../types.js';
import { createRoundRobinStrategy } from './round-robin.js';

const ctxOf = (tenant: string | undefined, names: string[]): StrategyContext =>
  ({ tenant, candidates: names.map((name) => ({ name })), request: { messages: [] } }) as unknown as StrategyContext;
const first = (ranked: RankedCandidate[] | Promise<RankedCandidate[]>) => (ranked as RankedCandidate[])[0]!.deployment.name;

/** Picks per set over `calls` calls of `seq(i)`'s set. */
function countPerSet(seq: (i: number) => string[], calls: number, tenant: string | undefined) {
  const rr = createRoundRobinStrategy();
  const per: Record<string, Record<string, number>> = {};
  for (let i = 0; i < calls; i++) {
    const names = seq(i);
    const pick = first(rr.rank(ctxOf(tenant, names)));
    const set = ((per[names.join(',')] ??= {}));
    set[pick] = (set[pick] ?? 0) + 1;
  }
  return per;
}

describe('round-robin: a tenant alternating between two candidate sets', () => {
  it('a stable set is an exact rotation', () => {
    for (const tenant of [undefined, 'acme']) expect(countPerSet(() => ['a', 'b', 'c'], 600, tenant)).toEqual({ 'a,b,c': { a: 200, b: 200, c: 200 } });
  });

  for (const tenant of [undefined, 'acme']) {
    it(`${tenant ?? 'no tenant'}: {a,b,c} and {a,b} alternating: each set rotates over all its deployments`, () => {
      // Before 0270145: {a,b,c} a 100 b 100 c 100, {a,b} a 150 b 150. After: {a,b} always b, {a,b,c} never b.
      expect(countPerSet((i) => (i % 2 ? ['a', 'b'] : ['a', 'b', 'c']), 600, tenant)).toEqual({
        'a,b,c': { a: 100, b: 100, c: 100 },
        'a,b': { a: 150, b: 150 },
      });
    });

    it(`${tenant ?? 'no tenant'}: {a,b} and {a,c} alternating: a, in both sets, is not starved`, () => {
      // Before 0270145: a 300 of 600. After: a 1 of 600.
      const per = countPerSet((i) => (i % 2 ? ['a', 'c'] : ['a', 'b']), 600, tenant);
      expect(per['a,b']?.a ?? 0, JSON.stringify(per)).toBe(150);
      expect(per['a,c']?.a ?? 0, JSON.stringify(per)).toBe(150);
    });
  }

  it('through the router: tool calls (over a, b: c has no tools) alternating with plain calls (a, b, c) - tool calls take turns', async () => {
    const wire = await startOpenAIWireServer();
    const model = (name: string, capabilities?: ModelConfigInput['capabilities']): ModelConfigInput => ({
      name,
      engine: 'openai-compatible',
      baseURL: wire.baseURL,
      apiKey: 'k',
      model: `m-${name}`,
      ...(capabilities ? { capabilities } : {}),
    });
    const router = new LLMRouter({ models: [model('a'), model('b'), model('c', ['chat', 'streaming'])], routing: { strategy: 'round-robin', retries: { max: 0 } } });
    const tooled: GenerateRequest = { messages: [{ role: 'user', content: 'weather?' }], tools: [{ name: 'lookup', parameters: { type: 'object' } }] };
    try {
      const toolCalls: string[] = [];
      const plain: string[] = [];
      for (let i = 0; i < 6; i++) {
        plain.push((await router.generate('hi')).deployment);
        toolCalls.push((await router.generate(tooled)).deployment);
      }
      // Before 0270145: tool calls b, a, b, a, b, a; plain a, b, c, a, b, c. After: tool calls b every time, plain never b.
      const count = (picks: string[]) => Object.fromEntries(['a', 'b', 'c'].map((d) => [d, picks.filter((p) => p === d).length]));
      expect({ toolCalls: count(toolCalls), plain: count(plain) }, JSON.stringify({ toolCalls, plain })).toEqual({ toolCalls: { a: 3, b: 3, c: 0 }, plain: { a: 2, b: 2, c: 2 } });
    } finally {
      await router.close();
      await wire.close();
    }
  });
});
