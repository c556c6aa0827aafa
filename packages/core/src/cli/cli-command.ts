import { EXIT, type CliContext, type ExitCode } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { parseFlags, type FlagSpecs, type ParsedFlags } from './parse-flags.js';

/** One `llmrr` command: it parses its own arguments (after the command name) and returns an exit code. */
export interface CliCommand {
  readonly name: string;
  /** One line for `llmrr --help`. */
  readonly summary: string;
  /** Full help for `llmrr <command> --help`. */
  readonly help: string;
  run(args: readonly string[], ctx: CliContext): Promise<ExitCode>;
}

export interface CommandSpec<S extends FlagSpecs & { help: unknown }> {
  name: string;
  summary: string;
  help: string;
  /** The command's flags (include `help`: `-h/--help` prints `help` and exits 0 before `run`). */
  flags: S;
  run(parsed: ParsedFlags<S>, ctx: CliContext): Promise<ExitCode>;
}

/** A command whose arguments are parsed against `spec.flags` (each mistake names its flag) and whose `--help` prints `spec.help`. */
export function defineCommand<S extends FlagSpecs & { help: unknown }>(spec: CommandSpec<S>): CliCommand {
  return {
    name: spec.name,
    summary: spec.summary,
    help: spec.help,
    async run(args, ctx) {
      const parsed = parseFlags(args, spec.flags);
      if (parsed.values.help) {
        ctx.stdout.write(spec.help);
        return EXIT.ok;
      }
      return spec.run(parsed, ctx);
    },
  };
}

/** Checks that `positionals` is exactly `[expected]` (e.g. `audit verify`); a `CliUsageError` naming the word otherwise. */
export function expectSubcommand(positionals: readonly string[], expected: string): void {
  const [sub, extra] = positionals;
  if (sub === undefined) throw new CliUsageError(`missing subcommand: ${expected}`);
  if (sub !== expected) throw new CliUsageError(`unknown subcommand "${sub}" (expected ${expected})`, sub);
  if (extra !== undefined) throw new CliUsageError(`unexpected argument "${extra}"`, extra);
}
