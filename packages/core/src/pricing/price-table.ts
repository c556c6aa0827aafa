import { freezeTiers } from './compute-cost.js';
import type { PriceEntry, PriceTable } from './types.js';

/**
 * The shipped list prices: USD per one million tokens, standard (non-batch) tier, text.
 *
 * Rules for this file:
 * - Only numbers a provider publishes; a model whose price could not be confirmed is left out
 *   (it then costs "unknown", reported as `estimated`), never guessed.
 * - `cachedInput` (cache reads), `cacheWrite` (5-minute cache writes) and `cacheWrite1h` (1-hour cache writes)
 *   only where the provider publishes that price for that model.
 * - Keys are the provider's model id without date suffix; `priceFor` strips prefixes and dates.
 * - Prices change: users override with a LiteLLM-style file (`LLMRR_PRICES_FILE`) or `price` in config.
 *
 * Local engines (gguf, onnx, mock) are not listed: they always cost 0 (see `resolveModelPrice`).
 */
const ENTRIES: ReadonlyArray<readonly [string, PriceEntry]> = [
  // --- OpenAI ---------------------------------------------------------------------------------
  // asOf 2025-06-03. Source: https://platform.openai.com/docs/pricing (standard tier). Cross-checked
  // against the OpenAI rows of two public price tables that cite that page (June 2025 and 2026).
  // Context windows: https://platform.openai.com/docs/models.
  ['gpt-4o', { provider: 'openai', input: 2.5, cachedInput: 1.25, output: 10, contextWindow: 128_000 }],
  // The first gpt-4o snapshot kept its launch price.
  ['gpt-4o-2024-05-13', { provider: 'openai', input: 5, output: 15, contextWindow: 128_000 }],
  ['gpt-4o-mini', { provider: 'openai', input: 0.15, cachedInput: 0.075, output: 0.6, contextWindow: 128_000 }],
  ['gpt-4.1', { provider: 'openai', input: 2, cachedInput: 0.5, output: 8, contextWindow: 1_047_576 }],
  ['gpt-4.1-mini', { provider: 'openai', input: 0.4, cachedInput: 0.1, output: 1.6, contextWindow: 1_047_576 }],
  ['gpt-4.1-nano', { provider: 'openai', input: 0.1, cachedInput: 0.025, output: 0.4, contextWindow: 1_047_576 }],
  ['o3', { provider: 'openai', input: 2, cachedInput: 0.5, output: 8, contextWindow: 200_000 }],
  ['o4-mini', { provider: 'openai', input: 1.1, cachedInput: 0.275, output: 4.4, contextWindow: 200_000 }],
  ['gpt-5', { provider: 'openai', input: 1.25, cachedInput: 0.125, output: 10 }],
  ['gpt-5-mini', { provider: 'openai', input: 0.25, cachedInput: 0.025, output: 2 }],
  ['gpt-5-nano', { provider: 'openai', input: 0.05, cachedInput: 0.005, output: 0.4 }],
  // gpt-3.5-turbo points at gpt-3.5-turbo-0125.
  ['gpt-3.5-turbo', { provider: 'openai', input: 0.5, output: 1.5, contextWindow: 16_385 }],
  ['text-embedding-3-small', { provider: 'openai', input: 0.02, output: 0, contextWindow: 8_191 }],
  ['text-embedding-3-large', { provider: 'openai', input: 0.13, output: 0, contextWindow: 8_191 }],

  // --- Anthropic ------------------------------------------------------------------------------
  // asOf 2026 (stored, undated copies of the page that list Claude Opus 4.7, read 2026-11). Source:
  // https://platform.claude.com/docs/en/about-claude/pricing ("Model pricing": base input, 5m cache writes,
  // 1h cache writes, cache hits & refreshes, output), the same table as the prompt-caching guide's "Pricing"
  // (https://platform.claude.com/docs/en/build-with-claude/prompt-caching). Multipliers of base input:
  // 5-minute writes 1.25x (`cacheWrite`), 1-hour writes 2x (`cacheWrite1h`), hits 0.1x (`cachedInput`).
  // Claude 3.5 Sonnet was retired on 2025-10-28; its row keeps the last published price ($3/$15, the same
  // cache multipliers). Published prices are rounded: Claude 3 Haiku's 5m write is $0.30 and its hit $0.03 on $0.25.
  // Context window: 200k for the models listed before Opus 4.6 (https://docs.anthropic.com/en/docs/about-claude/models);
  // Opus 4.6/4.7 and Sonnet 4.6 have none here (not confirmed from Anthropic's pages).
  // `claude-opus-4-0` / `claude-sonnet-4-0` are Anthropic's own aliases of the 4.0 models.
  ['claude-opus-4-7', { provider: 'anthropic', input: 5, cachedInput: 0.5, cacheWrite: 6.25, cacheWrite1h: 10, output: 25 }],
  ['claude-opus-4-6', { provider: 'anthropic', input: 5, cachedInput: 0.5, cacheWrite: 6.25, cacheWrite1h: 10, output: 25 }],
  ['claude-opus-4-5', { provider: 'anthropic', input: 5, cachedInput: 0.5, cacheWrite: 6.25, cacheWrite1h: 10, output: 25, contextWindow: 200_000 }],
  ['claude-opus-4-1', { provider: 'anthropic', input: 15, cachedInput: 1.5, cacheWrite: 18.75, cacheWrite1h: 30, output: 75, contextWindow: 200_000 }],
  ['claude-opus-4', { provider: 'anthropic', input: 15, cachedInput: 1.5, cacheWrite: 18.75, cacheWrite1h: 30, output: 75, contextWindow: 200_000 }],
  ['claude-opus-4-0', { provider: 'anthropic', input: 15, cachedInput: 1.5, cacheWrite: 18.75, cacheWrite1h: 30, output: 75, contextWindow: 200_000 }],
  ['claude-sonnet-4-6', { provider: 'anthropic', input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15 }],
  ['claude-sonnet-4-5', { provider: 'anthropic', input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15, contextWindow: 200_000 }],
  ['claude-sonnet-4', { provider: 'anthropic', input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15, contextWindow: 200_000 }],
  ['claude-sonnet-4-0', { provider: 'anthropic', input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15, contextWindow: 200_000 }],
  ['claude-3-7-sonnet', { provider: 'anthropic', input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15, contextWindow: 200_000 }],
  ['claude-3-5-sonnet', { provider: 'anthropic', input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15, contextWindow: 200_000 }],
  ['claude-haiku-4-5', { provider: 'anthropic', input: 1, cachedInput: 0.1, cacheWrite: 1.25, cacheWrite1h: 2, output: 5, contextWindow: 200_000 }],
  ['claude-3-5-haiku', { provider: 'anthropic', input: 0.8, cachedInput: 0.08, cacheWrite: 1, cacheWrite1h: 1.6, output: 4, contextWindow: 200_000 }],
  ['claude-3-haiku', { provider: 'anthropic', input: 0.25, cachedInput: 0.03, cacheWrite: 0.3, cacheWrite1h: 0.5, output: 1.25, contextWindow: 200_000 }],

  // --- Google Gemini (Gemini Developer API, paid tier, text) -----------------------------------
  // asOf 2026-03. Source: https://ai.google.dev/gemini-api/docs/pricing. Long-context prices (`longContext`:
  // a prompt above the threshold is billed at them for the whole call) where confirmed: 2.5 Pro above 200k
  // tokens $2.50 in / $15 out (Google's page as cited, March 2026, by two public price guides; not in the shared
  // LiteLLM file). Gemini 1.5's above-128k prices are not listed (not confirmed for its last price): its rows
  // carry the short-prompt price only. Cache prices changed over time and are listed only where confirmed.
  // Context windows: https://ai.google.dev/gemini-api/docs/models.
  // Rows from public copies of Google's page (checked 2026-11-29: the page itself could not be read here), kept to the
  // rule of the Mistral rows below: at least two agreeing copies that cite it, text prices only:
  // - `gemini-3.1-pro-preview`: $2 / $12, above 200k prompt tokens $4 / $18 (a transcript of the page read
  //   2026-10-07, "every price_text found verbatim"; two 2026 guides quoting the page; LiteLLM's table as shown by
  //   cloudprice.net). Its cache-read price ($0.20 in two copies) is left out: no copy gives the tier above 200k, and
  //   the base rate there would undercharge, so cache reads are billed at the input price.
  // - `gemini-3-pro-preview`: the same prices (two guides from its preview period); Google shut it down on
  //   2026-03-09 and points it at 3.1 Pro, so the row prices old usage records and calls through the alias.
  // - `gemini-2.5-flash-lite`: $0.10 / $0.40 (two 2026 guides quoting the page; the transcript above has the $0.40).
  // - `gemini-embedding-001`: $0.15 input (three 2026 pages on Google's embedding prices).
  // Other Gemini 3.x models (3.5 Flash, 3.5 Flash-Lite, 3.6, 3.8) are not listed: one copy each; set `price` in config.
  ['gemini-3.1-pro-preview', { provider: 'gemini', input: 2, output: 12, longContext: [{ threshold: 200_000, input: 4, output: 18 }], contextWindow: 1_048_576 }],
  ['gemini-3-pro-preview', { provider: 'gemini', input: 2, output: 12, longContext: [{ threshold: 200_000, input: 4, output: 18 }], contextWindow: 1_048_576 }],
  ['gemini-2.5-pro', { provider: 'gemini', input: 1.25, output: 10, longContext: [{ threshold: 200_000, input: 2.5, output: 15 }], contextWindow: 1_048_576 }],
  ['gemini-2.5-flash', { provider: 'gemini', input: 0.3, output: 2.5, contextWindow: 1_048_576 }],
  ['gemini-2.5-flash-lite', { provider: 'gemini', input: 0.1, output: 0.4, contextWindow: 1_048_576 }],
  ['gemini-2.0-flash', { provider: 'gemini', input: 0.1, cachedInput: 0.025, output: 0.4, contextWindow: 1_048_576 }],
  ['gemini-embedding-001', { provider: 'gemini', input: 0.15, output: 0 }],
  // Gemini 1.5 is retired; its rows keep the last published (Oct 2024) price for old usage records.
  ['gemini-1.5-pro', { provider: 'gemini', input: 1.25, output: 5, contextWindow: 2_097_152 }],
  ['gemini-1.5-flash', { provider: 'gemini', input: 0.075, output: 0.3, contextWindow: 1_048_576 }],

  // --- Mistral (La Plateforme) ------------------------------------------------------------------
  // asOf 2026-04. Source: https://mistral.ai/pricing, read through public price trackers that cite it
  // (two agreeing sources per row; rows where they disagreed, e.g. Mistral Small, are left out).
  // Only version-pinned ids: the `-latest` aliases moved to newer models at other prices, so
  // `mistral-large-latest` is deliberately NOT priced here (set `price` in config for it).
  ['mistral-large-2411', { provider: 'mistral', input: 2, output: 6 }],
  ['mistral-medium-2505', { provider: 'mistral', input: 0.4, output: 2 }],
  ['codestral-2501', { provider: 'mistral', input: 0.3, output: 0.9, contextWindow: 256_000 }],

  // --- DeepSeek -----------------------------------------------------------------------------------
  // asOf 2025-12-09 (DeepSeek-V3.2 prices). Source: https://api-docs.deepseek.com/quick_start/pricing
  // (input cache hit / cache miss / output). Both ids serve V3.2 (non-thinking / thinking mode).
  ['deepseek-chat', { provider: 'deepseek', input: 0.28, cachedInput: 0.028, output: 0.42, contextWindow: 128_000 }],
  ['deepseek-reasoner', { provider: 'deepseek', input: 0.28, cachedInput: 0.028, output: 0.42, contextWindow: 128_000 }],

  // --- Groq ---------------------------------------------------------------------------------------
  // asOf 2025-12. Source: https://console.groq.com/docs/models, read through a maintained public
  // provider table that cites it; matches Groq's long-standing published Llama prices.
  ['llama-3.3-70b-versatile', { provider: 'groq', input: 0.59, output: 0.79, contextWindow: 131_072 }],
  ['llama-3.1-8b-instant', { provider: 'groq', input: 0.05, output: 0.08, contextWindow: 131_072 }],
];

/** When and where the shipped prices were read, per provider. */
export const PRICE_SOURCES: Readonly<Record<string, { asOf: string; url: string }>> = {
  openai: { asOf: '2025-06-03', url: 'https://platform.openai.com/docs/pricing' },
  anthropic: { asOf: '2026', url: 'https://platform.claude.com/docs/en/about-claude/pricing' },
  gemini: { asOf: '2026-03', url: 'https://ai.google.dev/gemini-api/docs/pricing' },
  mistral: { asOf: '2026-04', url: 'https://mistral.ai/pricing' },
  deepseek: { asOf: '2025-12-09', url: 'https://api-docs.deepseek.com/quick_start/pricing' },
  groq: { asOf: '2025-12', url: 'https://console.groq.com/docs/models' },
};

let shipped: PriceTable | undefined;

/** The shipped table (frozen, shared). */
export function shippedPriceTable(): PriceTable {
  shipped ??= new Map(ENTRIES.map(([id, entry]) => [id, Object.freeze({ ...entry, ...(entry.longContext && { longContext: freezeTiers(entry.longContext) }) })]));
  return shipped;
}
