/**
 * A mistake in how the CLI was called (bad flag, missing prompt, unknown model or strategy): one line on
 * stderr, exit code 2. `flag` names the offending flag or argument.
 */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';

  constructor(
    message: string,
    readonly flag?: string,
  ) {
    super(message);
  }
}
