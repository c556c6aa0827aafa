import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './__fixtures__/cli-harness.js';
import { DEMO_CONFIG_FILE } from './cli-config.js';
import { COMMANDS } from './run.js';
import type { ModelListing } from './commands/models.js';

const names = COMMANDS.map((c) => c.name);
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('llmrr dispatcher', () => {
  it('--version and -v print the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  it('--help lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(names).toEqual(expect.arrayContaining(['chat', 'route', 'models', 'config', 'audit']));
    for (const name of names) expect(r.stdout).toMatch(new RegExp(`\\n  ${name}\\s+\\S`));
    expect(r.stdout).toContain('-c, --config <file>');
  });

  it('<command> --help prints that command help', async () => {
    for (const name of names) {
      const r = await runCli([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout.startsWith(`Usage: llmrr ${name}`)).toBe(true);
    }
    expect((await runCli(['chat', '-h'])).stdout).toContain('--max-tokens <n>');
  });

  it('a missing or unknown command is one line and exit 2', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`llmrr: missing command (${names.join(', ')}) (see llmrr --help)\n`);
    const unknown = await runCli(['serve']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`llmrr: unknown command "serve" (commands: ${names.join(', ')}) (see llmrr --help)\n`);
    const flag = await runCli(['--verbose']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('llmrr: unknown option --verbose (see llmrr --help)\n');
  });

  it('a missing -c file is a config error naming the path', async () => {
    const r = await runCli(['-c', 'does-not-exist.yaml', 'models'], { cwd: '/tmp' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('llmrr models: The config file /tmp/does-not-exist.yaml not found\n');
  });

  it('a config named by LLM_ROUTER_CONFIG is used', async () => {
    const r = await runCli(['models', '--json'], {
      cwd: '/tmp',
      env: { LLM_ROUTER_CONFIG_JSON: JSON.stringify({ models: [{ name: 'from-env', engine: 'mock' }] }) },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ name: 'from-env' })]);
  });
});

describe('the demo config (no config given, none in the working directory)', () => {
  it('lists the real local model and the two mock deployments', async () => {
    const empty = tempDir();
    try {
      const r = await runCli(['models', '--json'], { cwd: empty.dir });
      expect(r.code, r.stderr).toBe(0);
      const list = JSON.parse(r.stdout) as ModelListing[];
      expect(list.map((m) => [m.name, m.engine, m.alias])).toEqual([
        ['stories260K', 'gguf', undefined],
        ['mock-smart', 'mock', 'mock'],
        ['mock-fast', 'mock', 'mock'],
      ]);
      // Different prices and quality, so strategies disagree.
      const quality = await runCli(['route', '-s', 'quality-first', '--json', 'hi'], { cwd: empty.dir });
      expect(JSON.parse(quality.stdout)).toMatchObject({ selected: 'mock-smart' });
      const cost = await runCli(['route', '-s', 'cost-optimized', '-m', 'mock', '--json', 'hi'], { cwd: empty.dir });
      expect(JSON.parse(cost.stdout)).toMatchObject({ selected: 'mock-fast' });
      const validate = await runCli(['config', 'validate'], { cwd: empty.dir });
      expect(validate.stdout).toBe(`${DEMO_CONFIG_FILE} (demo config): valid (version 2, 3 models: stories260K, mock-smart, mock-fast; strategy priority)\n`);
    } finally {
      empty.remove();
    }
  });

  it('resolves the model file under LLMRR_SHARED_DIR, default ../shared next to the repository', async () => {
    const empty = tempDir();
    try {
      // A shared dir without the model: a config error (exit 2) naming the path it looked at.
      const r = await runCli(['chat', '-m', 'stories260K', 'Once'], { cwd: empty.dir, env: { LLMRR_SHARED_DIR: empty.dir } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${empty.dir}/models/stories260K.gguf`);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      empty.remove();
    }
  });
});
