/**
 * The last `RedisHandle.release()` closes both of the handle's connections, whenever it comes: also while the second
 * (subscribed) one is still being opened (a circuit store closed right after it was built over the shared-mode
 * handle: a failed start, a short-lived worker), where node-redis's `destroy()` finds no socket yet and the connect
 * would go on, leaving a connection open for good (the process never exits by itself). Real Redis from
 * vitest.global-setup.ts.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RedisCircuitStateStore } from '../../router/resilience/redis-circuit-state-store.js';
import { runWorker } from '../__fixtures__/run-child.js';
import { sharedFixture, sharedSkipReason, testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { connectRedis, type RedisHandle } from './redis-connection.js';

const { redisUrl } = testServiceUrls();
const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(!redisUrl)('RedisHandle: the last release() closes the subscribed connection too', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  /** A Redis user of its own, so that CLIENT LIST shows only this test's connections. */
  async function ownUser(): Promise<{ admin: RedisHandle; user: string; url: string }> {
    const admin = (await connectRedis(redisUrl!, '')).retain();
    cleanup.push(() => admin.release());
    const user = `rc${randomBytes(6).toString('hex')}`;
    await admin.command(['ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all']);
    cleanup.push(async () => {
      // Frees a leaked connection (so the test process can exit), then the user.
      await admin.command(['CLIENT', 'KILL', 'USER', user]).catch(() => undefined);
      await admin.command(['ACL', 'DELUSER', user]);
    });
    const url = new URL(redisUrl!);
    url.username = user;
    url.password = 'pw';
    return { admin, user, url: url.toString() };
  }

  async function connectionsOf(admin: RedisHandle, user: string): Promise<string[]> {
    const list = String(await admin.command(['CLIENT', 'LIST']));
    return list.split('\n').filter((line) => line.includes(` user=${user} `));
  }

  it('a circuit store closed right after it was built over a handle leaves no connection open', async () => {
    const { admin, user, url } = await ownUser();
    // What createStateStores (shared mode) does: one handle, the circuit store built over it.
    const handle = await connectRedis(url, 'rc:');
    const store = new RedisCircuitStateStore(handle, { keyPrefix: `rc${randomBytes(4).toString('hex')}:` });
    // The last holder: release() closes the connection and the subscribed one, also once its connect completes.
    await store.close();
    // The subscribed connection's connect completes after close() returned: give it 3 s to show up (it may, for a
    // moment), then it must be gone (a leaked one stays, listed with cmd=unsubscribe).
    await vi
      .waitFor(async () => expect(await connectionsOf(admin, user)).not.toEqual([]), { timeout: 3_000, interval: 50 })
      .catch(() => undefined);
    await vi.waitFor(async () => expect(await connectionsOf(admin, user)).toEqual([]), { timeout: 5_000, interval: 50 });
  });

  it('a process that builds a circuit store over a handle and closes it at once exits by itself', async () => {
    const { url } = await ownUser();
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-release-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'child.mts');
    const storeModule = pathToFileURL(resolve(here, '../../router/resilience/redis-circuit-state-store.ts')).href;
    const connModule = pathToFileURL(resolve(here, './redis-connection.ts')).href;
    writeFileSync(
      script,
      [
        `import { RedisCircuitStateStore } from ${JSON.stringify(storeModule)};`,
        `import { connectRedis } from ${JSON.stringify(connModule)};`,
        `const handle = await connectRedis(${JSON.stringify(url)}, 'rc:');`,
        `const store = new RedisCircuitStateStore(handle, { keyPrefix: 'rcchild:' });`,
        `await store.close();`,
        `console.log('closed');`,
      ].join('\n'),
    );
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', tsx, script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    // Hang guard: well above the close grace and a tsx start under load.
    const outcome = await Promise.race([exited.then((code) => `exited ${code}`), new Promise<string>((r) => setTimeout(() => r('still running'), 15_000))]);
    expect({ out: out.trim(), outcome, err: err.trim() }).toEqual({ out: 'closed', outcome: 'exited 0', err: '' });
  }, 30_000);

  it.skipIf(sharedSkipReason() !== undefined)('a process that opens the shared-mode stores and closes them exits by itself (child-worker.ts)', async () => {
    const fixture = await sharedFixture();
    cleanup.push(() => fixture.close());
    // child-worker.ts reserve with 0 reservations: createStateStores, then stores.close() at once, then it exits.
    // runWorker kills it after the hang guard and rejects ("worker exited null").
    await expect(runWorker(['reserve', JSON.stringify(fixture.childConfig), 't', '0', '1', '0.1', 'r'], 15_000)).resolves.toBe('{"granted":0}\n');
  }, 40_000);
});
