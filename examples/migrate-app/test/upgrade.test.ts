import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
let work: string;

/** Runs a package.json script the way npm/pnpm do: a shell in the app folder with node_modules/.bin on PATH. */
function script(name: string, ...extra: string[]): SpawnSyncReturns<string> {
  const command = [pkg.scripts[name]!, ...extra].join(' ');
  return spawnSync('sh', ['-c', command], {
    cwd: work,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PATH: `${join(work, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`, NODE_OPTIONS: '' },
  });
}
const migrateCli = (...args: string[]) =>
  spawnSync('sh', ['-c', `tsx --conditions=@llmrr/source ./node_modules/@llmrr/migrate/src/cli/main.ts ${args.join(' ')}`], {
    cwd: work,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PATH: `${join(work, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
  });
const files = () =>
  Object.fromEntries(
    ['llm-router.config.json', ...readdirSync(join(work, 'src')).map((f) => `src/${f}`)].filter((f) => statSync(join(work, f)).isFile()).map((f) => [f, readFileSync(join(work, f), 'utf8')]),
  );

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'llmrr-migrate-app-'));
  for (const entry of ['package.json', 'llm-router.config.json', 'src']) cpSync(join(appDir, entry), join(work, entry), { recursive: true });
  symlinkSync(join(appDir, 'node_modules'), join(work, 'node_modules'), 'dir');
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('upgrading the v1 example app', () => {
  it('does not run before the upgrade (it imports the old package)', () => {
    const r = script('start');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('llm-runner-router');
  });

  it('--dry-run shows the diff and changes nothing', () => {
    const before = files();
    const r = migrateCli('--to', 'v3', '--tenant', 'acme', '--dry-run', 'llm-router.config.json', 'src');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('+++ b/src/triage.js');
    expect(r.stdout).toContain("-import { LLMRouter } from 'llm-runner-router';");
    expect(r.stdout).toContain("+import { LLMRouter } from '@llmrr/core';");
    expect(r.stdout).toContain('+  "version": 3,');
    expect(files()).toEqual(before);
  });

  it('pnpm migrate converts config and code', () => {
    const r = script('migrate');
    expect(r.stderr).not.toContain('error');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('updated: llm-router.config.json');
    expect(r.stdout).toContain('updated: src/router.js');
    expect(r.stdout).toContain('updated: src/triage.js');
    const config = JSON.parse(readFileSync(join(work, 'llm-router.config.json'), 'utf8'));
    expect(config).toMatchObject({
      version: 3,
      routing: { strategy: 'priority', fallbacks: ['backup'], timeouts: { totalMs: 20000 }, retries: { max: 2 } },
      cache: { exact: { ttlMs: 600000 } },
      tenants: [{ id: 'acme' }],
      defaultTenant: 'acme',
      legacy: { logLevel: 'info', apiPort: 3000 },
    });
    expect(config.models[0]).toEqual({ name: 'helper', engine: 'mock', priority: 1, maxOutputTokens: 256, options: { reply: 'Our opening hours are 9 to 5, Monday to Friday.' } });
    const routerJs = readFileSync(join(work, 'src/router.js'), 'utf8');
    expect(routerJs).toContain("import { LLMRouter } from '@llmrr/core';");
    expect(routerJs).not.toContain('initialize()');
    expect(routerJs).toContain("router.generate(question, { tenant: 'acme', maxTokens: 64 })");
    const triage = readFileSync(join(work, 'src/triage.js'), 'utf8');
    expect(triage).toContain('// one mock model per queue');
    expect(triage).toContain("strategy: 'round-robin', // spread the load");
    expect(triage).toContain('await triage.close();');
  });

  it('a second run reports no changes and changes no file', () => {
    const before = files();
    const check = migrateCli('--to', 'v3', '--tenant', 'acme', '--check', 'llm-router.config.json', 'src');
    expect(check.status).toBe(0);
    expect(check.stdout).toBe('');
    expect(check.stderr).toContain('no changes needed');
    const again = script('migrate');
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('no changes needed');
    expect(files()).toEqual(before);
  });

  it('the upgraded app runs against @llmrr/core', () => {
    const r = script('start');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'answer: Our opening hours are 9 to 5, Monday to Friday. [deployment=helper]',
      'answer: Our opening hours are 9 to 5, Monday to Friday. [deployment=helper]',
      // The triage router spreads tickets over its two queues by round-robin (not a classifier): as a v3 router with
      // a default tenant, its rotation starts at an offset hashed from that tenant and the queues (core's round-robin).
      'ticket: My invoice is wrong -> technical',
      'ticket: The app crashes on start -> billing',
      'strategy: priority',
    ]);
  });
});
