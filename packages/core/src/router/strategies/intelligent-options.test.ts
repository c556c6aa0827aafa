import { describe, expect, it } from 'vitest';
import type { Deployment, DeploymentStatsSnapshot, StrategyContext } from '../types.js';
import { createIntelligentStrategy } from './intelligent.js';

function deployment(name: string, quality: number, price?: { input: number; output: number }): Deployment {
  return {
    name,
    config: { name, engine: 'mock', quality, priority: 100, weight: 1, tags: [], options: {}, enabled: true },
    price,
    capabilities: new Set(),
    engine: () => {
      throw new Error('not used');
    },
  } as unknown as Deployment;
}

function ctx(candidates: Deployment[], latency: Record<string, number | undefined>, options: Record<string, unknown>): StrategyContext {
  const stats = (name: string): DeploymentStatsSnapshot => ({ requests: 1, failures: 0, latencyMs: latency[name], ttftMs: undefined, errorRate: 0, inFlight: 0, circuit: 'closed' });
  return {
    request: { messages: [{ role: 'user', content: 'hello' }] },
    candidates,
    stats,
    estimatedInputTokens: 1000,
    expectedOutputTokens: 1000,
    random: () => 0.5,
    now: () => 0,
    options,
    metadata: {},
  };
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
});
