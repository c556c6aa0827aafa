import { estimateTokens } from '../../pricing/estimate-tokens.js';
import type { RoutingExample } from '../datasets/types.js';

/**
 * Expected cost per prompt and model: `intercept + perToken x estimated prompt tokens` (USD). `null`
 * for a model the training data had no cost for: its cost is unknown, not zero.
 */
export interface CostModel {
  intercept: Array<number | null>;
  perToken: Array<number | null>;
}

/** Least-squares fit per model on the examples that have a cost; slope clamped at >= 0. */
export function fitCostModel(examples: readonly RoutingExample[], outputs: number): CostModel | undefined {
  if (!examples.some((e) => e.cost)) return undefined;
  const intercept: Array<number | null> = [], perToken: Array<number | null> = [];
  for (let m = 0; m < outputs; m++) {
    let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const e of examples) {
      const c = e.cost?.[m];
      if (c === undefined || Number.isNaN(c)) continue;
      const x = estimateTokens(e.prompt);
      n++;
      sx += x;
      sy += c;
      sxx += x * x;
      sxy += x * c;
    }
    if (n === 0) {
      intercept.push(null);
      perToken.push(null);
      continue;
    }
    const varX = sxx - (sx * sx) / n;
    let b = varX > 0 ? (sxy - (sx * sy) / n) / varX : 0;
    if (b < 0) b = 0;
    intercept.push(Math.max(0, (sy - b * sx) / n));
    perToken.push(b);
  }
  return { intercept, perToken };
}

/** Expected cost per model for `prompt`; NaN for a model whose cost is unknown. */
export function predictCost(model: CostModel, prompt: string, out: number[] = []): number[] {
  const x = estimateTokens(prompt);
  for (let m = 0; m < model.intercept.length; m++) {
    const a = model.intercept[m], b = model.perToken[m];
    out[m] = a === null || a === undefined || b === null || b === undefined ? NaN : a + b * x;
  }
  return out;
}
