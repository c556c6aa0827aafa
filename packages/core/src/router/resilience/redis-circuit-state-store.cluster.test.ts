/**
 * The Redis circuit store on a Redis in cluster mode: every script touches only one circuit's keys, which share its
 * hash tag (`<keyPrefix>{<deployment>}`: one slot), as docs/core/router.md says. A key outside it (as the prefix-wide
 * mark of unannounced failures once was) fails every admission with CROSSSLOT: each router would then decide from its
 * own view and a circuit opened by one router would not be refused by another. Here one real redis-server with
 * `cluster-enabled yes` owns every slot, so no key is MOVED: only the slot check applies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CircuitBreakerSchema } from '../../config/schema.js';
import { freePort } from '../../stores/__fixtures__/free-port.js';
import { connectRedis, type RedisHandle } from '../../stores/redis/redis-connection.js';
import { RedisCircuitStateStore } from './redis-circuit-state-store.js';

let server: ChildProcess | undefined;
let dir = '';
let url = '';
let admin: RedisHandle | undefined;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-review-cluster-'));
  const port = await freePort();
  const busPort = await freePort();
  server = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', join(dir, 'nodes.conf'), '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  url = `redis://127.0.0.1:${port}`;
  await vi.waitFor(
    async () => {
      admin = (await connectRedis(url, '')).retain();
    },
    { timeout: 10_000, interval: 50 },
  );
  await admin!.command(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
  await vi.waitFor(async () => expect(String(await admin!.command(['CLUSTER', 'INFO']))).toContain('cluster_state:ok'), { timeout: 10_000, interval: 50 });
}, 30_000);

afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  await admin?.release();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('RedisCircuitStateStore on a Redis in cluster mode', () => {
  it('admission answers (no CROSSSLOT), so a circuit opened by router B is refused by router A', async () => {
    const config = CircuitBreakerSchema.parse({ failureThreshold: 2, cooldownMs: 60_000 });
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const errors: unknown[] = [];
    const storeA = await RedisCircuitStateStore.connect(url, { keyPrefix: prefix, onError: (e) => errors.push(e) });
    cleanup.push(() => storeA.close());
    const storeB = await RedisCircuitStateStore.connect(url, { keyPrefix: prefix, onError: (e) => errors.push(e) });
    cleanup.push(() => storeB.close());
    const a = storeA.circuit('primary', { config, now: Date.now });
    const b = storeB.circuit('primary', { config, now: Date.now });

    const first = await a.acquire();
    expect(first).toBeDefined();
    a.success(first);
    b.failure(await b.acquire());
    b.failure(await b.acquire());
    await storeB.flush();
    expect(b.state).toBe('open');
    const second = await a.acquire();
    // A shared breaker: A's admission reads the open circuit in Redis and refuses.
    expect(errors.map((e) => String((e as Error)?.message ?? e))).toEqual([]);
    expect(second).toBeUndefined();
  });

  it('a router whose Redis user may not publish failure notices marks the circuit in its own hash: A reports its success, no CROSSSLOT', async () => {
    const config = CircuitBreakerSchema.parse({ failureThreshold: 2, cooldownMs: 60_000 });
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    // A user of its own with no channel: B may not PUBLISH (nor SUBSCRIBE) the notices.
    const user = `t${randomBytes(6).toString('hex')}`;
    await admin!.command(['ACL', 'SETUSER', user, 'on', '>pw', '~*', '+@all', 'resetchannels']);
    const errors: unknown[] = [];
    const storeA = await RedisCircuitStateStore.connect(url, { keyPrefix: prefix, onError: (e) => errors.push(e) });
    cleanup.push(() => storeA.close());
    const storeB = await RedisCircuitStateStore.connect(url.replace('redis://', `redis://${user}:pw@`), { keyPrefix: prefix, onError: () => {} });
    cleanup.push(() => storeB.close());
    const a = storeA.circuit('primary', { config, now: Date.now });
    const b = storeB.circuit('primary', { config, now: Date.now });
    // B serves a call (its admission marks the circuit); A admits a call; B fails; A's call succeeds; B fails again.
    b.success(await b.acquire());
    await storeB.flush();
    const inFlight = await a.acquire();
    b.failure(await b.acquire());
    await storeB.flush();
    await storeA.flush();
    a.success(inFlight);
    await storeA.flush();
    b.failure(await b.acquire());
    await storeB.flush();
    // A's success was reported (it read the mark), so two failures in a row never happened: one breaker.
    expect(b.state).toBe('closed');
    expect(errors.map((e) => String((e as Error)?.message ?? e))).toEqual([]);
  });
});
