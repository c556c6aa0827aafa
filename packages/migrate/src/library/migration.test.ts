import { BUILTIN_STRATEGIES, safeParseConfig } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { transformFile } from '../codemod/transform-file.js';
import { migrate } from './migrate.js';
import { CURRENT_STRATEGIES } from './strategy-names.js';
import { v1ToV2 } from './v1-to-v2.js';
import { v2ToV3 } from './v2-to-v3.js';
import { validate } from './validate.js';

/**
 * Migration rules at the edges: a v1 model key that loses to its v2 spelling (or is not a string URL) is kept
 * and reported, v2 -> v3 keeps the tenants a config already has, and the strategies the core ships are current.
 */
describe('nothing dropped silently', () => {
  // README: "Nothing is dropped silently ... every one is reported".
  const cases: Array<[string, Record<string, unknown>, unknown]> = [
    ['maxTokens', { maxTokens: 100, maxOutputTokens: 200 }, 100],
    ['contextLength', { contextLength: 4096, contextWindow: 8192 }, 4096],
    ['costPer1kInput', { costPer1kInput: 0.01, price: { input: 5, output: 5 } }, 0.01],
    ['timeout', { timeout: 1000, timeouts: { totalMs: 5000 } }, 1000],
    ['url', { baseURL: 'http://a/v1', url: 'http://b/v1' }, 'http://b/v1'],
    ['maxTokens', { maxTokens: '100' }, '100'],
  ];
  for (const [key, extra, kept] of cases) {
    it(`a model's v1 "${key}" that loses to ${JSON.stringify(extra)} is kept in options and reported`, () => {
      const r = v1ToV2({ models: [{ id: 'a', source: 'gpt-4o', ...extra }] });
      const model = (r.config.models as Array<Record<string, unknown>>)[0]!;
      expect((model.options as Record<string, unknown>)[key]).toEqual(kept);
      expect(r.issues).toContainEqual(expect.objectContaining({ path: `models.0.${key}`, severity: 'warning' }));
      for (const [k, v] of Object.entries(extra)) if (k !== key) expect(model[k]).toEqual(v);
      expect(validate(r.config).valid).toBe(true);
    });
  }
});

describe('the migration report carries no secret of the config', () => {
  // Printed by llmrr-migrate as `file: warning: ...` (under --write and --check too) and kept in CI logs.
  const FIRST = 'sk-proj-FIRST-SECRET-aaaa';
  const SECOND = 'sk-proj-SECOND-SECRET-bbbb';
  const text = (issues: ReadonlyArray<{ path: string; message: string }>) => issues.map((i) => `${i.path}: ${i.message}`).join('\n');

  it('a duplicate model object (same name after renaming) is named, not printed with its apiKey and headers', () => {
    const r = v1ToV2({
      models: [
        { id: 'gpt-4o', provider: 'openai', apiKey: FIRST },
        { id: 'gpt-4o', provider: 'openai', apiKey: SECOND, headers: { 'x-key': SECOND }, endpoint: 'https://eu.api.example.com/v1' },
      ],
      strategy: 'fallback',
    });
    expect(r.issues).toContainEqual({ path: 'models.1', message: 'model "gpt-4o" is a duplicate of "gpt-4o" after renaming: left out (the first one is kept)', severity: 'warning' });
    expect(text(r.issues)).not.toContain('SECRET');
  });

  it('a model without id or name is named by the name it got', () => {
    const r = v1ToV2({ models: [{ source: 'gpt-4o', apiKey: FIRST }, { source: 'gpt-4o', apiKey: SECOND }] });
    expect(r.issues).toContainEqual(expect.objectContaining({ path: 'models.1', message: expect.stringMatching(/^model "gpt-4o" is a duplicate of "gpt-4o"/) }));
    expect(text(r.issues)).not.toContain('SECRET');
  });

  it('an endpoint losing to baseURL is shown without user info and query string (both URLs)', () => {
    const r = v1ToV2({ models: [{ id: 'm', baseURL: 'https://a.example.com/v1?key=BASE-SECRET', endpoint: 'https://u:PW-SECRET@b.example.com/v1?api-key=QUERY-SECRET-123' }] });
    expect(r.issues).toContainEqual({
      path: 'models.0.endpoint',
      message: 'endpoint "https://b.example.com/v1" differs from baseURL "https://a.example.com/v1", which wins: kept in options.endpoint',
      severity: 'warning',
    });
    expect(text(r.issues)).not.toContain('SECRET');
  });

  it('the codemod (JSON and JS files alike) keeps them out of its report', () => {
    const models = [{ id: 'gpt-4o', provider: 'openai', apiKey: FIRST }, { id: 'gpt-4o', provider: 'openai', apiKey: SECOND }];
    const json = transformFile('llm-router.json', JSON.stringify({ models, strategy: 'fallback' }, null, 2), { to: 2, explicit: true });
    const js = transformFile('router.js', `import LLMRouter from 'llm-runner-router';\nconst router = new LLMRouter(${JSON.stringify({ models, strategy: 'fallback' })});\n`, { to: 2, explicit: true });
    for (const r of [json, js]) {
      expect(r.errors).toEqual([]);
      expect(r.issues.some((i) => i.message.includes('is a duplicate of'))).toBe(true);
      expect(JSON.stringify([r.issues, r.skipped])).not.toContain('SECOND-SECRET');
    }
  });
});

