import type { RouteDecision } from '../../router/types.js';
import { defineCommand, type CliCommand } from '../cli-command.js';
import { EXIT } from '../cli-io.js';
import { formatFactors, formatNumber, formatPrice, formatTable } from '../format.js';
import { openRouter } from '../open-router.js';
import { GLOBAL_FLAGS, intFlag } from '../parse-flags.js';
import { readPrompt } from '../read-prompt.js';

const FLAGS = {
  ...GLOBAL_FLAGS,
  explain: { type: 'boolean', short: 'e' },
  model: { type: 'string', short: 'm' },
  strategy: { type: 'string', short: 's' },
  'max-tokens': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const HELP = `Usage: llmrr route [options] [prompt...]

Shows which deployment a prompt would go to, and the order in which deployments would be tried,
without calling any of them. The decision is planned as for \`llmrr chat\` (a streaming call).
Without a prompt argument, the prompt is read from stdin (when stdin is not a terminal).

Options:
  -e, --explain            also show every candidate with its score and factors, and the deployments
                           left out with the reason
  -s, --strategy <name>    routing strategy (default: routing.strategy of the config)
  -m, --model <name>       restrict to a deployment name or alias
      --max-tokens <n>     expected output tokens (cost estimates, context-window check)
      --json               print the decision as JSON
  -c, --config <file>      config file (default: llmrr.config.{json,yaml,yml} here, else the demo config)
  -h, --help               show this help
`;

/** `llmrr route`: the routing decision for a prompt. */
export const routeCommand: CliCommand = defineCommand({
  name: 'route',
  summary: 'show which deployment a prompt would go to, and why (--explain)',
  help: HELP,
  flags: FLAGS,
  async run({ values, positionals }, ctx) {
    const maxTokens = intFlag(values['max-tokens'], '--max-tokens', 1);
    const prompt = await readPrompt(positionals, ctx);
    const { router } = await openRouter(ctx, { config: values.config, model: values.model, strategy: values.strategy, command: 'route' });
    try {
      const decision = await router.route(prompt, {
        stream: true,
        ...(values.model !== undefined ? { model: values.model } : {}),
        ...(values.strategy !== undefined ? { strategy: values.strategy } : {}),
        ...(maxTokens !== undefined ? { maxTokens } : {}),
      });
      ctx.stdout.write(values.json ? `${JSON.stringify(decision, null, 2)}\n` : formatDecision(decision, values.explain === true));
      return EXIT.ok;
    } finally {
      await router.close();
    }
  },
});

/** The decision as text: strategy, choice, order, reason; with `explain`, the candidate and exclusion tables. */
export function formatDecision(d: RouteDecision, explain: boolean): string {
  let out = formatTable(
    ['strategy', d.strategy],
    [
      ['selected', d.selected],
      ['order', d.order.join(' -> ')],
      ['reason', d.reason],
    ],
  );
  if (!explain) return out;
  out += '\ncandidates (best first):\n';
  out += formatTable(
    ['RANK', 'DEPLOYMENT', 'ENGINE', 'MODEL', 'SCORE', 'PRICE $/1M IN/OUT', 'FACTORS'],
    d.candidates.map((c) => [String(c.rank), c.name, c.engine, c.model, formatNumber(c.score), formatPrice(c.price), [formatFactors(c.factors), c.note].filter(Boolean).join('; ')]),
  );
  out += '\nexcluded:\n';
  out += d.excluded.length === 0 ? '(none)\n' : formatTable(['DEPLOYMENT', 'REASON'], d.excluded.map((e) => [e.name, e.reason]));
  out += `\ndecided in ${formatNumber(d.decisionUs)} µs\n`;
  return out;
}
