/**
 * The real server process (src/main.ts through tsx, as `pnpm start` runs it): a startup failure an operator hits
 * first (a port taken, a HOST that does not resolve, a data directory that cannot be made) is one message naming the
 * variable, with no stack trace, exit code 1; SIGTERM with a stream in flight finishes it within the grace or cuts
 * it with the chat error event (`shutting_down`), and its ledger row is written either way before the process exits 0;
 * with LLMRR_SHUTDOWN_DELAY_MS, SIGTERM turns `/ready` 503 while requests are still served for the delay; and SIGTERM to `pnpm start` (the app's
 * and the repository root's) reaches the server, which shuts down gracefully.
 */
import { createStateStores } from '@llmrr/core';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const src = dirname(fileURLToPath(import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const children = new Set<ChildProcess>();
const dirs: string[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'llmrr-start-stop-'));
  dirs.push(d);
  return d;
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', tsx, join(src, 'main.ts')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', ...env },
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void exited.then(() => clearTimeout(killer));
  return { child, output: () => out, exited };
}

function listening(r: Run): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(r.output());
      if (m && r.output().includes('  try: curl')) {
        r.child.stdout!.off('data', check);
        resolve(m[1]!);
      }
    };
    r.child.stdout!.on('data', check);
    void r.exited.then(({ code }) => reject(new Error(`exited ${code} before listening:\n${r.output()}`)));
  });
}

/** The lines a failed start printed, its exit code. */
async function failedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const r = run(env);
  const { code } = await r.exited;
  return { code, output: r.output() };
}

