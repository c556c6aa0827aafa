import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// tsx as an in-process loader (not its CLI, which runs the script in a grandchild): the pid we
// signal is the process that writes.
const tsxLoader = createRequire(import.meta.url).resolve('tsx');

/** Spawns child-worker.ts with tsx and the workspace source condition. */
export function spawnWorker(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--conditions=@llmrr/source', '--import', pathToFileURL(tsxLoader).href, join(here, 'child-worker.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
}

/** Runs a worker to completion and returns its stdout (rejects on a non-zero exit). */
export function runWorker(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnWorker(args);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`worker exited ${code}: ${err || out}`));
    });
  });
}

/** Resolves with the first stdout line that matches, keeping the child running. */
export function waitForLine(child: ChildProcess, match: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${match}": ${err}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').includes(match)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited ${code} before "${match}": ${err || out}`));
    });
  });
}
