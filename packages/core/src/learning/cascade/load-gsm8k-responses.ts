import { datasetError } from '../datasets/dataset-error.js';
import { ROUTELLM_STRONG, ROUTELLM_WEAK } from '../datasets/load-routellm.js';
import { parseOutcome, readCsv } from '../datasets/read-csv.js';
import { recordPlace } from '../datasets/record-line.js';
import type { RoutingExample } from '../datasets/types.js';

/** A RouteLLM GSM8K prompt with both models' correctness and their answers. */
export interface CascadeExample extends RoutingExample {
  /** The weak model's answer: what the cascade reads before deciding. */
  weakResponse: string;
  /** The strong model's answer: used for its cost only, never to decide. */
  strongResponse: string;
}

/**
 * RouteLLM's `gsm8k_responses.csv` (`prompt, <weak>, <strong>, <weak>_response, <strong>_response`), with
 * the same ids, task and outcomes as `loadRouteLlmCsv` gives the prompt-only router (`gsm8k/<row>`), so
 * both are split into the same folds.
 */
export async function loadGsm8kResponses(file: string, task = 'gsm8k'): Promise<CascadeExample[]> {
  const { columns, rows } = await readCsv(file);
  const weakCol = `${ROUTELLM_WEAK}_response`, strongCol = `${ROUTELLM_STRONG}_response`;
  for (const c of ['prompt', ROUTELLM_WEAK, ROUTELLM_STRONG, weakCol, strongCol]) {
    if (!columns.includes(c)) throw datasetError(file, `missing column "${c}" (a cascade needs both models' responses: prompt, ${ROUTELLM_WEAK}, ${ROUTELLM_STRONG}, ${weakCol}, ${strongCol})`, c);
  }
  return rows.map((r, i) => ({
    id: `${task}/${i}`,
    prompt: r['prompt'] ?? '',
    task,
    quality: [parseOutcome(r[ROUTELLM_WEAK], file, `${recordPlace(r, i)} ${ROUTELLM_WEAK}`), parseOutcome(r[ROUTELLM_STRONG], file, `${recordPlace(r, i)} ${ROUTELLM_STRONG}`)],
    weakResponse: r[weakCol] ?? '',
    strongResponse: r[strongCol] ?? '',
  }));
}
