import type { Capability, ModelConfig } from '../config/schema.js';
import type { LanguageEngine } from '../spec/index.js';
import type { FetchFn } from '../util/http.js';

/** What an engine factory gets besides its model config: injectable runtime seams. */
export interface EngineContext {
  fetch: FetchFn;
  env: Readonly<Record<string, string | undefined>>;
  /** Directory that relative model paths (`path`) resolve against. */
  baseDir: string;
}

/** Creates the engine for a model config. */
export interface EngineFactory {
  (model: ModelConfig, ctx: EngineContext): LanguageEngine;
  /**
   * Optional: the capabilities (config names) the engine for `model` will have, known from the config
   * alone (undefined: not known without the engine). The router then filters candidates and lists
   * models without creating the engine; a model's configured `capabilities` still win.
   */
  capabilities?: (model: ModelConfig) => readonly Capability[] | undefined;
  /**
   * Optional: checks the engine's own settings of `model` (its `options`, a preset) from the config alone, with no
   * side effect (no model loaded, no network, no environment read), throwing `config_invalid` naming the field
   * (`options.<name>`, `preset`). The router asks it when it builds a deployment, so a typo is refused with the
   * config (`models.<i>.<field>`) and by `llmrr config validate`, not by every call to the deployment.
   */
  checkConfig?: (model: ModelConfig) => void;
}

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
