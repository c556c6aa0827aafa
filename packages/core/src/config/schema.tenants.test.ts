import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { LLMRouter } from '../router/llm-router.js';
import { loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'llmrr-config-tenants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loadYaml(name: string, text: string): Promise<unknown> {
  const f = join(dir, name);
  writeFileSync(f, text);
  return loadConfig(f, { env: {} }).catch((e: unknown) => e);
}

function expectInvalid(r: unknown, path: RegExp): void {
  expect(r).toBeInstanceOf(LLMError);
  expect((r as LLMError).code).toBe('config_invalid');
  expect((r as LLMError).message).toMatch(path);
}

const MODELS = `models:
  - { name: small, engine: mock, alias: fast }
  - { name: big, engine: mock }
`;

describe('v3 config: tenant mistakes fail at load with config_invalid naming the field', () => {
  it('two tenants with the same id are rejected (the router would keep only the last entry)', async () => {
    const text = `version: 3
${MODELS}tenants:
  - { id: acme, budget: { amountUsd: 10, period: month }, limits: { rpm: 5 } }
  - { id: globex }
  - { id: acme, allowedModels: [big] }
`;
    expectInvalid(await loadYaml('dup-tenant.yaml', text), /tenants\.2\.id.*duplicate tenant id "acme"/s);
  });

  it('a defaultTenant that names no tenant is rejected at load, not on every call without a tenant', async () => {
    const text = `version: 3
${MODELS}defaultTenant: acmee
tenants:
  - { id: acme }
`;
    expectInvalid(await loadYaml('default-tenant.yaml', text), /defaultTenant.*unknown tenant "acmee"/s);
  });

  it("a tenant's allowedModels entry naming no model, alias or cascade is rejected (a typo leaves the tenant without models)", async () => {
    const text = `version: 3
${MODELS}tenants:
  - { id: acme, allowedModels: [big, smal] }
`;
    expectInvalid(await loadYaml('allowed.yaml', text), /tenants\.0\.allowedModels\.1.*unknown model "smal"/s);
  });

  it('allowedModels may name a model, an alias, a cascade, or one of the tenant\'s own models', async () => {
    const text = `version: 3
${MODELS}routing:
  cascades:
    - { name: smart, weak: small, strong: big }
defaultTenant: acme
tenants:
  - id: acme
    allowedModels: [big, fast, smart, mine]
    models:
      - { name: mine, engine: mock }
`;
    const cfg = await loadYaml('allowed-ok.yaml', text);
    expect(cfg).not.toBeInstanceOf(Error);
    const router = new LLMRouter(cfg as never);
    try {
      // "fast" is small's alias: the tenant may use small.
      expect((await router.route('hi', { tenant: 'acme', model: 'fast' })).selected).toBe('small');
      expect((await router.route('hi', { tenant: 'acme', model: 'mine' })).selected).toBe('mine');
    } finally {
      await router.close();
    }
  });
});
