/** Test helpers: run the CLI in-process with captured output, and throwaway config directories. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { CliReadable } from '../cli-io.js';
import { run } from '../run.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Every stdout write, in order (to see streaming). */
  writes: string[];
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Text piped on stdin (not a TTY). Absent: no stdin (a terminal). */
  stdin?: string;
  signal?: AbortSignal;
  /** Called on every stdout write. */
  onStdout?: (chunk: string) => void;
}

export async function runCli(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const writes: string[] = [];
  let stderr = '';
  let stdin: CliReadable | undefined;
  if (options.stdin !== undefined) {
    const s = Readable.from([Buffer.from(options.stdin)]) as Readable & { isTTY?: boolean };
    s.isTTY = false;
    stdin = s;
  }
  const code = await run(argv, {
    stdout: {
      write(chunk: string) {
        writes.push(chunk);
        options.onStdout?.(chunk);
        return true;
      },
    },
    stderr: {
      write(chunk: string) {
        stderr += chunk;
        return true;
      },
    },
    ...(stdin ? { stdin } : {}),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { code, stdout: writes.join(''), stderr, writes };
}

/** Two mock deployments (alias `mock`) with different prices and quality, strategy `priority`. */
export const MOCK_CONFIG = `models:
  - name: mock-smart
    engine: mock
    alias: mock
    priority: 2
    price: { input: 3, output: 15 }
    quality: 0.9
    contextWindow: 200000
  - name: mock-fast
    engine: mock
    alias: mock
    priority: 3
    price: { input: 0.15, output: 0.6 }
    quality: 0.5
    contextWindow: 128000
routing:
  strategy: priority
`;

export interface TempDir {
  dir: string;
  write(name: string, text: string): string;
  remove(): void;
}

/** A temporary directory, optionally holding `llmrr.config.yaml`. */
export function tempDir(config?: string): TempDir {
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-cli-'));
  const t: TempDir = {
    dir,
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (config !== undefined) t.write('llmrr.config.yaml', config);
  return t;
}
