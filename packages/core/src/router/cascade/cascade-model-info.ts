import type { Capability, ModelConfig } from '../../config/schema.js';
import type { ModelPrice } from '../../spec/index.js';
import { tierPrice } from '../../pricing/compute-cost.js';
import type { DeploymentInfo } from '../types.js';
import type { CascadeSet, ResolvedCascade } from './cascade-set.js';

/**
 * What a step's name stands for: the deployment so named, else every enabled member of the alias (the
 * router may pick any of them). A step over several members counts as one: the capabilities they all have,
 * the highest price of each kind (input, output, cached input, cache writes: a bound for a budget reservation
 * whichever member answers), the largest `maxOutputTokens` (none when a member has none: see `largestCap`),
 * the first member's model id and stats.
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
  const config = { ...first.config, capabilities };
  const maxOutputTokens = largestCap(members);
  if (maxOutputTokens === undefined) delete config.maxOutputTokens;
  else config.maxOutputTokens = maxOutputTokens;
  const info: DeploymentInfo = { ...first, capabilities, config, priceFromTable: members.some((d) => d.priceFromTable) };
  if (price) info.price = price;
  else delete info.price;
  return info;
}

/**
 * The most output tokens any of `list` can be sent (the router caps a `maxTokens` at each one's
 * `maxOutputTokens`): the largest cap, or undefined (no cap) when one of them has none, since it takes
 * the request's `maxTokens` whole. A budget reservation or a tokens-per-minute estimate trusts this cap.
 */
function largestCap(list: readonly DeploymentInfo[]): number | undefined {
  let largest = 0;
  for (const d of list) {
    const cap = d.config.maxOutputTokens;
    if (cap === undefined) return undefined;
    if (cap > largest) largest = cap;
  }
  return largest;
}

type OptionalRate = { field: 'cachedInput' | 'cacheWrite' | 'cacheWrite1h' | 'reasoningOutput'; rate: (p: ModelPrice) => number };

/**
 * Combines the optional prices of two prices: a field is set when either side has it, from each side's
 * `rate`; when neither has it, it stays absent and its fallback (itself combined) gives the same rate.
 * Long-context tiers: one at each threshold of either side, combining the rates each side charges a prompt just
 * above it (`tierPrice`: its tier's, or its short-prompt rates below its own thresholds), so each tier is what the
 * two sides charge together above that threshold.
 */
function combine(a: ModelPrice, b: ModelPrice, rates: readonly OptionalRate[], op: (x: number, y: number) => number): ModelPrice {
  const out = combineRates(a, b, rates, op);
  if (a.longContext?.length || b.longContext?.length) {
    const thresholds = [...new Set([...(a.longContext ?? []), ...(b.longContext ?? [])].map((t) => t.threshold))].sort((x, y) => x - y);
    out.longContext = thresholds.map((threshold) => ({ threshold, ...combineRates(tierPrice(a, threshold + 1), tierPrice(b, threshold + 1), rates, op) }));
  }
  return out;
}

function combineRates(a: ModelPrice, b: ModelPrice, rates: readonly OptionalRate[], op: (x: number, y: number) => number): ModelPrice {
  const out: ModelPrice = { input: op(a.input, b.input), output: op(a.output, b.output) };
  for (const { field, rate } of rates) {
    if (a[field] !== undefined || b[field] !== undefined) out[field] = op(rate(a), rate(b));
  }
  return out;
}

/**
 * Each optional price with the rate it stands for when absent (as `ModelPrice` documents it and
 * `computeCost` charges it): reads and 5-minute writes at `input`, 1-hour writes at `cacheWrite`, then `input`.
 */
const CHARGED_RATES: readonly OptionalRate[] = [
  { field: 'cachedInput', rate: (p) => p.cachedInput ?? p.input },
  { field: 'cacheWrite', rate: (p) => p.cacheWrite ?? p.input },
  { field: 'cacheWrite1h', rate: (p) => p.cacheWrite1h ?? p.cacheWrite ?? p.input },
  { field: 'reasoningOutput', rate: (p) => p.reasoningOutput ?? p.output },
];

/**
 * For a cascade: reads as charged, and for each write price the dearest rate one step may charge a prompt
 * token that a mark of that TTL covers. A mark is a request, not a charge: a provider that caches without
 * writes (OpenAI, DeepSeek, Gemini; LiteLLM's rows give them `cache_creation_input_token_cost: 0`) charges
 * the token as input, Anthropic charges the write. A 1-hour mark allows the 5-minute rate too (Anthropic's
 * engine demotes a 1-hour mark that follows a 5-minute one).
 */
const MARKED_RATES: readonly OptionalRate[] = [
  CHARGED_RATES[0]!,
  { field: 'cacheWrite', rate: (p) => Math.max(p.input, p.cacheWrite ?? p.input) },
  { field: 'cacheWrite1h', rate: (p) => Math.max(p.input, p.cacheWrite ?? p.input, p.cacheWrite1h ?? p.cacheWrite ?? p.input) },
  CHARGED_RATES[3]!,
];

/** The dearest of each kind (an alias step: whichever member answers, it costs at most this). */
function maxPrice(a: ModelPrice, b: ModelPrice): ModelPrice {
  return combine(a, b, CHARGED_RATES, Math.max);
}

/**
 * A cascade's price (one call may run both steps): input, output and cache reads summed kind by kind, and
 * each write price the sum of what each step may charge a token under a mark of that TTL (`MARKED_RATES`):
 * the steps may treat one marked token differently (the weak one as input, the strong one as a write), so
 * summing kind by kind would not bound the call. The dearest prompt rate of this price under a mark (as the
 * gateway's budget reservation takes it: `max(input, cacheWrite[, cacheWrite1h])`) is then the most both
 * steps can charge a prompt token together. Whenever each step's write prices are at least its input price
 * (Anthropic's, or none given), this is the plain sum of each kind.
 */
function sumPrice(a: ModelPrice | undefined, b: ModelPrice | undefined): ModelPrice | undefined {
  if (!a) return b;
  if (!b) return a;
  return combine(a, b, MARKED_RATES, (x, y) => x + y);
}

/**
 * A cascade as a model in `models()`: engine `cascade`, the capabilities both steps have, the sum of their
 * prices (the most one call can cost per token: both steps; a marked token at each step's dearest rate, see
 * `sumPrice`), the larger step's `maxOutputTokens` (none when a step has none: it gets the whole `maxTokens`),
 * the weak deployment's live stats (every call runs it), and `cascade` with its definition. Undefined when its weak or strong model is not in `list`.
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
  const maxOutputTokens = largestCap([weak, strong]);
  if (maxOutputTokens !== undefined) config.maxOutputTokens = maxOutputTokens;
  // A prompt fits the cascade only where it fits both steps (an escalated call runs the strong one).
  const windows = [weak.config.contextWindow, strong.config.contextWindow].filter((w): w is number => w !== undefined);
  if (windows.length > 0) config.contextWindow = Math.min(...windows);
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
