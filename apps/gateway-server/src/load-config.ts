import { CONFIG_ENV, CONFIG_FILE_NAMES, loadConfigDetailed, type ModelConfig, type RouterConfig } from '@llmrr/core';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
  const options = { cwd: settings.cwd, env };
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

/** An enabled local model (gguf, onnx) whose file does not exist (or is a directory). */
export interface MissingModelFile {
  model: string;
  /** The v3 tenant whose own model it is; absent for a shared model. */
  tenant?: string;
  /** The file looked for: `path` resolved as the router resolves it (against `modelsDir`, else `baseDir`). */
  path: string;
}

const LOCAL_ENGINES: ReadonlySet<string> = new Set(['gguf', 'onnx']);

/** Whether `path` is a regular file (through symlinks); a directory, a path that cannot be read or none: false. */
function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
}

/**
 * Disables (`enabled: false`) every enabled gguf/onnx model of `config` (shared, and v3 tenants' own) whose file
 * is not a file (none there, or a directory: the engines read a file), and names them: such a model could not answer (every call to it would be a 500), yet it would be
 * listed by `/v1/models` and picked by routing. Disabled, it is left out of both, and the rest of the config (routes,
 * allow-lists naming it) stays valid. `baseDir` is the router's (`settings.cwd`).
 */
export function disableMissingLocalModels(config: RouterConfig, baseDir: string): { config: RouterConfig; missing: MissingModelFile[] } {
  const modelsBase = resolve(baseDir, config.modelsDir ?? '.');
  const missing: MissingModelFile[] = [];
  const check = (models: ModelConfig[], tenant?: string): ModelConfig[] =>
    models.map((m) => {
      if (!m.enabled || !LOCAL_ENGINES.has(m.engine) || !m.path) return m;
      const path = resolve(modelsBase, m.path);
      if (isFile(path)) return m;
      missing.push({ model: m.name, ...(tenant !== undefined ? { tenant } : {}), path });
      return { ...m, enabled: false };
    });
  const models = check(config.models);
  if (config.version !== 3) return { config: missing.length ? { ...config, models } : config, missing };
  const tenants = config.tenants.map((t) => (t.models.length ? { ...t, models: check(t.models, t.id) } : t));
  return { config: missing.length ? { ...config, models, tenants } : config, missing };
}
