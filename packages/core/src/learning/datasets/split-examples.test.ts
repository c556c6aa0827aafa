import { describe, expect, it } from 'vitest';
import { loadDataset } from './load-dataset.js';
import { sharedRoutingDir } from './shared-data-dir.js';
import { heldOutFolds } from './split-examples.js';

const shared = sharedRoutingDir(process.env, process.cwd());
const reason = 'shared routing data not found (set LLMRR_SHARED_DIR or put it in ../shared/data/routing)';

/** k-fold folds group examples by normalized prompt text, so no fold tests on a prompt it trained on. */
describe('cross-validation folds never test on a prompt the fold trained on', () => {
  it('the same prompt text under two ids, or with other case and spacing, lands in one fold (synthetic)', () => {
    // The same question asked twice (two MMLU subject files, or a long-format export with two ids).
    const examples = Array.from({ length: 40 }, (_, i) => ({ id: `q${i}`, prompt: i < 20 ? `question ${i}` : ` Question  ${i % 20}`, task: 't', quality: [i % 2, 1] }));
    const key = (p: string) => p.trim().toLowerCase().replace(/\s+/g, ' ');
    const folds = heldOutFolds(examples, 5);
    expect(folds.reduce((n, f) => n + f.test.length, 0)).toBe(40);
    for (const fold of folds) {
      const train = new Set(fold.train.map((e) => key(e.prompt)));
      const leaked = fold.test.filter((e) => train.has(key(e.prompt))).map((e) => e.prompt);
      expect({ fold: fold.name, leaked }).toEqual({ fold: fold.name, leaked: [] });
    }
  });

  it.skipIf(!shared)(`RouteLLM MMLU, 5-fold CV as router eval runs it (${shared ? 'shared data' : reason})`, async () => {
    const mmlu = await loadDataset(`${shared}/routellm/mmlu`);
    let leaked = 0;
    for (const fold of heldOutFolds(mmlu.examples, 5)) {
      const train = new Set(fold.train.map((e) => e.prompt));
      leaked += fold.test.filter((e) => train.has(e.prompt)).length;
    }
    expect(leaked).toBe(0);
  });
});

describe.skipIf(!shared)('cross-validation folds keep the turns of one MT-Bench question together', () => {
  it('turn 2 (which repeats turn 1) is never tested in a fold that trained on turn 1, or the other way round', async () => {
    const mt = await loadDataset(`${shared}/routellm/mt_bench`);
    expect(mt.examples.length).toBe(160);
    const question = (id: string) => id.split('/')[1];
    for (const fold of heldOutFolds(mt.examples, 5)) {
      const train = new Set(fold.train.map((e) => question(e.id)));
      expect(fold.test.filter((e) => train.has(question(e.id))).map((e) => e.id)).toEqual([]);
    }
  });
});
