import type { CliCommand } from '../cli-command.js';
import { EXIT } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { reportError } from '../report-error.js';
import { routerEval } from './router-eval.js';
import { routerTrain } from './router-train.js';

const HELP = `Usage: llmrr router <train | eval> [options]

  train   train the learned router on per-prompt outcomes (llmrr router train --help)
  eval    evaluate it on held-out prompts (llmrr router eval --help)
`;

/** `llmrr router train|eval`: the learned router's offline tools. */
export const routerCommand: CliCommand = {
  name: 'router',
  summary: 'train and evaluate the learned router (train, eval)',
  help: HELP,
  async run(args, ctx) {
    let i = args.findIndex((a) => a === 'train' || a === 'eval');
    if (i < 0) i = args.findIndex((a, k) => !a.startsWith('-') && (k === 0 || !args[k - 1]!.startsWith('-')));
    const sub = i >= 0 ? args[i] : undefined;
    const rest = i >= 0 ? [...args.slice(0, i), ...args.slice(i + 1)] : [...args];
    // A failure names the subcommand (`llmrr router train: ...`, `see llmrr router train --help`).
    if (sub === 'train') return routerTrain(rest, ctx).catch((e: unknown) => reportError(e, ctx, 'router train'));
    if (sub === 'eval') return routerEval(rest, ctx).catch((e: unknown) => reportError(e, ctx, 'router eval'));
    if (sub === undefined) {
      if (args.includes('-h') || args.includes('--help')) {
        ctx.stdout.write(HELP);
        return EXIT.ok;
      }
      throw new CliUsageError('missing subcommand: train or eval');
    }
    throw new CliUsageError(`unknown subcommand "${sub}" (expected train or eval)`, sub);
  },
};
