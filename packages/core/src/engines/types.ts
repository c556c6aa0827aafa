import type { ModelConfig } from '../config/schema.js';
import type { LanguageEngine } from '../spec/index.js';
import type { FetchFn } from '../util/http.js';

/** What an engine factory gets besides its model config: injectable runtime seams. */
export interface EngineContext {
  fetch: FetchFn;
  env: Readonly<Record<string, string | undefined>>;
  /** Directory that relative model paths (`path`) resolve against. */
  baseDir: string;
}

export type EngineFactory = (model: ModelConfig, ctx: EngineContext) => LanguageEngine;

export function defaultEngineContext(partial: Partial<EngineContext> = {}): EngineContext {
  return {
    fetch: partial.fetch ?? ((...args) => globalThis.fetch(...args)),
    env: partial.env ?? (typeof process !== 'undefined' ? process.env : {}),
    baseDir: partial.baseDir ?? (typeof process !== 'undefined' ? process.cwd() : '.'),
  };
}

/** The API key for a model: `apiKey`, else the env var `apiKeyEnv`, else `fallbackEnv`. */
export function resolveApiKey(model: ModelConfig, ctx: EngineContext, fallbackEnv?: string): string | undefined {
  if (model.apiKey) return model.apiKey;
  if (model.apiKeyEnv) return ctx.env[model.apiKeyEnv];
  return fallbackEnv ? ctx.env[fallbackEnv] : undefined;
}
