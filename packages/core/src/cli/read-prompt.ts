import type { CliContext } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';

/** Upper bound for a prompt read from stdin (a pipe that never ends must not exhaust memory). */
export const MAX_STDIN_BYTES = 8 * 1024 * 1024;

/**
 * The prompt: the positional arguments joined with spaces; else, when stdin is not a terminal, all of
 * stdin (one trailing newline dropped). Throws `CliUsageError` when there is none.
 */
export async function readPrompt(positionals: readonly string[], ctx: Pick<CliContext, 'stdin'>): Promise<string> {
  if (positionals.length > 0) {
    const prompt = positionals.join(' ');
    if (prompt.trim() === '') throw new CliUsageError('the prompt is empty', 'prompt');
    return prompt;
  }
  const stdin = ctx.stdin;
  if (!stdin || stdin.isTTY) throw new CliUsageError('missing prompt: give it as an argument or pipe it on stdin', 'prompt');
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for await (const chunk of stdin) {
    const piece = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (bytes > MAX_STDIN_BYTES) throw new CliUsageError(`the prompt on stdin is larger than ${MAX_STDIN_BYTES} bytes`, 'prompt');
    text += piece;
  }
  text += decoder.decode();
  text = text.replace(/\r?\n$/, '');
  if (text.trim() === '') throw new CliUsageError('missing prompt: stdin was empty (give the prompt as an argument or pipe it on stdin)', 'prompt');
  return text;
}
