import type { Capability, ModelConfig } from '../../config/schema.js';
import type { ModelPrice } from '../../spec/index.js';
import type { DeploymentInfo } from '../types.js';
import type { CascadeSet, ResolvedCascade } from './cascade-set.js';

/**
 * The deployment a step's name stands for: the one so named, else, for an alias shared by several, the enabled
 * member with the highest price (the router may pick any of them, and the summed price bounds a budget reservation).
 */
function find(list: readonly DeploymentInfo[], name: string): DeploymentInfo | undefined {
  const named = list.find((d) => d.name === name && d.cascade === undefined);
  if (named) return named;
  let best: DeploymentInfo | undefined;
  for (const d of list) {
    if (d.alias !== name || !d.enabled || d.cascade !== undefined) continue;
    if (!best || perToken(d) > perToken(best)) best = d;
  }
  return best;
}

function perToken(d: DeploymentInfo): number {
  return d.price ? d.price.input + d.price.output : 0;
}

function sumPrice(a: ModelPrice | undefined, b: ModelPrice | undefined): ModelPrice | undefined {
  if (!a) return b;
  if (!b) return a;
  return { input: a.input + b.input, output: a.output + b.output };
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
