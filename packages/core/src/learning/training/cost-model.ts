import { estimateTokens } from '../../pricing/estimate-tokens.js';
import type { RoutingExample } from '../datasets/types.js';

/** Expected cost per prompt and model: `intercept + perToken x estimated prompt tokens` (USD). */
export interface CostModel {
  intercept: number[];
  perToken: number[];
}

/** Least-squares fit per model on the examples that have a cost; slope clamped at >= 0. */
export function fitCostModel(examples: readonly RoutingExample[], outputs: number): CostModel | undefined {
  if (!examples.some((e) => e.cost)) return undefined;
  const intercept: number[] = [], perToken: number[] = [];
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
      intercept.push(0);
      perToken.push(0);
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

export function predictCost(model: CostModel, prompt: string, out: number[] = []): number[] {
  const x = estimateTokens(prompt);
  for (let m = 0; m < model.intercept.length; m++) out[m] = model.intercept[m]! + model.perToken[m]! * x;
  return out;
}
