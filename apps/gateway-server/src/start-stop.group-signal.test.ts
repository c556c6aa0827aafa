/**
 * `pnpm start` execs node, so node is pnpm's own child: a SIGTERM sent to the whole process group (systemd's default
 * KillMode=control-group, `kill -TERM -- -PGID`) reaches node twice, directly and forwarded by pnpm. The repeat is
 * not taken as "exit now": the stream in flight finishes and the server exits 0 (a second Ctrl-C still exits at once;
 * pnpm does not forward SIGINT).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const appDir = dirname(dirname(fileURLToPath(import.meta.url)));

describe('`pnpm start` and a signal to its process group with a stream in flight', () => {
  for (const signal of ['SIGTERM'] as const) {
    it(`${signal} to the group (systemd KillMode=control-group) stops the server gracefully: the stream finishes, exit 0`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'llmrr-review-group-'));
      writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify({ models: [{ name: 'slow', engine: 'mock', options: { reply: 'one two three four five six seven eight', chunkDelayMs: 300 }, price: { input: 1, output: 2 } }] }));
      // detached: pnpm leads a process group of its own, as a systemd unit's processes (its cgroup).
      const pnpm = spawn('pnpm', ['start'], {
        cwd: appDir,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', PORT: '0', INIT_CWD: dir, LLMRR_CONFIG: join(dir, 'llmrr.config.json'), LLMRR_DATA_DIR: join(dir, 'data') },
      });
      let out = '';
      pnpm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      pnpm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => pnpm.once('exit', (code) => r(code)));
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
        let firstChunk!: () => void;
        const started = new Promise<void>((r) => (firstChunk = r));
        const streamed = new Promise<string>((resolve) => {
          const u = new URL(`${url}/v1/chat/completions`);
          const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
            let text = '';
            res.on('data', (d: Buffer) => {
              text += d.toString();
              firstChunk();
            });
            res.on('end', () => resolve(text));
            res.on('error', () => resolve(text));
            res.on('aborted', () => resolve(text));
          });
          req.on('error', () => resolve(''));
          req.end(JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
        });
        await started;
        process.kill(-pnpm.pid!, signal);
        const text = await streamed;
        const code = await exited;
        expect({ again: out.includes('again: exiting now'), done: text.includes('data: [DONE]'), code }, out).toEqual({ again: false, done: true, code: 0 });
      } finally {
        try {
          process.kill(-pnpm.pid!, 'SIGKILL');
        } catch {
          // gone
        }
        rmSync(dir, { recursive: true, force: true });
      }
    }, 150_000);
  }
});
