import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@llmrr/core';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { transformFile } from './transform-file.js';

/**
 * YAML anchors and aliases: the key order the migration imposes (version, models, routing, cache, the rest)
 * can put an alias before its anchor; such an alias is written out in full, the others stay aliases.
 */
describe('YAML anchors and aliases', () => {
  it('migrates a v1 YAML config whose model options are an alias of an anchor defined above (now after) them', () => {
    const input = 'base: &base\n  reply: hi\nmodels:\n  - id: a\n    source: mock://a\n    options: *base\nstrategy: fallback\n';
    const r = transformFile('router.yaml', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    const migrated = parse(r.output) as { version: number; models: Array<{ options?: { reply?: string } }>; legacy: unknown };
    expect(migrated.version).toBe(2);
    expect(migrated.models[0]!.options?.reply).toBe('hi');
    // `base` is no key of the router's: kept under legacy (an `x-base` would stay where it is).
    expect(migrated.legacy).toEqual({ base: { reply: 'hi' } });
    expect(r.issues).toContainEqual({ path: 'models.0.options', message: 'alias *base now comes before its anchor: its value is written out in full', severity: 'info' });
  });

  it('keeps an alias whose anchor still comes first', () => {
    const input = 'models:\n  - id: a\n    source: mock://a\n    options: &opts\n      reply: hi\n  - id: b\n    source: mock://b\n    options: *opts\nstrategy: fallback\n';
    const r = transformFile('router.yaml', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    expect(r.output).toContain('    options: &opts\n      reply: hi\n');
    expect(r.output).toContain('    options: *opts\n');
    expect((parse(r.output) as { models: Array<{ options: unknown }> }).models[1]!.options).toEqual({ reply: 'hi' });
  });

  it('answers an alias bomb with an error, not an exception', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(10).fill(`*${'abcdefgh'[i - 1]}`).join(', ')}]`);
    const input = `${lines.join('\n')}\nmodels: [mock://a]\nstrategy: fallback\n`;
    const r = transformFile('router.yaml', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([expect.stringMatching(/^invalid YAML: .*alias/i)]);
    expect(r.output).toBe(input);
  });

  it("refuses, as the core's loader does, an alias bomb within the alias count that expands past the core's bound", async () => {
    // An anchor of 2 000 values aliased 600 times (yaml's alias count allows 1 000): 1.2 million values once expanded.
    const input = `big: &big [${Array(2000).fill('x').join(', ')}]\nmany: [${Array(600).fill('*big').join(', ')}]\nmodels: [mock://a]\nstrategy: fallback\n`;
    const r = transformFile('router.yaml', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([expect.stringMatching(/^invalid YAML: .*expand.*alias bomb/i)]);
    expect(r.output).toBe(input);
    // The same refusal as the core's.
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-migrate-bomb-'));
    try {
      writeFileSync(join(dir, 'router.yaml'), input);
      const core = await loadConfig(join(dir, 'router.yaml'), { env: {}, cwd: dir }).then(() => undefined, (e: unknown) => (e as Error).message);
      expect(core).toContain(r.errors[0]!.replace(/^invalid YAML: /, ''));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * YAML merge keys (`<<: *defaults`, YAML 1.1): v1's YAML loaders applied them, and so does the core's loader; the
 * migration applies them too, instead of keeping a model option named "<<".
 */
describe('YAML merge keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-migrate-merge-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return loadConfig(join(dir, name), { env: {}, cwd: dir });
  };

  it('applies <<: *defaults to v1 models before converting them, the keys of the model winning', async () => {
    const input = 'defaults: &defaults\n  provider: openai\n  maxTokens: 512\n  temperature: 0.2\nmodels:\n  - <<: *defaults\n    id: gpt-4o\n  - <<: *defaults\n    id: gpt-4o-mini\n    maxTokens: 100\nstrategy: fallback\n';
    const r = transformFile('llm-router.yaml', input, { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    expect(r.output).not.toContain('<<');
    const config = await load('v1.yaml', r.output);
    expect(config.models.map((m) => [m.name, m.engine, m.preset, m.maxOutputTokens, m.options])).toEqual([
      ['gpt-4o', 'openai-compatible', 'openai', 512, { temperature: 0.2 }],
      ['gpt-4o-mini', 'openai-compatible', 'openai', 100, { temperature: 0.2 }],
    ]);
  });

  it('takes more than 100 models merging one defaults map, as the core does; a merge key whose source is no map is an error, not a throw', () => {
    const many = `defaults: &defaults\n  provider: openai\nmodels:\n${Array.from({ length: 150 }, (_, i) => `  - <<: *defaults\n    id: m${i}\n`).join('')}`;
    const r = transformFile('llm-router.yaml', many, { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    expect((parse(r.output) as { models: unknown[] }).models).toHaveLength(150);
    const bad = transformFile('llm-router.yaml', 'models:\n  - id: gpt-4o\n    provider: openai\n    <<: 5\n', { to: 2, explicit: true });
    expect(bad.errors).toEqual(['invalid YAML: Merge sources must be maps or map aliases']);
    expect(bad.changed).toBe(false);
  });

  it('a v2 file using them is left as is, and migrated to v3 into a file the core reads the same', async () => {
    const input = 'x-defaults: &defaults\n  engine: mock\n  priority: 5\nmodels:\n  - <<: *defaults\n    name: a\n  - <<: *defaults\n    name: b\n    priority: 1\n';
    expect(transformFile('llm-router.yaml', input, { to: 2, explicit: true }).changed).toBe(false);
    const v2 = await load('v2.yaml', input);
    const r = transformFile('llm-router.yaml', input, { to: 3, tenant: 'acme', explicit: true });
    expect(r.errors).toEqual([]);
    const v3 = await load('v3.yaml', r.output);
    expect(v3.models.map((m) => [m.name, m.engine, m.priority])).toEqual(v2.models.map((m) => [m.name, m.engine, m.priority]));
  });
});
