import { LLMRouter, loadConfig } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { migrate, type MigrateOptions } from './migrate.js';
import { v1ToV2 } from './v1-to-v2.js';
import { v2ToV3 } from './v2-to-v3.js';
import { validate } from './validate.js';

/**
 * v1 shapes that are easy to get wrong: a per-1k price given for one direction only (no side is priced 0), a
 * fallback naming a model object by its id (that model, not a renamed new one), and a v2 config carrying one
 * generic v1 key (`debug`) whose models set their own priorities (the order they give is kept).
 */
const reported = (r: ReturnType<typeof v1ToV2>) => r.issues.filter((i) => i.severity !== 'info').map((i) => `${i.severity} ${i.path}: ${i.message}`);

describe('a key named __proto__ (JSON and YAML keep it as data)', () => {
  it('is refused naming its path, never reported as kept while dropped (a copy would set the prototype instead)', () => {
    const cases: Array<[unknown, string]> = [
      [JSON.parse('{"models": ["gpt-4"], "strategy": "fallback", "__proto__": {"routing": {"strategy": "random"}}}'), '__proto__'],
      [JSON.parse('{"models": [{"id": "a", "source": "mock://a", "__proto__": {"reply": "hi"}}], "strategy": "fallback"}'), 'models.0.__proto__'],
      [JSON.parse('{"version": 2, "models": [{"name": "m", "engine": "mock"}], "__proto__": {"x": 1}}'), '__proto__'],
    ];
    for (const [config, path] of cases) {
      expect(() => migrate(config, { to: 3 }), path).toThrow(expect.objectContaining({ code: 'config_invalid', param: path, message: `migrate: a key named "__proto__" (at ${path}) cannot be migrated: copied into a new config it would vanish; rename it` }));
      expect(() => v1ToV2(config)).toThrow(/a key named "__proto__"/);
    }
  });
});

