import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { sharedSkipReason, testServiceUrls } from './__fixtures__/store-fixtures.js';
import { createStateStores } from './create-state-stores.js';
import type { StateStoresConfig } from './types.js';

async function errorOf(p: Promise<unknown>): Promise<LLMError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  if (!LLMError.isInstance(e)) throw new Error(`expected LLMError, got ${String(e)}`);
  return e;
}

/** A port that accepts TCP and closes at once: a peer that is not Redis/PostgreSQL. */
let deadPort = 0;
let dead: Server;
beforeAll(async () => {
  dead = createServer((s) => s.destroy());
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  deadPort = (dead.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => dead.close(r));
});

describe('createStateStores', () => {
  it('memory mode gives working stores that vanish on close', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    expect(stores.mode).toBe('memory');
    await stores.tenants.createTenant({ id: 'a', name: 'A' });
    expect((await stores.rateLimiter.acquire([{ kind: 'tenant', id: 'a', limits: { rpm: 1 } }], { estimatedTokens: 0 })).ok).toBe(true);
    await stores.close();
    await stores.close(); // idempotent
    const again = await createStateStores({ mode: 'memory' });
    expect(await again.tenants.getTenant('a')).toBeUndefined();
    await again.close();
  });

  it('embedded mode keeps tenants, keys, ledger, audit and budgets across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-embedded-'));
    try {
      const config: StateStoresConfig = { mode: 'embedded', dataDir: join(dir, 'nested', 'data'), synchronous: 'full' };
      const first = await createStateStores(config);
      await first.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const { secret } = await first.tenants.createKey('acme', { name: 'k' });
      await first.ledger.record({ requestId: 'r', tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0.5, latencyMs: 1, status: 'success' });
      await first.audit.append({ actor: 'admin', action: 'tenant.create', target: 'acme' });
      await first.budgets.reserve({ tenantId: 'acme', period: 'total', limitUsd: 1, estimateUsd: 0.5, reservationId: 'b' });
      await first.budgets.settle('b', 0.4);
      await first.close();

      const second = await createStateStores(config);
      expect((await second.tenants.authenticate(secret)).ok).toBe(true);
      expect((await second.ledger.get('r'))?.costUsd).toBe(0.5);
      expect(await second.audit.verify()).toMatchObject({ ok: true, count: 1 });
      expect((await second.budgets.spent('acme', 'total')).spentUsd).toBeCloseTo(0.4, 9);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad configs naming the field', async () => {
    expect((await errorOf(createStateStores({ mode: 'cloud' } as never))).param).toBe('mode');
    expect((await errorOf(createStateStores({ mode: 'embedded', dataDir: '' }))).param).toBe('dataDir');
    expect((await errorOf(createStateStores({ mode: 'shared', redisUrl: '', postgresUrl: 'postgres://x' }))).param).toBe('redisUrl');
    expect((await errorOf(createStateStores({ mode: 'shared', redisUrl: 'redis://x', postgresUrl: '' }))).param).toBe('postgresUrl');
  });

  it('says clearly when Redis is unreachable', async () => {
    const e = await errorOf(createStateStores({ mode: 'shared', redisUrl: `redis://:hunter2@127.0.0.1:${deadPort}`, postgresUrl: 'postgres://127.0.0.1:1/x' }));
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toContain('Cannot connect to Redis');
    expect(e.message).not.toContain('hunter2');
  });

  it.skipIf(!testServiceUrls().redisUrl)('says clearly when PostgreSQL is unreachable (and closes Redis)', async () => {
    const e = await errorOf(createStateStores({ mode: 'shared', redisUrl: testServiceUrls().redisUrl as string, postgresUrl: `postgres://u:secretpw@127.0.0.1:${deadPort}/db` }));
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toContain('PostgreSQL');
    expect(e.message).not.toContain('secretpw');
  });

  it.skipIf(sharedSkipReason() !== undefined)('refuses an unsafe PostgreSQL schema name', async () => {
    const urls = testServiceUrls();
    const e = await errorOf(createStateStores({ mode: 'shared', redisUrl: urls.redisUrl as string, postgresUrl: urls.postgresUrl as string, postgresSchema: 'x; DROP TABLE y' }));
    expect(e.param).toBe('postgresSchema');
  });
});
