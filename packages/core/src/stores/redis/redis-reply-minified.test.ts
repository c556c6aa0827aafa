/**
 * Redis error replies as a minified bundle sees them. esbuild's `--minify` (a Lambda or gateway build) renames classes:
 * core's own class of a reply shown by its first word became `_`, so a check by class name no longer knew it for an
 * error reply (the circuit store's check of its subscription then takes a refused PING for a failed connection, and
 * renews it). Built here with esbuild (tools/bench's, as it builds the gateway) and run on plain node against a real
 * Redis. node-redis itself is never in such a bundle: core loads `redis` by `import(specifier)` (`importOptional`, a
 * variable), which esbuild never bundles (left external here all the same), so its `ErrorReply` keeps its name and
 * `isErrorReply`'s `instanceof` of it is a guard only; what this tests is core's own class of a hidden reply, which the
 * bundle does rename.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hideClientError } from '../../util/redact-url.js';
import { freePort } from '../__fixtures__/free-port.js';
import { startSocketRedis, type SocketRedis } from '../__fixtures__/socket-redis.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { connectRedis, REPLY_TEXT_HIDDEN } from './redis-connection.js';

const coreDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

type Esbuild = { build(options: Record<string, unknown>): Promise<unknown> };
function loadEsbuild(): Esbuild | undefined {
  try {
    return createRequire(join(coreDir, '..', '..', 'tools', 'bench', 'package.json'))('esbuild') as Esbuild;
  } catch {
    return undefined;
  }
}
const esbuild = loadEsbuild();
const { redisUrl } = testServiceUrls();
const skip = esbuild ? undefined : 'minified-bundle test skipped: esbuild (a dev dependency of tools/bench) not installed';
if (skip) console.warn(skip);

/** What the bundle prints: the refused SET's error as the bundle's own `isErrorReply` reads it. */
const ENTRY = `
import { connectRedis, isErrorReply } from ${JSON.stringify(join(coreDir, 'src/stores/redis/redis-connection.ts'))};
const handle = (await connectRedis(process.argv[2], 'min:')).retain();
const e = await handle.command(['SET', 'k', 'v']).then(() => undefined, (x) => x);
console.log(JSON.stringify({ isErrorReply: isErrorReply(e), message: e?.message, className: e?.constructor?.name }));
await handle.release();
`;

describe.skipIf(skip !== undefined)(skip ?? 'a Redis error reply in a minified bundle', () => {
  let redis: SocketRedis;
  let port = 0;
  let dir = '';
  beforeAll(async () => {
    port = await freePort();
    redis = await startSocketRedis('minified', ['--port', String(port), '--bind', '127.0.0.1']);
    const admin = (await connectRedis(redis.url, '')).retain();
    try {
      await admin.command(['ACL', 'SETUSER', 'PIECE-OF-S3CRET', 'on', '>pw', '~*', '+ping', '+hello', '+select', '+client']);
    } finally {
      await admin.release();
    }
    // Under core's node_modules, so the bundle's import of redis (left external, as core imports it on demand) resolves.
    const cache = join(coreDir, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    dir = mkdtempSync(join(cache, 'llmrr-minified-'));
    writeFileSync(join(dir, 'entry.mjs'), ENTRY);
    await esbuild!.build({ entryPoints: [join(dir, 'entry.mjs')], outfile: join(dir, 'out.mjs'), bundle: true, minify: true, platform: 'node', format: 'esm', target: 'node20', external: ['redis', 'pg', 'better-sqlite3'], logLevel: 'error' });
  }, 60_000);
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await redis?.stop();
  });

  it('over a URL whose address is not sure, a NOPERM shown by its first word is still an error reply', { timeout: 60_000 }, async () => {
    const url = `redis://PIECE-OF-S3CRET:pw@127.0.0.1:${port}/0?k=x@cache.invalid`;
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'out.mjs'), url], { timeout: 30_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { isErrorReply: boolean; message: string; className: string };
    // The bundle did rename the class: the check must not rest on its name.
    expect(out.className).not.toBe('ErrorReply');
    expect(out).toMatchObject({ isErrorReply: true, message: `NOPERM (${REPLY_TEXT_HIDDEN})` });
    expect(out.message).not.toContain('PIECE-OF-S3CRET');
  });
});

describe('hideClientError and a minified class name', () => {
  // A minifier names classes `e`, `t`, `Xe`: such a name says nothing of the failure, and is not shown as its kind.
  it('shows a class name only when it names an error class, else an unknown kind', () => {
    const minified = { e: class e extends Error {}, Xe: class Xe extends Error {} };
    expect(hideClientError(new minified.e('x')).message).toMatch(/\(unknown kind\)$/);
    expect(hideClientError(new minified.Xe('x')).message).toMatch(/\(unknown kind\)$/);
    class SocketClosedUnexpectedlyError extends Error {}
    expect(hideClientError(new SocketClosedUnexpectedlyError('x')).message).toMatch(/\(SocketClosedUnexpectedlyError\)$/);
    // A name set as a string property (not minified) and a stable code come before the class.
    expect(hideClientError(Object.assign(new minified.e('x'), { code: 'ECONNRESET' })).message).toMatch(/\(ECONNRESET\)$/);
  });

  // node-redis's error of a MULTI whose commands Redis refused at EXEC: its class ends in `ErrorReply`, not `Error`.
  it.skipIf(!redisUrl)("shows node-redis's MultiErrorReply by its class (a real Redis refusing a MULTI's command)", { timeout: 60_000 }, async () => {
    const { createClient } = await import('redis');
    const client = createClient({ url: redisUrl! });
    await client.connect();
    try {
      const key = `min:multi:${process.pid}:${Date.now()}`;
      await client.set(key, 'text');
      const e = await client.multi().incr(key).exec().then(() => undefined, (x: unknown) => x as Error);
      await client.del(key);
      expect(e?.constructor.name).toBe('MultiErrorReply');
      expect(hideClientError(e).message).toMatch(/\(MultiErrorReply\)$/);
    } finally {
      client.destroy();
    }
  });
});
