import { BUILTIN_STRATEGIES, CONFIG_ENV, CONFIG_FILE_NAMES, loadConfigDetailed, type RouterConfig } from '@llmrr/core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig, findStoriesModel } from './default-config.js';
import type { ServerSettings } from './settings.js';

export interface LoadedServerConfig {
  config: RouterConfig;
  /** The file it came from, an env source, or `embedded default`. */
  source: string;
}

/**
 * `LLMRR_CONFIG`; else what core's `loadConfig` finds (`LLM_ROUTER_CONFIG`, `LLM_ROUTER_CONFIG_JSON`,
 * `llmrr.config.{json,yaml,yml}` in the working directory, `LLM_ROUTER_MODELS`), with `${VAR:-default}`
 * interpolation and `LLM_ROUTER_*` overrides; else the embedded default.
 */
export async function loadServerConfig(settings: ServerSettings, env: NodeJS.ProcessEnv = process.env): Promise<LoadedServerConfig> {
  // An unknown `routing.strategy`, and `routing.options.<name>` of a strategy it does not have, are refused with the
  // file's other errors, naming their line and column (or env variable): the server's router has the built-in
  // strategies only (it registers none of its own, so such options are never read).
  const options = { cwd: settings.cwd, env, strategies: BUILTIN_STRATEGIES, unknownStrategyOptions: 'refuse' as const };
  if (settings.configPath) {
    const loaded = await loadConfigDetailed(settings.configPath, options);
    return { config: loaded.config, source: loaded.file ?? loaded.source };
  }
  const fromEnv = [CONFIG_ENV.CONFIG, CONFIG_ENV.CONFIG_JSON, CONFIG_ENV.MODELS].some((name) => env[name]?.trim());
  if (fromEnv || CONFIG_FILE_NAMES.some((f) => existsSync(join(settings.cwd, f)))) {
    const loaded = await loadConfigDetailed(undefined, options);
    return { config: loaded.config, source: loaded.file ?? loaded.source };
  }
  const loaded = await loadConfigDetailed(defaultConfig(findStoriesModel(settings.sharedDir)), options);
  return { config: loaded.config, source: 'embedded default' };
}

/** One function for the server and the `llmrr` CLI: in core. */
export { disableMissingLocalModels, type MissingModelFile } from '@llmrr/core';
