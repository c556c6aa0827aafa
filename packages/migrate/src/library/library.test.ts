import { LLMError, safeParseConfig } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { detectVersion } from './detect-version.js';
import { migrate } from './migrate.js';
import { resolveModelName } from './model-names.js';
import { mapStrategy } from './strategy-names.js';
import { v1ToV2 } from './v1-to-v2.js';
import { v2ToV3 } from './v2-to-v3.js';
import { validate } from './validate.js';

const messages = (r: { issues: Array<{ path: string; message: string; severity: string }> }) => r.issues.map((i) => `${i.severity} ${i.path}: ${i.message}`);

describe('detectVersion', () => {
  it('tells versions by `version` and by shape', () => {
    expect(detectVersion({ models: ['gpt-3.5'], strategy: 'round-robin' })).toBe(1);
    expect(detectVersion({ routingStrategy: 'balanced' })).toBe(1);
    expect(detectVersion({ models: [{ id: 'a', source: 'mock://a' }] })).toBe(1);
    expect(detectVersion({ models: [{ name: 'a' }] })).toBe(2);
    expect(detectVersion({ version: 2, models: [{ name: 'a' }], strategy: 'random' })).toBe(1);
    expect(detectVersion({ version: 3, models: [], tenants: [] })).toBe(3);
    expect(detectVersion({ users: [] })).toBeUndefined();
    // A `version` alone is another file's (a Grafana dashboard counts its saves; docker compose): not a config.
    for (const version of [1, 2, 3, '1', '2', '3']) expect(detectVersion({ title: 'x', version, panels: [] }), String(version)).toBeUndefined();
    expect(detectVersion({ version: 1, models: ['gpt-3.5'] })).toBe(1);
    expect(detectVersion({ version: 2, routing: { strategy: 'random' } })).toBe(2);
    expect(detectVersion({ version: 3, tenants: [{ id: 't' }] })).toBe(3);
    expect(detectVersion(['gpt-3.5'])).toBeUndefined();
    expect(detectVersion('models')).toBeUndefined();
  });
});

