import type { DeploymentInfo } from '../../router/types.js';
import { defineCommand, type CliCommand } from '../cli-command.js';
import { EXIT } from '../cli-io.js';
import { formatPrice, formatTable } from '../format.js';
import { cliModels, openRouter } from '../open-router.js';
import { GLOBAL_FLAGS } from '../parse-flags.js';
import { CliUsageError } from '../cli-usage-error.js';

const FLAGS = { ...GLOBAL_FLAGS, json: { type: 'boolean' } } as const;

const HELP = `Usage: llmrr models [options]

Lists the deployments of the config: engine, provider model, priority, price (USD per 1M tokens, input/
output; "table" when it comes from the shipped price table), context window and capabilities. With a v3
config that names a defaultTenant, the list is that tenant's view (the models llmrr chat and route can use).

Options:
      --json               print them as JSON
  -c, --config <file>      config file (default: llmrr.config.{json,yaml,yml} here, else the demo config)
  -h, --help               show this help
`;

/** What `llmrr models --json` prints per deployment. */
export interface ModelListing {
  name: string;
  engine: string;
  model: string;
  alias?: string;
  enabled: boolean;
  priority: number;
  price?: { input: number; output: number; cachedInput?: number };
  priceFromTable: boolean;
  capabilities: string[];
  contextWindow?: number;
  tags: string[];
}

/** `llmrr models`: what the config provides. */
export const modelsCommand: CliCommand = defineCommand({
  name: 'models',
  summary: 'list the configured deployments',
  help: HELP,
  flags: FLAGS,
  async run({ values, positionals }, ctx) {
    if (positionals[0] !== undefined) throw new CliUsageError(`unexpected argument "${positionals[0]}"`, positionals[0]);
    const { router, config } = await openRouter(ctx, { config: values.config, command: 'models' });
    try {
      // The view the CLI's calls run in: a v3 config's defaultTenant, when it names one.
      const listing = cliModels(router, config).map(toListing);
      ctx.stdout.write(values.json ? `${JSON.stringify(listing, null, 2)}\n` : formatModels(listing));
      return EXIT.ok;
    } finally {
      await router.close();
    }
  },
});

export function toListing(info: DeploymentInfo): ModelListing {
  const m: ModelListing = {
    name: info.name,
    engine: info.engine,
    model: info.model,
    enabled: info.enabled,
    priority: info.config.priority,
    priceFromTable: info.priceFromTable,
    capabilities: [...info.capabilities],
    tags: [...info.config.tags],
  };
  if (info.alias !== undefined) m.alias = info.alias;
  if (info.price) m.price = { ...info.price };
  if (info.config.contextWindow !== undefined) m.contextWindow = info.config.contextWindow;
  return m;
}

export function formatModels(list: readonly ModelListing[]): string {
  return formatTable(
    ['NAME', 'ENGINE', 'MODEL', 'ALIAS', 'PRIORITY', 'PRICE $/1M IN/OUT', 'CONTEXT', 'CAPABILITIES'],
    list.map((m) => [
      m.enabled ? m.name : `${m.name} (disabled)`,
      m.engine,
      m.model,
      m.alias ?? '-',
      String(m.priority),
      m.price ? `${formatPrice(m.price)}${m.priceFromTable ? ' (table)' : ''}` : '-',
      m.contextWindow !== undefined ? String(m.contextWindow) : '-',
      m.capabilities.join(',') || '-',
    ]),
  );
}
