import type { Capability, ModelConfig } from '../../config/schema.js';
import type { ModelPrice } from '../../spec/index.js';
import type { DeploymentInfo } from '../types.js';
import type { CascadeSet, ResolvedCascade } from './cascade-set.js';

/**
 * What a step's name stands for: the deployment so named, else every enabled member of the alias (the
 * router may pick any of them). A step over several members counts as one: the capabilities they all have,
 * the highest price of each kind (input, output, cached input, cache writes: a bound for a budget reservation
 * whichever member answers), the first member's model id and stats.
 */
function find(list: readonly DeploymentInfo[], name: string): DeploymentInfo | undefined {
  const named = list.find((d) => d.name === name && d.cascade === undefined);
  if (named) return named;
  const members = list.filter((d) => d.alias === name && d.enabled && d.cascade === undefined);
  const first = members[0];
  if (!first || members.length === 1) return first;
  let price: ModelPrice | undefined;
  for (const d of members) {
    if (!d.price) continue;
    price = price ? maxPrice(price, d.price) : { ...d.price };
  }
  const capabilities = first.capabilities.filter((x) => members.every((d) => d.capabilities.includes(x)));
  const maxOutputTokens = Math.max(...members.map((d) => d.config.maxOutputTokens ?? 0));
  const config = { ...first.config, capabilities };
  if (maxOutputTokens > 0) config.maxOutputTokens = maxOutputTokens;
  const info: DeploymentInfo = { ...first, capabilities, config, priceFromTable: members.some((d) => d.priceFromTable) };
  if (price) info.price = price;
  else delete info.price;
  return info;
}

/**
 * The optional prices a step's price is combined on, each with the rate it stands for when absent (as
 * `ModelPrice` documents it and `computeCost` charges it): reads and 5-minute writes at `input`, 1-hour
 * writes at `cacheWrite`, then `input`. A combined field is set when either side has it; when neither does,
 * it stays absent and its fallback (itself combined) gives the same rate.
 */
const OPTIONAL_RATES: readonly { field: 'cachedInput' | 'cacheWrite' | 'cacheWrite1h'; rate: (p: ModelPrice) => number }[] = [
  { field: 'cachedInput', rate: (p) => p.cachedInput ?? p.input },
  { field: 'cacheWrite', rate: (p) => p.cacheWrite ?? p.input },
  { field: 'cacheWrite1h', rate: (p) => p.cacheWrite1h ?? p.cacheWrite ?? p.input },
];

function combine(a: ModelPrice, b: ModelPrice, op: (x: number, y: number) => number): ModelPrice {
  const out: ModelPrice = { input: op(a.input, b.input), output: op(a.output, b.output) };
  for (const { field, rate } of OPTIONAL_RATES) {
    if (a[field] !== undefined || b[field] !== undefined) out[field] = op(rate(a), rate(b));
  }
  return out;
}

/** The dearest of each kind (an alias step: whichever member answers, it costs at most this). */
function maxPrice(a: ModelPrice, b: ModelPrice): ModelPrice {
  return combine(a, b, Math.max);
}

/** The sum of each kind (a cascade: one call may run both steps). */
function sumPrice(a: ModelPrice | undefined, b: ModelPrice | undefined): ModelPrice | undefined {
  if (!a) return b;
  if (!b) return a;
  return combine(a, b, (x, y) => x + y);
}

/**
 * A cascade as a model in `models()`: engine `cascade`, the capabilities both steps have, the sum of their
 * prices (the most one call can cost per token: both steps), the weak deployment's live stats (every call
 * runs it), and `cascade` with its definition. Undefined when its weak or strong model is not in `list`.
 */
export function cascadeModelInfo(c: ResolvedCascade, list: readonly DeploymentInfo[]): DeploymentInfo | undefined {
  const weak = find(list, c.weak);
  const strong = find(list, c.strong);
  if (!weak || !strong) return undefined;
  // What both steps can do, less what a cascade cannot: embeddings (`embed` does not run cascades), and
  // for a built-in verifier that reads text only (`c.check`), tools and JSON output, which it refuses.
  const capabilities: Capability[] = weak.capabilities.filter(
    (x) => strong.capabilities.includes(x) && x !== 'embeddings' && !(c.check !== undefined && (x === 'tools' || x === 'json')),
  );
  const enabled = weak.enabled && strong.enabled;
  const model = `${weak.model} -> ${strong.model}`;
  const config: ModelConfig = {
    name: c.name,
    engine: 'cascade',
    model,
    priority: 100,
    weight: 1,
    capabilities,
    tags: ['cascade'],
    options: { ...c.info },
    enabled,
  };
  const maxOutputTokens = Math.max(weak.config.maxOutputTokens ?? 0, strong.config.maxOutputTokens ?? 0);
  if (maxOutputTokens > 0) config.maxOutputTokens = maxOutputTokens;
  const price = sumPrice(weak.price, strong.price);
  if (price) config.price = price;
  const info: DeploymentInfo = {
    name: c.name,
    engine: 'cascade',
    model,
    enabled,
    config,
    capabilities,
    priceFromTable: weak.priceFromTable || strong.priceFromTable,
    stats: weak.stats,
    cascade: { ...c.info },
  };
  if (price) info.price = price;
  return info;
}

/** The cascades usable over `list` (both steps in it), allowed by `allowed` when there is an allow-list. */
export function cascadeModels(set: CascadeSet, list: readonly DeploymentInfo[], allowed: readonly string[] | undefined): DeploymentInfo[] {
  const out: DeploymentInfo[] = [];
  for (const c of set.list) {
    if (allowed && !allowed.includes(c.name)) continue;
    const info = cascadeModelInfo(c, list);
    if (info) out.push(info);
  }
  return out;
}
