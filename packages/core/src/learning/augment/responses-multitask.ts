import { fnv1a } from '../datasets/split-examples.js';
import type { RoutingExample } from '../datasets/types.js';
import type { ResponseSource } from './infold-responses.js';
import type { MultitaskOptions } from './multitask.js';
import { excludeOverlap } from './prompt-overlap.js';
import { RESPONSE_TARGETS, responseTargetLabels } from './response-targets.js';

/** What one fold's multi-task rows are. */
export interface ResponsesMultitaskReport {
  training: number;
  /** Training prompts left out because they share a question with a test prompt of the fold. */
  dropped_test_overlap: number;
  /** Left out because they are in the router's validation share (early stopping and selection). */
  dropped_validation: number;
  /** Auxiliary rows: training prompts with responses, their response targets as outputs. */
  rows: number;
}

/**
 * Response targets as multi-task outputs (`--augment responses-multitask`): the fold's training prompts
 * (never a test prompt, nor one in the router's validation share `valShare`, whose early stopping and
 * selection must not see them) become auxiliary rows whose outputs are their `RESPONSE_TARGETS` labels,
 * for the MLP and the matrix factorization (`trainMultitask`). No cross-fitting: a target is never a feature.
 */
export function responsesMultitask(
  source: Pick<ResponseSource, 'targetsOf'>,
  train: readonly RoutingExample[],
  test: readonly RoutingExample[],
  valShare = 0.1,
): { multitask: MultitaskOptions; report: ResponsesMultitaskReport } {
  const usable = excludeOverlap(train, (e) => e.prompt, test.map((e) => e.prompt));
  // The same rule as `trainPredictors` uses for its validation share.
  const buckets = Math.max(2, Math.round(1 / valShare));
  const isVal = (e: RoutingExample) => valShare > 0 && fnv1a(`val:${e.id}`) % buckets === 0;
  const fit = usable.kept.filter((e) => !isVal(e));
  const rows: Array<{ e: RoutingExample; t: readonly number[] }> = [];
  for (const e of fit) {
    const t = source.targetsOf(e);
    if (t) rows.push({ e, t });
  }
  const labels = responseTargetLabels(rows.map((r) => r.t));
  const examples = rows.map((r, i): RoutingExample => ({ id: `responses:${r.e.id}`, prompt: r.e.prompt, task: 'responses', quality: labels[i]! }));
  return {
    multitask: { examples, outputs: RESPONSE_TARGETS.length },
    report: { training: train.length, dropped_test_overlap: usable.dropped, dropped_validation: usable.kept.length - fit.length, rows: rows.length },
  };
}
