import type { Strategy } from '../types.js';
import { balancedStrategy } from './balanced.js';
import { capabilityMatchStrategy } from './capability-match.js';
import { costOptimizedStrategy } from './cost-optimized.js';
import { leastLoadedStrategy } from './least-loaded.js';
import { fallbackStrategy, priorityStrategy } from './priority.js';
import { qualityFirstStrategy } from './quality-first.js';
import { randomStrategy } from './random.js';
import { createRoundRobinStrategy } from './round-robin.js';
import { speedPriorityStrategy } from './speed-priority.js';
import { weightedStrategy } from './weighted.js';
import { AdaptiveStrategy, createAdaptiveStrategy } from './adaptive.js';
import { createIntelligentStrategy, intelligentStrategy } from './intelligent.js';

/** Names of the built-in strategies. */
export const BUILTIN_STRATEGIES = [
  'quality-first',
  'cost-optimized',
  'speed-priority',
  'balanced',
  'random',
  'round-robin',
  'least-loaded',
  'capability-match',
  'priority',
  'fallback',
  'weighted',
  'intelligent',
  'adaptive',
] as const;
export type BuiltinStrategyName = (typeof BUILTIN_STRATEGIES)[number];

/** Fresh built-in strategies (stateful ones, like round-robin, get their own state per call). */
export function builtinStrategies(): Map<string, Strategy> {
  const list: Strategy[] = [
    qualityFirstStrategy,
    costOptimizedStrategy,
    speedPriorityStrategy,
    balancedStrategy,
    randomStrategy,
    createRoundRobinStrategy(),
    leastLoadedStrategy,
    capabilityMatchStrategy,
    priorityStrategy,
    fallbackStrategy,
    weightedStrategy,
    createIntelligentStrategy(),
    new AdaptiveStrategy(),
  ];
  return new Map(list.map((s) => [s.name, s]));
}

export {
  AdaptiveStrategy,
  createAdaptiveStrategy,
  createIntelligentStrategy,
  intelligentStrategy,
  balancedStrategy,
  capabilityMatchStrategy,
  costOptimizedStrategy,
  createRoundRobinStrategy,
  fallbackStrategy,
  leastLoadedStrategy,
  priorityStrategy,
  qualityFirstStrategy,
  randomStrategy,
  speedPriorityStrategy,
  weightedStrategy,
};
