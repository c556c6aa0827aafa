import { LLMError, type CountTokensOptions } from '@llmrr/core';
import type { Principal } from '../auth/principal.js';
import { rateScopes, takePlace } from '../tenancy/admission.js';
import type { Renewals } from '../tenancy/renewals.js';
import type { GatewayStores } from '../types.js';

/** What a count asks of the router for one principal: a local estimate only, or admission of remote counts. */
export type CountAdmission = Pick<CountTokensOptions, 'local' | 'admitRemote'>;

/**
 * The bound on `POST /v1/messages/count_tokens` counts that do network I/O (a provider's count endpoint on
 * the gateway's upstream key, Gemini's download of the prompt's image URLs):
 * - a demo principal (no key) never counts remotely: the engine's local estimate answers;
 * - otherwise a remote count takes a place under the tenant's and the key's `rpm` and `maxConcurrency`
 *   limits, through the rate limiter calls use (`takePlace`, as a request that calls no model: `estimatedTokens: 0`,
 *   no `tpm` charge; no budget, no ledger), held until the count ends. Refused (a limit reached), or the limiter
 *   failing, the count answers the local estimate instead of a 429, so a client such as Claude Code keeps working;
 *   the refusal is not an error.
 * Without stores, or with no limits on the tenant or key, remote counts are unbounded, like calls.
 */
export function countAdmission(
  stores: GatewayStores | undefined,
  principal: Principal,
  log: (message: string, error: unknown) => void,
  renewals?: Renewals | undefined,
): CountAdmission {
  if (principal.demo) return { local: true };
  if (!stores || !principal.tenant) return {};
  const scopes = rateScopes(principal);
  if (scopes.length === 0) return {};
  return {
    admitRemote: async () => {
      // The place a request that calls no model takes (`takePlace`), held until the count ends; refused, the local
      // estimate answers (not a 429). The limiter failing: `takePlace` logs it and answers undefined too.
      const place = await takePlace(stores, principal, log, renewals).catch((e: unknown) => {
        if (LLMError.isInstance(e) && e.code === 'rate_limited') return undefined;
        throw e;
      });
      // One that fails is tried again (`renewals`), so the place is not held until the lease's TTL.
      return place && { release: () => place.release() };
    },
  };
}
