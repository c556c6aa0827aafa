import { BUILTIN_STRATEGIES } from '@llmrr/core';
import { kebab } from './plain.js';

/**
 * Strategy names `@llmrr/core` ships (its own list; custom ones register by name), without `fallback`: the
 * core keeps it as an alias of `priority`, and the migration writes `priority`.
 */
export const CURRENT_STRATEGIES: readonly string[] = BUILTIN_STRATEGIES.filter((s) => s !== 'fallback');

/** Old or informal names, normalized to kebab case, and the current strategy that does the same. */
export const LEGACY_STRATEGY_NAMES: Readonly<Record<string, string>> = {
  fallback: 'priority',
  failover: 'priority',
  'fail-over': 'priority',
  sequential: 'priority',
  ordered: 'priority',
  'first-available': 'priority',
  cheapest: 'cost-optimized',
  cost: 'cost-optimized',
  'cost-first': 'cost-optimized',
  'cost-optimised': 'cost-optimized',
  'cost-optimization': 'cost-optimized',
  'lowest-cost': 'cost-optimized',
  fastest: 'speed-priority',
  speed: 'speed-priority',
  'speed-first': 'speed-priority',
  latency: 'speed-priority',
  'lowest-latency': 'speed-priority',
  'latency-optimized': 'speed-priority',
  quality: 'quality-first',
  best: 'quality-first',
  'best-quality': 'quality-first',
  'highest-quality': 'quality-first',
  roundrobin: 'round-robin',
  rr: 'round-robin',
  'load-balanced': 'least-loaded',
  'load-balance': 'least-loaded',
  'least-busy': 'least-loaded',
  'least-connections': 'least-loaded',
  capability: 'capability-match',
  'capability-based': 'capability-match',
  capabilities: 'capability-match',
  'weighted-random': 'weighted',
  'weighted-round-robin': 'weighted',
  auto: 'balanced',
  smart: 'balanced',
  default: 'balanced',
  hybrid: 'balanced',
};

export interface StrategyMapping {
  strategy: string;
  /** `renamed`: an old name mapped; `normalized`: spelling only; `kept`: already current; `unknown`: kept as is. */
  kind: 'kept' | 'normalized' | 'renamed' | 'unknown';
}

export function isCurrentStrategy(name: string): boolean {
  return CURRENT_STRATEGIES.includes(name);
}

/** Maps a v1 strategy name to a current one. Unknown names are kept (they may be custom strategies). */
export function mapStrategy(raw: string, extra: Readonly<Record<string, string>> = {}): StrategyMapping {
  if (isCurrentStrategy(raw)) return { strategy: raw, kind: 'kept' };
  const key = kebab(raw);
  if (Object.hasOwn(extra, raw)) return { strategy: extra[raw]!, kind: 'renamed' };
  if (isCurrentStrategy(key)) return { strategy: key, kind: 'normalized' };
  if (Object.hasOwn(LEGACY_STRATEGY_NAMES, key)) return { strategy: LEGACY_STRATEGY_NAMES[key]!, kind: 'renamed' };
  return { strategy: raw, kind: 'unknown' };
}
