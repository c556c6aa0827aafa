/**
 * Held-out folds never train on a held-out prompt: with --holdout-task (the same question under another
 * task) and in partly split data (a test prompt exported again without a split), training examples with
 * a test prompt's normalized text are left out and counted.
 */
import { describe, expect, it } from 'vitest';
import { normalizePromptText } from '../augment/prompt-overlap.js';
import { loadDataset } from './load-dataset.js';
import { sharedRoutingDir } from './shared-data-dir.js';
import { fnv1a, heldOutFolds, unseenTaskFold, type Fold } from './split-examples.js';
import type { RoutingExample } from './types.js';

const shared = sharedRoutingDir(process.env, process.cwd());
const reason = 'shared routing data not found (set LLMRR_SHARED_DIR or put it in ../shared/data/routing)';

/** Test prompts whose normalized text is also a training prompt of the fold. */
function leaked(fold: Fold): string[] {
  const train = new Set(fold.train.map((e) => normalizePromptText(e.prompt)));
  return fold.test.filter((e) => train.has(normalizePromptText(e.prompt))).map((e) => e.id);
}

describe('unseen-task fold (--holdout-task): no held-out prompt is a training prompt', () => {
  it('the same prompt under two tasks (one held out) is not trained on (synthetic)', () => {
    const examples: RoutingExample[] = [
      { id: 'clin/1', prompt: 'Which vitamin deficiency causes scurvy?', task: 'clinical', quality: [0, 1] },
      { id: 'clin/2', prompt: 'What is the normal adult resting heart rate?', task: 'clinical', quality: [1, 1] },
      { id: 'med/1', prompt: 'Which vitamin deficiency causes scurvy?', task: 'medicine', quality: [0, 1] },
      { id: 'med/2', prompt: 'Name the bone of the upper arm.', task: 'medicine', quality: [1, 1] },
    ];
    const fold = unseenTaskFold(examples, 'medicine');
    expect(fold.test.map((e) => e.id)).toEqual(['med/1', 'med/2']);
    expect(leaked(fold)).toEqual([]);
    expect(fold.train.map((e) => e.id)).toEqual(['clin/2']);
    expect(fold.overlapDropped).toBe(1);
  });

  it.skipIf(!shared)(`RouteLLM MMLU --holdout-task mmlu/college_medicine (${shared ? 'shared data' : reason})`, async () => {
    const mmlu = await loadDataset(`${shared}/routellm/mmlu`);
    const fold = unseenTaskFold(mmlu.examples, 'mmlu/college_medicine');
    expect(fold.test.length).toBeGreaterThan(100);
    // 78 college_medicine prompts are also clinical_knowledge prompts: they must not be trained on, then "unseen".
    expect(leaked(fold).length).toBe(0);
    expect(fold.overlapDropped).toBe(78);
  });
});

describe('partly split data ("test split + 1/k of unsplit"): no held-out prompt is a training prompt', () => {
  it('an unsplit prompt with the same text as a test-split prompt does not go to train', () => {
    // Find a prompt text that the hash puts in a training bucket (bucket != 0 of 5).
    let text = '';
    for (let i = 0; ; i++) {
      text = `what is ${i} plus ${i}`;
      if (fnv1a(normalizePromptText(text)) % 5 !== 0) break;
    }
    const examples: RoutingExample[] = [
      { id: 'a', prompt: text, task: 't', split: 'test', quality: [0, 1] },
      { id: 'b', prompt: text, task: 't', quality: [0, 1] }, // the same question exported again without a split
      { id: 'c', prompt: 'name a prime number', task: 't', split: 'train', quality: [1, 1] },
    ];
    const [fold] = heldOutFolds(examples, 5);
    expect(fold!.name).toBe('test split + 1/5 of unsplit');
    expect(leaked(fold!)).toEqual([]);
    expect(fold!.train.map((e) => e.id)).toEqual(['c']);
    expect(fold!.overlapDropped).toBe(1);
  });
});
