import { describe, expect, it } from 'vitest';
import type { Deployment, DeploymentStatsSnapshot, StrategyContext } from '../types.js';
import { rankedDeployment, strategyContext } from './__fixtures__/strategy-context.js';
import { createIntelligentStrategy } from './intelligent.js';

const deployment = (name: string, quality: number, price?: { input: number; output: number }): Deployment => rankedDeployment(name, { engine: 'mock', quality, price });

/** `latency`: each deployment's mean latency, from one request. */
function ctx(candidates: Deployment[], latency: Record<string, number | undefined>, options: Record<string, unknown>): StrategyContext {
  const stats = (name: string): DeploymentStatsSnapshot => ({ requests: 1, failures: 0, latencyMs: latency[name], ttftMs: undefined, errorRate: 0, inFlight: 0, circuit: 'closed' });
  return strategyContext(candidates, 'hello', { stats, options });
}

describe('intelligent: latency and cost terms (no router model)', () => {
  const fast = deployment('fast', 0.7, { input: 1, output: 1 });
  const slow = deployment('slow', 0.8, { input: 1, output: 1 });
  const latency = { fast: 100, slow: 2000 };
  const s = createIntelligentStrategy();

  it('mu x latency can outweigh a quality edge; the factors show every term', () => {
    const quality = s.rank(ctx([fast, slow], latency, {})) as Array<{ deployment: Deployment }>;
    expect(quality[0]!.deployment.name).toBe('slow');
    const r = s.rank(ctx([fast, slow], latency, { mu: 0.0001 })) as Array<{ deployment: Deployment; score?: number; factors?: Record<string, number> }>;
    expect(r[0]!.deployment.name).toBe('fast');
    expect(r[0]!.factors).toMatchObject({ predictedQuality: 0.7, latencyMs: 100, mu: 0.0001, expectedCostUsd: 0.002 });
    expect(r[0]!.score).toBeCloseTo(0.7 - 0.0001 * 100, 12);
  });

  it('maxLatencyMs drops measured slow deployments but keeps unmeasured ones', () => {
    const fresh = deployment('fresh', 0.9);
    const r = s.rank(ctx([fast, slow, fresh], { ...latency, fresh: undefined }, { maxLatencyMs: 500 })) as Array<{ deployment: Deployment }>;
    expect(r.map((c) => c.deployment.name)).toEqual(['fresh', 'fast']);
  });

  it('lambda is in quality points per USD of expected cost', () => {
    const cheap = deployment('cheap', 0.6, { input: 0.1, output: 0.1 });
    const dear = deployment('dear', 0.9, { input: 100, output: 100 }); // $0.2 for this request
    expect((s.rank(ctx([cheap, dear], {}, { lambda: 1 })) as Array<{ deployment: Deployment }>)[0]!.deployment.name).toBe('dear');
    expect((s.rank(ctx([cheap, dear], {}, { lambda: 2 })) as Array<{ deployment: Deployment }>)[0]!.deployment.name).toBe('cheap');
  });

  describe('a deployment whose price is unknown (remote, no configured price, none in the table or the router model)', () => {
    const cheap = deployment('cheap', 0.6, { input: 0.1, output: 0.1 }); // $0.0002 for this request
    const dear = deployment('dear', 0.9, { input: 100, output: 100 }); // $0.2
    const mystery = deployment('mystery', 0.95);
    type Ranked = Array<{ deployment: Deployment; score?: number; factors?: Record<string, number>; note?: string }>;

    it('never passes maxCostUsd, however high', () => {
      const r = s.rank(ctx([mystery, cheap, dear], {}, { maxCostUsd: 1000 })) as Ranked;
      expect(r.map((c) => c.deployment.name)).toEqual(['dear', 'cheap']);
    });

    it('is costed as the dearest known candidate under lambda, not as free; without a cost term only quality counts', () => {
      const quality = s.rank(ctx([cheap, dear, mystery], {}, {})) as Ranked;
      expect(quality[0]!.deployment.name).toBe('mystery');
      const r = s.rank(ctx([cheap, dear, mystery], {}, { lambda: 2 })) as Ranked;
      expect(r[0]!.deployment.name).toBe('cheap');
      const m = r.find((c) => c.deployment.name === 'mystery')!;
      expect(m.factors!['expectedCostUsd']).toBeCloseTo(0.2, 12);
      expect(m.score).toBeCloseTo(0.95 - 2 * 0.2, 12);
      expect(m.note).toMatch(/price unknown/);
    });

    it('with no known price among the candidates the cost term is 0 for all, and maxCostUsd passes none', () => {
      const other = deployment('other', 0.5);
      expect((s.rank(ctx([other, mystery], {}, { lambda: 5 })) as Ranked).map((c) => c.deployment.name)).toEqual(['mystery', 'other']);
      expect(s.rank(ctx([other, mystery], {}, { maxCostUsd: 1 }))).toEqual([]);
    });
  });
});
