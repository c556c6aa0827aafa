import { isAbsolute, resolve } from 'node:path';
import type { ModelConfig } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { EngineContext } from '../types.js';

/** A local model's file: `path` made absolute (relative to the base dir) and as written in the config. */
export interface ModelPath {
  path: string;
  configuredPath: string;
}

/**
 * A local model's `path` is set (`config_invalid` naming `path` otherwise): what its engine factory's `checkConfig`
 * checks when the router is built, so the config is refused at start, naming `models.N.path`.
 */
export function checkModelPath(model: ModelConfig, provider: string, fileKind: string): void {
  if (!model.path) {
    throw new LLMError({
      code: 'config_invalid',
      message: `Model "${model.name}" (${provider}): path is required (the ${fileKind} file, relative to modelsDir or the config's directory)`,
      param: 'path',
      provider,
      deployment: model.name,
    });
  }
}

/** The file of a local model (`path`, relative to the base dir); `config_invalid` when `path` is missing. */
export function requireModelPath(model: ModelConfig, ctx: EngineContext, provider: string, fileKind: string): ModelPath {
  if (!model.path) {
    throw new LLMError({
      code: 'config_invalid',
      message: `Model "${model.name}" (${provider}): path is required (the ${fileKind} file, relative to ${ctx.baseDir})`,
      param: 'path',
      provider,
      deployment: model.name,
    });
  }
  return { path: isAbsolute(model.path) ? model.path : resolve(ctx.baseDir, model.path), configuredPath: model.path };
}
