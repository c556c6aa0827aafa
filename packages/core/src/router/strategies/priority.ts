import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { byPriority, noOptions } from './util.js';

function rankByPriority(ctx: StrategyContext): RankedCandidate[] {
  const out: RankedCandidate[] = new Array(ctx.candidates.length);
  for (let i = 0; i < ctx.candidates.length; i++) {
    const d = ctx.candidates[i]!;
    out[i] = { deployment: d, score: -d.config.priority, factors: { priority: d.config.priority } };
  }
  return out.sort(byPriority);
}

/** `priority`: ascending `config.priority` (1 before 2), config order on ties. */
export const priorityStrategy: Strategy = {
  name: 'priority',
  description: 'Ascending config priority (lower first); ties keep config order.',
  rank: rankByPriority,
  checkOptions: noOptions('priority'),
};

/** `fallback`: an alias of `priority` (try the first, fall back down the list). */
export const fallbackStrategy: Strategy = {
  name: 'fallback',
  description: 'Alias of priority: the configured order, falling back down the list.',
  rank: rankByPriority,
  checkOptions: noOptions('fallback'),
};
