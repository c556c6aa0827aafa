import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_JSON_SCHEMA_FILE, routerConfigJsonSchema, routerConfigJsonSchemaText } from './json-schema.js';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', CONFIG_JSON_SCHEMA_FILE);

describe('routerConfigJsonSchema', () => {
  it('matches the checked-in schema file (run `pnpm --filter @llmrr/core schema` after changing config/schema.ts)', () => {
    // The `schema` script runs this file with UPDATE_SCHEMA=1 to regenerate the checked-in file.
    if (process.env['UPDATE_SCHEMA'] === '1') writeFileSync(file, routerConfigJsonSchemaText());
    expect(readFileSync(file, 'utf8')).toBe(routerConfigJsonSchemaText());
  });

  it('describes the input side: v2 and v3, models required, defaults optional', () => {
    const s = routerConfigJsonSchema() as {
      $schema: string;
      anyOf: Array<{ $ref: string }>;
      $defs: Record<string, { required?: string[]; properties?: Record<string, { default?: unknown; description?: string }> }>;
    };
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.anyOf.map((a) => a.$ref).sort()).toEqual(['#/$defs/RouterConfigV2', '#/$defs/RouterConfigV3']);
    expect(s.$defs['RouterConfigV2']?.required).toEqual(['models']);
    expect(s.$defs['RouterConfigV3']?.required?.sort()).toEqual(['models', 'tenants', 'version']);
    const model = s.$defs['ModelConfig'];
    expect(model?.required).toEqual(['name']);
    expect(model?.properties?.['engine']?.default).toBe('openai-compatible');
    expect(model?.properties?.['apiKeyEnv']?.description).toMatch(/environment variable/);
    expect(s.$defs['ExactCache']?.properties?.['ttlMs']?.default).toBe(3_600_000);
  });
});