describe('v1ToV2', () => {
  it('converts the seed shape to exactly what the core validates', () => {
    const r = v1ToV2({ models: ['gpt-3.5'], strategy: 'round-robin' });
    expect(r.config).toEqual({ version: 2, models: [{ name: 'gpt-3.5-turbo', engine: 'openai-compatible', preset: 'openai', priority: 1 }], routing: { strategy: 'round-robin' } });
    expect(r.changed).toBe(true);
    expect(safeParseConfig(r.config).ok).toBe(true);
    expect(messages(r)).toContain('info models.0: model "gpt-3.5" is now called "gpt-3.5-turbo"');
  });

  it('maps the original keys and reports every one', () => {
    const input = { models: ['llama2'], routingStrategy: 'fastest', fallbackModels: ['claude-3-haiku'], fallbackEnabled: true, cacheTTL: 1000, maxTokens: 99, preferredEngine: 'auto', maxModels: 5, timeout: 100, retries: 12 };
    const r = v1ToV2(input);
    expect(r.config).toMatchObject({
      routing: { strategy: 'speed-priority', fallbacks: ['claude-3-haiku-20240307'], timeouts: { totalMs: 100 }, retries: { max: 10 } },
      cache: { exact: { ttlMs: 1000 } },
      legacy: { maxModels: 5 },
    });
    expect(r.config.models).toEqual([
      { name: 'llama2', engine: 'openai-compatible', preset: 'ollama', priority: 1, maxOutputTokens: 99 },
      { name: 'claude-3-haiku-20240307', engine: 'anthropic', priority: 2, maxOutputTokens: 99 },
    ]);
    for (const key of Object.keys(input).filter((k) => k !== 'models')) expect(r.issues.some((i) => i.path === key || i.path.startsWith(`${key}.`))).toBe(true);
    expect(messages(r)).toContain('warning retries: 12 retries is above the v2 limit of 10: set to 10');
  });

  it('keeps unknown model keys in options and unknown top-level keys under legacy (x-... keys in place), reporting both', () => {
    const r = v1ToV2({ models: [{ id: 'a', source: 'mock://a', reply: 'hi' }], strategy: 'random', owner: 'team', 'x-notes': 'ours' });
    expect(r.config.models[0]).toEqual({ name: 'a', engine: 'mock', priority: 1, options: { reply: 'hi' } });
    // The core refuses an unknown top-level key (a misspelt section would load as defaults): kept under legacy.
    expect(r.config.owner).toBeUndefined();
    expect(r.config.legacy).toEqual({ owner: 'team' });
    expect(r.config['x-notes']).toBe('ours');
    expect(messages(r)).toContain('warning models.0.reply: "reply" is not a v2 model field: kept in options.reply (engines read their own options)');
    expect(messages(r)).toContain('warning owner: no v2 equivalent (not a key the router reads): kept under legacy.owner');
    expect(r.moves).toContainEqual({ from: ['models', 0, 'reply'], to: ['models', 0, 'options', 'reply'] });
    expect(r.moves).toContainEqual({ from: ['owner'], to: ['legacy', 'owner'] });
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('guesses engines per family, uses preferredEngine for unknown names, and warns when it cannot tell', () => {
    expect(v1ToV2({ models: ['my-model'], preferredEngine: 'ollama' }).config.models[0]).toMatchObject({ engine: 'openai-compatible', preset: 'ollama' });
    const r = v1ToV2({ models: ['my-model'] });
    expect(r.config.models[0]).toEqual({ name: 'my-model', engine: 'openai-compatible', priority: 1 });
    expect(r.issues.some((i) => i.severity === 'warning' && i.message.includes('cannot tell the engine'))).toBe(true);
  });

  it('reports an error for a v1 config without models', () => {
    const r = v1ToV2({ strategy: 'balanced' });
    expect(r.issues.filter((i) => i.severity === 'error').map((i) => i.path)).toContain('models');
  });

  it('returns v2 and v3 configs unchanged', () => {
    const v2 = { version: 2, models: [{ name: 'a', engine: 'mock' }] };
    const r = v1ToV2(v2);
    expect(r.changed).toBe(false);
    expect(r.config).toEqual(v2);
  });

  it('throws LLMError config_invalid for inputs that are not configs', () => {
    for (const bad of [null, 'x', [1], { users: [] }]) {
      expect(() => v1ToV2(bad)).toThrow(LLMError);
      try {
        v1ToV2(bad);
      } catch (e) {
        expect(LLMError.isInstance(e) && e.code).toBe('config_invalid');
      }
    }
  });

  it('honours a user model-name table', () => {
    const r = v1ToV2({ models: ['house-model'] }, { modelNames: { 'house-model': { name: 'claude-3-5-haiku-latest' } } });
    expect(r.config.models[0]).toMatchObject({ name: 'claude-3-5-haiku-latest', engine: 'anthropic' });
  });
});

describe('v2ToV3 and migrate', () => {
  it('adds the tenant and defaultTenant', () => {
    const r = v2ToV3({ models: [{ name: 'a', engine: 'mock' }] }, { tenant: 'acme', tenantName: 'Acme' });
    expect(r.config).toEqual({ version: 3, models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 'acme', name: 'Acme' }], defaultTenant: 'acme' });
    expect(safeParseConfig(r.config).ok).toBe(true);
  });

  it('refuses v1 input, bad tenant ids, and downgrades', () => {
    expect(() => v2ToV3({ models: ['gpt-3.5'] })).toThrow(/v1 config/);
    expect(() => v2ToV3({ models: [{ name: 'a' }] }, { tenant: 'no spaces' })).toThrow(/tenant id/);
    expect(() => migrate({ version: 3, models: [{ name: 'a' }], tenants: [{ id: 't' }] }, { to: 2 })).toThrow(/cannot be turned back/);
  });

  it('migrates v1 to v3 in one go and is idempotent', () => {
    const r = migrate({ models: ['mock://a'], strategy: 'fallback' }, { to: 3, tenant: 't1' });
    expect(r).toMatchObject({ from: 1, to: 3, changed: true });
    expect(r.config).toMatchObject({ version: 3, routing: { strategy: 'priority' }, tenants: [{ id: 't1' }], defaultTenant: 't1' });
    const again = migrate(r.config, { to: 3, tenant: 't1' });
    expect(again.changed).toBe(false);
    expect(again.config).toEqual(r.config);
  });
});