describe('a config nested deeper than 100 levels', () => {
  /** `levels` objects nested in each other: `{ a: { a: ... 1 } }`. */
  const nested = (levels: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = { a: v };
    return v;
  };

  it('already at the target with nothing to tidy: handed back as it is, as the core loads it and validate() calls it valid', async () => {
    const v2 = { version: 2, models: [{ name: 'mock', engine: 'mock' }], 'x-app': nested(101) };
    await expect(loadConfig(structuredClone(v2))).resolves.toBeDefined();
    expect(validate(v2).valid).toBe(true);
    for (const r of [migrate(v2, { to: 2 }), v1ToV2(v2)]) expect(r).toMatchObject({ changed: false, issues: [{ severity: 'info' }], config: v2 });
    const v3 = { version: 3, models: [{ name: 'mock', engine: 'mock' }], tenants: [{ id: 'acme' }], legacy: { blob: nested(101) } };
    for (const r of [migrate(v3, { to: 3 }), v2ToV3(v3)]) expect(r).toMatchObject({ changed: false, config: v3 });
    // Thousands of levels deep: copied without running out of stack.
    const deep = migrate({ ...v2, 'x-app': nested(20_000) }, { to: 2 });
    expect(deep.changed).toBe(false);
    expect(deep.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('to be migrated (v1, v2 to v3) or tidied (a key moved under legacy): refused naming where', () => {
    const deep = nested(101);
    const cases: Array<[unknown, MigrateOptions]> = [
      [{ models: ['gpt-4'], strategy: 'fallback', extra: deep }, { to: 2 }],
      [{ version: 2, models: [{ name: 'mock', engine: 'mock' }], 'x-app': deep }, { to: 3 }],
      [{ version: 2, models: [{ name: 'mock', engine: 'mock' }], 'x-app': deep, gateway: { port: 1 } }, { to: 2 }],
    ];
    for (const [config, options] of cases) {
      expect(() => migrate(config, options)).toThrow(/^migrate: the config is nested deeper than 100 levels \(at (extra|x-app)\.a\.a\.a\.a\.a\.\.\.\)/);
    }
  });
});

describe('v1ToV2: per-1k prices given for one direction only', () => {
  it('costPer1kInput alone writes no price (no output price of 0), keeps the key in options and warns', () => {
    const r = v1ToV2({ models: [{ id: 'gpt4', source: 'gpt-4', costPer1kInput: 0.03 }] });
    const model = r.config.models[0] as { price?: unknown; options?: Record<string, unknown> };
    expect({ price: model.price, options: model.options }).toEqual({ price: undefined, options: { costPer1kInput: 0.03 } });
    expect(reported(r)).toEqual([
      "warning models.0.costPer1kInput: costPer1kInput without costPer1kOutput: no price is written (v2's price needs input and output in USD per 1M tokens; the shipped price table prices the model if it lists it): kept in options.costPer1kInput",
    ]);
  });

  it('costPer1kOutput alone: the same, the input side is not priced 0 (kept under legacy: the Anthropic engine refuses it)', () => {
    const r = v1ToV2({ models: [{ id: 'claude', source: 'claude-3-opus', costPer1kOutput: 0.075 }] });
    const model = r.config.models[0] as { price?: unknown; options?: Record<string, unknown> };
    expect({ price: model.price, options: model.options, legacy: r.config.legacy }).toEqual({ price: undefined, options: undefined, legacy: { modelOptions: { claude: { costPer1kOutput: 0.075 } } } });
    expect(reported(r)).toEqual([
      "warning models.0.costPer1kOutput: costPer1kOutput without costPer1kInput: no price is written (v2's price needs input and output in USD per 1M tokens; the shipped price table prices the model if it lists it): kept in options.costPer1kOutput",
      'warning models.0.costPer1kOutput: engine "anthropic" refuses options.costPer1kOutput (not an option it reads): kept under legacy.modelOptions.claude.costPer1kOutput instead (the router ignores it)',
    ]);
  });

  it('both sides become price in USD per 1M tokens', () => {
    const r = v1ToV2({ models: [{ id: 'gpt4', source: 'gpt-4', costPer1kInput: 0.03, costPer1kOutput: 0.06 }] });
    expect((r.config.models[0] as { price?: unknown }).price).toEqual({ input: 30, output: 60 });
    expect(reported(r)).toEqual([]);
  });
});

describe('v1ToV2: a fallback that names a model object by its id', () => {
  it('points routing.fallbacks at that model, not at a new default model of the renamed id', () => {
    // A v1 registry entry whose id is an old model name, served through the user's own proxy and key.
    const r = v1ToV2({
      models: [
        { id: 'claude-3-opus', source: 'claude-3-opus-20240229', provider: 'anthropic', endpoint: 'https://proxy.example/anthropic', apiKey: 'sk-proxy' },
        { id: 'gpt-4', source: 'gpt-4', provider: 'openai' },
      ],
      strategy: 'fallback',
      fallbackModels: ['claude-3-opus'],
    });
    const names = r.config.models.map((m) => (m as { name: string }).name);
    // The fallback is the configured deployment (proxy + key); no second, unconfigured Claude deployment is added.
    expect({ fallbacks: (r.config.routing as { fallbacks?: unknown }).fallbacks, models: names }).toEqual({ fallbacks: ['claude-3-opus'], models: ['claude-3-opus', 'gpt-4'] });
  });

  it('a fallback of an old name that is not a model name is still renamed and added', () => {
    const r = v1ToV2({ models: ['mock://a'], strategy: 'fallback', fallbackModels: ['gpt-3.5'] });
    expect((r.config.routing as { fallbacks?: unknown }).fallbacks).toEqual(['gpt-3.5-turbo']);
    expect(r.config.models.map((m) => (m as { name: string }).name)).toEqual(['a', 'gpt-3.5-turbo']);
  });
});

describe('v1ToV2 on a v2 config that carries one generic v1 key', () => {
  it('keeps the order the priority strategy serves the models in', async () => {
    // A v2 config with a v1 `debug` flag, which the core refuses (an unknown top-level key) and the migration moves
    // under `legacy`. `b` has the default priority (100), so `a` (5) is served first.
    const { debug, ...valid } = { version: 2 as const, models: [{ name: 'a', engine: 'mock', priority: 5 }, { name: 'b', engine: 'mock' }], routing: { strategy: 'priority' }, debug: true };
    const v2 = { ...valid, debug };
    expect(() => new LLMRouter(v2)).toThrow(/debug: unknown key "debug"/);
    const migrated = v1ToV2(v2).config;
    expect(migrated.models).toEqual([{ name: 'a', engine: 'mock', priority: 5 }, { name: 'b', engine: 'mock' }]);
    expect(migrated.legacy).toEqual({ debug: true });
    const before = new LLMRouter(valid);
    const after = new LLMRouter(migrated);
    try {
      const was = (await before.route('hi')).selected;
      expect(was).toBe('a');
      expect((await after.route('hi')).selected).toBe(was);
    } finally {
      await before.close();
      await after.close();
    }
  });

  it('a v1 list without priorities still gets its order as priorities, v2-shaped objects included', () => {
    const r = v1ToV2({ models: [{ name: 'x', engine: 'mock' }, 'mock://y'], strategy: 'fallback' });
    expect(r.config.models.map((m) => (m as { priority?: number }).priority)).toEqual([1, 2]);
  });
});
