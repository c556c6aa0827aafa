import { LLMRouter } from '../router/llm-router.js';
import type { DeploymentInfo } from '../router/types.js';
import { loadCliConfig, type CliConfig } from './cli-config.js';
import type { CliContext } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';

export interface OpenRouterOptions {
  /** `-c/--config`. */
  config?: string | undefined;
  /** `-m/--model`: must name a deployment or an alias. */
  model?: string | undefined;
  /** `-s/--strategy`: must name a registered strategy. */
  strategy?: string | undefined;
}

export interface OpenedRouter {
  router: LLMRouter;
  config: CliConfig;
}

/**
 * The router over a loaded config, as every command builds it: the CLI's environment, and model paths
 * resolved against the CLI's working directory (a relative `modelsDir`, e.g. from `LLM_ROUTER_CONFIG_JSON`,
 * is relative to it; the loader already made a file config's `modelsDir` absolute). Nothing is called.
 */
export function createCliRouter(ctx: Pick<CliContext, 'env' | 'cwd'>, config: CliConfig): LLMRouter {
  return new LLMRouter(config.config, { env: ctx.env, baseDir: ctx.cwd });
}

/**
 * The models a CLI call can use. The CLI names no tenant, so under a v3 config with a `defaultTenant` its
 * calls run in that tenant's view (its allow-list, its own models), as `router.generate` does.
 */
export function cliModels(router: LLMRouter, config: CliConfig): DeploymentInfo[] {
  const cfg = config.config;
  return router.models(cfg.version === 3 ? cfg.defaultTenant : undefined);
}

/**
 * Loads the config and builds the router (engines are created lazily, nothing is called), then checks
 * that `model` and `strategy` exist, so a typo is a usage error naming the flag before any request, and
 * waits for the `LLMRR_PRICES_FILE` table (`router.ready()`): a missing or invalid price file is an error
 * here, never the shipped prices.
 */
export async function openRouter(ctx: CliContext, options: OpenRouterOptions): Promise<OpenedRouter> {
  const config = await loadCliConfig(ctx, options.config);
  const router = createCliRouter(ctx, config);
  try {
    if (options.model !== undefined) {
      const models = cliModels(router, config);
      const names = new Set(models.flatMap((m) => (m.alias !== undefined ? [m.name, m.alias] : [m.name])));
      if (!names.has(options.model)) {
        throw new CliUsageError(`unknown model "${options.model}" for -m/--model (known: ${[...names].join(', ')})`, '--model');
      }
    }
    if (options.strategy !== undefined && !router.strategyNames().includes(options.strategy)) {
      throw new CliUsageError(`unknown strategy "${options.strategy}" for -s/--strategy (known: ${router.strategyNames().join(', ')})`, '--strategy');
    }
    await router.ready();
  } catch (e) {
    await router.close();
    throw e;
  }
  return { router, config };
}
