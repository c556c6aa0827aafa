import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { LLMRouter } from '../../router/llm-router.js';
import { runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';

/**
 * Settings that would load but do nothing are refused, naming the field: `tenants`/`defaultTenant` without
 * `version: 3` (a v2 config, where the router would ignore them), and an enabled semantic cache whose
 * `embedder` or `guardModel` names no model (the cache is built on first use, where every lookup would miss), and
 * misspelt keys that turn a setting off: an unknown top-level key (`rounting:` loads routing as all defaults), an
 * unknown cache (`cache.exat`: no cache). Options of a strategy that is not built in (`routing.options.balnced`) are
 * a warning: the config may be an app's whose router adds that strategy in code (the gateway server refuses them).
 */
let t: TempDir;
beforeAll(() => {
  t = tempDir();
});
afterAll(() => t.remove());

describe('llmrr config validate: settings that would validate but do nothing', () => {
  it('tenants (with an allow-list) in a config without version: 3 are refused, at load and by validate', async () => {
    const file = t.write(
      'tenants-v2.yaml',
      `models:
  - { name: cheap, engine: mock }
  - { name: pricey, engine: mock }
tenants:
  - id: trial
    allowedModels: [cheap]
    budget: { amountUsd: 5 }
defaultTenant: trial
`,
    );
    // The router never runs with the allow-list ignored: the loader refuses the file.
    await expect(loadConfig(file, { env: {} })).rejects.toMatchObject({ code: 'config_invalid', param: 'tenants' });
    expect(() => new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 'trial' }] } as never)).toThrow(/tenants needs "version: 3"/);
    const v = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect(v.code).toBe(2);
    expect(v.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/: tenants \(line 5, column 3\): tenants needs "version: 3"/),
      expect.stringMatching(/: defaultTenant \(line 8, column 16\): defaultTenant needs "version: 3"/),
    ]);
  });

  it('the same tenants with version: 3 are valid', async () => {
    const file = t.write(
      'tenants-v3.yaml',
      `version: 3
models:
  - { name: cheap, engine: mock }
tenants:
  - id: trial
    allowedModels: [cheap]
defaultTenant: trial
`,
    );
    const v = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect({ code: v.code, stderr: v.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('cache.semantic.embedder naming no deployment is refused', async () => {
    const file = t.write(
      'semantic.yaml',
      `models:
  - { name: a, engine: mock }
cache:
  semantic: { enabled: true, embedder: no-such-deployment }
`,
    );
    const v = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect({ code: v.code, stderr: v.stderr }).toMatchObject({ code: 2, stderr: expect.stringMatching(/cache\.semantic\.embedder \(line 4, column \d+\): no deployment named "no-such-deployment"/) });
  });

  it('cache.semantic.embedder naming an alias (not a deployment) is refused; a deployment name is valid', async () => {
    const alias = t.write('semantic-alias.yaml', `models:\n  - { name: emb, alias: embeddings, engine: mock }\ncache:\n  semantic: { enabled: true, embedder: embeddings }\n`);
    expect((await runCli(['config', 'validate', alias], { cwd: t.dir })).code).toBe(2);
    const named = t.write('semantic-name.yaml', `models:\n  - { name: emb, alias: embeddings, engine: mock }\ncache:\n  semantic: { enabled: true, embedder: emb }\n`);
    expect(await runCli(['config', 'validate', named], { cwd: t.dir })).toMatchObject({ code: 0, stderr: '' });
  });

  it('cache.semantic.guardModel naming nothing is refused; an alias or a cascade is valid', async () => {
    const models = `models:\n  - { name: a, engine: mock, alias: small }\n  - { name: b, engine: mock }\nrouting:\n  cascades: [{ name: smart, weak: a, strong: b }]\n`;
    const bad = t.write('guard-bad.yaml', `${models}cache:\n  semantic: { enabled: true, guard: verify, guardModel: judge }\n`);
    const v = await runCli(['config', 'validate', bad], { cwd: t.dir });
    expect({ code: v.code, stderr: v.stderr }).toMatchObject({ code: 2, stderr: expect.stringMatching(/cache\.semantic\.guardModel .*unknown model "judge"/) });
    for (const name of ['small', 'smart']) {
      const ok = t.write(`guard-${name}.yaml`, `${models}cache:\n  semantic: { enabled: true, guard: verify, guardModel: ${name} }\n`);
      expect(await runCli(['config', 'validate', ok], { cwd: t.dir })).toMatchObject({ code: 0, stderr: '' });
    }
  });

  it('a disabled semantic cache is not checked (it is never built)', async () => {
    const file = t.write('semantic-off.yaml', `models:\n  - { name: a, engine: mock }\ncache:\n  semantic: { enabled: false, embedder: later }\n`);
    expect(await runCli(['config', 'validate', file], { cwd: t.dir })).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('llmrr config validate: misspelt keys that turn a setting off', () => {
  const MODELS = `models:
  - { name: cheap, engine: mock, price: { input: 0.1, output: 0.1 }, quality: 0.3 }
  - { name: pricey, engine: mock, price: { input: 10, output: 10 }, quality: 0.9 }
`;

  it('the same settings under their right names validate, with x-... and legacy keys at the top level', async () => {
    const file = t.write(
      'right.yaml',
      `x-defaults: &d { engine: mock }
${MODELS}  - { <<: *d, name: third }
routing:
  strategy: cost-optimized
  options:
    balanced: { errorPenalty: 0.5 }
cache:
  exact: { enabled: true }
legacy: { maxModels: 5 }
`,
    );
    const v = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect({ code: v.code, stderr: v.stderr }).toEqual({ code: 0, stderr: '' });
  });

  const cases: Array<[string, string, RegExp]> = [
    ['a top-level routing section under a wrong name', `${MODELS}rounting:\n  strategy: cost-optimized\n`, /: rounting \(line 5, column 3\): unknown key "rounting" \(the top level holds version, .*a key of your own starts with "x-"\)$/],
    ['an exact cache under a wrong name', `${MODELS}cache:\n  exat: { enabled: true }\n`, /: cache\.exat \(line 5, column 9\): unknown key "exat"$/],
    ['a semantic cache under a wrong name', `${MODELS}cache:\n  semantc: { enabled: true, threshold: 0.9 }\n`, /: cache\.semantc \(line 5, column 12\): unknown key "semantc"$/],
  ];
  for (const [what, yaml, named] of cases) {
    it(`${what} is refused naming the key, its line and column`, async () => {
      const file = t.write(`${what.replace(/\W+/g, '-')}.yaml`, yaml);
      const v = await runCli(['config', 'validate', file], { cwd: t.dir });
      expect({ code: v.code, lines: v.stderr.split('\n').filter(Boolean) }).toEqual({ code: 2, lines: [expect.stringMatching(named)] });
    });
  }

  it('options of a strategy that is not built in are a warning naming the key, its line and column (an app may add the strategy)', async () => {
    const file = t.write('misspelt-strategy-options.yaml', `${MODELS}routing:\n  strategy: balanced\n  options:\n    balnced: { errorPenalty: 0.5 }\n`);
    const v = await runCli(['config', 'validate', file], { cwd: t.dir });
    expect(v.code).toBe(0);
    expect(v.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^llmrr config validate: warning: routing\.options\.balnced \(line 7, column 14\): options of unknown strategy "balnced", read only if the program adds a strategy of that name \(router\.addStrategy\); else a misspelt name\? \(known: .*balanced/),
    ]);
    expect(v.stdout).toContain(': valid (');
  });

  it('the router refuses an unknown top-level or cache key given as an object, with the schema\'s other errors', () => {
    expect(() => new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], rounting: { strategy: 'cost-optimized' } } as never)).toThrow(/rounting: unknown key "rounting"/);
    expect(() => new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], cache: { exat: { enabled: true } } } as never)).toThrow(/cache\.exat: unknown key "exat"/);
    // Reported together with another error (a zod refinement would run only on an otherwise valid config).
    expect(() => new LLMRouter({ models: [{ name: 'a', engine: 'mock', priority: 1.5 }], rounting: {} } as never)).toThrow(/rounting: unknown key[\s\S]*models\.0\.priority/);
  });
});
