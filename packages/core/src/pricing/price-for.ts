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

/** The parts of a model config that decide its price. */
export interface PricedModel {
  name: string;
  engine: string;
  model?: string;
  preset?: string;
  price?: ModelPrice;
}

/**
 * A deployment's price: `price` from config, else 0 for local engines (gguf, onnx, mock), else the table's
 * row for `preset/model` (or `model`, or `name`). `undefined` means unknown: costs are then reported as 0
 * and marked `estimated`.
 */
export function resolveModelPrice(model: PricedModel, table: PriceTable = shippedPriceTable()): ModelPrice | undefined {
  if (model.price) return model.price;
  if (LOCAL_ENGINES.has(model.engine)) return FREE;
  const id = model.model ?? model.name;
  const entry = priceFor(model.preset ? `${model.preset}/${id}` : id, table);
  if (!entry) return undefined;
  const price: ModelPrice = { input: entry.input, output: entry.output };
  if (entry.cachedInput !== undefined) price.cachedInput = entry.cachedInput;
  if (entry.cacheWrite !== undefined) price.cacheWrite = entry.cacheWrite;
  if (entry.cacheWrite1h !== undefined) price.cacheWrite1h = entry.cacheWrite1h;
  return price;
}
