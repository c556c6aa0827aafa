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
}

/**
 * Held-out evaluation folds: the data's own train/test split when every example has one; otherwise
 * `k`-fold cross-validation by a hash of the example's `group`, else of its normalized prompt text
 * (`normalizePromptText`: case, punctuation and spacing ignored; deterministic), so the same prompt under
 * two ids (two MMLU subject files, a long-format export), or the two turns of one MT-Bench question, are
 * never split between a fold's train and test part. Examples without a split in partly split data are
 * put in train or test by the same hash (1 in `k` to test).
 */
export function heldOutFolds(examples: readonly RoutingExample[], k = 5): Fold[] {
  const withSplit = examples.filter((e) => e.split !== undefined).length;
  if (withSplit === examples.length && examples.some((e) => e.split === 'test') && examples.some((e) => e.split === 'train')) {
    return [{ name: 'test split', train: examples.filter((e) => e.split === 'train'), test: examples.filter((e) => e.split === 'test') }];
  }
  const bucket = new Map(examples.map((e) => [e, fnv1a(e.group ?? normalizePromptText(e.prompt)) % k]));
  if (withSplit > 0) {
    const isTest = (e: RoutingExample) => (e.split ? e.split === 'test' : bucket.get(e) === 0);
    return [{ name: `test split + 1/${k} of unsplit`, train: examples.filter((e) => !isTest(e)), test: examples.filter(isTest) }];
  }
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const isTest = (e: RoutingExample) => bucket.get(e) === f;
    folds.push({ name: `cv ${f + 1}/${k}`, train: examples.filter((e) => !isTest(e)), test: examples.filter(isTest) });
  }
  return folds;
}

/** Train on every task but `task`, test on `task` (all its examples, whatever their split). */
export function unseenTaskFold(examples: readonly RoutingExample[], task: string): Fold {
  const inTask = (e: RoutingExample) => e.task === task || e.task.startsWith(`${task}/`);
  return { name: `unseen task ${task}`, train: examples.filter((e) => !inTask(e)), test: examples.filter(inTask) };
}
