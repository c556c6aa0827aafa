import { LLMError, type Tenant } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { visibleError } from './traffic-visibility.js';

// The model routes' and /api/route's answer to a routing error, end to end, is in routes/api-routes.test.ts; here the
// error shapes that are hard to reach on the wire (an attempt skipped between selection and sending).

const acme: Principal = { tenantId: 'acme', tenant: { id: 'acme', name: 'Acme' } as Tenant, key: undefined, demo: false };
const demo: Principal = { ...acme, tenantId: 'demo', demo: true };

/** The shape of core's `deploymentLimitError` (a skipped attempt on a saturated deployment). */
function skipped(tenant?: string): LLMError {
  const reason = 'at its concurrency limit (1/1 in flight)';
  return new LLMError({
    code: 'rate_limited',
    message: `Deployment "shared" is saturated: ${reason}`,
    retryAfterMs: 250,
    deployment: 'shared',
    details: tenant === undefined ? { limit: 'deployment', reason } : { limit: 'deployment', reason, tenant },
  });
}

describe('visibleError: a routing error as the caller may see it (the cut of visibleDecision)', () => {
  it("a skipped attempt on a shared deployment says 'saturated' only; the full error stays its cause", () => {
    const full = skipped();
    const cut = visibleError(full, acme);
    expect(cut.message).toBe('Deployment "shared" is saturated');
    expect(cut.code).toBe('rate_limited');
    expect(cut.retryAfterMs).toBe(250);
    expect(cut.details).toBeUndefined();
    expect(cut.cause).toBe(full);
  });

  it("the caller's own deployment, the demo tenant and a gateway without stores keep the whole message", () => {
    const own = skipped('acme');
    expect(visibleError(own, acme)).toBe(own);
    const shared = skipped();
    expect(visibleError(shared, demo)).toBe(shared);
    expect(visibleError(shared, ANONYMOUS)).toBe(shared);
  });

  it("an exclusion list cuts shared entries to their kind and keeps the caller's own and unfit ones", () => {
    const excluded = [
      { name: 'shared', kind: 'saturated', reason: 'saturated: at its concurrency limit (1/1 in flight)' },
      { name: 'flaky', kind: 'circuit', circuit: 'open', reason: 'circuit open (last error timeout)' },
      { name: 'mine', kind: 'saturated', tenant: 'acme', reason: 'saturated: at its concurrency limit (2/2 in flight)' },
      { name: 'small', kind: 'unfit', reason: 'context window 8 < 20 estimated tokens' },
    ];
    const full = new LLMError({
      code: 'no_deployment',
      message: `No deployment can serve this request:\n${excluded.map((e) => `  ${e.name}: ${e.reason}`).join('\n')}`,
      details: { excluded },
    });
    const cut = visibleError(full, acme);
    expect(cut.message).toBe(
      'No deployment can serve this request:\n  shared: saturated\n  flaky: circuit open\n  mine: saturated: at its concurrency limit (2/2 in flight)\n  small: context window 8 < 20 estimated tokens',
    );
    expect(cut.details).toBeUndefined();
    expect(visibleError(full, ANONYMOUS)).toBe(full);
  });
});
