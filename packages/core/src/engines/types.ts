import type { Capability, ModelConfig } from '../config/schema.js';
import type { LanguageEngine } from '../spec/index.js';
import type { FetchFn } from '../util/http.js';

/** What an engine factory gets besides its model config: injectable runtime seams. */
export interface EngineContext {
  fetch: FetchFn;
  env: Readonly<Record<string, string | undefined>>;
  /** Directory that relative model paths (`path`) resolve against. */
  baseDir: string;
  /**
   * True when `env` holds only the variable the model names by `apiKeyEnv` (`namedEnvContext`, as
   * `setTenant(t, { useEnv: false })` builds a tenant's models): the engine reads no variable of its own choosing
   * (a preset's key such as `OPENAI_API_KEY`, `AZURE_OPENAI_ENDPOINT`), and a missing key is reported as one the
   * model must give by `apiKey` or `apiKeyEnv`.
   */
  namedEnvOnly?: boolean;
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
  /**
   * Optional: true when the engine for `model` cannot call without an API key (its provider requires one), known
   * from the config alone. Where only `apiKey` and `apiKeyEnv` are read (`EngineContext.namedEnvOnly`), a model
   * with neither can be refused before it is used (the gateway's admin API does).
   */
  needsApiKey?: (model: ModelConfig) => boolean;
  /**
   * Optional: the `provider` the engine for `model` will report, known from the config alone (a preset's name). The
   * router names the deployment's provider so before its engine exists (errors of its first call, `circuit_open`,
   * deployment limits); without it, the engine kind (`model.engine`) until the engine is created.
   */
  provider?: (model: ModelConfig) => string;
  /**
   * Optional: where the engine's `options` hold credentials, as dotted paths from `options` (`credentials`,
   * `backends.*.apiKey`: `*` is any key or array index); every string at or under such a path is a secret. The
   * gateway's admin API shows them as `[redacted]` (write-only) in a tenant's own models of an engine registered with
   * `registerEngine`, in addition to the options whose names say they hold one (`apiKey`, `token`, `password`, ...).
   */
  secretOptions?: readonly string[];
}

export function defaultEngineContext(partial: Partial<EngineContext> = {}): EngineContext {
  return {
    fetch: partial.fetch ?? ((...args) => globalThis.fetch(...args)),
    env: partial.env ?? (typeof process !== 'undefined' ? process.env : {}),
    baseDir: partial.baseDir ?? (typeof process !== 'undefined' ? process.cwd() : '.'),
  };
}

/**
 * `base` with an environment of one variable at most: the one `apiKeyEnv` names (read when the engine reads it, so a
 * rotated key is seen), none without it; `namedEnvOnly` set. For models whose owner must not reach the rest of the
 * environment (a tenant's own models, `setTenant(t, { useEnv: false })`).
 */
export function namedEnvContext(base: EngineContext, apiKeyEnv: string | undefined): EngineContext {
  const env: Record<string, string | undefined> = {};
  // defineProperty: an own property whatever the name (even "__proto__"), read from `base.env` at each use.
  if (apiKeyEnv) Object.defineProperty(env, apiKeyEnv, { get: () => base.env[apiKeyEnv], enumerable: true });
  return { ...base, env, namedEnvOnly: true };
}

/**
 * The API key for a model: `apiKey`, else the env var `apiKeyEnv`, else `fallbackEnv` (not with
 * `ctx.namedEnvOnly`).
 */
export function resolveApiKey(model: ModelConfig, ctx: EngineContext, fallbackEnv?: string): string | undefined {
  if (model.apiKey) return model.apiKey;
  if (model.apiKeyEnv) return ctx.env[model.apiKeyEnv];
  return fallbackEnv && !ctx.namedEnvOnly ? ctx.env[fallbackEnv] : undefined;
}

/** Where `resolveApiKey` looked, for the missing-key message (`no API key (looked in ...)`). */
export function apiKeySource(model: ModelConfig, ctx: EngineContext, fallbackEnvs: readonly string[]): string {
  if (model.apiKey) return 'apiKey';
  if (model.apiKeyEnv) return `env ${model.apiKeyEnv}`;
  if (ctx.namedEnvOnly) return `apiKey, apiKeyEnv: the model needs one of them (no other environment variable is read)`;
  return ['apiKey', 'apiKeyEnv', ...fallbackEnvs.map((e) => `env ${e}`)].join(', ');
}
