import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_ENV, CONFIG_FILE_NAMES, loadConfigDetailed, type LoadedConfig } from '../config/load.js';
import { LLMError } from '../errors/llm-error.js';
import { BUILTIN_STRATEGIES } from '../router/strategies/index.js';
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
 * else the demo config (only in a checkout of the repository). Throws `LLMError` `config_invalid` naming the field.
 */
export async function loadCliConfig(ctx: Pick<CliContext, 'env' | 'cwd'>, file: string | undefined, demoFile = DEMO_CONFIG_FILE): Promise<CliConfig> {
  // (The CLI's routers know the built-in strategies only: another `routing.strategy` is refused with its position.
  // `routing.options.<name>` of another strategy is a warning: the config may be an app's, whose router adds it.)
  const options = { env: ctx.env, cwd: ctx.cwd, strategies: BUILTIN_STRATEGIES, unknownStrategyOptions: 'warn' as const };
  if (file !== undefined) return { ...(await loadConfigDetailed(file, options)), demo: false };
  if (hasConfigSource(ctx)) return { ...(await loadConfigDetailed(undefined, options)), demo: false };
  if (!existsSync(demoFile)) {
    // An installed package has no repository around it, hence no demo config.
    throw new LLMError({
      code: 'config_invalid',
      message: `No config found: pass -c <file>, put ${CONFIG_FILE_NAMES.join(' / ')} in ${ctx.cwd}, or set ${CONFIG_ENV.CONFIG} (a path), ${CONFIG_ENV.CONFIG_JSON} or ${CONFIG_ENV.MODELS}`,
    });
  }
  return { ...(await loadConfigDetailed(demoFile, options)), demo: true };
}

/** Whether the environment or the working directory names a config of its own. */
function hasConfigSource(ctx: Pick<CliContext, 'env' | 'cwd'>): boolean {
  const set = (name: string) => (ctx.env[name]?.trim() ?? '') !== '';
  if (set(CONFIG_ENV.CONFIG) || set(CONFIG_ENV.CONFIG_JSON) || set(CONFIG_ENV.MODELS)) return true;
  return CONFIG_FILE_NAMES.some((name) => existsSync(join(ctx.cwd, name)));
}
