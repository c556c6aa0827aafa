import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { transformFile } from './transform-file.js';

/**
 * YAML anchors and aliases: the key order the migration imposes (version, models, routing, cache, the rest)
 * can put an alias before its anchor; such an alias is written out in full, the others stay aliases.
 */
describe('YAML anchors and aliases', () => {
  it('migrates a v1 YAML config whose model options are an alias of an anchor defined above (now after) them', () => {
    const input = 'base: &base\n  temperature: 0.2\nmodels:\n  - id: a\n    source: mock://a\n    options: *base\nstrategy: fallback\n';
    const r = transformFile('router.yaml', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    const migrated = parse(r.output) as { version: number; models: Array<{ options?: { temperature?: number } }>; base: unknown };
    expect(migrated.version).toBe(2);
    expect(migrated.models[0]!.options?.temperature).toBe(0.2);
    expect(migrated.base).toEqual({ temperature: 0.2 });
    expect(r.issues).toContainEqual({ path: 'models.0.options', message: 'alias *base now comes before its anchor: its value is written out in full', severity: 'info' });
  });

  it('keeps an alias whose anchor still comes first', () => {
    const input = 'models:\n  - id: a\n    source: mock://a\n    options: &opts\n      temperature: 0.2\n  - id: b\n    source: mock://b\n    options: *opts\nstrategy: fallback\n';
    const r = transformFile('router.yaml', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    expect(r.output).toContain('    options: &opts\n      temperature: 0.2\n');
    expect(r.output).toContain('    options: *opts\n');
    expect((parse(r.output) as { models: Array<{ options: unknown }> }).models[1]!.options).toEqual({ temperature: 0.2 });
  });

  it('answers an alias bomb with an error, not an exception', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(10).fill(`*${'abcdefgh'[i - 1]}`).join(', ')}]`);
    const input = `${lines.join('\n')}\nmodels: [mock://a]\nstrategy: fallback\n`;
    const r = transformFile('router.yaml', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([expect.stringMatching(/^invalid YAML: .*alias/i)]);
    expect(r.output).toBe(input);
  });
});