describe('v1 endpoint keys that are not strings', () => {
  it('keeps `endpoint: { host, port }` and `apiUrl: 42` (no string base URL from any key) in options, with a warning', () => {
    // (An openai-compatible model: the engine takes option keys it does not read; the mock refuses them.)
    const r = migrate({ models: [{ id: 'a', source: 'gpt-4o', endpoint: { host: 'api.example', port: 8443 }, apiUrl: 42 }], strategy: 'fallback' }, { to: 2 });
    const model = (r.config.models as Array<Record<string, unknown>>)[0]!;
    expect(model.options).toEqual({ endpoint: { host: 'api.example', port: 8443 }, apiUrl: 42 });
    expect(model.baseURL).toBeUndefined();
    expect(r.issues.filter((i) => i.severity === 'warning').map((i) => i.path)).toEqual(['models.0.endpoint', 'models.0.apiUrl']);
  });

  it('keeps a non-string `baseURL` next to a string `url` (which becomes baseURL) in options, with a warning', () => {
    const r = migrate({ models: [{ id: 'a', source: 'gpt-4o', baseURL: { env: 'BASE' }, url: 'http://b/v1' }] }, { to: 2 });
    const model = (r.config.models as Array<Record<string, unknown>>)[0]!;
    expect(model.baseURL).toBe('http://b/v1');
    expect(model.options).toEqual({ baseURL: { env: 'BASE' } });
    expect(r.issues).toContainEqual(expect.objectContaining({ path: 'models.0.baseURL', severity: 'warning' }));
  });
});

describe('v2 -> v3 with tenants already listed', () => {
  const v2 = { version: 2, models: [{ name: 'm', engine: 'mock' }], tenants: [{ id: 'acme' }], defaultTenant: 'acme' };

  it('adds no tenant when the config already lists tenants and names its default', () => {
    const r = v2ToV3(v2);
    expect(r.config.tenants).toEqual([{ id: 'acme' }]);
    expect(r.config.defaultTenant).toBe('acme');
    expect(r.issues.filter((i) => i.severity === 'warning')).toEqual([]);
  });

  it('migrate(..., { to: 3 }) does not invent a "default" tenant the v2 config never had', () => {
    const r = migrate(v2, { to: 3 });
    expect((r.config.tenants as Array<{ id: string }>).map((t) => t.id)).toEqual(['acme']);
  });

  it('takes the first listed tenant as the default when the config names none', () => {
    const r = v2ToV3({ ...v2, tenants: [{ id: 'globex' }, { id: 'acme' }], defaultTenant: undefined });
    expect(r.config.tenants).toEqual([{ id: 'globex' }, { id: 'acme' }]);
    expect(r.config.defaultTenant).toBe('globex');
  });

  it('adds the tenant asked for, keeping the config\'s default', () => {
    const r = v2ToV3(v2, { tenant: 'globex' });
    expect(r.config.tenants).toEqual([{ id: 'acme' }, { id: 'globex' }]);
    expect(r.config.defaultTenant).toBe('acme');
  });
});

describe('strategies the core ships', () => {
  it('are the core\'s own list (fallback, the core\'s alias of priority, is written as priority)', () => {
    expect(CURRENT_STRATEGIES).toEqual(BUILTIN_STRATEGIES.filter((s) => s !== 'fallback'));
    expect(v1ToV2({ models: ['mock://m'], strategy: 'fallback' }).config.routing).toEqual({ strategy: 'priority' });
  });

  for (const strategy of ['intelligent', 'adaptive']) {
    it(`validate() does not call the built-in strategy "${strategy}" unknown`, () => {
      const r = validate({ version: 2, models: [{ name: 'm', engine: 'mock' }], routing: { strategy } });
      expect(r.issues.filter((i) => i.path === 'routing.strategy')).toEqual([]);
    });

    it(`v1ToV2 keeps "${strategy}" without telling the user to register it`, () => {
      const r = v1ToV2({ models: ['mock://m'], strategy });
      expect(r.config.routing).toEqual({ strategy });
      expect(r.issues.filter((i) => i.path === 'strategy' && i.severity === 'warning')).toEqual([]);
    });
  }
});

