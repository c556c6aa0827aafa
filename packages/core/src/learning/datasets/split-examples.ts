import { normalizePromptText } from '../augment/prompt-overlap.js';
import type { RoutingExample } from './types.js';

/** FNV-1a 32-bit hash of a string (deterministic splits, feature hashing). */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface Fold {
  /** `test` (the data's split), `cv k/K`, or `holdout <task>`. */
  name: string;
  train: RoutingExample[];
  test: RoutingExample[];
  /** Training examples left out because their prompt (normalized text or group) is a test prompt's. */
  overlapDropped?: number;
}

/** What keeps two examples in one fold: the example's group, else its normalized prompt text. */
const foldKey = (e: RoutingExample) => e.group ?? normalizePromptText(e.prompt);

/**
 * The fold without the training examples that share a normalized prompt text (or a group) with a test
 * example: the same question under another task or id, or exported again without a split, would otherwise
 * be trained on and then scored as unseen.
 */
function withoutTestPrompts(name: string, train: RoutingExample[], test: RoutingExample[]): Fold {
  const seen = new Set<string>();
  for (const e of test) {
    seen.add(`t:${normalizePromptText(e.prompt)}`);
    if (e.group !== undefined) seen.add(`g:${e.group}`);
  }
  const kept = train.filter((e) => !seen.has(`t:${normalizePromptText(e.prompt)}`) && !(e.group !== undefined && seen.has(`g:${e.group}`)));
  return { name, train: kept, test, overlapDropped: train.length - kept.length };
}

/**
 * Held-out evaluation folds: the data's own train/test split when every example has one; otherwise
 * `k`-fold cross-validation by a hash of the example's `group`, else of its normalized prompt text
 * (`normalizePromptText`: case, punctuation and spacing ignored; deterministic), so the same prompt under
 * two ids (two MMLU subject files, a long-format export), or the two turns of one MT-Bench question, are
 * never split between a fold's train and test part. Examples without a split in partly split data are
 * put in train or test by the same hash (1 in `k` to test); a training example with the text of a test
 * example (a test-split prompt exported again without a split) is then left out (`overlapDropped`).
 */
export function heldOutFolds(examples: readonly RoutingExample[], k = 5): Fold[] {
  const withSplit = examples.filter((e) => e.split !== undefined).length;
  if (withSplit === examples.length && examples.some((e) => e.split === 'test') && examples.some((e) => e.split === 'train')) {
    return [{ name: 'test split', train: examples.filter((e) => e.split === 'train'), test: examples.filter((e) => e.split === 'test') }];
  }
  const bucket = new Map(examples.map((e) => [e, fnv1a(foldKey(e)) % k]));
  if (withSplit > 0) {
    const isTest = (e: RoutingExample) => (e.split ? e.split === 'test' : bucket.get(e) === 0);
    return [withoutTestPrompts(`test split + 1/${k} of unsplit`, examples.filter((e) => !isTest(e)), examples.filter(isTest))];
  }
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const isTest = (e: RoutingExample) => bucket.get(e) === f;
    folds.push({ name: `cv ${f + 1}/${k}`, train: examples.filter((e) => !isTest(e)), test: examples.filter(isTest) });
  }
  return folds;
}

/**
 * Train on every task but `task`, test on `task` (all its examples, whatever their split). A training
 * example whose prompt is also a test prompt (the same question under two tasks: 78 MMLU
 * college_medicine prompts are clinical_knowledge prompts too) is left out (`overlapDropped`).
 */
export function unseenTaskFold(examples: readonly RoutingExample[], task: string): Fold {
  const inTask = (e: RoutingExample) => e.task === task || e.task.startsWith(`${task}/`);
  return withoutTestPrompts(`unseen task ${task}`, examples.filter((e) => !inTask(e)), examples.filter(inTask));
}
