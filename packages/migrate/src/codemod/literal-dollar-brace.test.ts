import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@llmrr/core';
import { afterAll, describe, expect, it } from 'vitest';
import { transformFile } from './transform-file.js';

// v1 read its config file with plain JSON.parse (or a YAML parser): "${...}" in a string was literal text. The core's
// file loader reads "${VAR}" from the environment and "$${" as a literal "${".
const dir = mkdtempSync(join(tmpdir(), 'llmrr-migrate-dollar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROMPT = 'You are ${persona}. Answer in ${lang}; cost $${price}.';
const v1 = { models: [{ id: 'assistant', provider: 'openai', model: 'gpt-4o-mini', systemPrompt: PROMPT }], strategy: 'fallback' };

async function load(name: string, text: string, env: Record<string, string>) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return loadConfig(file, { env, cwd: dir });
}

describe('migrating a v1 config file: "${...}" text stays literal', () => {
  it.each([
    ['llm-router.json', JSON.stringify(v1, null, 2)],
    ['llm-router.yaml', `models:\n  - id: assistant\n    provider: openai\n    model: gpt-4o-mini\n    systemPrompt: "${PROMPT}"\nstrategy: fallback\n`],
  ])('%s: the core loads the migrated file with the v1 text, whatever the environment, reported as info', async (name, input) => {
    const r = transformFile(name, input, { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    expect(r.issues).toContainEqual({ path: 'models.0.systemPrompt', message: expect.stringContaining('written "$${"'), severity: 'info' });
    const environments: Array<Record<string, string>> = [{}, { persona: 'EVIL', lang: 'x', price: '0' }];
    for (const env of environments) {
      const config = await load(`out-${name}`, r.output, env);
      expect(config.models[0]!.options?.systemPrompt).toBe(PROMPT);
    }
    // A second run changes nothing (the file is v2 now, read by the core).
    expect(transformFile(name, r.output, { to: 2, explicit: true }).changed).toBe(false);
  });

  it('with --to v3 too', async () => {
    const r = transformFile('llm-router.json', JSON.stringify(v1), { to: 3, tenant: 'acme', explicit: true });
    expect(r.errors).toEqual([]);
    expect((await load('v3.json', r.output, { persona: 'EVIL' })).models[0]!.options?.systemPrompt).toBe(PROMPT);
  });

  it.each([['1.0'], ['v1'], [1], ['2']])('a v1 file saying version %j, which the core refuses (it takes none, 2 or 3), is escaped too', async (version) => {
    const r = transformFile('llm-router.json', JSON.stringify({ version, ...v1 }, null, 2), { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    expect((await load('versioned.json', r.output, { persona: 'EVIL', lang: 'x', price: '0' })).models[0]!.options?.systemPrompt).toBe(PROMPT);
  });

  it('a file the core may have read already (version 2, or a model in v2 shape) is left as is, with a warning', () => {
    const mixed = { version: 2, debug: true, models: [{ name: 'gpt-4o', engine: 'openai-compatible', apiKey: '${OPENAI_API_KEY}' }] };
    const r = transformFile('llm-router.json', JSON.stringify(mixed), { to: 2, explicit: true });
    expect(r.errors).toEqual([]);
    expect(JSON.parse(r.output).models[0].apiKey).toBe('${OPENAI_API_KEY}');
    expect(r.issues).toContainEqual({ path: 'models.0.apiKey', message: expect.stringContaining('reads "${NAME}" in a config file as an environment variable'), severity: 'warning' });
  });
});
