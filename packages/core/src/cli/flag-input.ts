import { LLMError } from '../errors/llm-error.js';
import { CliUsageError } from './cli-usage-error.js';
import { oneLine } from './format.js';

/** LLMError codes of a file that cannot serve as the input a flag names (missing, unreadable as data, not a model). */
const BAD_INPUT = new Set(['invalid_request', 'invalid_json', 'config_invalid']);

/**
 * Reads the file a flag names (`--data`, `--model`...): a refusal of its content or of its path (an LLMError
 * `invalid_request`, `invalid_json` or `config_invalid`) is a usage error naming the flag, exit 2 as the CLI's help
 * says, not a runtime error; anything else is rethrown.
 */
export async function readFlagInput<T>(flag: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (LLMError.isInstance(e) && BAD_INPUT.has(e.code)) throw new CliUsageError(`${flag}: ${oneLine(e.message)}`, flag);
    throw e;
  }
}
