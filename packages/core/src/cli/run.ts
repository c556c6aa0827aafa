import type { CliCommand } from './cli-command.js';
import { EXIT, type CliContext, type CliIO, type ExitCode } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { auditCommand } from './commands/audit.js';
import { cacheCommand } from './commands/cache-eval.js';
import { chatCommand } from './commands/chat.js';
import { configCommand } from './commands/config.js';
import { modelsCommand } from './commands/models.js';
import { routeCommand } from './commands/route.js';
import { routerCommand } from './commands/router.js';
import { reportError } from './report-error.js';
import { cliVersion } from './version.js';

export const COMMANDS: readonly CliCommand[] = [chatCommand, routeCommand, modelsCommand, configCommand, auditCommand, routerCommand, cacheCommand];

/**
 * Runs `llmrr <argv>` and resolves to the exit code; never exits the process and never throws.
 * Everything it touches comes from `io`, so tests call it in-process.
 */
export async function run(argv: readonly string[], io: CliIO): Promise<ExitCode> {
  const ctx: CliContext = {
    stdout: io.stdout,
    stderr: io.stderr,
    stdin: io.stdin,
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    signal: io.signal,
  };
  let command: CliCommand | undefined;
  try {
    const split = splitCommand(argv);
    if (split.name === undefined) {
      if (split.version) {
        ctx.stdout.write(`${cliVersion()}\n`);
        return EXIT.ok;
      }
      if (split.help) {
        ctx.stdout.write(mainHelp());
        return EXIT.ok;
      }
      if (split.unknownFlag !== undefined) throw new CliUsageError(`unknown option ${split.unknownFlag}`, split.unknownFlag);
      throw new CliUsageError(`missing command (${COMMANDS.map((c) => c.name).join(', ')})`);
    }
    command = COMMANDS.find((c) => c.name === split.name);
    if (!command) throw new CliUsageError(`unknown command "${split.name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})`, split.name);
    return await command.run(split.rest, ctx);
  } catch (e) {
    return reportError(e, ctx, command?.name);
  }
}

interface SplitCommand {
  name: string | undefined;
  /** The arguments without the command name (global flags stay: every command accepts them). */
  rest: string[];
  help: boolean;
  version: boolean;
  unknownFlag: string | undefined;
}

/** Finds the command: the first argument that is neither a flag nor the value of `-c/--config`. */
function splitCommand(argv: readonly string[]): SplitCommand {
  let help = false;
  let version = false;
  let unknownFlag: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '-c' || a === '--config') {
      i++;
      continue;
    }
    if (a === '-h' || a === '--help') help = true;
    else if (a === '-v' || a === '--version') version = true;
    else if (a.startsWith('-') && a !== '-') {
      if (!a.startsWith('--config=') && !/^-c./.test(a)) unknownFlag ??= a;
    } else {
      return { name: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)], help, version, unknownFlag };
    }
  }
  return { name: undefined, rest: [...argv], help, version, unknownFlag };
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `Usage: llmrr [-c <config>] <command> [options]

One API over many language models: routing, fallbacks, streaming.

Commands:
${list}

Global options:
  -c, --config <file>   config file (default: LLM_ROUTER_CONFIG (a path) or LLM_ROUTER_CONFIG_JSON, else
                        llmrr.config.{json,yaml,yml} in the working directory, else LLM_ROUTER_MODELS, else the demo config)
  -h, --help            help (also: llmrr <command> --help)
  -v, --version         print the version

Exit codes: 0 ok, 1 runtime error (provider), 2 usage or config error, 130 interrupted.
Set LLMRR_DEBUG=1 to see stack traces.
`;
}
