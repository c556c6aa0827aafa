import { randomUUID } from 'node:crypto';
import { DEFAULT_LEASE_TTL_MS, validateAcquire, validateActualTokens } from '../../tenancy/rate-limit-input.js';
import { rateLimitInfo, scopeKey, type ScopeState } from '../../tenancy/rate-limit-info.js';
import type { RateAcquireOptions, RateDecision, RateLimitInfo, RateLimitKind, RateLimiter, RateScope } from '../../tenancy/types.js';
import { ACQUIRE_SCRIPT, PEEK_SCRIPT, RELEASE_SCRIPT } from './rate-limit-scripts.js';
import type { RedisHandle } from './redis-connection.js';

/**
 * Rate limits shared by every gateway process through Redis: one Lua script checks every scope and
 * charges all or nothing, atomically. Needs one Redis (or a primary): the keys of one request are not
 * in one cluster slot.
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: RedisHandle) {
    redis.retain();
  }

  async acquire(scopes: RateScope[], options: RateAcquireOptions): Promise<RateDecision> {
    validateAcquire(scopes, options);
    const cost = options.estimatedTokens;
    const leaseId = randomUUID();
    const args: Array<string | number> = [scopes.length, cost, leaseId, options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS];
    for (const s of scopes) args.push(s.limits.rpm ?? 0, s.limits.tpm ?? 0, s.limits.maxConcurrency ?? 0);
    const reply = await this.redis.eval<string[]>(ACQUIRE_SCRIPT, this.keys(scopes), args);
    const granted = Number(reply[0]) === 1;
    const now = Number(reply[4]);
    const info = rateLimitInfo(scopes, parseStates(reply.slice(5), scopes.length), now);
    if (!granted) {
      const scope = scopes[Number(reply[2]) - 1] as RateScope;
      return { ok: false, limit: String(reply[1]) as RateLimitKind, scope: { kind: scope.kind, id: scope.id }, retryAfterMs: Math.ceil(Number(reply[3])), info };
    }
    let released = false;
    const lease = {
      release: async (actualTokens?: number) => {
        validateActualTokens(actualTokens);
        if (released) return;
        released = true;
        const needs = scopes.some((s) => s.limits.maxConcurrency !== undefined) || (actualTokens !== undefined && actualTokens !== cost && scopes.some((s) => s.limits.tpm !== undefined));
        if (!needs) return;
        const keys: string[] = [];
        for (const s of scopes) keys.push(this.key(s, 'tpm'), this.key(s, 'leases'));
        const delta = actualTokens === undefined ? 0 : actualTokens - cost;
        await this.redis.eval(RELEASE_SCRIPT, keys, [scopes.length, leaseId, delta, ...scopes.map((s) => s.limits.tpm ?? 0)]);
      },
    };
    return { ok: true, lease, info };
  }

  async peek(scopes: RateScope[]): Promise<RateLimitInfo> {
    validateAcquire(scopes, { estimatedTokens: 0 });
    const reply = await this.redis.eval<string[]>(PEEK_SCRIPT, this.keys(scopes), []);
    return rateLimitInfo(scopes, parseStates(reply.slice(1), scopes.length), Number(reply[0]));
  }

  async close(): Promise<void> {
    await this.redis.release();
  }

  private key(scope: RateScope, what: 'rpm' | 'tpm' | 'leases'): string {
    return `${this.redis.prefix}rl:${scopeKey(scope)}:${what}`;
  }

  private keys(scopes: RateScope[]): string[] {
    return scopes.flatMap((s) => [this.key(s, 'rpm'), this.key(s, 'tpm'), this.key(s, 'leases')]);
  }
}

function parseStates(flat: string[], n: number): ScopeState[] {
  const out: ScopeState[] = [];
  for (let i = 0; i < n; i++) {
    const rpm = flat[i * 3];
    const tpm = flat[i * 3 + 1];
    out.push({ rpmTat: rpm ? Number(rpm) : undefined, tpmTat: tpm ? Number(tpm) : undefined, inFlight: Number(flat[i * 3 + 2] ?? 0) });
  }
  return out;
}
