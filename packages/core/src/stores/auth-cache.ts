import type { ApiKey, Tenant } from '../tenancy/types.js';

interface Entry {
  tenant: Tenant;
  key: ApiKey;
  at: number;
}

/**
 * In-process cache of successful key lookups: SHA-256 of the secret -> (key, tenant). Only keys that
 * authenticated are kept (unknown secrets are not, so a flood of random keys cannot fill it); revocation,
 * expiry and a disabled tenant are re-checked on every hit (`checkKey`) against the cached rows.
 * The owning store drops entries when it changes a key or tenant itself (`invalidateKey`,
 * `invalidateTenant`), and entries older than `ttlMs` are read again, which bounds how long a change made
 * by ANOTHER process can go unseen (the SQLite store also clears everything as soon as another connection
 * committed, see `SqliteTenantStore`). `ttlMs <= 0` turns the cache off.
 * The cached objects are shared between requests: callers must not mutate them.
 */
export class AuthCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every invalidation: a lookup that started before one must not fill the cache. */
  private generation = 0;

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get(hash: string, now: number): { tenant: Tenant; key: ApiKey } | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (now - e.at >= this.ttlMs || now < e.at) {
      this.entries.delete(hash);
      return undefined;
    }
    return e;
  }

  /** Call before reading the database; pass the value to `set`. */
  begin(): number {
    return this.generation;
  }

  set(hash: string, tenant: Tenant, key: ApiKey, now: number, generation: number): void {
    if (!this.enabled || generation !== this.generation) return;
    if (this.entries.size >= this.maxEntries) {
      // Oldest first (Map keeps insertion order).
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, { tenant, key, at: now });
  }

  invalidateKey(keyId: string): void {
    this.generation += 1;
    for (const [h, e] of this.entries) if (e.key.id === keyId) this.entries.delete(h);
  }

  invalidateTenant(tenantId: string): void {
    this.generation += 1;
    for (const [h, e] of this.entries) if (e.tenant.id === tenantId) this.entries.delete(h);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
