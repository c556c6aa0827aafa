import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStateStores } from './create-state-stores.js';
import type { StateStores } from './types.js';

describe('list offsets and limits out of range', () => {
  let stores: StateStores;
  beforeEach(async () => {
    stores = await createStateStores({ mode: 'memory' });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
  });
  afterEach(() => stores.close());

  it('huge, infinite or NaN offsets list nothing (or the first page) instead of throwing a database error', async () => {
    for (const offset of [1e20, Number.MAX_SAFE_INTEGER + 2, Infinity]) {
      await expect(stores.tenants.listTenants({ offset })).resolves.toEqual([]);
      await expect(stores.ledger.query({ offset })).resolves.toEqual([]);
    }
    expect((await stores.tenants.listTenants({ offset: Number.NaN })).map((t) => t.id)).toEqual(['acme']);
    expect((await stores.tenants.listTenants({ limit: Number.NaN })).map((t) => t.id)).toEqual(['acme']);
    await expect(stores.ledger.query({ limit: Number.NaN, offset: Number.NaN })).resolves.toEqual([]);
    await stores.audit.append({ actor: 'admin', action: 'x' });
    expect(await stores.audit.list({ limit: Number.NaN })).toHaveLength(1);
    expect(await stores.audit.list({ limit: Infinity })).toHaveLength(1);
  });
});
