/**
 * A redis-server of a test's own on a unix socket in a temporary folder (no TCP port: `--port 0`), for a test that
 * changes its configuration (`requirepass`, `maxmemory-policy`...) where the shared test Redis must not be touched.
 * `stop()` ends it and removes its folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SocketRedis {
  /** The socket's path. */
  sock: string;
  /** `unix://<sock>` (no password in it). */
  url: string;
  stop(): Promise<void>;
}

/** Starts redis-server with `args` added (e.g. `['--requirepass', pw]`); waits up to 10 s for its socket. */
export async function startSocketRedis(name: string, args: readonly string[] = []): Promise<SocketRedis> {
  const dir = mkdtempSync(join(tmpdir(), `llmrr-redis-${name}-`));
  const sock = join(dir, 'redis.sock');
  const server = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no', '--dir', dir, ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill();
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!existsSync(sock)) {
    if (Date.now() > deadline || server.exitCode !== null) {
      await stop();
      throw new Error(`redis-server (${name}) did not open its socket ${sock}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { sock, url: `unix://${sock}`, stop };
}
