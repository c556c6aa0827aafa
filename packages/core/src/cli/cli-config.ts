import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_ENV, CONFIG_FILE_NAMES, loadConfigDetailed, type LoadedConfig } from '../config/load.js';
import type { CliContext } from './cli-io.js';

/**
 * The demo config at the repository root, used when nothing else names a config. The same relative
 * location holds from `src/cli/` (tsx) and `dist/cli/` (built).
 */
export const DEMO_CONFIG_FILE = fileURLToPath(new URL('../../../../llmrr.config.yaml', import.meta.url));

export interface CliConfig extends LoadedConfig {
  /** True when the demo config was used because no other was found. */
  demo: boolean;
}

/**
 * The config for a command: `-c <file>`; else what `loadConfig` finds (`LLM_ROUTER_CONFIG`,
 * `LLM_ROUTER_CONFIG_JSON`, `llmrr.config.{json,yaml,yml}` in the working directory, `LLM_ROUTER_MODELS`);
 * else the demo config. Throws `LLMError` `config_invalid` naming the field.
 */
export async function loadCliConfig(ctx: Pick<CliContext, 'env' | 'cwd'>, file: string | undefined): Promise<CliConfig> {
  const options = { env: ctx.env, cwd: ctx.cwd };
  if (file !== undefined) return { ...(await loadConfigDetailed(file, options)), demo: false };
  if (hasConfigSource(ctx)) return { ...(await loadConfigDetailed(undefined, options)), demo: false };
  return { ...(await loadConfigDetailed(DEMO_CONFIG_FILE, options)), demo: true };
}

/** Whether the environment or the working directory names a config of its own. */
function hasConfigSource(ctx: Pick<CliContext, 'env' | 'cwd'>): boolean {
  const set = (name: string) => (ctx.env[name]?.trim() ?? '') !== '';
  if (set(CONFIG_ENV.CONFIG) || set(CONFIG_ENV.CONFIG_JSON) || set(CONFIG_ENV.MODELS)) return true;
  return CONFIG_FILE_NAMES.some((name) => existsSync(join(ctx.cwd, name)));
}
