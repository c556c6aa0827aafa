/**
 * The router reports a failing cache (a store whose calls fail, a semantic cache that cannot be built, its embedding
 * call failing) only as a `cache:error` event, the call going on as a miss: the gateway logs those events, at level
 * `warn`, once per kind and then at most once a minute with the count of those left out, without the request's text
 * or credentials; each once, by the gateway that issued its request id when a router is shared.
 * Real peers: an OpenAI-wire embeddings upstream on loopback (raw node:http), the gateway over the real router.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheStore, CachedAnswer } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import { startRawUpstream, type RawUpstream } from '../test-support/raw-upstream.js';
import type { GatewayLogEntry } from '../types.js';
import { CACHE_ERROR_LOG_INTERVAL_MS } from './cache-error-log.js';

const PROMPT = 'my private question ZQX-4471 about my diagnosis';

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
const cacheEntriesOf = (entries: GatewayLogEntry[]) => entries.filter((e) => e['cacheKind'] !== undefined);

/** An OpenAI-wire embeddings upstream answering every request 400 with `message(input)`. */
function failingEmbeddings(message: (input: string) => string): Promise<RawUpstream> {
  return startRawUpstream((_req, res, body) => {
    const input = (JSON.parse(body) as { input: string[] | string }).input;
    const payload = JSON.stringify({ error: { message: message(Array.isArray(input) ? input[0]! : input), type: 'invalid_request_error', param: 'input', code: null } });
    res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }).end(payload);
  });
}

