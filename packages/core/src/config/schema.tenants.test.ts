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

describe('v3 config: tenants', () => {
  it('two tenants with the same id are rejected (the router would keep only the last entry)', async () => {
    const text = `version: 3
${MODELS}tenants:
  - { id: acme, budget: { amountUsd: 10, period: month }, limits: { rpm: 5 } }
  - { id: globex }
  - { id: acme, allowedModels: [big] }
`;
    expectInvalid(await loadYaml('dup-tenant.yaml', text), /tenants\.2\.id.*duplicate tenant id "acme"/s);
  });

  it('a tenant id made only of dots is refused (no URL path could name it), in a config and through setTenant', async () => {
    const text = `version: 3
${MODELS}tenants:
  - { id: acme }
  - { id: '..' }
`;
    expectInvalid(await loadYaml('dots-tenant.yaml', text), /tenants\.1\.id.*only dots/s);
    const router = new LLMRouter({ version: 3, models: [{ name: 'small', engine: 'mock' }], tenants: [{ id: 'acme' }] });
    expect(() => router.setTenant({ id: '.' })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'id' }));
    await router.close();
  });

  it('a defaultTenant not in tenants and an allowedModels name added later are accepted: unknownTenant shared and load() serve them', async () => {
    const text = `version: 3
${MODELS}defaultTenant: walk-in
tenants:
  - { id: acme, allowedModels: [big, later] }
`;
    const cfg = await loadYaml('later.yaml', text);
    expect(cfg).not.toBeInstanceOf(Error);
    const router = new LLMRouter(cfg as never, { unknownTenant: 'shared' });
    try {
      // The unlisted default tenant gets the shared models.
      expect((await router.route('hi')).selected).toBe('small');
      // "later" matches nothing yet: the call that needs it is refused, naming it; after load() it is served.
      await expect(router.route('hi', { tenant: 'acme', model: 'later' })).rejects.toMatchObject({ code: 'model_not_found' });
      await router.load({ name: 'later', engine: 'mock' });
      expect((await router.route('hi', { tenant: 'acme', model: 'later' })).selected).toBe('later');
    } finally {
      await router.close();
    }
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
