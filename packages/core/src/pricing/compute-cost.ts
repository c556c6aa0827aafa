import type { Cost } from '../router/types.js';
import type { LongContextPrice, ModelPrice, Usage } from '../spec/index.js';

/**
 * Cost of one call. Prices are USD per one million tokens.
 *
 * - `usage.cachedInputTokens` is part of `usage.inputTokens` (as OpenAI and Gemini report it); those
 *   tokens are charged at `price.cachedInput`, or at `price.input` when the model has no cache price.
 * - `usage.cacheWriteInputTokens` (prompt-cache writes) are part of `inputTokens` too: the 1-hour ones
 *   (`cacheWrite1hInputTokens`) at `price.cacheWrite1h ?? price.cacheWrite ?? price.input`, the rest at
 *   `price.cacheWrite ?? price.input`. The remaining input tokens cost `price.input`.
 * - Counts that do not add up are clamped, never charged twice: reads are at most `inputTokens`, writes at
 *   most what the reads leave, 1-hour writes at most the writes.
 * - `usage.reasoningTokens` are part of `outputTokens`: at most `outputTokens` of them are charged at
 *   `price.reasoningOutput`, the rest of the output at `price.output` (all of it when there is no reasoning price).
 * - Long context: when the prompt (`inputTokens`, which includes cache reads and writes) is above the `threshold`
 *   of a `price.longContext` tier, the whole call is charged at the rates of the highest such tier instead, a cache or reasoning
 *   rate the tier does not give at the base price's (`tierPrice`).
 * - `estimated` is true when the price is unknown (cost 0) or the token counts were estimated.
 * - Amounts are exact to 1e-9 USD: the sum is done in integer nano-dollars, so `totalUsd` equals
 *   `inputUsd + outputUsd` without floating noise (`0.1 + 0.2` problems).
 */
export function computeCost(usage: Usage, base: ModelPrice | undefined): Cost {
  if (!base) return { inputUsd: 0, outputUsd: 0, totalUsd: 0, estimated: true };
  const input = count(usage.inputTokens);
  const price = tierPrice(base, input ?? 0);
  const output = count(usage.outputTokens);
  const cachedRaw = count(usage.cachedInputTokens ?? 0);
  const writeRaw = count(usage.cacheWriteInputTokens ?? 0);
  const write1hRaw = count(usage.cacheWrite1hInputTokens ?? 0);
  // Counts that are not numbers (a provider bug) are taken as 0 and the cost is marked estimated.
  const bad = input === undefined || output === undefined || cachedRaw === undefined || writeRaw === undefined || write1hRaw === undefined;
  const cached = Math.min(cachedRaw ?? 0, input ?? 0);
  const writes = Math.min(writeRaw ?? 0, (input ?? 0) - cached);
  const writes1h = Math.min(write1hRaw ?? 0, writes);
  const fresh = (input ?? 0) - cached - writes;
  const inputNano =
    nanoUsd(fresh, price.input) +
    nanoUsd(cached, price.cachedInput ?? price.input) +
    nanoUsd(writes - writes1h, price.cacheWrite ?? price.input) +
    nanoUsd(writes1h, price.cacheWrite1h ?? price.cacheWrite ?? price.input);
  const reasoning = price.reasoningOutput === undefined ? 0 : Math.min(count(usage.reasoningTokens ?? 0) ?? 0, output ?? 0);
  const outputNano = nanoUsd((output ?? 0) - reasoning, price.output) + (reasoning > 0 ? nanoUsd(reasoning, price.reasoningOutput!) : 0);
  return {
    inputUsd: inputNano / 1e9,
    outputUsd: outputNano / 1e9,
    totalUsd: (inputNano + outputNano) / 1e9,
    estimated: usage.estimated === true || bad,
  };
}

/**
 * The rates a call with a prompt of `promptTokens` is charged at: the `price.longContext` tier of the highest
 * threshold the prompt is above, else `price`. A cache or reasoning rate the tier does not give is the base price's (`cachedInput`,
 * `cacheWrite`, `cacheWrite1h`, `reasoningOutput`), as LiteLLM keeps `cache_read_input_token_cost` when a row has
 * no `_above_` version of it; only when neither gives one does it fall back inside the tier (see `ModelPrice`).
 */
export function tierPrice(price: ModelPrice, promptTokens: number): ModelPrice {
  const tiers = price.longContext;
  if (tiers === undefined) return price;
  let tier: LongContextPrice | undefined;
  for (const t of tiers) if (promptTokens > t.threshold && (tier === undefined || t.threshold > tier.threshold)) tier = t;
  if (tier === undefined) return price;
  if (!inherits(tier, price)) return tier;
  const out: ModelPrice = { input: tier.input, output: tier.output };
  for (const field of INHERITED) {
    const v = tier[field] ?? price[field];
    if (v !== undefined) out[field] = v;
  }
  return out;
}

/** A frozen copy of long-context tiers, each tier a frozen copy, ascending by threshold. */
export function freezeTiers(tiers: readonly LongContextPrice[]): LongContextPrice[] {
  return Object.freeze(tiers.map((t) => Object.freeze({ ...t })).sort((a, b) => a.threshold - b.threshold)) as LongContextPrice[];
}

const INHERITED = ['cachedInput', 'cacheWrite', 'cacheWrite1h', 'reasoningOutput'] as const;

/** Whether the base price gives a rate the tier does not (only then is a merged copy needed). */
function inherits(tier: LongContextPrice, price: ModelPrice): boolean {
  for (const field of INHERITED) if (tier[field] === undefined && price[field] !== undefined) return true;
  return false;
}

/** A token count, or undefined when it is not a non-negative finite number. */
function count(n: number): number | undefined {
  return Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined;
}

/** tokens x (USD per 1M tokens), in nano-dollars, rounded half up. */
function nanoUsd(tokens: number, usdPerMillion: number): number {
  if (tokens === 0 || !(usdPerMillion > 0)) return 0;
  // USD per 1M tokens x 1e6 = pico-dollars per token; an integer for any price with <= 6 decimals.
  const picoPerToken = Math.round(usdPerMillion * 1e6);
  const pico = tokens * picoPerToken;
  if (Number.isSafeInteger(pico)) return Math.round(pico / 1000);
  const big = BigInt(tokens) * BigInt(picoPerToken);
  return Number((big + 500n) / 1000n);
}
