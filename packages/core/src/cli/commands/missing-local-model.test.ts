/**
 * A local model (gguf, onnx) whose file is missing (or is a directory) is left out by `llmrr models`, `chat` and
 * `route` as the gateway server leaves it out (`disableMissingLocalModels`, one function for both): disabled, with a
 * warning on stderr naming the file, so a call never picks it. Run on the repository's demo config with
 * LLMRR_SHARED_DIR pointing at a directory without the stories260K file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';
import type { ModelListing } from './models.js';

let cwd: TempDir;
let shared: TempDir;
let aliased: TempDir;
beforeAll(() => {
  cwd = tempDir();
  shared = tempDir();
  aliased = tempDir();
  writeFileSync(
    join(aliased.dir, 'llmrr.config.yaml'),
    [
      'models:',
      '  - { name: local, alias: tiny, engine: gguf, path: missing.gguf }',
      '  - { name: off, alias: spare, engine: mock, enabled: false }',
      '  - { name: backup, alias: spare, engine: mock }',
      '  - { name: retired, engine: mock, enabled: false }',
      '',
    ].join('\n'),
  );
});
afterAll(() => {
  cwd.remove();
  shared.remove();
  aliased.remove();
});

const WARNING = /^llmrr (models|chat): warning: model "stories260K" \(.*llmrr\.config\.yaml\) is left out \(not listed, not routed to\): its file .*\/models\/stories260K\.gguf does not exist or is not a file$/m;

describe('a local model whose file is missing, in the CLI (the demo config without stories260K)', () => {
  it('llmrr models: listed as disabled, with one warning naming the file', async () => {
    const r = await runCli(['models', '--json'], { cwd: cwd.dir, env: { LLMRR_SHARED_DIR: shared.dir } });
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as ModelListing[];
    expect(list.find((m) => m.name === 'stories260K')).toMatchObject({ enabled: false });
    expect(r.stderr).toMatch(WARNING);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('llmrr chat: the router never picks it (no failed attempt, no fallback), the next model answers', async () => {
    const r = await runCli(['chat', '--json', 'hello'], { cwd: cwd.dir, env: { LLMRR_SHARED_DIR: shared.dir } });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { deployment: string; attempts?: unknown[] };
    expect(result.deployment).toBe('mock-smart');
    expect(r.stderr).toMatch(WARNING);
    expect(r.stderr).not.toMatch(/fallback|engine_unavailable/);
  });

  it('llmrr chat -m stories260K: a usage error naming --model, before any call', async () => {
    const r = await runCli(['chat', '-m', 'stories260K', 'hello'], { cwd: cwd.dir, env: { LLMRR_SHARED_DIR: shared.dir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--model/);
    expect(r.stderr).toMatch(/stories260K/);
  });
});

describe('llmrr chat -m naming a model by its alias, or a disabled model', () => {
  it('-m <alias of a missing local model>: the same usage error naming --model and the file as -m <its name>', async () => {
    const byName = await runCli(['chat', '-m', 'local', 'hello'], { cwd: aliased.dir, env: {} });
    const byAlias = await runCli(['chat', '-m', 'tiny', 'hello'], { cwd: aliased.dir, env: {} });
    for (const r of [byName, byAlias]) {
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
      expect(r.stderr).toMatch(/for -m\/--model is left out: its file .*missing\.gguf does not exist or is not a file/);
    }
  });

  it('-m <alias> with one enabled member answers from it; a disabled model is refused and not listed as known', async () => {
    const spare = await runCli(['chat', '--json', '-m', 'spare', 'hello'], { cwd: aliased.dir, env: {} });
    expect(spare.code).toBe(0);
    expect((JSON.parse(spare.stdout) as { deployment: string }).deployment).toBe('backup');
    const retired = await runCli(['chat', '-m', 'retired', 'hello'], { cwd: aliased.dir, env: {} });
    expect(retired.code).toBe(2);
    expect(retired.stderr).toMatch(/disabled model "retired" for -m\/--model \(known: backup, spare\)/);
  });
});
