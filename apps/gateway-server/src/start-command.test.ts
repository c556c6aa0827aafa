import { GATEWAY_NODE_ENV, GATEWAY_NODE_FLAGS, nodeMemoryBytes } from '@llmrr/gateway/node';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const scripts = (JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/**
 * A script `NAME=${NAME:-value} ... exec node ARGS`: the environment it sets (each default as the shell expands it when
 * the variable is unset) and node's arguments.
 */
function parseScript(name: string): { env: Record<string, string>; words: string[]; args: string[] } {
  const words = scripts[name]!.split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
    const [, key, value] = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(words.shift()!)!;
    const fallback = new RegExp(`^\\$\\{${key}:-(.*)\\}$`).exec(value!);
    env[key!] = fallback ? fallback[1]! : value!;
  }
  return { env, words, args: words.slice(2) };
}

const children = new Set<ChildProcess>();

/** Runs `node <args>` in the app's directory until it has printed its startup log (the `admin API:` line); returns the log's lines. */
function startupLog(args: string[], env: Record<string, string>, command: string = process.execPath): Promise<string[]> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', ...env };
  // The developer's environment must not change the expected lines.
  if (!('LLMRR_HEAP_GROWING_PERCENT' in env)) delete childEnv.LLMRR_HEAP_GROWING_PERCENT;
  if (!('MALLOC_MMAP_THRESHOLD_' in env)) delete childEnv.MALLOC_MMAP_THRESHOLD_;
  if (!('GLIBC_TUNABLES' in env)) delete childEnv.GLIBC_TUNABLES;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: appDir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('admin API:')) child.kill('SIGTERM');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      if (out.includes('admin API:')) resolve(out.split('\n').map((l) => l.trim()));
      else reject(new Error(`server exited (${code}) without its startup log:\n${out}\n${err}`));
    });
  });
}

const heapLine = async (args: string[], env: Record<string, string>) => (await startupLog(args, env)).find((l) => l.startsWith('heap:'));

describe('the start command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-start-'));
  afterAll(() => {
    // A test that timed out leaves its server running: end it here.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('start and serve exec node (signals reach it: start-stop.test.ts) with the gateway node flags and environment (the young generation and malloc are set only at process start)', () => {
    for (const name of ['start', 'serve']) {
      const { env, words } = parseScript(name);
      expect(words.slice(0, 2), name).toEqual(['exec', 'node']);
      for (const flag of GATEWAY_NODE_FLAGS) expect(words, name).toContain(flag);
      // Each variable is set only where the environment does not already say otherwise (`${NAME:-value}`).
      expect(env, name).toEqual(GATEWAY_NODE_ENV);
      for (const key of Object.keys(GATEWAY_NODE_ENV)) expect(scripts[name], name).toContain(`${key}=\${${key}:-`);
    }
  });

  it('the shell running the start script hands node its malloc threshold, unless the environment sets one', async () => {
    const env = { PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data'), PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    const mallocLine = async (more: Record<string, string>) => (await startupLog(['-c', scripts.start!], { ...env, ...more }, '/bin/sh')).find((l) => l.startsWith('malloc:'));
    expect(await mallocLine({})).toBe(`malloc: blocks of ${GATEWAY_NODE_ENV.MALLOC_MMAP_THRESHOLD_} bytes and more mapped on their own (MALLOC_MMAP_THRESHOLD_)`);
    expect(await mallocLine({ MALLOC_MMAP_THRESHOLD_: '65536' })).toBe('malloc: blocks of 65536 bytes and more mapped on their own (MALLOC_MMAP_THRESHOLD_)');
    // Read as glibc reads it: hex (and octal) too; GLIBC_TUNABLES' glibc.malloc.mmap_threshold wins over it.
    expect(await mallocLine({ MALLOC_MMAP_THRESHOLD_: '0x10000' })).toBe('malloc: blocks of 65536 bytes and more mapped on their own (MALLOC_MMAP_THRESHOLD_)');
    expect(await mallocLine({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=32768' })).toBe('malloc: blocks of 32768 bytes and more mapped on their own (GLIBC_TUNABLES)');
    // Set but empty, glibc would read 0 (every block mapped: several times slower): the script's default applies.
    expect(await mallocLine({ MALLOC_MMAP_THRESHOLD_: '' })).toBe(`malloc: blocks of ${GATEWAY_NODE_ENV.MALLOC_MMAP_THRESHOLD_} bytes and more mapped on their own (MALLOC_MMAP_THRESHOLD_)`);
  }, 120_000);

  it('the server started by `pnpm start` reports the young generation it runs with, and V8 default without the flags', async () => {
    const { args, env: scriptEnv } = parseScript('start');
    const env = { PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data') };
    const started = await startupLog(args, { ...env, ...scriptEnv });
    expect(started.find((l) => l.startsWith('heap:'))).toBe('heap: young generation 8 MB semi-spaces; old generation grows 25% over the live heap');
    expect(started.find((l) => l.startsWith('malloc:'))).toBe(`malloc: blocks of ${GATEWAY_NODE_ENV.MALLOC_MMAP_THRESHOLD_} bytes and more mapped on their own (MALLOC_MMAP_THRESHOLD_)`);
    expect((await startupLog(args, env)).find((l) => l.startsWith('malloc:'))).toBe(
      `malloc: glibc's moving threshold (start node with MALLOC_MMAP_THRESHOLD_=${GATEWAY_NODE_ENV.MALLOC_MMAP_THRESHOLD_} in the environment for less memory after bursts, as pnpm start does)`,
    );
    const withoutFlags = args.filter((a) => !GATEWAY_NODE_FLAGS.includes(a));
    expect(await heapLine(withoutFlags, { ...env, LLMRR_HEAP_GROWING_PERCENT: '0' })).toBe(
      `heap: young generation V8's default (start node with ${GATEWAY_NODE_FLAGS.join(' ')} for less memory, as pnpm start does); old generation grows as node's flags or V8's default say over the live heap`,
    );
  }, 120_000);

  it('warns that the flag enlarges the young generation on a small heap (V8 own default there is 8 MB or less)', async () => {
    const { args } = parseScript('start');
    const env = { PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data') };
    const warning = (lines: string[]) => lines.find((l) => l.startsWith('warning:'));
    expect(warning(await startupLog(['--max-heap-size=512', ...args], env))).toBe(
      `warning: heap limit 512 MB: V8's own young generation here would be 4 MB semi-spaces, so --max-semi-space-size=8 enlarges it or saves nothing; start node without that flag (e.g. node --v8-pool-size=2 dist/main.js)`,
    );
    expect(warning(await startupLog(['--max-heap-size=2048', ...args], env))).toBeUndefined();
    // Only --max-old-space-size: the heap limit is small, but V8 still sizes its young generation from the memory.
    if (nodeMemoryBytes() > 5 * 2 ** 30) expect(warning(await startupLog(['--max-old-space-size=512', ...args], env))).toBeUndefined();
    const withoutFlags = args.filter((a) => !GATEWAY_NODE_FLAGS.includes(a));
    expect(warning(await startupLog(['--max-heap-size=512', ...withoutFlags], env))).toBeUndefined();
  }, 120_000);
});
