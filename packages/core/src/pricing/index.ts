export { computeCost, tierPrice } from './compute-cost.js';
export {
  CHARS_PER_TOKEN,
  TOKENS_PER_IMAGE,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_REPLY,
  TOKENS_PER_TOOL,
  estimateRequestTokens,
  estimateTokens,
} from './estimate-tokens.js';
export { partialUsage } from './partial-usage.js';
export { PRICES_FILE_ENV, loadPriceTable, loadPriceTableFromEnv, mergePriceTables, parsePriceTable } from './load-price-table.js';
export { modelIdCandidates, normalizeModelId } from './model-id.js';
export { LOCAL_ENGINES, priceFor, resolveModelPrice } from './price-for.js';
export type { PricedModel } from './price-for.js';
export { PRICE_SOURCES, shippedPriceTable } from './price-table.js';
export type { PriceEntry, PriceTable } from './types.js';
