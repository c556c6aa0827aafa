import type { RouterConfigInput } from '@llmrr/core';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STORIES_MODEL_FILE = 'stories260K.gguf';

/**
 * Where the small real GGUF model may be: `$LLMRR_SHARED_DIR/models`, else `shared/models` beside the
 * repository checkout (as on the project's machines and CI).
 */
export function findStoriesModel(sharedDir: string | undefined): string | undefined {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const dirs = [sharedDir, resolve(repoRoot, '../shared')].filter((d): d is string => d !== undefined);
  for (const dir of dirs) {
    const file = join(dir, 'models', STORIES_MODEL_FILE);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/**
 * The embedded default: the deterministic `mock` engine (labelled as such: its answers start with
 * "Mock answer", and its prices are placeholders for trying budgets, not any provider's) and, when the
 * file exists, the tiny real `stories260K` GGUF model (it writes children's-story text, nothing more).
 */
export function defaultConfig(storiesModel: string | undefined): RouterConfigInput {
  const models: NonNullable<RouterConfigInput['models']> = [
    {
      name: 'mock',
      engine: 'mock',
      priority: 1,
      price: { input: 0.1, output: 0.2 },
      capabilities: ['chat', 'streaming', 'tools', 'json', 'embeddings', 'completion'],
      tags: ['demo', 'mock'],
      options: { chunkDelayMs: 5 },
    },
  ];
  if (storiesModel) {
    models.push({
      name: 'stories260K',
      engine: 'gguf',
      path: storiesModel,
      priority: 2,
      price: { input: 0, output: 0 },
      capabilities: ['chat', 'streaming', 'completion'],
      contextWindow: 512,
      maxOutputTokens: 256,
      tags: ['local', 'demo'],
      options: { threads: 1 },
    });
  }
  return { version: 2, models, routing: { strategy: 'priority' } };
}
