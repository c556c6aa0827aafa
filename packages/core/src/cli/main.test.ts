/**
 * The CLI as a user runs it: real processes, from the repository root, through tsx on the TypeScript
 * source (no build needed).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from './__fixtures__/cli-harness.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const mainTs = fileURLToPath(new URL('./main.ts', import.meta.url));
const storiesModel = resolve(repoRoot, process.env['LLMRR_SHARED_DIR'] ?? '../shared', 'models/stories260K.gguf');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment without anything that would pick another config. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('LLM_ROUTER_') || k === 'LLMRR_DEBUG') delete env[k];
  return env;
}

function spawnCli(
  command: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<Exit> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: options.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      options.onStdout?.(c, child);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** What `pnpm llmrr` printed, without pnpm's own `> script` / `$ command` header lines. */
function answerOf(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => !/^(> |\$ )/.test(l))
    .join('\n')
    .trim();
}

describe('pnpm llmrr (subprocess, from the repository root)', () => {
  it('chat -m mock-fast "hello" streams the mock answer and prints the summary on stderr', async () => {
    const r = await spawnCli('pnpm', ['llmrr', 'chat', '-m', 'mock-fast', 'hello']);
    expect(r.stderr).toMatch(/deployment mock-fast \(mock\/mock-fast\), tokens 1 in \/ 4 out, cost \$0\.000003, latency \d+ ms, ttft \d+ ms/);
    expect(answerOf(r.stdout)).toBe('Mock answer to: hello');
    expect(r.code).toBe(0);
  }, 60_000);

  it.skipIf(!existsSync(storiesModel))(
    `chat -m stories260K "Once upon a time" tells a story from the real model${existsSync(storiesModel) ? '' : ` (skipped: ${storiesModel} not found)`}`,
    async () => {
      const r = await spawnCli('pnpm', ['llmrr', 'chat', '-m', 'stories260K', '--max-tokens', '40', 'Once upon a time']);
      expect(r.code, r.stderr).toBe(0);
      const story = answerOf(r.stdout);
      // A real model's words, not the mock's canned reply.
      expect(story).not.toContain('Mock answer');
      expect(story.split(/\s+/).filter((w) => /[a-z]/i.test(w)).length).toBeGreaterThanOrEqual(5);
      expect(r.stderr).toMatch(/deployment stories260K \(gguf\/stories260K\), tokens \d+ in \/ ([1-9]\d*) out, cost \$0, latency/);
    },
    120_000,
  );
});

describe('llmrr process behaviour (node + tsx, no pnpm in between)', () => {
  let t: TempDir;
  beforeAll(() => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    t = tempDir(`models:\n  - name: slow\n    engine: mock\n    options: { reply: "${words}", chunkDelayMs: 100 }\n`);
  });
  afterAll(() => t.remove());

  const node = (args: string[], options: Parameters<typeof spawnCli>[2] = {}) =>
    spawnCli(process.execPath, ['--conditions=@llmrr/source', '--import', 'tsx', mainTs, ...args], options);

  it('Ctrl-C (SIGINT) during chat aborts the request and exits 130', async () => {
    let sent = false;
    const r = await node(['-c', `${t.dir}/llmrr.config.yaml`, 'chat', 'go'], {
      onStdout: (_chunk, child) => {
        if (!sent) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('llmrr chat: interrupted\n');
    // Stopped early: 200 words at 100 ms each would take 20 s.
    expect(r.stdout.split(' ').length).toBeLessThan(50);
  }, 60_000);

  it('reads the prompt from a piped stdin', async () => {
    const r = await node(['-c', `${t.dir}/llmrr.config.yaml`, 'route', '--json'], { input: 'what is routing?\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ selected: 'slow' });
  }, 60_000);

  it('a bad flag prints one line and exits 2, with no stack trace', async () => {
    const r = await node(['chat', '--bogus', 'hi']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('llmrr chat: unknown option --bogus (see llmrr chat --help)\n');
  }, 60_000);
});
