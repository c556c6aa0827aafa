import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { sharedFixture, sharedSkipReason, type StoreFixture } from '../__fixtures__/store-fixtures.js';
import { refusedValueError } from './postgres-database.js';

/**
 * PostgreSQL refuses some values SQLite stores or compares: a NUL character in text or jsonb (22021,
 * 22P05) and a number past BIGINT's range (22003). The shared stores answer those as `invalid_request` (a
 * 400 through the gateway), not as a raw driver error (`internal`, a 500). (Found in review.)
 */
describe('refusedValueError', () => {
  it('maps the value refusals to invalid_request and leaves other errors alone', () => {
    for (const code of ['22021', '22P05', '22003']) {
      const e = refusedValueError(Object.assign(new Error(`refused (${code})`), { code }));
      expect(LLMError.isInstance(e) && e.code).toBe('invalid_request');
    }
    const other = Object.assign(new Error('duplicate'), { code: '23505' });
    expect(refusedValueError(other)).toBe(other);
    expect(refusedValueError(undefined)).toBe(undefined);
  });
});

const skip = sharedSkipReason();
describe.skipIf(skip !== undefined)(skip ?? 'shared (PostgreSQL) stores and values PostgreSQL refuses', () => {
  let fx: StoreFixture;
  beforeEach(async () => {
    fx = await sharedFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'resolved';
    } catch (e) {
      return LLMError.isInstance(e) ? e.code : `raw ${(e as { code?: string }).code}`;
    }
  };

  it('a NUL in a tenant name, in preferences (jsonb) or in a looked-up id', async () => {
    expect(await code(fx.stores.tenants.createTenant({ id: 'acme', name: 'Ac\0me' }))).toBe('invalid_request');
    expect(await code(fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme', preferences: { note: '\0' } }))).toBe('invalid_request');
    expect(await code(fx.stores.tenants.getTenant('a\0b'))).toBe('invalid_request');
    expect(await code(fx.stores.ledger.query({ tenantId: 'a\0' }))).toBe('invalid_request');
  });

  it('a time past BIGINT in a ledger or audit query', async () => {
    expect(await code(fx.stores.ledger.query({ from: 1e20 }))).toBe('invalid_request');
    expect(await code(fx.stores.audit.list({ from: 1e20 }))).toBe('invalid_request');
  });

  it('inside a transaction too (a key renamed to a name with a NUL)', async () => {
    await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const { key } = await fx.stores.tenants.createKey('acme', { name: 'k' });
    expect(await code(fx.stores.tenants.updateKey(key.id, { name: 'k\0' }))).toBe('invalid_request');
  });
});