/** A harness whose semantic cache embeds through `up` (deployment `emb`). */
function semanticOver(up: RawUpstream, entries: GatewayLogEntry[]): Promise<Harness> {
  return createHarness({
    models: [mockModel('mock'), { name: 'emb', engine: 'openai-compatible', baseURL: `${up.url}/v1`, apiKey: 'k', model: 'text-embedding-test', capabilities: ['embeddings'] }],
    cache: { semantic: { enabled: true, embedder: 'emb' } },
    gateway: { log: (e) => entries.push(e) },
  });
}

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
    const logged = JSON.stringify(entries).toLowerCase();
    expect(logged).not.toContain('zqx-4471');
    expect(logged).not.toContain('sk-live');
  });

  it("an embedding call whose provider's 400 quotes the input: logged by code, provider and status, without its message (no prompt text), with the call's request id", async () => {
    // Providers (and proxies in front of them) quote the offending input in their 400s.
    const up = await failingEmbeddings((text) => `Invalid 'input[0]': '${text}' contains a disallowed sequence`);
    cleanup.push(() => up.close());
    const entries: GatewayLogEntry[] = [];
    const h = await semanticOver(up, entries);
    cleanup.push(() => h.close());
    const res = await chat(h);
    expect(res.status).toBe(200);
    await expect.poll(() => entries.filter((e) => e['cacheKind'] === 'semantic').length, { timeout: 5_000 }).toBe(1);
    expect(up.requests).toBeGreaterThan(0);
    const [entry] = entries.filter((e) => e['cacheKind'] === 'semantic');
    expect(entry).toMatchObject({ level: 'warn', cacheKind: 'semantic', code: 'invalid_request', status: 400, provider: expect.any(String) });
    // The call that met it (its lookup embedded the question): the id the client got.
    expect(entry!.requestId).toBe(res.headers.get('x-request-id'));
    expect(entry!.message).toBe(`semantic cache failed (calls go on without it): invalid_request (provider ${String(entry!['provider'])}, status 400)`);
    // (The semantic cache embeds the normalized, lower-cased question: a quoted input would read "...zqx-4471...".)
    expect(JSON.stringify(cacheEntriesOf(entries)).toLowerCase()).not.toContain('zqx-4471');
  });

  it('a router shared by two gateways: each failure is logged once, by the gateway that issued its request id', async () => {
    const store = new FailingStore();
    const a: GatewayLogEntry[] = [];
    const b: GatewayLogEntry[] = [];
    const h = await createHarness({ cache: { exact: { enabled: true } }, routerOptions: { cacheStore: store }, gateway: { log: (e) => a.push(e) } });
    cleanup.push(() => h.router.close()); // (the gateways are closed below)
    const other = createGateway({ router: h.router, log: (e) => b.push(e) });
    const res = await chat(h);
    expect(res.status).toBe(200);
    await expect.poll(() => store.calls, { timeout: 5_000 }).toBe(2);
    expect(cacheEntriesOf(a)).toEqual([expect.objectContaining({ requestId: res.headers.get('x-request-id') })]);
    // Gateway B never saw this request: its log does not name it (nor count it in its rate limit).
    expect(cacheEntriesOf(b)).toEqual([]);
    // A call B serves is B's to log (its first failure of the kind), not A's (whose interval is still running).
    const resB = await post(other, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: PROMPT }] });
    expect(resB.status).toBe(200);
    await expect.poll(() => store.calls, { timeout: 5_000 }).toBe(4);
    expect(cacheEntriesOf(b)).toEqual([expect.objectContaining({ cacheKind: 'exact', requestId: resB.headers.get('x-request-id') })]);
    expect(cacheEntriesOf(a)).toHaveLength(1);
    // A call of an id no gateway issued (the router called directly) is the first gateway's: counted in its interval.
    await h.router.generate(PROMPT);
    await expect.poll(() => store.calls, { timeout: 5_000 }).toBe(6);
    await other.close(); // B's left out: its call's write
    expect(cacheEntriesOf(b)).toEqual([expect.objectContaining({ requestId: resB.headers.get('x-request-id') }), expect.objectContaining({ repeated: 1 })]);
    await h.gateway.close(); // A's: its call's write and both failures of the direct call
    expect(cacheEntriesOf(a)).toEqual([expect.objectContaining({ requestId: res.headers.get('x-request-id') }), expect.objectContaining({ repeated: 3 })]);
  });

  it('an injected clock set back (an NTP step, a test clock reset): the interval counts as over, not as hours still to wait', async () => {
    let t = 10_000_000;
    const store = new FailingStore();
    const entries: GatewayLogEntry[] = [];
    const h = await createHarness({ cache: { exact: { enabled: true } }, routerOptions: { cacheStore: store }, gateway: { log: (e) => entries.push(e), now: () => t } });
    cleanup.push(() => h.close());
    const logged = () => cacheEntriesOf(entries).length;
    expect((await chat(h)).status).toBe(200);
    await expect.poll(() => store.calls, { timeout: 5_000 }).toBe(2);
    expect(logged()).toBe(1);
    t = 1_000_000; // set back 2.5 h
    expect((await chat(h)).status).toBe(200);
    await expect.poll(() => store.calls, { timeout: 5_000 }).toBe(4);
    expect(logged()).toBe(2); // (the read; the write after it at the same time is left out)
    t += CACHE_ERROR_LOG_INTERVAL_MS / 2;
    expect((await chat(h)).status).toBe(200);
    await expect.poll(() => store.calls, { timeout: 5_000 }).toBe(6);
    expect(logged()).toBe(2);
    t += CACHE_ERROR_LOG_INTERVAL_MS;
    expect((await chat(h)).status).toBe(200);
    await expect.poll(() => logged(), { timeout: 5_000 }).toBe(3);
    expect(cacheEntriesOf(entries)[2]).toMatchObject({ repeated: 3 });
  });

  it('failures left out in the last interval get one entry counting them when the gateway closes', async () => {
    const store = new FailingStore();
    const entries: GatewayLogEntry[] = [];
    const h = await createHarness({ cache: { exact: { enabled: true } }, routerOptions: { cacheStore: store }, gateway: { log: (e) => entries.push(e) } });
    cleanup.push(() => h.router.close());
    for (let i = 0; i < 2; i++) expect((await chat(h)).status).toBe(200);
    await expect.poll(() => store.calls, { timeout: 5_000 }).toBe(4);
    expect(cacheEntriesOf(entries)).toHaveLength(1);
    await h.gateway.close();
    expect(cacheEntriesOf(entries)).toHaveLength(2);
    expect(cacheEntriesOf(entries)[1]).toMatchObject({ level: 'warn', cacheKind: 'exact', repeated: 3 });
    expect(cacheEntriesOf(entries)[1]!.message).toBe('exact cache failed 3 more time(s) not logged since its last entry (calls went on without it)');
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
    expect(JSON.stringify(entries).toLowerCase()).not.toContain('zqx-4471');
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
