import type { CliContext, ExitCode } from './cli-io.js';

/** One `llmrr` command: it parses its own arguments (after the command name) and returns an exit code. */
export interface CliCommand {
  readonly name: string;
  /** One line for `llmrr --help`. */
  readonly summary: string;
  /** Full help for `llmrr <command> --help`. */
  readonly help: string;
  run(args: readonly string[], ctx: CliContext): Promise<ExitCode>;
}
