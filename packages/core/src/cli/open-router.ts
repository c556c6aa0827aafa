import { disableMissingLocalModels, missingModelWarning, type MissingModelFile } from '../config/missing-local-models.js';
import { LLMRouter } from '../router/llm-router.js';
import type { DeploymentInfo } from '../router/types.js';
import { loadCliConfig, type CliConfig } from './cli-config.js';
import type { CliContext } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { issueText } from './report-error.js';

export interface OpenRouterOptions {
  /** `-c/--config`. */
  config?: string | undefined;
  /** `-m/--model`: must name a deployment or an alias. */
  model?: string | undefined;
  /** `-s/--strategy`: must name a registered strategy. */
  strategy?: string | undefined;
  /** The command (`route`, `chat`, `models`): its warnings on stderr read `llmrr <command>: warning: ...`. */
  command: string;
}

export interface OpenedRouter {
  router: LLMRouter;
  config: CliConfig;
}

/**
 * The router over a loaded config, as every command builds it: the CLI's environment, and model paths
 * resolved against the CLI's working directory (a relative `modelsDir`, e.g. from `LLM_ROUTER_CONFIG_JSON`,
 * is relative to it; the loader already made a file config's `modelsDir` absolute). Nothing is called.
 * What the router's parts report outside a call (its `warn` option) goes to the CLI's stderr (`cliWarn`), as a
 * warning of `command`.
 */
export function createCliRouter(ctx: Pick<CliContext, 'env' | 'cwd'> & Partial<Pick<CliContext, 'stderr'>>, config: CliConfig, command?: string): LLMRouter {
  return new LLMRouter(config.config, { env: ctx.env, baseDir: ctx.cwd, ...(ctx.stderr ? { warn: cliWarn(ctx.stderr, command) } : {}) });
}

/**
 * One warning line on stderr, as every command writes them: `llmrr <command>: warning: <message>` (`llmrr: warning:`
 * without a command; core's `[llmrr] ` tag dropped).
 */
export function cliWarning(stderr: CliContext['stderr'], command: string | undefined, message: string): void {
  stderr.write(`llmrr${command ? ` ${command}` : ''}: warning: ${message.startsWith('[llmrr] ') ? message.slice('[llmrr] '.length) : message}\n`);
}

/** The router's `warn` for the CLI: `cliWarning` lines of `command` on stderr. */
export function cliWarn(stderr: CliContext['stderr'], command?: string): (message: string) => void {
  return (message) => cliWarning(stderr, command, message);
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
 * `-m` must name (by name or alias) an enabled deployment. When every deployment it names is a local model left
 * out for its missing file, the usage error says so; else it names the model unknown (or disabled) and lists the
 * enabled deployments' names and aliases (a disabled one could not answer).
 */
function checkModelFlag(model: string, models: readonly DeploymentInfo[], missing: readonly MissingModelFile[]): void {
  const named = models.filter((m) => m.name === model || m.alias === model);
  if (named.some((m) => m.enabled)) return;
  const left = missing.filter((f) => named.some((m) => m.name === f.model && m.tenant === f.tenant));
  if (left.length > 0) {
    const files = left.map((f) => f.path).join(', ');
    throw new CliUsageError(`model "${model}" for -m/--model is left out: its file ${files} does not exist or is not a file`, '--model');
  }
  const known = new Set(models.flatMap((m) => (!m.enabled ? [] : m.alias !== undefined ? [m.name, m.alias] : [m.name])));
  const what = named.length > 0 ? 'disabled' : 'unknown';
  throw new CliUsageError(`${what} model "${model}" for -m/--model (known: ${[...known].join(', ')})`, '--model');
}

/**
 * Loads the config, leaves out (disables, with a warning on stderr) a local model whose file is missing
 * (`disableMissingLocalModels`, as the gateway server), and builds the router (engines are created lazily, nothing is called), then checks
 * that `model` and `strategy` exist, so a typo is a usage error naming the flag before any request, and
 * waits for the `LLMRR_PRICES_FILE` table (`router.ready()`): a missing or invalid price file is an error
 * here, never the shipped prices.
 */
export async function openRouter(ctx: CliContext, options: OpenRouterOptions): Promise<OpenedRouter> {
  const loaded = await loadCliConfig(ctx, options.config);
  // A local model whose file is missing (or a directory) could not answer: left out (disabled) with a warning
  // naming the file, as the gateway server does (the demo config lists stories260K from the shared directory).
  const { config: usable, missing } = disableMissingLocalModels(loaded.config, ctx.cwd);
  const config: CliConfig = missing.length ? { ...loaded, config: usable } : loaded;
  const router = createCliRouter(ctx, config, options.command);
  try {
    if (options.model !== undefined) checkModelFlag(options.model, cliModels(router, config), missing);
    for (const m of missing) cliWarning(ctx.stderr, options.command, missingModelWarning(m, loaded.file ?? loaded.source));
    for (const w of loaded.warnings) cliWarning(ctx.stderr, options.command, issueText(w));
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
