import { describe, expect, it } from 'vitest';
import { SqliteTenantStore } from './sqlite-tenant-store.js';
import { openSqlite } from './sqlite-database.js';

describe('SqliteTenantStore authentication cache', () => {
  it('reuses a successful lookup and reads again after the TTL (the bound for writes it cannot see)', async () => {
    let now = 1_000_000;
    const handle = await openSqlite(':memory:');
    const store = new SqliteTenantStore(handle, () => now, { authCacheTtlMs: 5_000 });
    try {
      await store.createTenant({ id: 'c', name: 'C' });
      const { key, secret } = await store.createKey('c', { name: 'k' });
      expect((await store.authenticate(secret)).ok).toBe(true);
      // A write on the store's own connection that bypasses the store: invisible to data_version and to
      // the store's own invalidation, so only the TTL bounds it.
      handle.db.prepare('UPDATE llmrr_api_keys SET revoked_at = 1 WHERE id = ?').run(key.id);
      expect((await store.authenticate(secret)).ok).toBe(true); // served from the cache
      now += 5_000;
      expect(await store.authenticate(secret)).toMatchObject({ ok: false, reason: 'revoked' });
    } finally {
      await store.close();
    }
  });

  it('drops cached lookups at once on its own revoke, rotate, key update and tenant update; expiry is checked on every hit', async () => {
    let now = 1_000_000;
    const handle = await openSqlite(':memory:');
    const store = new SqliteTenantStore(handle, () => now);
    try {
      await store.createTenant({ id: 'c', name: 'C' });
      const k1 = await store.createKey('c', { name: 'k1', expiresAt: now + 1_000 });
      expect((await store.authenticate(k1.secret)).ok).toBe(true);
      now += 1_000;
      expect(await store.authenticate(k1.secret)).toMatchObject({ ok: false, reason: 'expired' });

      const k2 = await store.createKey('c', { name: 'k2' });
      expect((await store.authenticate(k2.secret)).ok).toBe(true);
      await store.updateKey(k2.key.id, { limits: { rpm: 7 } });
      const updated = await store.authenticate(k2.secret);
      expect(updated.ok && updated.key.limits).toEqual({ rpm: 7 });
      await store.updateTenant('c', { limits: { rpm: 9 } });
      const t = await store.authenticate(k2.secret);
      expect(t.ok && t.tenant.limits).toEqual({ rpm: 9 });
      const rotated = await store.rotateKey(k2.key.id);
      expect(await store.authenticate(k2.secret)).toMatchObject({ ok: false, reason: 'unknown_key' });
      expect((await store.authenticate(rotated.secret)).ok).toBe(true);
      await store.revokeKey(k2.key.id);
      expect(await store.authenticate(rotated.secret)).toMatchObject({ ok: false, reason: 'revoked' });
      await store.deleteTenant('c');
      expect(await store.authenticate(rotated.secret)).toMatchObject({ ok: false, reason: 'unknown_key' });
    } finally {
      await store.close();
    }
  });

  it('does not cache unknown secrets (a flood of random keys cannot fill it) and can be turned off', async () => {
    const handle = await openSqlite(':memory:');
    const off = new SqliteTenantStore(handle, Date.now, { authCacheTtlMs: 0 });
    try {
      await off.createTenant({ id: 'c', name: 'C' });
      const { key, secret } = await off.createKey('c', { name: 'k' });
      expect((await off.authenticate(secret)).ok).toBe(true);
      handle.db.prepare('UPDATE llmrr_api_keys SET revoked_at = 1 WHERE id = ?').run(key.id);
      expect(await off.authenticate(secret)).toMatchObject({ ok: false, reason: 'revoked' });
      for (let i = 0; i < 50; i++) expect((await off.authenticate(`llmrr_${String(i).padStart(43, 'x')}`)).ok).toBe(false);
      expect((off as unknown as { cache: { size: number } }).cache.size).toBe(0);
    } finally {
      await off.close();
    }
    // With the cache on: a known key is cached, 50 unknown ones are not.
    const on = new SqliteTenantStore(await openSqlite(':memory:'), Date.now, { authCacheTtlMs: 60_000 });
    try {
      await on.createTenant({ id: 'c', name: 'C' });
      const { secret } = await on.createKey('c', { name: 'k' });
      expect((await on.authenticate(secret)).ok).toBe(true);
      for (let i = 0; i < 50; i++) expect((await on.authenticate(`llmrr_${String(i).padStart(43, 'x')}`)).ok).toBe(false);
      expect((on as unknown as { cache: { size: number } }).cache.size).toBe(1);
    } finally {
      await on.close();
    }
  });
});
