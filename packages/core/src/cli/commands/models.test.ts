import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_CONFIG, runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';
import type { ModelListing } from './models.js';

let t: TempDir;
beforeAll(() => {
  t = tempDir(`${MOCK_CONFIG.replace('models:\n', 'models:\n  - { name: off, engine: mock, enabled: false, priority: 9 }\n')}`);
});
afterAll(() => t.remove());

describe('llmrr models', () => {
  it('lists deployments with engine, model, priority, price, context window and capabilities', async () => {
    const r = await runCli(['models'], { cwd: t.dir });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ENGINE\s+MODEL\s+ALIAS\s+PRIORITY\s+PRICE \$\/1M IN\/OUT\s+CONTEXT\s+CAPABILITIES$/);
    expect(lines[1]).toMatch(/^off \(disabled\)\s+mock\s+off\s+-\s+9\s+\$0\/\$0 \(table\)\s+-\s+\S*streaming/);
    expect(lines[2]).toMatch(/^mock-smart\s+mock\s+mock-smart\s+mock\s+2\s+\$3\/\$15\s+200000\s+\S*streaming\S*$/);
    expect(lines[3]).toMatch(/^mock-fast\s+mock\s+mock-fast\s+mock\s+3\s+\$0\.15\/\$0\.6\s+128000\s+/);
    expect(lines).toHaveLength(4);
  });

  it('--json prints the same as data', async () => {
    const r = await runCli(['models', '--json'], { cwd: t.dir });
    const list = JSON.parse(r.stdout) as ModelListing[];
    expect(list.map((m) => m.name)).toEqual(['off', 'mock-smart', 'mock-fast']);
    expect(list[1]).toMatchObject({
      engine: 'mock',
      model: 'mock-smart',
      alias: 'mock',
      enabled: true,
      priority: 2,
      price: { input: 3, output: 15 },
      priceFromTable: false,
      contextWindow: 200000,
    });
    expect(list[1]!.capabilities).toContain('streaming');
    expect(list[0]).toMatchObject({ enabled: false });
  });

  it('refuses stray arguments and unknown flags', async () => {
    const r = await runCli(['models', 'all'], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('llmrr models: unexpected argument "all" (see llmrr models --help)\n');
    const f = await runCli(['models', '-j'], { cwd: t.dir });
    expect(f.code).toBe(2);
    expect(f.stderr).toBe('llmrr models: unknown option -j (see llmrr models --help)\n');
  });
});
