/**
 * Relative model `path`s: resolved against `modelsDir` (the config loader makes it absolute for file
 * configs), else the `baseDir` option, else the working directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { EngineFactory } from '../engines/types.js';
import { LLMError } from '../errors/llm-error.js';
import { LLMRouter } from './llm-router.js';
import type { RouterOptions } from './types.js';

/** Builds a router whose `seen` engine records the directory it was told to resolve paths against. */
function baseDirFor(config: Omit<RouterConfigInput, 'models'>, options: RouterOptions = {}): string | undefined {
  let seen: string | undefined;
  const factory: EngineFactory = (_m, ctx) => {
    seen = ctx.baseDir;
    return new MockEngine();
  };
  const router = new LLMRouter({ ...config, models: [{ name: 'm', engine: 'seen', path: 'model.gguf' }] }, { engineFactories: { seen: factory }, env: {}, ...options });
  router.models(); // engines are lazy: reading the capabilities creates it
  return seen;
}

describe('where relative model paths resolve', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmrr-paths-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an absolute modelsDir wins over the baseDir option', () => {
    expect(baseDirFor({ modelsDir: '/opt/models' }, { baseDir: '/srv/app' })).toBe('/opt/models');
  });

  it('a relative modelsDir is relative to baseDir, else to the working directory', () => {
    expect(baseDirFor({ modelsDir: 'weights' }, { baseDir: '/srv/app/' })).toBe('/srv/app/weights');
    expect(baseDirFor({ modelsDir: './weights' }, { baseDir: '/srv/app' })).toBe('/srv/app/weights');
    expect(baseDirFor({ modelsDir: 'weights' })).toBe(`${process.cwd()}/weights`);
  });

  it('without modelsDir: the baseDir option, else the working directory', () => {
    expect(baseDirFor({}, { baseDir: '/srv/app' })).toBe('/srv/app');
    expect(baseDirFor({})).toBe(process.cwd());
  });

  it('a relative modelsDir is always joined to baseDir, even when they are spelled alike', () => {
    expect(baseDirFor({ modelsDir: 'weights' }, { baseDir: 'weights' })).toBe('weights/weights');
    expect(baseDirFor({ modelsDir: '/opt/models' }, { baseDir: '/opt/models' })).toBe('/opt/models');
  });

  it('the real gguf engine looks for its file under modelsDir (from a file config, made absolute by the loader)', async () => {
    await writeFile(join(dir, 'llmrr.config.yaml'), 'modelsDir: weights\nmodels:\n  - { name: local, engine: gguf, path: tiny.gguf }\n');
    const router = await LLMRouter.fromConfig(join(dir, 'llmrr.config.yaml'), { env: {}, baseDir: '/somewhere/else' });
    let err: unknown;
    try {
      await router.generate('hi');
    } catch (e) {
      err = e;
    }
    expect(LLMError.isInstance(err)).toBe(true);
    expect((err as LLMError).message).toContain(`GGUF model file not found: ${join(dir, 'weights', 'tiny.gguf')}`);
    await router.close();
  });

  it('load() and a v3 tenant own models resolve the same way', () => {
    const seen: string[] = [];
    const factory: EngineFactory = (m, ctx) => {
      seen.push(`${m.name}@${ctx.baseDir}`);
      return new MockEngine();
    };
    const router = new LLMRouter(
      { version: 3, modelsDir: 'w', models: [{ name: 'shared', engine: 'seen' }], tenants: [{ id: 't', models: [{ name: 'own', engine: 'seen' }] }] },
      { engineFactories: { seen: factory }, baseDir: '/base', env: {} },
    );
    router.load({ name: 'later', engine: 'seen' });
    router.models();
    router.models('t');
    expect(seen.sort()).toEqual(['later@/base/w', 'own@/base/w', 'shared@/base/w']);
  });
});
