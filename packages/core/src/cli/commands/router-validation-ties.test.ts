import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fnv1a } from '../../learning/datasets/split-examples.js';
import { runCli } from '../__fixtures__/cli-harness.js';

// Training keeps a tenth of its prompts aside for validation, by a hash of the prompt id (`val:<id>`): the fixtures
// pick which ones are complete (every model's outcome) from that same hash.
const isValidation = (id: string) => fnv1a(`val:${id}`) % 10 === 0;

let dir: string;
const router = (args: string[]) => runCli(['router', ...args], { cwd: dir });

/**
 * A generic long-format CSV (prompt_id, prompt, model, quality, split) of 120 training prompts on two models: arithmetic
 * prompts the weak model fails, chat prompts both answer. `complete(id, i)` says whether a validation prompt keeps the
 * weak model's outcome; `same` makes every complete validation prompt's outcomes equal.
 */
function longCsv(file: string, complete: (index: number) => boolean, same = false): { validation: number } {
  const rows = ['prompt_id,prompt,model,quality,split'];
  let validation = 0, kept = 0;
  for (let i = 0; i < 120; i++) {
    const id = `q${i}`;
    const math = i % 2 === 0;
    const prompt = math ? `compute ${i} plus ${i * 7} times three` : `say hello to my friend number ${i}`;
    const val = isValidation(id);
    let weak: number | undefined = math ? 0 : 1;
    if (val) {
      validation++;
      if (!complete(kept++)) weak = undefined;
      else if (same) weak = 1;
    }
    if (weak !== undefined) rows.push(`${id},${prompt},weak,${weak},train`);
    rows.push(`${id},${prompt},strong,1,train`);
  }
  writeFileSync(join(dir, file), `${rows.join('\n')}\n`);
  return { validation };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-router-ties-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('llmrr router train: validation prompts that cannot tell predictors apart', () => {
  it('one complete validation prompt (the others lack the weak outcome): compared by Brier score, said so, not an APGR tie', async () => {
    const { validation } = longCsv('one.csv', (k) => k === 0);
    expect(validation).toBeGreaterThan(3);
    const r = await router(['train', '--data', 'one.csv', '--out', 'one.json', '--hash-dim', '256', '--predictor', 'auto', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`only 1 validation prompt has every model's outcome \\(${validation} validation prompts\\): the APGR of every predictor would tie: predictors compared by Brier score`));
    const summary = JSON.parse(r.stdout) as { validation: Array<{ kind: string; metric: string; value: number }> };
    expect(new Set(summary.validation.map((v) => v.metric))).toEqual(new Set(['brier']));
    // Brier tells them apart: the learned predictors see the arithmetic prompts, the prior does not.
    expect(new Set(summary.validation.map((v) => v.value.toFixed(6))).size).toBeGreaterThan(1);
  });

  it('complete validation prompts whose two models did the same: compared by Brier score, said so', async () => {
    const { validation } = longCsv('same.csv', () => true, true);
    const r = await router(['train', '--data', 'same.csv', '--out', 'same.json', '--hash-dim', '256', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`the ${validation} validation prompts with every model's outcome have the same outcome for both models \\(${validation} validation prompts\\): the APGR of every predictor would tie`));
    const summary = JSON.parse(r.stdout) as { validation: Array<{ metric: string }> };
    expect(summary.validation.every((v) => v.metric === 'brier')).toBe(true);
  });

  it('validation prompts that can rank routings keep the routing metric', async () => {
    longCsv('all.csv', () => true);
    const r = await router(['train', '--data', 'all.csv', '--out', 'all.json', '--hash-dim', '256', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/Brier/);
    const summary = JSON.parse(r.stdout) as { validation: Array<{ metric: string }> };
    expect(summary.validation.every((v) => v.metric === 'apgr')).toBe(true);
  });
});

describe('llmrr router eval: held-out prompts that cannot rank routers', () => {
  it('one held-out prompt (a test split of one): a warning naming the data problem, the report still written', async () => {
    longCsv('one-test.csv', () => true);
    appendFileSync(join(dir, 'one-test.csv'), 'h0,compute 3 plus 4 times three,weak,0,test\nh0,compute 3 plus 4 times three,strong,1,test\n');
    const r = await router(['eval', '--data', 'one-test.csv', '--out', 'one-test-report.json', '--hash-dim', '256', '--predictors', 'logistic']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/llmrr router eval: warning: only 1 held-out prompt has every model's outcome: every router scores the same on them, the metrics rank nothing; hold out more prompts/);
  });

  it('held-out prompts whose two models did the same: the same warning, said so', async () => {
    longCsv('same-test.csv', () => true);
    appendFileSync(join(dir, 'same-test.csv'), ['h0', 'h1', 'h2'].map((id) => `${id},say hi to ${id},weak,1,test\n${id},say hi to ${id},strong,1,test\n`).join(''));
    const r = await router(['eval', '--data', 'same-test.csv', '--out', 'same-test-report.json', '--hash-dim', '256', '--predictors', 'logistic']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: the 3 held-out prompts with every model's outcome have the same outcome for both models: every router scores the same/);
    // Held-out prompts where the models differ: no warning.
    longCsv('mixed-test.csv', () => true);
    appendFileSync(join(dir, 'mixed-test.csv'), ['h0', 'h1', 'h2'].map((id, i) => `${id},compute ${i} plus 4,weak,${i % 2},test\n${id},compute ${i} plus 4,strong,1,test\n`).join(''));
    const plain = await router(['eval', '--data', 'mixed-test.csv', '--out', 'mixed-report.json', '--hash-dim', '256', '--predictors', 'logistic']);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toMatch(/warning/);
  });
});
