import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { defaultEngineContext } from '../types.js';
import { GgufEngine, createGgufEngine } from './gguf-engine.js';

// The real stories260K model the gguf engine tests run against (node-llama-cpp on the CPU). The shared folder sits
// beside the repository root (../shared), unless LLMRR_SHARED_DIR says otherwise.

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
export const modelsDir = join(process.env['LLMRR_SHARED_DIR'] ?? resolve(repoRoot, '../shared'), 'models');
export const storiesModelFile = join(modelsDir, 'stories260K.gguf');
export const hasStoriesModel = existsSync(storiesModelFile);

/** Warns, when the model is missing, that the tests of `suite` are skipped (and how to find it). */
export function warnIfNoStoriesModel(suite: string): void {
  if (!hasStoriesModel) console.warn(`[${suite}] ${storiesModelFile} not found: skipped (set LLMRR_SHARED_DIR)`);
}

/** A gguf engine over stories260K on one thread (the CPU is shared), with `options` besides. */
export function storiesEngine(options: Record<string, unknown> = {}): GgufEngine {
  const model = ModelConfigSchema.parse({ name: 'stories', engine: 'gguf', path: 'stories260K.gguf', options: { threads: 1, ...options } });
  return createGgufEngine(model, defaultEngineContext({ baseDir: modelsDir }));
}

/**
 * One stories260K engine for the enclosing `describe` block: made in its `beforeAll`, closed in its `afterAll`.
 * Returns a getter, since the engine exists only once the block runs.
 */
export function storiesEngineForSuite(): () => GgufEngine {
  let engine: GgufEngine | undefined;
  beforeAll(() => {
    engine = storiesEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });
  return () => {
    if (!engine) throw new Error('the stories260K engine is made in beforeAll: use it inside a test');
    return engine;
  };
}