/**
 * Configs the core loaded before it refused unknown keys (a top-level section of another tool, a v1 cache
 * object's `type`): migrating is the way out, so the output must validate (or say why not), changed or not.
 */
describe('keys the core refuses', () => {
  it('a v2 config with a section of its own gets it moved under legacy, and the result validates', () => {
    const before = { version: 2, models: [{ name: 'a', engine: 'mock' }], gateway: { port: 3006 }, 'x-notes': 'kept' };
    expect(safeParseConfig(before).ok).toBe(false);
    const r = migrate(before, { to: 2 });
    expect(r).toMatchObject({ from: 2, to: 2, changed: true });
    expect(r.config).toEqual({ version: 2, models: [{ name: 'a', engine: 'mock' }], 'x-notes': 'kept', legacy: { gateway: { port: 3006 } } });
    expect(r.issues).toContainEqual({ path: 'gateway', message: 'no v2 equivalent (not a key the router reads): kept under legacy.gateway', severity: 'warning' });
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(safeParseConfig(r.config).ok).toBe(true);
    // Running it again changes nothing.
    expect(migrate(r.config, { to: 2 })).toMatchObject({ changed: false, config: r.config });
  });

  it('a v3 config with a section of its own and an unknown cache key is tidied to a valid v3 config (migrate and v2ToV3)', () => {
    const before = { version: 3, models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 'acme' }], server: { port: 3006 }, cache: { exact: { enabled: true }, type: 'memory' } };
    for (const r of [migrate(before, { to: 3 }), v2ToV3(before)]) {
      expect(r).toMatchObject({ from: 3, to: 3, changed: true });
      expect(r.config).toMatchObject({ cache: { exact: { enabled: true } }, legacy: { server: { port: 3006 }, cache: { type: 'memory' } } });
      expect(r.config.cache).toEqual({ exact: { enabled: true } });
      expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
      expect(safeParseConfig(r.config).ok).toBe(true);
    }
  });

  it('a v2 config migrated to v3 has its own section moved as well', () => {
    const r = migrate({ models: [{ name: 'a', engine: 'mock' }], gateway: { port: 3006 } }, { to: 3, tenant: 'acme' });
    expect(r).toMatchObject({ from: 2, to: 3, changed: true, config: { version: 3, legacy: { gateway: { port: 3006 } }, defaultTenant: 'acme' } });
    expect(safeParseConfig(r.config).ok).toBe(true);
  });

  it('a v2 config with tenants but no version: 3 still migrates to v3', () => {
    const r = migrate({ models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 'acme' }] }, { to: 3 });
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(r.config).toMatchObject({ version: 3, tenants: [{ id: 'acme' }], defaultTenant: 'acme' });
  });

  it('an unchanged config the core refuses for another reason is reported, not "nothing to do" alone', () => {
    const r = migrate({ version: 2, models: [{ name: 'a', engine: 'mock', price: { input: -1, output: 1 } }] }, { to: 2 });
    expect(r.changed).toBe(false);
    expect(r.issues).toContainEqual(expect.objectContaining({ path: 'models.0.price.input', severity: 'error', message: expect.stringMatching(/^the config is not valid \(nothing to migrate: fix it by hand\): /) }));
  });

  it("a v1 cache object's keys without a v2 field (type) go under legacy.cache; the result validates", () => {
    const r = v1ToV2({ models: [{ id: 'a', source: 'mock://a' }], strategy: 'fallback', cache: { enabled: true, ttl: 60000, type: 'memory' } });
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(r.config.cache).toEqual({ exact: { enabled: true, ttlMs: 60000 } });
    expect(r.config.legacy).toEqual({ cache: { type: 'memory' } });
    expect(r.issues).toContainEqual({ path: 'cache.type', message: 'no v2 equivalent (not a cache setting of v2): kept under legacy.cache.type', severity: 'warning' });
    expect(safeParseConfig(r.config).ok).toBe(true);
  });

  it('a v1 cache key whose cache.exact field is already set goes under legacy.cache too (was kept in cache, refused)', () => {
    const r = v1ToV2({ models: [{ id: 'a', source: 'mock://a' }], strategy: 'fallback', cache: { ttl: 60000, exact: { ttlMs: 5000 } } });
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(r.config.cache).toEqual({ exact: { ttlMs: 5000 } });
    expect(r.config.legacy).toEqual({ cache: { ttl: 60000 } });
    expect(r.issues).toContainEqual({ path: 'cache.ttl', message: 'no v2 equivalent (cache.exact.ttlMs is already set): kept under legacy.cache.ttl', severity: 'warning' });
  });

  it('a key already under legacy with another value is not overwritten: an error naming both, the key kept where it was', () => {
    const r = migrate({ version: 2, models: [{ name: 'a', engine: 'mock' }], gateway: { port: 1 }, legacy: { gateway: { port: 2 } } }, { to: 2 });
    expect(r.issues).toContainEqual(expect.objectContaining({ path: 'gateway', severity: 'error', message: expect.stringContaining('legacy.gateway is already set') }));
    expect(r.config).toEqual({ version: 2, models: [{ name: 'a', engine: 'mock' }], gateway: { port: 1 }, legacy: { gateway: { port: 2 } } });
    // The keys that can move still do; the one that cannot stays.
    const mixed = migrate({ version: 2, models: [{ name: 'a', engine: 'mock' }], gateway: { port: 1 }, server: { port: 3 }, legacy: { gateway: { port: 2 } } }, { to: 2 });
    expect(mixed.config).toEqual({ version: 2, models: [{ name: 'a', engine: 'mock' }], gateway: { port: 1 }, legacy: { gateway: { port: 2 }, server: { port: 3 } } });
  });

  it('an unknown cache key whose legacy.cache place is taken, or whose legacy.cache is no object, stays in cache with an error', () => {
    const taken = migrate({ version: 2, models: [{ name: 'a', engine: 'mock' }], cache: { exact: { enabled: true }, type: 'memory', size: 3 }, legacy: { cache: { type: 'redis' } } }, { to: 2 });
    expect(taken.issues).toContainEqual(expect.objectContaining({ path: 'cache.type', severity: 'error', message: expect.stringContaining('legacy.cache.type is already set') }));
    expect(taken.config).toMatchObject({ cache: { exact: { enabled: true }, type: 'memory' }, legacy: { cache: { type: 'redis', size: 3 } } });
    expect(taken.config.cache).toEqual({ exact: { enabled: true }, type: 'memory' });
    const notObject = migrate({ version: 2, models: [{ name: 'a', engine: 'mock' }], cache: { exact: { enabled: true }, type: 'memory' }, legacy: { cache: 'old' } }, { to: 2 });
    expect(notObject.issues).toContainEqual(expect.objectContaining({ path: 'legacy.cache', severity: 'error' }));
    expect(notObject.config).toMatchObject({ cache: { exact: { enabled: true }, type: 'memory' }, legacy: { cache: 'old' } });
    for (const v1 of [
      v1ToV2({ models: [{ id: 'a', source: 'mock://a' }], strategy: 'fallback', cache: { enabled: true, type: 'memory' }, legacy: { cache: { type: 'redis' } } }),
      v1ToV2({ models: [{ id: 'a', source: 'mock://a' }], strategy: 'fallback', cache: { enabled: true, type: 'memory' }, legacy: { cache: 'old' } }),
    ]) {
      expect(v1.issues.filter((i) => i.severity === 'error').length).toBeGreaterThan(0);
      expect(v1.config.cache).toMatchObject({ type: 'memory' });
    }
  });

  it('v2 -> v2 again and v2 -> v3 -> v3 again change nothing the second time, legacy merged', () => {
    const v2 = { version: 2, models: [{ name: 'a', engine: 'mock' }], legacy: { notes: 1 }, gateway: { port: 1 }, cache: { exact: { enabled: true }, type: 'memory' } };
    const once = migrate(v2, { to: 2 });
    expect(once.config).toMatchObject({ legacy: { notes: 1, gateway: { port: 1 }, cache: { type: 'memory' } } });
    expect(migrate(once.config, { to: 2 })).toMatchObject({ changed: false, config: once.config });
    const three = migrate(once.config, { to: 3, tenant: 'acme' });
    expect(safeParseConfig(three.config).ok).toBe(true);
    expect(migrate(three.config, { to: 3 })).toMatchObject({ changed: false, config: three.config });
  });

  it('the YAML codemod moves a v2 file\'s own section under legacy with its comment', () => {
    const input = 'version: 2\nmodels:\n  - name: a # the mock\n    engine: mock\n# our server\ngateway:\n  port: 3006\n';
    const r = transformFile('llmrr.config.yaml', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    expect(r.changed).toBe(true);
    expect(r.output).toContain('  - name: a # the mock\n');
    expect(r.output).toContain('legacy:\n');
    expect(r.output).toContain('# our server');
    expect(r.output).toMatch(/legacy:\n(\s*#.*\n)?\s+gateway:\n\s+port: 3006\n/);
  });
});
