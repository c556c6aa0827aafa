import { LLMError } from '../../errors/llm-error.js';
import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { byPriority, checkOptionNames, observedLatency } from './util.js';

/**
 * `speed-priority`: lowest EWMA latency first (time to first token for streams, total latency for
 * `generate`). Deployments not measured yet are explored first, by priority, so each gets measured
 * once; set `routing.options['speed-priority'].explore = false` to rank them after the measured ones.
 */
export const speedPriorityStrategy: Strategy = {
  name: 'speed-priority',
  spreads: true,
  description: 'Lowest EWMA latency (ttft for streams); unmeasured deployments explored first (option explore=false: last).',
  checkOptions(o) {
    checkOptionNames('speed-priority', o, ['explore']);
    if (o['explore'] !== undefined && typeof o['explore'] !== 'boolean') {
      throw new LLMError({ code: 'invalid_request', message: `speed-priority: option "explore" must be true or false (got ${JSON.stringify(o['explore'])})`, param: 'explore' });
    }
  },
  rank(ctx: StrategyContext): RankedCandidate[] {
    const explore = ctx.options['explore'] !== false;
    const out: RankedCandidate[] = new Array(ctx.candidates.length);
    for (let i = 0; i < ctx.candidates.length; i++) {
      const d = ctx.candidates[i]!;
      const ms = observedLatency(ctx, d.name);
      out[i] =
        ms === undefined
          ? { deployment: d, factors: { priority: d.config.priority }, note: explore ? 'unmeasured: explored first' : 'unmeasured' }
          : { deployment: d, score: -ms, factors: { latencyMs: ms } };
    }
    return out.sort((a, b) => {
      const ua = a.score === undefined;
      const ub = b.score === undefined;
      if (ua || ub) {
        if (ua && ub) return byPriority(a, b);
        return ua === explore ? -1 : 1;
      }
      return b.score! - a.score! || byPriority(a, b);
    });
  },
};
