/**
 * The router reports a failing cache (a store whose calls fail, a semantic cache that cannot be built) only as a
 * `cache:error` event, the call going on as a miss: the gateway logs those events, at level `warn`, once per kind
 * and then at most once a minute with the count of those left out, without the request's text or credentials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheStore, CachedAnswer } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import type { GatewayLogEntry } from '../types.js';
import { CACHE_ERROR_LOG_INTERVAL_MS } from './cache-error-log.js';

const PROMPT = 'my private question ZQX-4471';

/** An exact-cache store whose every call fails, with a message quoting a credential. */
class FailingStore implements CacheStore<CachedAnswer> {
  calls = 0;
  private fail(): Promise<never> {
    this.calls++;
    return Promise.reject(new Error('cache backend unreachable (auth sk-live-abcdefgh12345678 refused)'));
  }
  get(): Promise<CachedAnswer | undefined> {
    return this.fail();
  }
  set(): Promise<void> {
    return this.fail();
  }
  delete(): Promise<boolean> {
    return this.fail();
  }
  clear(): Promise<void> {
    return this.fail();
  }
}

const chat = (h: Harness) => post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: PROMPT }] });

describe('the gateway logs the router cache:error events', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('a failing exact-cache store: one warn entry per kind, again after the interval with the count left out; no prompt, no credential', async () => {
    let t = 1_000_000;
    const entries: GatewayLogEntry[] = [];
    const store = new FailingStore();
    const h = await createHarness({
      cache: { exact: { enabled: true } },
      routerOptions: { cacheStore: store },
      gateway: { log: (e) => entries.push(e), now: () => t },
    });
    cleanup.push(() => h.close());
    const cacheEntries = () => entries.filter((e) => e['cacheKind'] !== undefined);
    for (let i = 0; i < 3; i++) expect((await chat(h)).status).toBe(200); // a miss each time: the calls are served
    // The store is read before each call and written after it (not waited for): every failure reported.
    await expect.poll(() => store.calls, { timeout: 5_000 }).toBe(6);
    expect(cacheEntries()).toHaveLength(1);
    const [first] = cacheEntries();
    expect(first).toMatchObject({ level: 'warn', cacheKind: 'exact', code: expect.any(String), requestId: expect.any(String) });
    expect(first!.message).toMatch(/^exact cache failed \(calls go on without it\): \w+: cache backend unreachable/);
    expect(first).not.toHaveProperty('repeated');
    t += CACHE_ERROR_LOG_INTERVAL_MS;
    expect((await chat(h)).status).toBe(200);
    await expect.poll(() => cacheEntries().length, { timeout: 5_000 }).toBe(2);
    // The read of this call is logged, with the five failures left out since the first entry.
    expect(cacheEntries()[1]).toMatchObject({ level: 'warn', cacheKind: 'exact', repeated: 5 });
    expect(cacheEntries()[1]!.message).toContain('5 more failure(s) not logged since its last entry');
    const logged = JSON.stringify(entries);
    expect(logged).not.toContain('ZQX-4471');
    expect(logged).not.toContain('sk-live');
  });

  it('a semantic cache that cannot be built (its SQLite file cannot be opened) is logged once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-cache-log-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const entries: GatewayLogEntry[] = [];
    const h = await createHarness({
      models: [mockModel('mock')],
      cache: { semantic: { enabled: true, embedder: 'mock', store: { type: 'sqlite', path: join(file, 'semantic.db') } } },
      gateway: { log: (e) => entries.push(e) },
    });
    cleanup.push(() => h.close());
    for (let i = 0; i < 2; i++) expect((await chat(h)).status).toBe(200);
    await expect.poll(() => entries.filter((e) => e['cacheKind'] === 'semantic').length, { timeout: 5_000 }).toBe(1);
    const [entry] = entries.filter((e) => e['cacheKind'] === 'semantic');
    expect(entry).toMatchObject({ level: 'warn', cacheKind: 'semantic' });
    expect(entry!.message).toMatch(/^semantic cache failed \(calls go on without it\): /);
    expect(JSON.stringify(entries)).not.toContain('ZQX-4471');
  });

  it('stops logging once the gateway is closed', async () => {
    const entries: GatewayLogEntry[] = [];
    const store = new FailingStore();
    const h = await createHarness({ cache: { exact: { enabled: true } }, routerOptions: { cacheStore: store }, gateway: { log: (e) => entries.push(e) } });
    cleanup.push(() => h.router.close());
    await h.gateway.close();
    await h.router.generate(PROMPT);
    expect(store.calls).toBeGreaterThan(0);
    expect(entries.filter((e) => e['cacheKind'] !== undefined)).toEqual([]);
  });
});
