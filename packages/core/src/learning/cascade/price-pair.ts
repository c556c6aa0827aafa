import { LLMError } from '../../errors/llm-error.js';
import { estimateTokens } from '../../pricing/estimate-tokens.js';
import type { PriceEntry, PriceTable } from '../../pricing/types.js';
import type { CascadeExample } from './load-gsm8k-responses.js';

/** The two models' prices (USD per 1M tokens) and the table entries they came from. */
export interface PairPrices {
  weak: { entry: string; input: number; output: number };
  strong: { entry: string; input: number; output: number };
}

/** Looks up two exact entries of a price table; throws naming the missing one. */
export function pairPrices(table: PriceTable, weakEntry: string, strongEntry: string): PairPrices {
  const get = (key: string): PriceEntry => {
    const e = table.get(key.toLowerCase());
    if (!e) throw new LLMError({ code: 'config_invalid', message: `Price table has no entry "${key}" (cascade cost view)`, details: { entry: key } });
    return e;
  };
  const w = get(weakEntry), s = get(strongEntry);
  return { weak: { entry: weakEntry, input: w.input, output: w.output }, strong: { entry: strongEntry, input: s.input, output: s.output } };
}

/**
 * Estimated cost in USD of each model's call per prompt: the prompt's estimated tokens at the input
 * price plus that model's recorded answer's estimated tokens at the output price (`estimateTokens`: about
 * 4 characters per token; any few-shot preamble the data's authors used is not in the data and not counted).
 */
export function callCosts(examples: readonly CascadeExample[], prices: PairPrices): { weak: number[]; strong: number[] } {
  const cost = (p: { input: number; output: number }, prompt: string, answer: string) => (estimateTokens(prompt) * p.input + estimateTokens(answer) * p.output) / 1e6;
  return {
    weak: examples.map((e) => cost(prices.weak, e.prompt, e.weakResponse)),
    strong: examples.map((e) => cost(prices.strong, e.prompt, e.strongResponse)),
  };
}
