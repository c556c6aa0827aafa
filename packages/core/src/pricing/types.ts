import type { ModelPrice } from '../spec/index.js';

/** One row of a price table: USD per one million tokens, plus what the provider publishes about limits. */
export interface PriceEntry extends ModelPrice {
  /** Input context window in tokens, where known. */
  contextWindow?: number;
  /** Most output tokens one call may produce, where known. */
  maxOutputTokens?: number;
  /** Who sells it (`openai`, `anthropic`, `gemini`, ...), informational. */
  provider?: string;
}

/** Model id (lower case, as written in the table) -> price. Look ups go through `priceFor`, which normalizes ids. */
export type PriceTable = ReadonlyMap<string, PriceEntry>;
