import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { LLMRouter } from '../router/llm-router.js';
import { runCli, tempDir, type TempDir } from './__fixtures__/cli-harness.js';

/**
 * The CLI names no tenant, so under a v3 config with a `defaultTenant` its calls run in that tenant's view:
 * `-m` of `chat` and `route` accepts the tenant's own models, refuses what its allow-list leaves out, and
 * `llmrr models` lists that view.
 */
const V3_CONFIG = `version: 3
models:
  - { name: shared, engine: mock }
  - { name: pricey, engine: mock }
tenants:
  - id: acme
    allowedModels: [shared]
    models:
      - { name: acme-private, engine: mock }
defaultTenant: acme
`;

let t: TempDir;
beforeAll(() => {
  t = tempDir(V3_CONFIG);
});
afterAll(() => t.remove());

describe('llmrr -m with a v3 config: the defaultTenant view', () => {
  it('the router itself serves -m acme-private for a call naming no tenant (control)', async () => {
    const router = new LLMRouter(await loadConfig(undefined, { cwd: t.dir, env: {} }));
    try {
      const r = await router.generate('hello', { model: 'acme-private' });
      expect(r.deployment).toBe('acme-private');
    } finally {
      await router.close();
    }
  });

  it('llmrr chat -m acme-private answers', async () => {
    const r = await runCli(['chat', '-m', 'acme-private', 'hello'], { cwd: t.dir });
    expect({ code: r.code, stderr: r.stderr.split('\n')[0] }).toMatchObject({ code: 0, stderr: expect.stringMatching(/^deployment acme-private /) });
  });

  it('llmrr route -m acme-private shows the decision', async () => {
    const r = await runCli(['route', '-m', 'acme-private', 'hello'], { cwd: t.dir });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/selected\s+acme-private/);
  });

  it('llmrr models lists the models the CLI calls can use (the allow-list applied)', async () => {
    const r = await runCli(['models', '--json'], { cwd: t.dir });
    expect(r.code).toBe(0);
    const names = (JSON.parse(r.stdout) as Array<{ name: string }>).map((m) => m.name);
    expect(names.sort()).toEqual(['acme-private', 'shared']);
  });

  it('llmrr chat -m pricey (left out by the allow-list) is a usage error naming -m, as the call would be refused', async () => {
    const r = await runCli(['chat', '-m', 'pricey', 'hello'], { cwd: t.dir });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown model "pricey" for -m\/--model/) });
  });
});