describe('startup failures an operator hits', () => {
  it('a port already in use: a one-line message naming PORT, no stack trace, exit code 1', async () => {
    const dir = tempDir();
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as AddressInfo).port;
      const { code, output } = await failedStart({ PORT: String(port), INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data') });
      expect(code).toBe(1);
      expect(output).toContain('llmrr gateway failed to start');
      // The operator's fix is PORT (or HOST): the message should say so, as every other bad setting's does.
      expect(output).toMatch(/PORT/);
      // Node's internal frames are no help to an operator (the settings errors print none).
      expect(output).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  }, 120_000);

  it('a HOST that does not resolve: a message naming HOST, no stack trace, exit code 1', async () => {
    const dir = tempDir();
    const { code, output } = await failedStart({ PORT: '0', HOST: 'no-such-host.invalid', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data') });
    expect(code).toBe(1);
    expect(output).toContain('llmrr gateway failed to start');
    expect(output).toMatch(/HOST/);
    expect(output).not.toMatch(/^\s+at /m);
  }, 120_000);

  it('a data directory that cannot be created: a message naming LLMRR_DATA_DIR, no stack trace, exit code 1', async () => {
    const dir = tempDir();
    // A file where the data directory's parent should be (as root, permissions do not stop mkdir).
    writeFileSync(join(dir, 'not-a-dir'), '');
    const { code, output } = await failedStart({ PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'not-a-dir', 'data') });
    expect(code).toBe(1);
    expect(output).toContain('llmrr gateway failed to start');
    expect(output).toMatch(/LLMRR_DATA_DIR/);
    expect(output).not.toMatch(/^\s+at /m);
  }, 120_000);

  // Node's recursive mkdirSync never returns for a path under /proc (mkdir there fails ENOENT, which it takes for a
  // missing parent and retries forever): the start hung.
  it.runIf(existsSync('/proc/self'))('a data directory under /proc: fails at once with a message naming LLMRR_DATA_DIR, exit code 1', async () => {
    const dir = tempDir();
    const { code, output } = await failedStart({ PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: '/proc/nope/data' });
    expect(code, output).toBe(1);
    expect(output).toContain('llmrr gateway failed to start: LLMRR_DATA_DIR: cannot open the state database under "/proc/nope/data"');
    expect(output).not.toMatch(/^\s+at /m);
  }, 120_000);

  it('a v1 router config: the errors say to convert it with llmrr-migrate, naming the file, exit code 1', async () => {
    const dir = tempDir();
    const config = join(dir, 'router.json');
    writeFileSync(config, '{ "models": ["gpt-3.5", "mock://backup"], "strategy": "fallback" }\n');
    const { code, output } = await failedStart({ PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_CONFIG: config });
    expect(code, output).toBe(1);
    expect(output).toContain(`llmrr gateway failed to start: Invalid config file ${config}:`);
    expect(output).toContain(`an older (v1) router config (models given by name; v1 key "strategy"): convert it with llmrr-migrate (@llmrr/migrate): llmrr-migrate --write ${config}`);
    expect(output).not.toMatch(/^\s+at /m);
    // A v2 config with a mistake of its own gets no such advice.
    writeFileSync(config, '{ "version": 2, "models": [{ "name": "mock", "engine": "mock", "priority": "high" }] }\n');
    const v2 = await failedStart({ PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_CONFIG: config });
    expect(v2.code, v2.output).toBe(1);
    expect(v2.output).toContain('models.0.priority');
    expect(v2.output).not.toContain('llmrr-migrate');
  }, 120_000);

  it('a shutdown cut bound that is not a number of milliseconds: a message naming LLMRR_SHUTDOWN_CUT_SETTLE_MS, exit code 1', async () => {
    const dir = tempDir();
    const { code, output } = await failedStart({ PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_SHUTDOWN_CUT_SETTLE_MS: '2s' });
    expect(code).toBe(1);
    expect(output).toContain('llmrr gateway failed to start: LLMRR_SHUTDOWN_CUT_SETTLE_MS must be an integer number of milliseconds from 0 to 600000, got "2s"');
    expect(output).not.toMatch(/^\s+at /m);
  }, 120_000);

  it('shared-mode URLs without LLMRR_STATE=shared: refused naming LLMRR_REDIS_URL (each replica would keep its own budgets), exit code 1', async () => {
    const dir = tempDir();
    // Addresses nothing listens on: the refusal comes before any connection.
    const { code, output } = await failedStart({
      PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_STATE: '',
      LLMRR_REDIS_URL: 'redis://127.0.0.1:1', LLMRR_POSTGRES_URL: 'postgres://llmrr@127.0.0.1:1/llmrr',
    });
    expect(code).toBe(1);
    expect(output).toContain('llmrr gateway failed to start: LLMRR_REDIS_URL is read only with LLMRR_STATE=shared');
    expect(output).not.toMatch(/^\s+at /m);
  }, 120_000);
});

describe('SIGTERM with a stream in flight', () => {
  for (const [name, chunkDelayMs, expectComplete] of [
    ['a stream that ends within the grace period is finished, its ledger row kept, exit 0', 100, true],
    ['a stream longer than the grace period is cut with an error event, its ledger row still kept (an error), exit 0', 1_500, false],
  ] as const) {
    it(name, async () => {
      const dir = tempDir();
      const words = 'one two three four five six seven eight nine ten eleven twelve';
      writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify({ models: [{ name: 'slow', engine: 'mock', options: { reply: words, chunkDelayMs }, price: { input: 1, output: 2 } }] }));
      const dataDir = join(dir, 'data');
      const r = run({ PORT: '0', INIT_CWD: dir, LLMRR_CONFIG: join(dir, 'llmrr.config.json'), LLMRR_DATA_DIR: dataDir });
      const url = await listening(r);
      const body = JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] });
      const streamed = new Promise<{ status: number; text: string; error?: string }>((resolve) => {
        const u = new URL(`${url}/v1/chat/completions`);
        const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode!, text }));
          res.on('error', (e) => resolve({ status: res.statusCode!, text, error: String(e) }));
          res.on('aborted', () => resolve({ status: res.statusCode!, text, error: 'aborted' }));
        });
        req.on('error', (e) => resolve({ status: 0, text: '', error: String(e) }));
        req.end(body);
      });
      // Signal once the stream's first chunk is out.
      await new Promise((res) => setTimeout(res, 1_000));
      r.child.kill('SIGTERM');
      const answer = await streamed;
      const { code } = await r.exited;
      expect(answer.status).toBe(200);
      if (expectComplete) expect(answer.text).toContain('data: [DONE]');
      else {
        // Cut at the end of the grace: the chunked answer ends properly, its last frame the chat error event.
        expect(answer.error).toBeUndefined();
        expect(answer.text).not.toContain('[DONE]');
        const last = answer.text.trimEnd().split('\n\n').at(-1)!;
        expect(JSON.parse(last.replace(/^data: /, ''))).toMatchObject({ error: { code: 'shutting_down', type: 'api_error' } });
      }
      expect(code, r.output()).toBe(0);
      const stores = await createStateStores({ mode: 'embedded', dataDir });
      try {
        expect((await stores.ledger.summary({ tenantId: 'demo' })).requests, r.output()).toBe(1);
        if (!expectComplete) expect((await stores.ledger.query({ tenantId: 'demo' })).map((e) => [e.status, e.errorCode])).toEqual([['error', 'shutting_down']]);
      } finally {
        await stores.close();
      }
    }, 120_000);
  }
});

