import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { TenantStore } from '../../tenancy/types.js';
import type { FixtureFactory, StoreFixture } from './store-fixtures.js';

async function expectLLMError(p: Promise<unknown>, code: string, param?: string): Promise<LLMError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(LLMError.isInstance(e), `expected LLMError ${code}, got ${String(e)}`).toBe(true);
  const err = e as LLMError;
  expect(err.code).toBe(code);
  if (param !== undefined) expect(err.param).toBe(param);
  return err;
}

export function tenantStoreContract(label: string, makeFixture: FixtureFactory): void {
  describe(`TenantStore contract (${label})`, () => {
    let fx: StoreFixture;
    let store: TenantStore;
    beforeEach(async () => {
      fx = await makeFixture();
      store = fx.stores.tenants;
    });
    afterEach(async () => {
      await fx.close();
    });

    it('creates, reads, lists, updates and deletes tenants', async () => {
      const a = await store.createTenant({ id: 'acme', name: 'Acme', tier: 'pro', allowedModels: ['gpt-4o'], limits: { rpm: 60 }, budget: { amountUsd: 10, period: 'month' }, preferences: { strategy: 'balanced' } });
      expect(a).toMatchObject({ id: 'acme', name: 'Acme', tier: 'pro', allowedModels: ['gpt-4o'], limits: { rpm: 60 }, budget: { amountUsd: 10, period: 'month' }, disabled: false });
      const b = await store.createTenant({ name: 'Generated' });
      expect(b.id).toMatch(/^ten_/);
      expect(b.tier).toBe('basic');
      expect(b.preferences).toEqual({});
      expect(await store.getTenant('acme')).toEqual(a);
      expect(await store.getTenant('nope')).toBeUndefined();
      expect((await store.listTenants()).map((t) => t.id).sort()).toEqual(['acme', b.id].sort());
      expect(await store.listTenants({ limit: 1 })).toHaveLength(1);

      const u = await store.updateTenant('acme', { tier: 'enterprise', limits: null, budget: { amountUsd: 5, period: 'day' }, disabled: true });
      expect(u.tier).toBe('enterprise');
      expect(u.limits).toBeUndefined();
      expect(u.budget).toEqual({ amountUsd: 5, period: 'day' });
      expect(u.allowedModels).toEqual(['gpt-4o']);
      expect(u.disabled).toBe(true);
      expect(await store.getTenant('acme')).toEqual(u);

      expect(await store.deleteTenant('acme')).toBe(true);
      expect(await store.deleteTenant('acme')).toBe(false);
      expect(await store.getTenant('acme')).toBeUndefined();
    });

    // `offset` pages by position: a tenant deleted between two pages moved the next page on by one, so a tenant went
    // missing. `after` pages by id (byte order: `Z` before `a`), which a deletion (even of the cursor itself) does not move.
    it('lists tenants after an id, ordered by id in byte order: a tenant deleted between pages makes none go missing', async () => {
      for (const id of ['t-c', 't-a', 'T-Z', 't-e', 't-b', 't-d']) await store.createTenant({ id, name: id });
      const first = (await store.listTenants({ limit: 2 })).map((t) => t.id);
      expect(first).toEqual(['T-Z', 't-a']);
      await store.deleteTenant('t-a');
      await store.deleteTenant('T-Z');
      const second = (await store.listTenants({ after: first.at(-1)!, limit: 2 })).map((t) => t.id);
      await store.deleteTenant('t-b');
      await store.createTenant({ id: 't-0', name: 'before the cursor' });
      const rest = (await store.listTenants({ after: second.at(-1)!, limit: 10 })).map((t) => t.id);
      expect([second, rest]).toEqual([
        ['t-b', 't-c'],
        ['t-d', 't-e'],
      ]);
      expect((await store.listTenants({ after: 't-e' })).map((t) => t.id)).toEqual([]);
    });

    it('keeps custom models per tenant', async () => {
      const t = await store.createTenant({ id: 'm', name: 'M', models: [{ name: 'private-llm', engine: 'mock' }] });
      await expectLLMError(store.createTenant({ name: 'bad', models: [{ name: '', engine: 'mock' }] }), 'invalid_request', 'models.0.name');
      expect((await store.getTenant('m'))?.models?.[0]?.name).toBe('private-llm');
      expect(t.models?.[0]?.name).toBe('private-llm');
    });

    it('rejects bad input with a typed error naming the field', async () => {
      await expectLLMError(store.createTenant({ name: 'x', tier: 'gold' as never }), 'invalid_request', 'tier');
      await expectLLMError(store.createTenant({ name: 'x', limits: { rpm: -1 } }), 'invalid_request', 'limits.rpm');
      await expectLLMError(store.createTenant({ name: 'x', budget: { amountUsd: -5, period: 'month' } }), 'invalid_request', 'budget.amountUsd');
      await expectLLMError(store.createTenant({ id: 'bad id!', name: 'x' }), 'invalid_request', 'id');
      for (const id of ['.', '..']) await expectLLMError(store.createTenant({ id, name: 'dots only' }), 'invalid_request', 'id');
      await expectLLMError(store.createTenant({ name: '' }), 'invalid_request', 'name');
      await expectLLMError(store.createTenant({ name: 'x', extra: 1 } as never), 'invalid_request');
      await store.createTenant({ id: 'dup', name: 'first' });
      await expectLLMError(store.createTenant({ id: 'dup', name: 'second' }), 'conflict', 'id');
      expect((await store.getTenant('dup'))?.name).toBe('first');
      await expectLLMError(store.updateTenant('missing', { name: 'y' }), 'not_found');
      await expectLLMError(store.updateTenant('dup', { tier: 'x' as never }), 'invalid_request', 'tier');
      await expectLLMError(store.createKey('missing', { name: 'k' }), 'not_found', 'tenantId');
      await expectLLMError(store.createKey('dup', { name: '' }), 'invalid_request', 'name');
    });

    it('issues a secret once, stores only its SHA-256, and authenticates with it', async () => {
      await store.createTenant({ id: 't1', name: 'T1' });
      const { key, secret } = await store.createKey('t1', { name: 'ci', limits: { rpm: 5 } });
      expect(secret).toMatch(/^llmrr_[A-Za-z0-9_-]{43}$/);
      expect(key.prefix).toBe(secret.slice(0, 12));
      expect(key.hash).toBe(createHash('sha256').update(secret).digest('hex'));
      expect(key.id).toMatch(/^key_/);
      expect(key.limits).toEqual({ rpm: 5 });

      // The secret appears nowhere: not in what the store returns later, not in the database.
      const listed = await store.listKeys('t1');
      expect(listed).toHaveLength(1);
      expect(JSON.stringify(listed)).not.toContain(secret.slice(6));
      const rows = await fx.sql('SELECT * FROM llmrr_api_keys');
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(secret.slice(6));

      const ok = await store.authenticate(secret);
      expect(ok.ok).toBe(true);
      if (ok.ok) {
        expect(ok.tenant.id).toBe('t1');
        expect(ok.key.id).toBe(key.id);
        expect(ok.key.lastUsedAt).toBeTypeOf('number');
      }
      // (Best-effort, in the background on PostgreSQL: written soon after the login.)
      await vi.waitFor(async () => expect((await store.getKey(key.id))?.lastUsedAt).toBeTypeOf('number'), { timeout: 10_000 });
    });

    it('refuses malformed, unknown, revoked and expired keys and disabled tenants', async () => {
      await store.createTenant({ id: 't2', name: 'T2' });
      const { key, secret } = await store.createKey('t2', { name: 'a' });
      expect(await store.authenticate('')).toEqual({ ok: false, reason: 'malformed' });
      expect(await store.authenticate('Bearer nonsense')).toEqual({ ok: false, reason: 'malformed' });
      expect(await store.authenticate(`llmrr_${'A'.repeat(43)}`)).toEqual({ ok: false, reason: 'unknown_key' });
      // One character off: same shape, different hash.
      const flipped = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
      expect(await store.authenticate(flipped)).toEqual({ ok: false, reason: 'unknown_key' });

      const expired = await store.createKey('t2', { name: 'old', expiresAt: 1_000 });
      expect(await store.authenticate(expired.secret)).toMatchObject({ ok: false, reason: 'expired', keyId: expired.key.id });

      await store.updateTenant('t2', { disabled: true });
      expect(await store.authenticate(secret)).toMatchObject({ ok: false, reason: 'tenant_disabled', tenantId: 't2' });
      await store.updateTenant('t2', { disabled: false });
      expect((await store.authenticate(secret)).ok).toBe(true);

      const { key: revoked, changed } = await store.revokeKey(key.id);
      expect(changed).toBe(true);
      expect(revoked.revokedAt).toBeTypeOf('number');
      expect(await store.authenticate(secret)).toMatchObject({ ok: false, reason: 'revoked', keyId: key.id });
      // Revoking again is a no-op that keeps the first time, and says it changed nothing.
      expect(await store.revokeKey(key.id)).toEqual({ key: expect.objectContaining({ id: key.id, revokedAt: revoked.revokedAt }), changed: false });
      await expectLLMError(store.rotateKey(key.id), 'conflict');
      await expectLLMError(store.revokeKey('key_missing'), 'not_found');
      await expectLLMError(store.rotateKey('key_missing'), 'not_found');
    });

    it('a change written by another process applies on the next authentication (cached lookups included)', async () => {
      await store.createTenant({ id: 'tx', name: 'TX' });
      const a = await store.createKey('tx', { name: 'a' });
      const b = await store.createKey('tx', { name: 'b' });
      for (let i = 0; i < 3; i++) expect((await store.authenticate(a.secret)).ok).toBe(true); // warm any cache
      expect((await store.authenticate(b.secret)).ok).toBe(true);
      // Another connection (as another gateway process or the CLI would) revokes key a ...
      await fx.sql(`UPDATE llmrr_api_keys SET revoked_at = 5 WHERE id = '${a.key.id}'`);
      expect(await store.authenticate(a.secret)).toMatchObject({ ok: false, reason: 'revoked' });
      expect((await store.authenticate(b.secret)).ok).toBe(true);
      // ... and disables the tenant.
      await fx.sql(`UPDATE llmrr_tenants SET disabled = TRUE WHERE id = 'tx'`);
      expect(await store.authenticate(b.secret)).toMatchObject({ ok: false, reason: 'tenant_disabled' });
    });

    it('of concurrent revocations of a key, exactly one reports that it revoked it (also against another connection)', async () => {
      await store.createTenant({ id: 'tr', name: 'TR' });
      const { key } = await store.createKey('tr', { name: 'k' });
      const all = await Promise.all(Array.from({ length: 8 }, () => store.revokeKey(key.id)));
      expect(all.filter((r) => r.changed)).toHaveLength(1);
      expect(new Set(all.map((r) => r.key.revokedAt)).size).toBe(1);
      // A key another connection (another gateway process) revoked is not revoked again by this one.
      const other = await store.createKey('tr', { name: 'other' });
      await fx.sql(`UPDATE llmrr_api_keys SET revoked_at = 5 WHERE id = '${other.key.id}'`);
      expect(await store.revokeKey(other.key.id)).toEqual({ key: expect.objectContaining({ id: other.key.id, revokedAt: 5 }), changed: false });
    });

    it('rotation keeps the key id, invalidates the old secret at once and issues a new one', async () => {
      await store.createTenant({ id: 't3', name: 'T3' });
      const first = await store.createKey('t3', { name: 'svc' });
      const rotated = await store.rotateKey(first.key.id);
      expect(rotated.key.id).toBe(first.key.id);
      expect(rotated.secret).not.toBe(first.secret);
      expect(rotated.key.hash).not.toBe(first.key.hash);
      expect(rotated.key.rotatedAt).toBeTypeOf('number');
      expect(await store.authenticate(first.secret)).toEqual({ ok: false, reason: 'unknown_key' });
      const now = await store.authenticate(rotated.secret);
      expect(now.ok && now.key.id).toBe(first.key.id);
    });

    it('a rotation with the hash it read is a compare-and-set: of two alike, one wins and the other is a conflict (also against another connection)', async () => {
      await store.createTenant({ id: 't4', name: 'T4' });
      const first = await store.createKey('t4', { name: 'svc' });
      const read = (await store.getKey(first.key.id))!;
      const both = await Promise.allSettled([store.rotateKey(read.id, { expectedHash: read.hash }), store.rotateKey(read.id, { expectedHash: read.hash })]);
      const won = both.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(won).toHaveLength(1);
      const lost = both.find((r) => r.status === 'rejected')!.reason as LLMError;
      expect([LLMError.isInstance(lost), lost.code, lost.param]).toEqual([true, 'conflict', 'keyId']);
      // The winner's secret is the one in force; the key is as the winner left it.
      expect(await store.authenticate(won[0]!.secret)).toMatchObject({ ok: true, key: { id: read.id } });
      expect((await store.getKey(read.id))!.hash).toBe(won[0]!.key.hash);
      // A rotation by another connection (another gateway process) after the read: this one is a conflict, theirs stands.
      const current = (await store.getKey(read.id))!;
      await fx.sql(`UPDATE llmrr_api_keys SET hash = '${'f'.repeat(64)}' WHERE id = '${read.id}'`);
      await expectLLMError(store.rotateKey(read.id, { expectedHash: current.hash }), 'conflict', 'keyId');
      expect((await store.getKey(read.id))!.hash).toBe('f'.repeat(64));
      // A revoked key is a conflict whatever hash is expected; an unknown one is not_found.
      await store.revokeKey(read.id);
      expect((await expectLLMError(store.rotateKey(read.id, { expectedHash: 'f'.repeat(64) }), 'conflict')).message).toMatch(/revoked/);
      await expectLLMError(store.rotateKey('key_missing', { expectedHash: read.hash }), 'not_found');
    });

    it('updates a key’s name, limits and expiry, seen by the next authentication', async () => {
      await store.createTenant({ id: 't5', name: 'T5' });
      const { key, secret } = await store.createKey('t5', { name: 'svc', limits: { rpm: 5 }, expiresAt: 4_000_000_000_000 });
      const renamed = await store.updateKey(key.id, { name: 'service', limits: { rpm: 50, tpm: 1000 } });
      expect(renamed).toMatchObject({ id: key.id, name: 'service', limits: { rpm: 50, tpm: 1000 }, expiresAt: 4_000_000_000_000, hash: key.hash, prefix: key.prefix });
      expect(await store.getKey(key.id)).toEqual(renamed);
      const auth = await store.authenticate(secret);
      expect(auth.ok && auth.key.limits).toEqual({ rpm: 50, tpm: 1000 });

      // null clears; absent fields stay; an empty patch changes nothing.
      const cleared = await store.updateKey(key.id, { limits: null, expiresAt: null });
      expect(cleared.limits).toBeUndefined();
      expect(cleared.expiresAt).toBeUndefined();
      expect(cleared.name).toBe('service');
      expect(await store.updateKey(key.id, {})).toEqual(await store.getKey(key.id));
      const fresh = await store.getKey(key.id);
      expect(fresh?.limits).toBeUndefined();
      expect(fresh?.expiresAt).toBeUndefined();

      // An expiry in the past stops the key at once.
      await store.updateKey(key.id, { expiresAt: 1_000 });
      expect(await store.authenticate(secret)).toMatchObject({ ok: false, reason: 'expired', keyId: key.id });

      await expectLLMError(store.updateKey(key.id, { name: '' }), 'invalid_request', 'name');
      await expectLLMError(store.updateKey(key.id, { limits: { rpm: 0 } }), 'invalid_request', 'limits.rpm');
      await expectLLMError(store.updateKey(key.id, { expiresAt: 'soon' as never }), 'invalid_request', 'expiresAt');
      await expectLLMError(store.updateKey(key.id, { hash: 'x' } as never), 'invalid_request');
      await expectLLMError(store.updateKey('key_missing', { name: 'x' }), 'not_found', 'keyId');
      await store.revokeKey(key.id);
      await expectLLMError(store.updateKey(key.id, { limits: { rpm: 1 } }), 'conflict', 'keyId');
      expect((await store.getKey(key.id))?.revokedAt).toBeTypeOf('number');
    });

    it('deleting a tenant removes its keys', async () => {
      await store.createTenant({ id: 't4', name: 'T4' });
      const { secret } = await store.createKey('t4', { name: 'k' });
      await store.deleteTenant('t4');
      expect(await store.authenticate(secret)).toEqual({ ok: false, reason: 'unknown_key' });
      expect(await store.listKeys('t4')).toEqual([]);
    });
  });
}
