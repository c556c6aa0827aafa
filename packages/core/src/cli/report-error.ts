import { LLMError } from '../errors/llm-error.js';
import { EXIT, type CliContext, type ExitCode } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { oneLine } from './format.js';

interface ConfigIssueDetail {
  path: string;
  message: string;
  line?: number;
  column?: number;
  env?: string;
}

/**
 * Writes one line for a failure on stderr and returns the exit code: 2 for usage and config errors,
 * 130 for an abort the user asked for, 1 for everything else (the LLMError code in brackets). With
 * `LLMRR_DEBUG=1` the stack (and causes) follow.
 */
export function reportError(error: unknown, ctx: Pick<CliContext, 'stderr' | 'env' | 'signal'>, command?: string): ExitCode {
  const prefix = command ? `llmrr ${command}` : 'llmrr';
  let line: string;
  let code: ExitCode;
  if (error instanceof CliUsageError) {
    line = `${prefix}: ${error.message} (see llmrr ${command ? `${command} ` : ''}--help)`;
    code = EXIT.usage;
  } else if (LLMError.isInstance(error) && error.code === 'config_invalid') {
    line = `${prefix}: ${configLine(error)}`;
    code = EXIT.usage;
  } else if (LLMError.isInstance(error) && error.code === 'aborted' && ctx.signal?.aborted) {
    line = `${prefix}: interrupted`;
    code = EXIT.interrupted;
  } else if (LLMError.isInstance(error)) {
    const where = error.deployment ? ` (deployment ${error.deployment})` : '';
    line = `${prefix}: error [${error.code}]${where}: ${oneLine(error.message)}`;
    code = EXIT.runtime;
  } else {
    line = `${prefix}: internal error: ${oneLine(error instanceof Error ? error.message : String(error))}`;
    code = EXIT.runtime;
  }
  ctx.stderr.write(`${line}\n`);
  if (ctx.env['LLMRR_DEBUG'] === '1') ctx.stderr.write(debugText(error));
  return code;
}

/** `Invalid config file /x.yaml: models.0.price.input (line 5, column 14): expected number (and 2 more issues)`. */
export function configLine(error: LLMError): string {
  const issues = configIssues(error.details);
  const first = issues[0];
  if (!first) return error.param && !error.message.includes(error.param) ? `${error.param}: ${oneLine(error.message)}` : oneLine(error.message);
  const heading = (error.message.split('\n')[0] ?? '').replace(/:\s*$/, '');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''}; run llmrr config validate)` : '';
  return `${heading}: ${issueText(first)}${more}`;
}

/** One issue: `path (line L, column C): message`. */
export function issueText(issue: ConfigIssueDetail): string {
  const where = issue.env ? ` (from ${issue.env})` : issue.line !== undefined ? ` (line ${issue.line}, column ${issue.column ?? 1})` : '';
  return `${issue.path || '(root)'}${where}: ${issue.message}`;
}

/** The located issues a `config_invalid` error carries in `details`, if any. */
export function configIssues(details: unknown): ConfigIssueDetail[] {
  if (!Array.isArray(details)) return [];
  return details.filter(
    (d): d is ConfigIssueDetail => typeof d === 'object' && d !== null && typeof (d as ConfigIssueDetail).path === 'string' && typeof (d as ConfigIssueDetail).message === 'string',
  );
}

function debugText(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e !== undefined && depth < 5; depth++) {
    parts.push(depth === 0 ? stackOf(e) : `caused by: ${stackOf(e)}`);
    e = e instanceof Error ? e.cause : undefined;
  }
  return `${parts.join('\n')}\n`;
}

function stackOf(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}
