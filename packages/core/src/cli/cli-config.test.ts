import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { MOCK_CONFIG, tempDir, type TempDir } from './__fixtures__/cli-harness.js';
import { DEMO_CONFIG_FILE, loadCliConfig } from './cli-config.js';

let empty: TempDir;
let withFile: TempDir;
beforeAll(() => {
  empty = tempDir();
  withFile = tempDir(MOCK_CONFIG);
});
afterAll(() => {
  empty.remove();
  withFile.remove();
});

describe('loadCliConfig', () => {
  it('the demo config is the repository root llmrr.config.yaml', () => {
    expect(DEMO_CONFIG_FILE).toBe(new URL('../../../../llmrr.config.yaml', import.meta.url).pathname);
  });

  it('prefers -c, then the working directory, then the demo config', async () => {
    const demo = withFile.write('demo.yaml', 'models:\n  - { name: demo-model, engine: mock }\n');
    const other = withFile.write('other.yaml', 'models:\n  - { name: other-model, engine: mock }\n');
    const fromFlag = await loadCliConfig({ env: {}, cwd: withFile.dir }, other, demo);
    expect(fromFlag.config.models.map((m) => m.name)).toEqual(['other-model']);
    expect(fromFlag.demo).toBe(false);
    const fromCwd = await loadCliConfig({ env: {}, cwd: withFile.dir }, undefined, demo);
    expect(fromCwd.config.models.map((m) => m.name)).toEqual(['mock-smart', 'mock-fast']);
    const fromDemo = await loadCliConfig({ env: {}, cwd: empty.dir }, undefined, demo);
    expect(fromDemo).toMatchObject({ demo: true, file: demo });
    const fromEnv = await loadCliConfig({ env: { LLM_ROUTER_MODELS: 'env-model=mock' }, cwd: empty.dir }, undefined, demo);
    expect(fromEnv.demo).toBe(false);
    expect(fromEnv.config.models.map((m) => [m.name, m.engine])).toEqual([['env-model', 'mock']]);
  });

  it('without a demo config (an installed package) says how to give one', async () => {
    const e = await loadCliConfig({ env: {}, cwd: empty.dir }, undefined, `${empty.dir}/missing.yaml`).catch((x: unknown) => x);
    expect(LLMError.isInstance(e) && e.code).toBe('config_invalid');
    expect((e as Error).message).toBe(
      `No config found: pass -c <file>, put llmrr.config.json / llmrr.config.yaml / llmrr.config.yml in ${empty.dir}, or set LLM_ROUTER_CONFIG (a path), LLM_ROUTER_CONFIG_JSON or LLM_ROUTER_MODELS`,
    );
  });
});
