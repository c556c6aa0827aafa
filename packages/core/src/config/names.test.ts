import { describe, expect, it } from 'vitest';
import { LLMRouter } from '../router/llm-router.js';
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

  it('any valid Unicode is a name (pairs included)', () => {
    expect(parseConfig({ models: [{ name: 'mod\u00e8le-\u6f22\u5b57-\uD83D\uDE00', alias: 'caf\u00e9', engine: 'mock' }] }).models[0]!.name).toBe('mod\u00e8le-\u6f22\u5b57-\uD83D\uDE00');
  });
});
