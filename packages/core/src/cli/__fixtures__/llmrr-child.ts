/** Test helper: the real `llmrr` CLI as a child process (tsx from the package folder), with a hang guard. */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const mainTs = join(pkg, 'src/cli/main.ts');
/** The shared data folder (open-7B for --augment, ...): LLMRR_SHARED_DIR, else the workspace's sibling `shared`. */
const shared = process.env['LLMRR_SHARED_DIR'] ?? resolve(pkg, '../../../shared');

export interface ChildRun {
  /** The exit code; null when the hang guard killed it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `llmrr <args>` as a real process from the package folder; killed by SIGKILL after `guardMs` (default 90 s: a CLI
 * waiting for ever on a named pipe ends with code null, well before a test's own timeout).
 */
export function llmrrChild(args: readonly string[], options: { guardMs?: number } = {}): Promise<ChildRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', 'tsx', mainTs, ...args], {
      cwd: pkg,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LLMRR_SHARED_DIR: shared },
    });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const guard = setTimeout(() => child.kill('SIGKILL'), options.guardMs ?? 90_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(guard);
      done({ code, stdout, stderr });
    });
  });
}
