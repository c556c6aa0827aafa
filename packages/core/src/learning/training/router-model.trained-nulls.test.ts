/**
 * Every model `llmrr router train` writes from long-format data with missing outcomes (a prompt without a row for a
 * model) and a model whose costs are only in test rows (cost null) loads and predicts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../cli/__fixtures__/cli-harness.js';
import { parseRouterModel } from './router-model.js';

const t = tempDir();
afterAll(() => t.remove());
const rows: string[] = [];
const words = ['sum', 'add', 'plus', 'river', 'capital', 'mountain', 'divide', 'ocean', 'times', 'country'];
for (let i = 0; i < 160; i++) {
  const math = i % 2 === 0;
  const prompt = math ? `calculate the ${words[i % 3]} of ${i} and ${i * 7 % 13}?` : `what is the ${words[3 + (i % 4)]} of place number ${i}?`;
  const split = i % 10 === 0 ? 'test' : 'train';
  for (const [m, model] of ['big', 'small', 'local'].entries()) {
    // Missing outcomes: every 7th prompt has no row for "local".
    if (model === 'local' && i % 7 === 3) continue;
    const quality = model === 'big' ? 1 : model === 'small' ? (math ? 0 : 1) : (i * 31 + m) % 3 === 0 ? 1 : 0;
    // "local" has costs only in test rows: the cost model fit on training rows has none for it (null).
    const cost = model === 'local' ? (split === 'test' ? 0.0001 : null) : model === 'big' ? 0.01 : 0.001;
    rows.push(JSON.stringify({ prompt_id: `p${i}`, prompt, model, quality, cost_usd: cost, split, task: math ? 'math' : 'geo' }));
  }
}
t.write('long.jsonl', rows.join('\n'));

describe('a model trained by llmrr router train from data with missing outcomes and costs loads', () => {
  const variants: Array<[string, string[]]> = [
    ['prior', ['--predictor', 'prior']],
    ['logistic', ['--predictor', 'logistic']],
    ['mf', ['--predictor', 'mf']],
    ['mlp', ['--predictor', 'mlp']],
    ['knn', ['--predictor', 'knn']],
    ['ensemble', ['--predictor', 'ensemble']],
    ['task', ['--predictor', 'task']],
    ['stack', ['--predictor', 'stack']],
    ['guarded knn', ['--predictor', 'knn', '--ood-guard']],
    ['guarded stack', ['--predictor', 'stack', '--ood-guard']],
    ['bag logistic', ['--predictor', 'logistic', '--bag', '2']],
    ['augmented logistic', ['--predictor', 'logistic', '--augment', 'quantities']],
    ['auto', []],
  ];
  for (const [name, flags] of variants) {
    it(`a ${name} model (${flags.join(' ') || 'no --predictor'}) loads and predicts finite scores`, { timeout: 120_000 }, async () => {
      const out = `${name.replace(/ /g, '-')}.json`;
      const r = await runCli(['router', 'train', '--data', 'long.jsonl', '--out', out, '--hash-dim', '256', ...flags], { cwd: t.dir });
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
      const text = readFileSync(join(t.dir, out), 'utf8');
      let error = 'loaded';
      try {
        const m = parseRouterModel(text);
        expect(Array.from(m.predict('calculate the sum of 3 and 4?')).every(Number.isFinite)).toBe(true);
      } catch (e) {
        error = (e as Error).message;
      }
      const json = JSON.parse(text);
      const knn = json.predictor.kind === 'knn' ? json.predictor : json.predictor.inner?.kind === 'knn' ? json.predictor.inner : undefined;
      // The data really has the nulls the checks must let through (a cost unknown, a knn outcome missing).
      if (knn) expect(knn.quality.some((r: unknown[]) => r.includes(null))).toBe(true);
      expect({ name, nullCost: json.cost?.intercept?.includes(null), error }).toEqual({ name, nullCost: true, error: 'loaded' });
    });
  }
});
