import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LLMRouter } from '../router/llm-router.js';
import { loadConfig } from './load.js';
import { ROUTING_MODEL_NAMES } from './schema.js';
import { parseConfig } from './validate.js';

describe('model, alias and cascade names', () => {
  it('a lone surrogate is config_invalid naming the field (it used to fail later with a bare URIError)', () => {
    const bad = 'model-\uD800';
    for (const [config, param] of [
      [{ models: [{ name: bad, engine: 'mock' }] }, 'models.0.name'],
      [{ models: [{ name: 'm', alias: bad, engine: 'mock' }] }, 'models.0.alias'],
      [{ models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'mock' }], routing: { cascades: [{ name: bad, weak: 'a', strong: 'b' }] } }, 'routing.cascades.0.name'],
    ] as const) {
      expect(() => parseConfig(config)).toThrow(expect.objectContaining({ code: 'config_invalid', param }));
    }
    expect(() => new LLMRouter({ models: [{ name: bad, engine: 'mock' }] })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'models.0.name' }));
  });

  it('the routing names (auto, llmrr/auto) name no model, alias or cascade: config_invalid naming the field, with line and column', async () => {
    for (const name of ROUTING_MODEL_NAMES) {
      for (const [config, param] of [
        [{ models: [{ name, engine: 'mock' }] }, 'models.0.name'],
        [{ models: [{ name: 'm', alias: name, engine: 'mock' }] }, 'models.0.alias'],
        [{ models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'mock' }], routing: { cascades: [{ name, weak: 'a', strong: 'b' }] } }, 'routing.cascades.0.name'],
        [{ version: 3, models: [{ name: 'a', engine: 'mock' }], tenants: [{ id: 't', models: [{ name, engine: 'mock' }] }] }, 'tenants.0.models.0.name'],
      ] as const) {
        expect(() => parseConfig(config)).toThrow(expect.objectContaining({ code: 'config_invalid', param }));
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-auto-name-'));
    try {
      writeFileSync(join(dir, 'llmrr.config.yaml'), 'models:\n  - name: a\n    engine: mock\n  - name: auto\n    engine: mock\n');
      await expect(loadConfig(join(dir, 'llmrr.config.yaml'))).rejects.toThrow(/models\.1\.name \(line 4, column 11\): "auto" is reserved/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // A name that only contains one is a name.
    expect(parseConfig({ models: [{ name: 'auto-1', alias: 'llmrr/automatic', engine: 'mock' }] }).models[0]!.name).toBe('auto-1');
  });

  it('any valid Unicode is a name (pairs included)', () => {
    expect(parseConfig({ models: [{ name: 'mod\u00e8le-\u6f22\u5b57-\uD83D\uDE00', alias: 'caf\u00e9', engine: 'mock' }] }).models[0]!.name).toBe('mod\u00e8le-\u6f22\u5b57-\uD83D\uDE00');
  });
});