describe('validate', () => {
  it('accepts a v2 config and warns about what the router ignores', () => {
    const r = validate({ version: 2, models: [{ name: 'gpt-3.5', engine: 'pytorch' }], routing: { strategy: 'mine' }, 'x-notes': 1 });
    expect(r.valid).toBe(true);
    expect(messages(r)).toEqual([
      'warning models.0.name: "gpt-3.5" is an old model name: the provider calls it "gpt-3.5-turbo"',
      'warning models.0.engine: engine "pytorch" is not built in: register it with registerEngine("pytorch", factory) before creating the router',
      'warning routing.strategy: strategy "mine" is not built in: register it with router.addStrategy("mine", ...) or pick a built-in one',
    ]);
  });

  it('reports schema errors with their paths, v1 configs, and bad tenant references', () => {
    expect(validate({ models: ['gpt-3.5'], strategy: 'x' })).toMatchObject({ valid: false, version: 1 });
    // An unknown top-level key (a misspelt section would load as defaults) is the core's error.
    const extra = validate({ version: 2, models: [{ name: 'a', engine: 'mock' }], extra: 1 });
    expect(extra.valid).toBe(false);
    expect(messages(extra)).toEqual([expect.stringMatching(/^error extra: unknown key "extra" \(the top level holds .*; a key of your own starts with "x-"\)$/)]);
    const bad = validate({ version: 2, models: [{ name: 'a', priority: 1.5 }] });
    expect(bad.valid).toBe(false);
    expect(bad.issues.some((i) => i.path === 'models.0.priority' && i.severity === 'error')).toBe(true);
    const v3 = validate({ version: 3, models: [{ name: 'a' }], tenants: [{ id: 't', allowedModels: ['zzz'] }, { id: 't' }] });
    expect(v3.valid).toBe(false);
    expect(messages(v3)).toContain('error tenants.1.id: duplicate tenant id "t"');
    expect(messages(v3)).toContain('warning tenants.0.allowedModels.0: tenant "t" allows unknown model "zzz"');
    const v2Tenants = validate({ models: [{ name: 'a' }], tenants: [{ id: 't' }] });
    expect(v2Tenants.valid).toBe(false);
    expect(messages(v2Tenants)).toContain('error tenants: tenants needs "version: 3" (without it the config is v2, where tenants would be ignored)');
    expect(validate(42)).toMatchObject({ valid: false, version: undefined });
  });

  it('a defaultTenant not in tenants is a warning (the router serves it under unknownTenant: shared); an allow-list may name a cascade', () => {
    const r = validate({
      version: 3,
      models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'mock' }],
      routing: { cascades: [{ name: 'smart', weak: 'a', strong: 'b' }] },
      tenants: [{ id: 't', allowedModels: ['smart'] }],
      defaultTenant: 'nope',
    });
    expect(r.valid).toBe(true);
    expect(messages(r)).toEqual([
      `warning defaultTenant: defaultTenant "nope" is not one of the tenants (t): calls that name no tenant are refused unless the router has unknownTenant: 'shared' (or the tenant is added with setTenant)`,
    ]);
  });
});

describe('names', () => {
  it('resolves legacy names, families and file references', () => {
    expect(resolveModelName('gpt-3.5')).toMatchObject({ name: 'gpt-3.5-turbo', engine: 'openai-compatible', preset: 'openai', fromTable: true });
    expect(resolveModelName('claude-3-opus')).toMatchObject({ name: 'claude-3-opus-20240229', engine: 'anthropic' });
    expect(resolveModelName('gemini-1.5-flash')).toMatchObject({ engine: 'gemini' });
    expect(resolveModelName('mistral')).toMatchObject({ engine: 'openai-compatible', preset: 'ollama' });
    expect(resolveModelName('mistral-large-latest')).toMatchObject({ preset: 'mistral' });
    expect(resolveModelName('qwen2:7b')).toMatchObject({ preset: 'ollama' });
    expect(resolveModelName('/m/Phi-3.Q4.gguf')).toEqual({ name: 'Phi-3.Q4', engine: 'gguf', path: '/m/Phi-3.Q4.gguf', fromTable: false, engineSource: 'family' });
    expect(resolveModelName('mock://x')).toMatchObject({ name: 'x', engine: 'mock' });
  });

  it('maps strategy names', () => {
    expect(mapStrategy('round-robin')).toEqual({ strategy: 'round-robin', kind: 'kept' });
    expect(mapStrategy('roundRobin')).toEqual({ strategy: 'round-robin', kind: 'normalized' });
    expect(mapStrategy('speed_priority')).toEqual({ strategy: 'speed-priority', kind: 'normalized' });
    expect(mapStrategy('failover')).toEqual({ strategy: 'priority', kind: 'renamed' });
    expect(mapStrategy('cheapest')).toEqual({ strategy: 'cost-optimized', kind: 'renamed' });
    expect(mapStrategy('mine')).toEqual({ strategy: 'mine', kind: 'unknown' });
  });
});
