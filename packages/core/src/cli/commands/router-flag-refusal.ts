import { LLMError } from '../../errors/llm-error.js';
import { CliUsageError } from '../cli-usage-error.js';
import { oneLine } from '../format.js';

/**
 * The learning code's `param`s (training, evaluation) and the flags of `router train` / `router eval` that set them
 * (`outcomes`: the data's held-out prompts lack outcomes, a refusal of `--data`'s content).
 */
const FLAGS: Readonly<Record<string, string>> = { tasks: '--tasks', holdoutTask: '--holdout-task', model: '--model', outcomes: '--data' };

/**
 * `e` as the CLI's usage error naming the flag (exit 2), when it is the learning code refusing a flag's value (an
 * `invalid_request` whose `param` a flag sets: `--tasks` or `--holdout-task` matching no prompt, a `--model` that does
 * not fit the data); else `e` itself. The message names the flag first, as the CLI's own usage errors do.
 */
export function flagRefusal(e: unknown): unknown {
  if (!LLMError.isInstance(e) || e.code !== 'invalid_request' || e.param === undefined) return e;
  const flag = FLAGS[e.param];
  if (flag === undefined) return e;
  const message = oneLine(e.message);
  return new CliUsageError(message.startsWith(`${flag} `) || message.includes(`: ${flag} `) ? message : `${flag}: ${message}`, flag);
}
