import { afterEach, describe, expect, it } from 'vitest';
import '../engines/index.js';
import type { LLMError } from '../errors/llm-error.js';
import { LLMRouter } from './llm-router.js';
import { DeploymentStats } from './stats.js';
import type { RouterOptions } from './types.js';

function make(alpha = 0.5, halfLife = 1_000) {
  let t = 1_000;
  const stats = new DeploymentStats({ now: () => t, alpha, errorRateHalfLifeMs: halfLife, circuit: () => 'closed' });
  return { stats, advance: (ms: number) => (t += ms) };
}

describe('DeploymentStats', () => {
  it('EWMA latency: first sample taken as is, later ones blended by alpha', () => {
    const { stats } = make(0.5);
    expect(stats.latencyMs).toBeUndefined();
    stats.start();
    stats.success(100);
    expect(stats.latencyMs).toBe(100);
    stats.start();
    stats.success(200);
    expect(stats.latencyMs).toBe(150);
    expect(stats.requests).toBe(2);
    expect(stats.inFlight).toBe(0);
  });

  it('ttft from firstToken and from success(…, ttft)', () => {
    const { stats } = make(0.5);
    stats.firstToken(40);
    stats.start();
    stats.success(100, 20);
    expect(stats.ttftMs).toBe(30);
  });

  it('error rate rises with failures, falls with successes, decays while idle', () => {
    const { stats, advance } = make(0.5, 1_000);
    stats.start();
    stats.failure('provider_error');
    expect(stats.errorRate).toBeCloseTo(0.5);
    stats.start();
    stats.failure('provider_error');
    expect(stats.errorRate).toBeCloseTo(0.75);
    advance(1_000); // one half-life
    expect(stats.errorRate).toBeCloseTo(0.375);
    stats.start();
    stats.success(10);
    expect(stats.errorRate).toBeCloseTo(0.1875);
    expect(stats.failures).toBe(2);
    expect(stats.lastErrorCode).toBe('provider_error');
  });

  it('failures that do not count only release the in-flight slot', () => {
    const { stats } = make();
    stats.start();
    stats.start();
    expect(stats.inFlight).toBe(2);
    stats.failure('aborted', false);
    expect(stats.inFlight).toBe(1);
    expect(stats.failures).toBe(0);
    expect(stats.errorRate).toBe(0);
  });

  it('snapshot is a detached copy', () => {
    const { stats } = make();
    stats.start();
    stats.success(5);
    const snap = stats.snapshot();
    stats.start();
    expect(snap).toEqual({ requests: 1, failures: 0, latencyMs: 5, ttftMs: undefined, errorRate: 0, inFlight: 0, circuit: 'closed' });
    expect(stats.inFlight).toBe(1);
  });
});

/** The `config_invalid` (code and param) `build` throws, or undefined when it builds. */
function refusal(build: () => unknown): { code: string; param: string | undefined } | undefined {
  try {
    build();
    return undefined;
  } catch (e) {
    return { code: (e as LLMError).code, param: (e as LLMError).param };
  }
}

// `errorRateHalfLifeMs: NaN` (an environment variable that did not parse) was accepted, and after one failed attempt
// the deployment's errorRate was NaN for good (`Math.pow(0.5, idle / NaN)`), read by the ranking strategies;
// `statsAlpha` outside (0, 1] was replaced by 0.2 without a word.
describe('RouterOptions statsAlpha / errorRateHalfLifeMs', () => {
  const routers: LLMRouter[] = [];
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
  });
  const config = {
    models: [
      { name: 'flaky', engine: 'mock', options: { failures: [{ code: 'provider_unavailable' as const }] } },
      { name: 'steady', engine: 'mock' },
    ],
    routing: { retries: { max: 0 }, fallbackToRanked: false },
  };
  const build = (options: RouterOptions) => () => routers.push(new LLMRouter(config, options));

  it('errorRateHalfLifeMs that is not a number >= 0 is refused when the router is built (config_invalid naming it)', () => {
    for (const bad of [Number.NaN, -1, '60000' as never]) {
      expect(refusal(build({ errorRateHalfLifeMs: bad }))).toEqual({ code: 'config_invalid', param: 'errorRateHalfLifeMs' });
    }
    expect(routers).toHaveLength(0);
  });

  it('statsAlpha outside (0, 1] is refused when the router is built (config_invalid naming it), not replaced by 0.2', () => {
    for (const bad of [7, 0, -0.5, Number.NaN, '0.5' as never]) {
      expect(refusal(build({ statsAlpha: bad }))).toEqual({ code: 'config_invalid', param: 'statsAlpha' });
    }
    expect(routers).toHaveLength(0);
  });

  it('valid values are taken: a failed deployment has a finite error rate (errorRateHalfLifeMs 0: it does not decay)', async () => {
    build({ statsAlpha: 1, errorRateHalfLifeMs: 0 })();
    await routers[0]!.generate('hi', { model: 'flaky' }).catch(() => undefined);
    const flaky = routers[0]!.models().find((m) => m.name === 'flaky')!;
    expect(flaky.stats.errorRate).toBe(1);
  });

  it('DeploymentStats refuses the same values, naming its own options', () => {
    const stats = (o: { alpha?: number; errorRateHalfLifeMs?: number }) => () => new DeploymentStats({ now: () => 0, circuit: () => 'closed', ...o });
    expect(refusal(stats({ alpha: 7 }))).toEqual({ code: 'config_invalid', param: 'alpha' });
    expect(refusal(stats({ errorRateHalfLifeMs: Number.NaN }))).toEqual({ code: 'config_invalid', param: 'errorRateHalfLifeMs' });
    expect(refusal(stats({ alpha: 0.2, errorRateHalfLifeMs: Number.POSITIVE_INFINITY }))).toBeUndefined();
  });
});
