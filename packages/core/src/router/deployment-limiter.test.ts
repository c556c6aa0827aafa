import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { CONCURRENCY_RETRY_MS, DeploymentLimiter, deploymentLimitError, isDeploymentLimitError, laterError } from './deployment-limiter.js';

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('DeploymentLimiter', () => {
  it('exists only when limits set something', () => {
    const c = clock();
    expect(DeploymentLimiter.for(undefined, c.now)).toBeUndefined();
    expect(DeploymentLimiter.for({}, c.now)).toBeUndefined();
    expect(DeploymentLimiter.for({ rpm: 1 }, c.now)).toBeInstanceOf(DeploymentLimiter);
  });

  it('maxConcurrency: refuses at the cap, frees on release; retry after the typical latency, else a default', () => {
    const l = new DeploymentLimiter({ maxConcurrency: 2 }, clock().now);
    l.take(0);
    expect(l.check(0, undefined)).toBeUndefined();
    l.take(0);
    expect(l.check(0, undefined)).toEqual({ reason: 'at its concurrency limit (2/2 in flight)', retryAfterMs: CONCURRENCY_RETRY_MS });
    expect(l.check(0, 420.4)!.retryAfterMs).toBe(420);
    l.release(0);
    expect(l.check(0, undefined)).toBeUndefined();
    l.release(0);
    l.release(0); // never below zero
    expect(l.inFlight).toBe(0);
  });

  it('rpm: a minute of requests at once, then one every 60000/rpm ms (GCRA)', () => {
    const c = clock(1_000);
    const l = new DeploymentLimiter({ rpm: 3 }, c.now);
    for (let i = 0; i < 3; i++) {
      expect(l.check(0, undefined)).toBeUndefined();
      l.take(0);
      l.release(0);
    }
    const full = l.check(0, undefined)!;
    expect(full.reason).toBe('rpm limit 3 reached (a request frees up in ~20000 ms)');
    expect(full.retryAfterMs).toBe(20_000);
    c.t += 19_999;
    expect(l.check(0, undefined)).toBeDefined();
    c.t += 1;
    expect(l.check(0, undefined)).toBeUndefined();
  });

  it('tpm: charges the estimate at admission and corrects it with the real usage', () => {
    const c = clock();
    const l = new DeploymentLimiter({ tpm: 100 }, c.now);
    l.take(60);
    // 60 charged: another 60 would exceed the minute's 100.
    expect(l.check(60, undefined)!.reason).toMatch(/^tpm limit 100: ~60 more tokens do not fit \(room in ~\d+ ms\)$/);
    l.release(60, 10); // the call really used 10
    expect(l.check(60, undefined)).toBeUndefined();
    // Without a real count (failure, abandon) the charge stands.
    l.take(60);
    l.release(60);
    expect(l.check(60, undefined)).toBeDefined();
    // tokens 0 never touch tpm.
    expect(l.check(0, undefined)).toBeUndefined();
  });

  it('reports every blocking limit, waiting for the latest', () => {
    const c = clock();
    const l = new DeploymentLimiter({ rpm: 1, tpm: 10, maxConcurrency: 1 }, c.now);
    l.take(10);
    const s = l.check(10, 5)!;
    expect(s.reason.split('; ').map((r) => r.split(' ')[0])).toEqual(['at', 'rpm', 'tpm']);
    expect(s.retryAfterMs).toBe(60_000);
  });

  it('local limit errors are rate_limited, recognisable, and the soonest one is kept', () => {
    const a = deploymentLimitError('a', 'mock', { reason: 'rpm limit 1 reached', retryAfterMs: 500 });
    const b = deploymentLimitError('b', 'mock', { reason: 'rpm limit 1 reached', retryAfterMs: 200 });
    expect(a).toMatchObject({ code: 'rate_limited', retryAfterMs: 500, deployment: 'a', message: 'Deployment "a" is saturated: rpm limit 1 reached' });
    expect(isDeploymentLimitError(a)).toBe(true);
    const upstream = new LLMError({ code: 'rate_limited', message: 'provider 429', retryAfterMs: 1 });
    expect(isDeploymentLimitError(upstream)).toBe(false);
    expect(laterError(a, b)).toBe(b);
    expect(laterError(b, a)).toBe(b);
    expect(laterError(b, upstream)).toBe(upstream);
    expect(laterError(undefined, a)).toBe(a);
  });

  it("a circuit_open keeps an earlier health failure (retryable, counted), and replaces an earlier refusal of the request, as its cause", () => {
    const open = new LLMError({ code: 'circuit_open', message: 'Circuit of "b" is open', deployment: 'b' });
    const down = new LLMError({ code: 'provider_unavailable', message: 'a is down', deployment: 'a' });
    expect(laterError(down, open)).toBe(down);
    for (const code of ['context_length_exceeded', 'unsupported'] as const) {
      const refused = new LLMError({ code, message: 'a refuses this request', deployment: 'a' });
      const reported = laterError(refused, open);
      expect({ code: reported.code, status: reported.statusCode, retryable: reported.isRetryable, deployment: reported.deployment, cause: reported.cause }).toEqual({
        code: 'circuit_open',
        status: 503,
        retryable: true,
        deployment: 'b',
        cause: refused,
      });
    }
  });

  it('in the other order too: a refusal of the request replaces neither an earlier circuit_open (its cause then) nor an earlier health failure', () => {
    const open = new LLMError({ code: 'circuit_open', message: 'Circuit of "a" is open', deployment: 'a' });
    const down = new LLMError({ code: 'provider_unavailable', message: 'a is down', deployment: 'a' });
    for (const code of ['context_length_exceeded', 'unsupported'] as const) {
      const refused = new LLMError({ code, message: 'b refuses this request', deployment: 'b' });
      const reported = laterError(open, refused);
      expect({ code: reported.code, retryable: reported.isRetryable, deployment: reported.deployment, cause: reported.cause }).toEqual({
        code: 'circuit_open',
        retryable: true,
        deployment: 'a',
        cause: refused,
      });
      expect(laterError(down, refused)).toBe(down);
    }
    // A later health failure is still the newest news.
    const later = new LLMError({ code: 'provider_unavailable', message: 'b is down', deployment: 'b' });
    expect(laterError(open, later)).toBe(later);
  });

  it("a failed tool call (the model's fault, retryable) is kept over a circuit_open in either order, and over a later refusal of the request", () => {
    const toolCall = new LLMError({ code: 'invalid_response', message: 'gemini: malformed function call', deployment: 'a', modelFault: true });
    const openB = new LLMError({ code: 'circuit_open', message: 'Circuit of "b" is open', deployment: 'b' });
    expect(laterError(toolCall, openB)).toBe(toolCall);
    const openA = new LLMError({ code: 'circuit_open', message: 'Circuit of "a" is open', deployment: 'a' });
    const toolCallB = new LLMError({ code: 'invalid_response', message: 'gemini: malformed function call', deployment: 'b', modelFault: true });
    expect(laterError(openA, toolCallB)).toBe(toolCallB);
    const refused = new LLMError({ code: 'context_length_exceeded', message: 'b refuses this request', deployment: 'b' });
    expect(laterError(toolCall, refused)).toBe(toolCall);
  });
});
