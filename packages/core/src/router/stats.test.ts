import { describe, expect, it } from 'vitest';
import { DeploymentStats } from './stats.js';

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
