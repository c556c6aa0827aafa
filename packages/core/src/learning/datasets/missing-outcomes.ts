import type { RoutingDataset } from './types.js';

/** How many prompts lack an outcome of some model, and of which models (most prompts first). */
export interface MissingOutcomes {
  /** Prompts without the outcome of at least one model. */
  prompts: number;
  /** Every prompt of the data. */
  total: number;
  /** Each model with missing outcomes and on how many prompts, most first (ties by name). */
  models: Array<{ model: string; prompts: number }>;
}

/** The prompts of `dataset` that lack some model's outcome (NaN quality); undefined when every prompt has every outcome. */
export function missingOutcomes(dataset: RoutingDataset): MissingOutcomes | undefined {
  const perModel = new Array<number>(dataset.models.length).fill(0);
  let prompts = 0;
  for (const e of dataset.examples) {
    let missing = false;
    e.quality.forEach((q, m) => {
      if (!Number.isNaN(q)) return;
      perModel[m]!++;
      missing = true;
    });
    if (missing) prompts++;
  }
  if (prompts === 0) return undefined;
  const models = dataset.models
    .map((model, m) => ({ model, prompts: perModel[m]! }))
    .filter((x) => x.prompts > 0)
    .sort((a, b) => b.prompts - a.prompts || (a.model < b.model ? -1 : 1));
  return { prompts, total: dataset.examples.length, models };
}

/** The models with missing outcomes and on how many prompts, the first 5 (`"b" on 60, "c" on 60 and 2 more models`). */
export function missingModels(m: MissingOutcomes): string {
  const shown = m.models.slice(0, 5).map((x) => `${JSON.stringify(x.model)} on ${x.prompts}`);
  return `${shown.join(', ')}${m.models.length > 5 ? ` and ${m.models.length - 5} more models` : ''}`;
}

/**
 * One line saying which models lack outcomes on how many prompts of `dataset` and what that does (the routing
 * metrics score only prompts with every model's outcome), or undefined when nothing is missing.
 */
export function missingOutcomesWarning(dataset: RoutingDataset): string | undefined {
  const m = missingOutcomes(dataset);
  if (!m) return undefined;
  const complete = m.total - m.prompts;
  return (
    `${m.prompts} of ${m.total} prompts of ${dataset.name} lack the outcome of some model (missing: ${missingModels(m)}): ` +
    `training learns from the outcomes they have, but validation and evaluation score routing only on prompts with every model's outcome: ` +
    (complete === 0
      ? 'none has (predictors are compared by the Brier score of their predictions on the known outcomes instead; router eval refuses such data: it has no prompt to score)'
      : `${complete} prompt${complete === 1 ? '' : 's'}`)
  );
}
