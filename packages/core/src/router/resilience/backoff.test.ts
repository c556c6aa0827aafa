import { describe, expect, it } from 'vitest';
import { RetrySchema } from '../../config/schema.js';
import { capacityRefusal } from '../../engines/shared/capacity-refusal.js';
import { LLMError } from '../../errors/llm-error.js';
import { parseRetryAfter } from '../../util/retry-after.js';
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

  it('a huge Retry-After is read as a day at most and never waited, whatever maxRetryAfterMs allows', () => {
    const after = (value: string) => parseRetryAfter(new Headers({ 'retry-after': value }), Date.parse('2026-01-01T00:00:00Z'));
    // 3 000 years, 23 days (within a timer's 2^31 - 1 ms), a date far ahead: a day.
    for (const v of ['99999999999', '2000000', 'Fri, 31 Dec 9999 23:59:59 GMT']) expect(after(v), v).toBe(86_400_000);
    const patient = { ...cfg, maxRetryAfterMs: 2 ** 31 - 1 };
    for (const v of ['99999999999', '2000000']) {
      const plan = retryPlan(new LLMError({ code: 'rate_limited', message: 'slow down', retryAfterMs: after(v) }), 0, patient, () => 0.5);
      expect(plan.kind, v).toBe('move-on');
      // The reason names the day cap, not the larger maxRetryAfterMs it does not exceed.
      expect(plan.kind === 'move-on' ? plan.reason : '', v).toBe('Retry-After 86400000 ms is a day or more (MAX_RETRY_AFTER_MS 86400000 ms), never waited');
    }
    // Over maxRetryAfterMs (below a day): that is the reason.
    expect(retryPlan(new LLMError({ code: 'rate_limited', message: 'x', retryAfterMs: 60_000 }), 0, cfg, () => 0.5)).toEqual({
      kind: 'move-on',
      reason: `Retry-After 60000 ms exceeds maxRetryAfterMs ${cfg.maxRetryAfterMs} ms`,
    });
    // Below a day, as allowed: waited.
    expect(retryPlan(new LLMError({ code: 'rate_limited', message: 'x', retryAfterMs: after('3600') }), 0, patient, () => 0.5)).toEqual({ kind: 'wait', delayMs: 3_600_000 });
  });

  it('Retry-After forms: delay-seconds (a fraction too) and the three HTTP-date forms; anything else is absent', () => {
    const now = Date.parse('1994-11-06T08:49:07Z');
    const after = (h: Record<string, string>) => parseRetryAfter(new Headers(h), now);
    expect(after({ 'retry-after': '2' })).toBe(2_000);
    expect(after({ 'retry-after': ' 1.5 ' })).toBe(1_500);
    expect(after({ 'retry-after': 'Sun, 06 Nov 1994 08:49:37 GMT' })).toBe(30_000);
    expect(after({ 'retry-after': 'Sunday, 06-Nov-94 08:49:37 GMT' })).toBe(30_000);
    expect(after({ 'retry-after': 'Sun Nov  6 08:49:37 1994' })).toBe(30_000);
    expect(after({ 'retry-after': 'Sun, 06 Nov 1994 08:00:00 GMT' })).toBe(0);
    for (const v of ['-5', '0x10', '1e3', 'Infinity', 'soon', 'Thursday 2030', '']) expect(after({ 'retry-after': v }), v).toBeUndefined();
    expect(after({ 'retry-after-ms': '1500', 'retry-after': '9' })).toBe(1_500);
    expect(after({ 'retry-after-ms': '-1', 'retry-after': '9' })).toBe(9_000);
    expect(after({ 'retry-after-ms': '99999999999999' })).toBe(86_400_000);
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
    // A provider that does not know the deployment's model: the next deployment, no retry (waiting does not help).
    expect(failureAction(err('provider_model_not_found', false))).toBe('next');
    expect(failureAction(err('unsupported'))).toBe('next');
    expect(failureAction(err('provider_error', false))).toBe('next');
  });
  it('only deployment faults count against health', () => {
    expect(countsAgainstDeployment(err('invalid_request'))).toBe(false);
    expect(countsAgainstDeployment(err('aborted'))).toBe(false);
    expect(countsAgainstDeployment(err('provider_unavailable'))).toBe(true);
    expect(countsAgainstDeployment(err('authentication'))).toBe(true);
    expect(countsAgainstDeployment(err('provider_model_not_found', false))).toBe(true);
    // The engine refused what it cannot do (nothing was sent): another deployment may, this one is not unhealthy.
    expect(countsAgainstDeployment(err('unsupported'))).toBe(false);
  });
  it("an engine's refusal for its own capacity moves on at once, uncounted; a provider's overloaded retries and counts", () => {
    // A local model with every slot taken and its queue full (the gguf engine's cap): busy, not failing.
    const busy = capacityRefusal(err('overloaded'));
    expect({ action: failureAction(busy), counts: countsAgainstDeployment(busy) }).toEqual({ action: 'next', counts: false });
    // An upstream's 529/503 overloaded is the deployment's own state, as before.
    const upstream = new LLMError({ code: 'overloaded', message: 'Overloaded', upstreamStatus: 529, provider: 'anthropic' });
    expect({ action: failureAction(upstream), counts: countsAgainstDeployment(upstream) }).toEqual({ action: 'retry', counts: true });
  });
  it("the model's own answer (modelFault: a Gemini failed tool call) retries and falls over, uncounted, through copies too", () => {
    const malformed = new LLMError({ code: 'invalid_response', message: 'malformed function call', modelFault: true, provider: 'gemini' });
    expect({ action: failureAction(malformed), counts: countsAgainstDeployment(malformed) }).toEqual({ action: 'retry', counts: false });
    // As the router tags it with the deployment (`with`): the mark stays.
    expect(countsAgainstDeployment(malformed.with({ deployment: 'gem' }))).toBe(false);
    // The same code from a broken upstream (no mark) is the deployment's.
    expect(countsAgainstDeployment(new LLMError({ code: 'invalid_response', message: 'response has no candidates' }))).toBe(true);
  });
});
