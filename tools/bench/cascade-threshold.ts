/**
 * The table behind the default threshold of the `arithmetic` cascade verifier (ARITHMETIC_DEFAULT_THRESHOLD):
 * on RouteLLM GSM8K (Mixtral weak, GPT-4 strong, both models' recorded answers), for each threshold, the share
 * of prompts escalated, the cascade's accuracy (the strong outcome where escalated, else the weak one), that
 * accuracy as a share of GPT-4's, and the mean cost as a share of always calling GPT-4 (weak call on every
 * prompt + strong call where escalated; tokens estimated at ~4 characters per token from the prompt and each
 * recorded answer, prices from the shared model_prices.json as in `llmrr router eval --cascade`).
 * The rule has no training: the table is computed over all 1 319 prompts (so the threshold is chosen on the
 * same data it is reported on).
 *
 *   cd tools/bench && npx tsx --conditions=@llmrr/source cascade-threshold.ts [--shared ../../../shared]
 */
import { join, resolve } from 'node:path';
import { estimateTokens, loadGsm8kResponses, loadPriceTable, ruleEscalationScore, weakAnswerFeatures } from '@llmrr/core';

const arg = process.argv.indexOf('--shared');
const shared = resolve(arg > 0 ? process.argv[arg + 1]! : process.env['LLMRR_SHARED_DIR'] ?? '../../../shared');
const examples = await loadGsm8kResponses(join(shared, 'data/routing/routellm/gsm8k/gsm8k_responses.csv'));
const table = await loadPriceTable(join(shared, 'data/pricing/model_prices.json'), { base: new Map() });
const price = (key: string) => {
  const p = table.get(key);
  if (!p) throw new Error(`no price entry ${key}`);
  return p;
};
const weakPrice = price('mistral/open-mixtral-8x7b');
const strongPrice = price('gpt-4-1106-preview');
const cost = (p: { input: number; output: number }, prompt: string, answer: string) => (estimateTokens(prompt) * p.input + estimateTokens(answer) * p.output) / 1e6;

const rows = examples.map((e) => ({
  score: ruleEscalationScore(weakAnswerFeatures(e.prompt, e.weakResponse)),
  weak: e.quality[0]!,
  strong: e.quality[1]!,
  weakCost: cost(weakPrice, e.prompt, e.weakResponse),
  strongCost: cost(strongPrice, e.prompt, e.strongResponse),
}));
const n = rows.length;
const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0) / n;
const qWeak = mean((r) => r.weak);
const qStrong = mean((r) => r.strong);
const strongCost = mean((r) => r.strongCost);
console.log(`prompts ${n}; weak accuracy ${qWeak.toFixed(3)}, strong ${qStrong.toFixed(3)}; prices weak ${weakPrice.input}/${weakPrice.output}, strong ${strongPrice.input}/${strongPrice.output} USD per 1M tokens`);
console.log('| threshold | escalated | accuracy | share of GPT-4 accuracy | cost (share of always GPT-4) |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
for (const t of [0.5, 0.6, 0.7, 0.8, 1, 1.5, 2, 3, 4]) {
  const up = (r: (typeof rows)[number]) => r.score >= t;
  const acc = mean((r) => (up(r) ? r.strong : r.weak));
  const c = mean((r) => r.weakCost + (up(r) ? r.strongCost : 0)) / strongCost;
  console.log(`| ${t} | ${(100 * mean((r) => (up(r) ? 1 : 0))).toFixed(1)}% | ${acc.toFixed(3)} | ${(100 * acc / qStrong).toFixed(1)}% | ${(100 * c).toFixed(1)}% |`);
}