describe('SIGTERM with LLMRR_SHUTDOWN_DELAY_MS', () => {
  it('/ready turns 503 at once while new connections are still served for the delay; then the server stops, exit 0', async () => {
    const dir = tempDir();
    const r = run({ PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_SHUTDOWN_DELAY_MS: '2000', LLMRR_SHUTDOWN_GRACE_MS: '1000' });
    const url = await listening(r);
    const fresh = { connection: 'close' };
    expect((await fetch(`${url}/ready`, { headers: fresh })).status).toBe(200);
    const signalled = performance.now();
    r.child.kill('SIGTERM');
    // The signal is handled as soon as it arrives; give it a moment on a busy machine.
    await new Promise((res) => setTimeout(res, 300));
    const ready = await fetch(`${url}/ready`, { headers: fresh });
    const answer = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...fresh, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const servedWithin = performance.now() - signalled;
    expect({ ready: ready.status, reason: ((await ready.json()) as { reason?: string }).reason, chat: answer.status }, r.output()).toEqual({ ready: 503, reason: 'shutting down', chat: 200 });
    expect(servedWithin).toBeLessThan(2_000);
    const { code } = await r.exited;
    expect(performance.now() - signalled).toBeGreaterThanOrEqual(1_900);
    expect(code, r.output()).toBe(0);
    expect(r.output()).toContain('SIGTERM: not ready, still serving for 2000 ms (LLMRR_SHUTDOWN_DELAY_MS)');
  }, 120_000);
});

/** The pids of `pid`'s children. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('`pnpm start` (the documented command) and SIGTERM', () => {
  // The app's own script, and the repository root's, which runs the app's through a second pnpm.
  for (const [where, cwd] of [
    ['the app', dirname(src)],
    ['the repository root', join(dirname(src), '..', '..')],
  ] as const) {
    it(`SIGTERM to the pnpm process in ${where} (docker stop, kubectl delete: PID 1) reaches the server, which shuts down gracefully`, async () => {
      const dir = tempDir();
      const pnpm = spawn('pnpm', ['start'], {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data') },
      });
      children.add(pnpm);
      let out = '';
      pnpm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      pnpm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const descendants: number[] = [];
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no start in 90 s:\n${out}`)), 90_000);
          pnpm.stdout!.on('data', () => {
            const m = /listening on (http:\/\/\S+)/.exec(out);
            if (m && out.includes('  try: curl')) {
              clearTimeout(timer);
              resolve(m[1]!);
            }
          });
        });
        // The processes under pnpm (its shell and the server), to end them if the signal does not.
        for (let level = [pnpm.pid!]; level.length > 0; ) {
          level = level.flatMap(childrenOf);
          descendants.push(...level);
        }
        pnpm.kill('SIGTERM');
        await new Promise((r) => pnpm.once('exit', r));
        // The server had nothing in flight: a graceful stop is done well within 15 s.
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline && descendants.some(alive)) await new Promise((r) => setTimeout(r, 200));
        const stillServing = await fetch(`${url}/health`).then(
          (r) => r.status,
          () => undefined,
        );
        const leftAlive = descendants.filter(alive);
        expect({ stillServing, leftAlive, gracefulLine: out.includes('SIGTERM: finishing requests in flight') }, out).toEqual({ stillServing: undefined, leftAlive: [], gracefulLine: true });
      } finally {
        for (const pid of descendants) if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
    }, 150_000);
  }
});
