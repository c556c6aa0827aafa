import { describe, expect, it } from 'vitest';
import { RetrySchema } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { backoffDelay, retryPlan } from './backoff.js';
import { countsAgainstDeployment, failureAction } from './classify.js';

const cfg = RetrySchema.parse({ initialDelayMs: 100, factor: 2, maxDelayMs: 1_000 });

describe('backoff', () => {
  it('exponential with full jitter, capped', () => {
    const noJitter = { ...cfg, jitter: false };
    expect([0, 1, 2, 3, 4, 5].map((r) => backoffDelay(r, noJitter, () => 0.5))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelay(2, cfg, () => 0.5)).toBe(200); // uniform in [0, 400)
    expect(backoffDelay(2, cfg, () => 0)).toBe(0);
    expect(backoffDelay(2, cfg, () => 0.999)).toBeLessThan(400);
  });

  it('Retry-After wins when allowed, and a too long one moves on', () => {
    const e = (ms: number) => new LLMError({ code: 'rate_limited', message: 'slow down', retryAfterMs: ms });
    expect(retryPlan(e(1_500), 0, cfg, () => 0.5)).toEqual({ kind: 'wait', delayMs: 1_500 });
    expect(retryPlan(e(60_000), 0, cfg, () => 0.5).kind).toBe('move-on');
    expect(retryPlan(e(1_500), 0, { ...cfg, respectRetryAfter: false }, () => 0.5)).toEqual({ kind: 'wait', delayMs: 50 });
  });
});

describe('failure classification', () => {
  const err = (code: LLMError['code'], isRetryable?: boolean) => new LLMError({ code, message: code, ...(isRetryable === undefined ? {} : { isRetryable }) });
  it('request faults stop, retryable errors retry, others move on', () => {
    expect(failureAction(err('invalid_request'))).toBe('stop');
    // To a later deployment with a larger (or unknown) context window only: run-attempts skips the others.
    expect(failureAction(err('context_length_exceeded'))).toBe('next');
    expect(failureAction(err('content_filter'))).toBe('stop');
    expect(failureAction(err('aborted'))).toBe('stop');
    expect(failureAction(err('provider_unavailable'))).toBe('retry');
    expect(failureAction(err('rate_limited'))).toBe('retry');
    expect(failureAction(err('timeout'))).toBe('retry');
    expect(failureAction(err('authentication'))).toBe('next');
    expect(failureAction(err('permission_denied'))).toBe('next');
    expect(failureAction(err('not_found'))).toBe('next');
    expect(failureAction(err('unsupported'))).toBe('next');
    expect(failureAction(err('provider_error', false))).toBe('next');
  });
  it('only deployment faults count against health', () => {
    expect(countsAgainstDeployment(err('invalid_request'))).toBe(false);
    expect(countsAgainstDeployment(err('aborted'))).toBe(false);
    expect(countsAgainstDeployment(err('provider_unavailable'))).toBe(true);
    expect(countsAgainstDeployment(err('authentication'))).toBe(true);
    // The engine refused what it cannot do (nothing was sent): another deployment may, this one is not unhealthy.
    expect(countsAgainstDeployment(err('unsupported'))).toBe(false);
  });
});
