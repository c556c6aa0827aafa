import { GATEWAY_NODE_FLAGS } from '@llmrr/gateway/node';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const scripts = (JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Runs `node <args>` in the app's directory until it prints its `heap:` line; returns that line. */
function heapLine(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: appDir, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('heap:'));
      if (line) child.kill('SIGTERM');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.includes('heap:'));
      if (line) resolve(line.trim());
      else reject(new Error(`server exited (${code}) without a heap line:\n${out}\n${err}`));
    });
  });
}

describe('the start command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('start and serve pass the gateway node flags (the young generation is sized only at process start)', () => {
    for (const name of ['start', 'serve']) {
      const words = scripts[name]!.split(/\s+/);
      expect(words[0], name).toBe('node');
      for (const flag of GATEWAY_NODE_FLAGS) expect(words, name).toContain(flag);
    }
  });

  it('the server started by `pnpm start` reports the young generation it runs with, and V8 default without the flags', async () => {
    const args = scripts.start!.split(/\s+/).slice(1);
    const env = { PORT: '0', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data') };
    expect(await heapLine(args, env)).toBe('heap: young generation 8 MB semi-spaces; old generation grows 25% over the live heap');
    const withoutFlags = args.filter((a) => !GATEWAY_NODE_FLAGS.includes(a));
    expect(await heapLine(withoutFlags, { ...env, LLMRR_HEAP_GROWING_PERCENT: '0' })).toBe(
      `heap: young generation V8's default (start node with ${GATEWAY_NODE_FLAGS.join(' ')} for less memory, as pnpm start does); old generation grows as node's flags or V8's default say over the live heap`,
    );
  });
});
