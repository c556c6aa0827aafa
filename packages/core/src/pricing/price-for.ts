import type { ModelPrice } from '../spec/index.js';
import { modelIdCandidates } from './model-id.js';
import { shippedPriceTable } from './price-table.js';
import type { PriceEntry, PriceTable } from './types.js';

/** Engines that run on this machine: no per-token bill. */
export const LOCAL_ENGINES: ReadonlySet<string> = new Set(['gguf', 'onnx', 'mock']);

const FREE: ModelPrice = Object.freeze({ input: 0, output: 0 });

/**
 * The price row for a model id, or `undefined` when the table has none. The id is tried as given,
 * then without `provider/` prefixes, then without date/version suffixes (`-2024-08-06`, `-latest`, ...).
 */
export function priceFor(modelId: string, table: PriceTable = shippedPriceTable()): PriceEntry | undefined {
  for (const candidate of modelIdCandidates(modelId)) {
    const entry = table.get(candidate);
    if (entry) return entry;
  }
  return undefined;
}

/** The `prefix/<model>` row for the last segment of `modelId`, exact or normalized (`priceFor`'s prefixed candidates only). */
function prefixedPriceFor(prefix: string, modelId: string, table: PriceTable): PriceEntry | undefined {
  const head = `${prefix}/`;
  for (const candidate of modelIdCandidates(`${head}${modelId.slice(modelId.lastIndexOf('/') + 1)}`)) {
    if (!candidate.startsWith(head)) continue;
    const entry = table.get(candidate);
    if (entry) return entry;
  }
  return undefined;
}

/** The parts of a model config that decide its price. */
export interface PricedModel {
  name: string;
  engine: string;
  model?: string;
  preset?: string;
  price?: ModelPrice;
}

/**
 * The provider prefix of LiteLLM's rows for an engine's API: LiteLLM keys Gemini Developer API prices
 * `gemini/<model>` (the unprefixed `gemini-*` rows are Vertex AI's, at other prices) and Anthropic's
 * `anthropic/<model>` where they differ.
 */
const ENGINE_PRICE_PREFIX: Readonly<Record<string, string>> = { gemini: 'gemini', anthropic: 'anthropic' };

/**
 * A deployment's price: `price` from config, else 0 for local engines (gguf, onnx, mock), else the table's
 * row for `preset/model` (or `model`, or `name`); for the gemini and anthropic engines (without `preset`) the
 * `gemini/<model>` / `anthropic/<model>` row first (exact, then without date/version suffix), then the usual candidates. `undefined` means unknown: costs
 * are then reported as 0 and marked `estimated`.
 */
export function resolveModelPrice(model: PricedModel, table: PriceTable = shippedPriceTable()): ModelPrice | undefined {
  if (model.price) return model.price;
  if (LOCAL_ENGINES.has(model.engine)) return FREE;
  const id = model.model ?? model.name;
  const enginePrefix = model.preset ? undefined : ENGINE_PRICE_PREFIX[model.engine];
  const entry = model.preset
    ? priceFor(`${model.preset}/${id}`, table)
    : ((enginePrefix !== undefined ? prefixedPriceFor(enginePrefix, id, table) : undefined) ?? priceFor(id, table));
  if (!entry) return undefined;
  const price: ModelPrice = { input: entry.input, output: entry.output };
  if (entry.cachedInput !== undefined) price.cachedInput = entry.cachedInput;
  if (entry.cacheWrite !== undefined) price.cacheWrite = entry.cacheWrite;
  if (entry.cacheWrite1h !== undefined) price.cacheWrite1h = entry.cacheWrite1h;
  if (entry.reasoningOutput !== undefined) price.reasoningOutput = entry.reasoningOutput;
  if (entry.longContext !== undefined) price.longContext = entry.longContext;
  return price;
}
