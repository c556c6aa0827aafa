import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_CONFIG, runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';

let t: TempDir;
beforeAll(() => {
  t = tempDir(MOCK_CONFIG);
});
afterAll(() => t.remove());

describe('llmrr config validate', () => {
  it('reports a valid config on stdout', async () => {
    const r = await runCli(['config', 'validate'], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${t.dir}/llmrr.config.yaml: valid (version 2, 2 models: mock-smart, mock-fast; strategy priority)\n`);
  });

  it('prints one line per problem, each naming the field, its line and what was expected; exit 2', async () => {
    const file = t.write(
      'bad.yaml',
      `models:
  - name: a
    engine: mock
    price: { input: cheap, output: 1 }
  - name: b
    engine: mock
    priority: high
routing:
  strategy: balanced
`,
    );
    const r = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`llmrr config validate: Invalid config file ${file}: models.0.price.input (line 4, column 21): Invalid input: expected number, received string`);
    expect(lines[1]).toMatch(/^llmrr config validate: Invalid config file .*: models\.1\.priority \(line 7, column \d+\): Invalid input: expected number, received string$/);
  });

  it('checks what only the router knows: engine names and the strategy (with its line and column)', async () => {
    const engine = t.write('engine.yaml', 'models:\n  - { name: a, engine: warp-drive }\n');
    const r = await runCli(['config', 'validate', engine], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^llmrr config validate: models\.0\.engine: Model "a" uses engine "warp-drive", which is not registered/);
    const strategy = t.write('strategy.yaml', 'models:\n  - { name: a, engine: mock }\nrouting: { strategy: fastest }\n');
    const s = await runCli(['config', 'validate', strategy], { cwd: t.dir });
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/routing\.strategy \(line 3, column 22\): unknown strategy "fastest" \(known: .*priority/);
    expect(s.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it("checks a v3 tenant's preferred strategy: an unknown one names tenants.N.preferences.strategy", async () => {
    // Else the config passes and every call of that tenant fails with an unknown strategy the caller never named.
    const file = t.write('tenant-strategy.yaml', 'version: 3\nmodels:\n  - { name: a, engine: mock }\ntenants:\n  - id: acme\n  - id: beta\n    preferences: { strategy: cost-optimised }\n');
    const r = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^llmrr config validate: .*tenants\.1\.preferences\.strategy: unknown strategy "cost-optimised" \(known: .*cost-optimized/);
    const good = t.write('tenant-strategy-ok.yaml', 'version: 3\nmodels:\n  - { name: a, engine: mock }\ntenants:\n  - id: acme\n    preferences: { strategy: cost-optimized }\n');
    expect((await runCli(['config', 'validate', good], { cwd: t.dir })).code).toBe(0);
  });

  it('checks the price file named by LLMRR_PRICES_FILE (relative to the working directory)', async () => {
    const missing = await runCli(['config', 'validate'], { cwd: t.dir, env: { LLMRR_PRICES_FILE: './no-such-prices.json' } });
    expect({ code: missing.code, stdout: missing.stdout }).toEqual({ code: 2, stdout: '' });
    expect(missing.stderr).toBe(`llmrr config validate: Price file ${t.dir}/no-such-prices.json not found\n`);
    t.write('prices-ok.json', JSON.stringify({ 'mock-smart': { input: 1, output: 2 } }));
    const ok = await runCli(['config', 'validate'], { cwd: t.dir, env: { LLMRR_PRICES_FILE: './prices-ok.json' } });
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it("checks the router model files of intelligent and adaptive (routing.options.<name>.model): missing or not a router model", async () => {
    const missing = t.write('model-missing.yaml', `models:\n  - { name: a, engine: mock }\nrouting:\n  strategy: intelligent\n  options: { intelligent: { model: ${t.dir}/no-such-router.json } }\n`);
    const r = await runCli(['config', 'validate', missing], { cwd: t.dir });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toContain(`routing.options.intelligent.model: Router model file not found: ${t.dir}/no-such-router.json`);
    t.write('not-a-router.json', '{"format":"other"}');
    const other = t.write('model-other.yaml', `models:\n  - { name: a, engine: mock }\nrouting:\n  options: { intelligent: { model: ${t.dir}/not-a-router.json } }\n`);
    const o = await runCli(['config', 'validate', other], { cwd: t.dir });
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('routing.options.intelligent.model: Not a router model');
    // adaptive's cold-start prior is the same kind of file.
    const adaptive = t.write('model-adaptive.yaml', `models:\n  - { name: a, engine: mock }\nrouting:\n  options: { adaptive: { model: ${t.dir}/no-such-prior.json } }\n`);
    const a = await runCli(['config', 'validate', adaptive], { cwd: t.dir });
    expect({ code: a.code, stdout: a.stdout }).toEqual({ code: 2, stdout: '' });
    expect(a.stderr).toContain(`routing.options.adaptive.model: Router model file not found: ${t.dir}/no-such-prior.json`);
  });

  it('names a YAML syntax error by line and a missing file by path', async () => {
    const broken = t.write('broken.yaml', 'models:\n  - name: a\n   engine: mock\n');
    const r = await runCli(['config', 'validate', broken], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^llmrr config validate: Invalid YAML in config file .*broken\.yaml at line 3, column \d+: /);
    const missing = await runCli(['config', 'validate', 'nope.yaml'], { cwd: t.dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`llmrr config validate: The config file ${t.dir}/nope.yaml not found\n`);
  });

  it('refuses a file given twice and unknown subcommands', async () => {
    const both = await runCli(['config', 'validate', 'a.yaml', '-c', 'b.yaml'], { cwd: t.dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
    const unknown = await runCli(['config', 'lint'], { cwd: t.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('llmrr config: unknown subcommand "lint" (expected validate or schema) (see llmrr config --help)\n');
    const none = await runCli(['config'], { cwd: t.dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('missing subcommand: validate or schema');
  });
});

describe('llmrr config schema', () => {
  it('prints the JSON Schema of the config', async () => {
    const r = await runCli(['config', 'schema'], { cwd: t.dir });
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(schema['$schema']).toMatch(/json-schema\.org/);
    expect(JSON.stringify(schema)).toContain('"contextWindow"');
  });
});

describe('a bad config fails every command with one line naming the field (exit 2)', () => {
  it('models, route and chat', async () => {
    const bad = tempDir('models:\n  - name: a\n    engine: mock\n    priority: high\n');
    try {
      for (const argv of [['models'], ['route', 'hi'], ['chat', 'hi']]) {
        const r = await runCli(argv, { cwd: bad.dir });
        expect(r.code, argv[0]).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe(
          `llmrr ${argv[0]}: Invalid config file ${bad.dir}/llmrr.config.yaml: models.0.priority (line 4, column 15): Invalid input: expected number, received string\n`,
        );
      }
    } finally {
      bad.remove();
    }
  });

  it('several problems: the first, and how many more', async () => {
    const bad = tempDir('models:\n  - { name: a, engine: mock, weight: -1, quality: 7 }\n');
    try {
      const r = await runCli(['models'], { cwd: bad.dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^llmrr models: Invalid config file .*: models\.0\.weight \(line 2, column \d+\): .* \(and 1 more issue; run llmrr config validate\)\n$/);
    } finally {
      bad.remove();
    }
  });

  it('an unset ${VAR} in the config names the field and the variable', async () => {
    const bad = tempDir('models:\n  - { name: a, engine: mock, apiKey: "${MY_KEY}" }\n');
    try {
      const r = await runCli(['models'], { cwd: bad.dir, env: {} });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/models\.0\.apiKey \(line 2, column \d+\): environment variable MY_KEY is not set/);
      const ok = await runCli(['models'], { cwd: bad.dir, env: { MY_KEY: 'k' } });
      expect(ok.code).toBe(0);
    } finally {
      bad.remove();
    }
  });
});
