import type { Principal } from './principal.js';

/**
 * Marks a reply to a demo principal (a request without a key, served as the demo tenant): adds
 * `x-llmrr-demo: true` and `x-llmrr-tenant` to `headers` (a fresh object when not given) and returns them.
 * Every route that authenticates uses it, so each answer in demo mode says so, errors after authentication too.
 */
export function demoHeaders(principal: Principal, headers: Record<string, string> = {}): Record<string, string> {
  if (principal.demo) {
    headers['x-llmrr-demo'] = 'true';
    headers['x-llmrr-tenant'] = principal.tenantId;
  }
  return headers;
}
