import { routerConfigJsonSchemaText } from '../../config/json-schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { loadCliConfig } from '../cli-config.js';
import { cliWarning, createCliRouter } from '../open-router.js';
import { defineCommand, type CliCommand } from '../cli-command.js';
import { EXIT, type CliContext, type ExitCode } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { GLOBAL_FLAGS } from '../parse-flags.js';
import { configIssues, configLine, issueText } from '../report-error.js';

const FLAGS = { ...GLOBAL_FLAGS } as const;

const HELP = `Usage: llmrr config <validate [file] | schema>

  validate [file]   checks a config (the file, else -c, else the one llmrr would use): schema, then engine
                    names, strategies (routing.strategy, tenants' preferences.strategy), the price file
                    of LLMRR_PRICES_FILE and the router model files of intelligent and adaptive
                    (routing.options.intelligent.model, routing.options.adaptive.model); prints "valid",
                    or one line per schema problem (field path, line and column, what was
                    expected), else the first other problem, and exits 2. routing.options of a
                    strategy that is not built in is a warning (an app may add it with addStrategy)
  schema            prints the JSON Schema of the config file (for editors: "$schema" or
                    "# yaml-language-server: $schema=...")

Options:
  -c, --config <file>      config file
  -h, --help               show this help
`;

/** `llmrr config validate|schema`. */
export const configCommand: CliCommand = defineCommand({
  name: 'config',
  summary: 'validate a config file, or print its JSON Schema',
  help: HELP,
  flags: FLAGS,
  async run({ values, positionals }, ctx) {
    const [sub, ...rest] = positionals;
    if (sub === 'schema') {
      if (rest[0] !== undefined) throw new CliUsageError(`unexpected argument "${rest[0]}" for config schema`, rest[0]);
      ctx.stdout.write(`${routerConfigJsonSchemaText().trimEnd()}\n`);
      return EXIT.ok;
    }
    if (sub === 'validate') {
      if (rest.length > 1) throw new CliUsageError(`unexpected argument "${rest[1]}" for config validate (one file at most)`, rest[1]);
      if (rest[0] !== undefined && values.config !== undefined) throw new CliUsageError('give the file either as an argument or with -c/--config, not both', '--config');
      return validate(ctx, rest[0] ?? values.config);
    }
    if (sub === undefined) throw new CliUsageError('missing subcommand: validate or schema');
    throw new CliUsageError(`unknown subcommand "${sub}" (expected validate or schema)`, sub);
  },
});

async function validate(ctx: CliContext, file: string | undefined): Promise<ExitCode> {
  try {
    const loaded = await loadCliConfig(ctx, file);
    // The router checks what the schema cannot: registered engines, the strategy names (the router's and the
    // tenants' preferred ones), the price file named by LLMRR_PRICES_FILE and strategies' files (intelligent's and adaptive's models).
    const router = createCliRouter(ctx, loaded, 'config validate');
    try {
      router.checkTenantStrategies();
      await router.ready();
    } finally {
      await router.close();
    }
    for (const w of loaded.warnings) cliWarning(ctx.stderr, 'config validate', issueText(w));
    const cfg = loaded.config;
    const n = cfg.models.length;
    const from = loaded.demo ? `${loaded.source} (demo config)` : loaded.source;
    ctx.stdout.write(`${from}: valid (version ${cfg.version}, ${n} model${n === 1 ? '' : 's'}: ${cfg.models.map((m) => m.name).join(', ')}; strategy ${cfg.routing.strategy})\n`);
    return EXIT.ok;
  } catch (e) {
    if (!LLMError.isInstance(e) || e.code !== 'config_invalid') throw e;
    const heading = (e.message.split('\n')[0] ?? '').replace(/:\s*$/, '');
    const issues = configIssues(e.details);
    if (issues.length === 0) {
      ctx.stderr.write(`llmrr config validate: ${configLine(e)}\n`);
    } else {
      for (const issue of issues) ctx.stderr.write(`llmrr config validate: ${heading}: ${issueText(issue)}\n`);
    }
    return EXIT.usage;
  }
}
