import type { Deployment, DeploymentStatsSnapshot, StrategyContext } from '../../types.js';

/**
 * A deployment a strategy can rank but nobody calls (its engine throws): `engine` the config's engine kind
 * (`openai-compatible`, a remote one, unless given), `quality` in its config when given, `price` as given (undefined:
 * no configured price, none in the price table).
 */
export function rankedDeployment(name: string, options: { engine?: string; quality?: number; price?: { input: number; output: number } } = {}): Deployment {
  return {
    name,
    config: { name, engine: options.engine ?? 'openai-compatible', ...(options.quality !== undefined ? { quality: options.quality } : {}), priority: 100, weight: 1, tags: [], options: {}, enabled: true },
    price: options.price,
    capabilities: new Set(),
    engine: () => {
      throw new Error('not used');
    },
  } as unknown as Deployment;
}

/** The stats of a deployment never called: no requests, no latency, circuit closed. */
export const neverCalled = (): DeploymentStatsSnapshot => ({ requests: 0, failures: 0, latencyMs: undefined, ttftMs: undefined, errorRate: 0, inFlight: 0, circuit: 'closed' });

/**
 * What a strategy's `rank` gets for one user message `prompt` over `candidates`: never-called stats, 1000 tokens in
 * and out, `random` 0.5, time 0, no options or metadata; `overrides` replace any of these.
 */
export function strategyContext(candidates: Deployment[], prompt: string, overrides: Partial<StrategyContext> = {}): StrategyContext {
  return {
    request: { messages: [{ role: 'user', content: prompt }] },
    candidates,
    stats: neverCalled,
    estimatedInputTokens: 1000,
    expectedOutputTokens: 1000,
    random: () => 0.5,
    now: () => 0,
    options: {},
    metadata: {},
    ...overrides,
  };
}
