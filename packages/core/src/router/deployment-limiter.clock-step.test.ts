/**
 * The router's deployment limiter runs on the router's `now` (Date.now, a wall clock), which NTP may step back.
 * A clock behind a bucket's time drains nothing and adds no debt: a step back costs at most the debt held.
 */
import { describe, expect, it } from 'vitest';
import { DeploymentLimiter } from './deployment-limiter.js';

describe('DeploymentLimiter and a wall clock stepped back', () => {
  it('an idle deployment (bucket full for 10 minutes) still admits after the clock steps back one hour', () => {
    let now = Date.UTC(2026, 10, 27, 9, 0, 0);
    const limiter = new DeploymentLimiter({ rpm: 60 }, () => now);
    expect(limiter.check(0, undefined)).toBeUndefined();
    limiter.take(0);
    limiter.release(0);
    now += 600_000;
    expect(limiter.check(0, undefined)).toBeUndefined();
    now -= 3_600_000;
    expect(limiter.check(0, undefined)).toBeUndefined();
  });

  it('a deployment at its rpm when the clock steps back waits for the debt it held, not for the step', () => {
    let now = Date.UTC(2026, 10, 27, 9, 0, 0);
    const limiter = new DeploymentLimiter({ rpm: 6 }, () => now);
    for (let i = 0; i < 6; i++) {
      expect(limiter.check(0, undefined)).toBeUndefined();
      limiter.take(0);
      limiter.release(0);
    }
    now -= 3_600_000;
    expect(limiter.check(0, undefined)?.retryAfterMs).toBe(10_000);
    now += 10_000;
    expect(limiter.check(0, undefined)).toBeUndefined();
  });
});
