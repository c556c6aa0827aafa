import type { Cost } from '../router/types.js';
import type { ModelPrice, Usage } from '../spec/index.js';

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
 * - Long context: when `price.longContext` is set and the prompt (`inputTokens`, which includes cache reads and
 *   writes) is above its `threshold`, the whole call is charged at the tier's rates instead (`tierPrice`).
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
 * The rates a call with a prompt of `promptTokens` is charged at: `price.longContext` (its absent optional rates
 * falling back inside the tier, see `LongContextPrice`) when the prompt is above its threshold, else `price`.
 */
export function tierPrice(price: ModelPrice, promptTokens: number): ModelPrice {
  const tier = price.longContext;
  return tier !== undefined && promptTokens > tier.threshold ? tier : price;
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
