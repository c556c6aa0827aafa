/**
 * `llmrr router eval` / `router train` refuse what would publish a misleading number: no held-out or no
 * training prompts (split, --holdout-task, --tasks), a model without any cost, a model scored on its own
 * training data; and the weak/strong roles of two-model data come from the training data (or the given
 * model), never from the order of the names.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../../learning/evaluation/evaluation-report.js';
import { runCli } from '../__fixtures__/cli-harness.js';
import { llmrrChild } from '../__fixtures__/llmrr-child.js';

let dir: string;
const router = (args: string[]) => runCli(['router', ...args], { cwd: dir });
const write = (name: string, text: string) => writeFileSync(join(dir, name), text);

/** Long-format CSV text for two models; `split` per row (or none). */
function pairCsv(models: { name: string; quality: (i: number) => number }[], n: number, split?: (i: number) => string, from = 0): string {
  const rows = [`prompt_id,prompt,model,quality${split ? ',split' : ''}`];
  for (let i = from; i < from + n; i++) {
    const prompt = `"question ${i}: ${i % 2 ? 'prove the theorem about primes' : 'write a short poem about rain'}"`;
    for (const m of models) rows.push(`p${i},${prompt},${m.name},${m.quality(i)}${split ? `,${split(i)}` : ''}`);
  }
  return `${rows.join('\n')}\n`;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-router-eval-held-out-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('router eval: no held-out prompts is an error, not an empty report', () => {
  it('data whose split column says "train" on every row has an empty test split', async () => {
    // 40 prompts, all marked train: nothing is held out.
    write('all-train.csv', pairCsv([{ name: 'weak', quality: (i) => i % 2 }, { name: 'strong', quality: () => 1 }], 40, () => 'train'));
    const r = await router(['eval', '--data', 'all-train.csv', '--json', '--hash-dim', '256', '--predictors', 'logistic']);
    // Not an empty report (n_test 0, APGR 0 for the random router, null qualities) with exit 0.
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 1, stderr: expect.stringMatching(/test/) });
  });

  // Usage errors (exit 2, one line naming the flag and pointing at the help), as every other bad flag value.
  it('--holdout-task naming no task of the data (a typo) is a usage error naming the flag', async () => {
    write('two-tasks.csv', pairCsv([{ name: 'weak', quality: (i) => i % 2 }, { name: 'strong', quality: () => 1 }], 40));
    const r = await router(['eval', '--data', 'two-tasks.csv', '--json', '--hash-dim', '256', '--predictors', 'logistic', '--holdout-task', 'mathh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('llmrr router eval: --holdout-task mathh matches no prompt of two-tasks.csv (its tasks: default) (see llmrr router eval --help)\n');
  });

  it('--tasks matching no prompt is a usage error naming the flag, in eval and in train', async () => {
    write('two-tasks.csv', pairCsv([{ name: 'weak', quality: (i) => i % 2 }, { name: 'strong', quality: () => 1 }], 40));
    const r = await router(['eval', '--data', 'two-tasks.csv', '--json', '--hash-dim', '256', '--predictors', 'logistic', '--tasks', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('llmrr router eval: --tasks nope matches no prompt of two-tasks.csv (its tasks: default) (see llmrr router eval --help)\n');
    const t = await router(['train', '--data', 'two-tasks.csv', '--out', 'nope.json', '--hash-dim', '256', '--tasks', 'nope']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/^llmrr router train: No training prompts: --tasks nope matches no prompt of two-tasks\.csv .*\(see llmrr router train --help\)\n$/m);
  });
});

/**
 * Held-out prompts none of which has every model's outcome: every number of the report (APGR and CPT for two models;
 * AIQ, the cost curves or the quality of the model picked for more; the single models' qualities too) is computed on
 * prompts with every model's outcome only, so there is nothing to report. A usage error naming --data (exit 2, as the
 * other refusals of the data's content), found before any training, and no report written. (It used to exit 0 with a
 * warning and a report of "-", every prompt counted as dropped.)
 */
describe('router eval: held-out prompts none of which has every model\'s outcome', () => {
  const refusal = (data: string, heldOut: number, protocol: string, missing: string) =>
    `llmrr router eval: --data: Routing data ${data}: none of its ${heldOut} held-out prompts has the outcome of every model (held out: ${protocol}; missing: ${missing}), ` +
    `and routing is scored only on prompts with every model's outcome: there is nothing to evaluate. ` +
    `Give the held-out prompts every model's outcome, or leave out of the data the models they lack (see llmrr router eval --help)\n`;

  /** Long-format rows of `models` for prompts `from`..`from + n - 1`, leaving out the outcomes `lacks(i, model)` names. */
  function rows(models: string[], n: number, options: { from?: number; split?: string; cost?: boolean; lacks?: (i: number, model: string) => boolean } = {}): string[] {
    const out: string[] = [];
    for (let i = options.from ?? 0; i < (options.from ?? 0) + n; i++) {
      const prompt = `"question ${i}: ${i % 2 ? 'prove the theorem about primes' : 'write a short poem about rain'}"`;
      models.forEach((m, k) => {
        if (!options.lacks?.(i, m)) out.push(`p${i},${prompt},${m},${(i + k) % 2},${options.cost ? `${0.001 * (k + 1)},` : ''}${options.split ?? ''}`);
      });
    }
    return out;
  }
  const header = (cost: boolean) => `prompt_id,prompt,model,quality,${cost ? 'cost_usd,' : ''}split`;

  it('many models by cross-validation (with costs, and without), and two models: exit 2 naming --data, no report', async () => {
    // Each prompt lacks one of "b" and "c" (none has all three).
    const lacks = (i: number, m: string) => m === (i % 2 ? 'c' : 'b');
    // With no complete prompt in the whole data the error comes alone; else after the warning on missing outcomes.
    const cases: Array<{ file: string; text: string; protocol: string; missing: string; warning?: string }> = [
      { file: 'many-partial.csv', text: [header(false), ...rows(['a', 'b', 'c'], 40, { lacks })].join('\n'), protocol: '2-fold cross-validation (by hash of prompt text)', missing: '"b" on 20, "c" on 20' },
      { file: 'many-partial-costs.csv', text: [header(true), ...rows(['a', 'b', 'c'], 40, { lacks, cost: true })].join('\n'), protocol: '2-fold cross-validation (by hash of prompt text)', missing: '"b" on 20, "c" on 20' },
      // Two models: the test split lacks the strong model's outcomes (the training split has both).
      {
        file: 'pair-test-partial.csv',
        text: [header(false), ...rows(['weak', 'strong'], 30, { split: 'train' }), ...rows(['weak', 'strong'], 10, { from: 30, split: 'test', lacks: (_i, m) => m === 'strong' })].join('\n'),
        protocol: 'test split',
        missing: '"strong" on 10',
        warning:
          'llmrr router eval: warning: 10 of 40 prompts of pair-test-partial.csv lack the outcome of some model (missing: "strong" on 10): training learns from the outcomes they have, but validation and evaluation score routing only on prompts with every model\'s outcome: 30 prompts\n',
      },
    ];
    for (const c of cases) {
      write(c.file, `${c.text}\n`);
      const out = `${c.file}.report.json`;
      const r = await router(['eval', '--data', c.file, '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2', '--out', out]);
      expect({ file: c.file, code: r.code, stdout: r.stdout, stderr: r.stderr, written: existsSync(join(dir, out)) }).toEqual({
        file: c.file,
        code: 2,
        stdout: '',
        stderr: `${c.warning ?? ''}${refusal(c.file, c.file.startsWith('pair') ? 10 : 40, c.protocol, c.missing)}`,
        written: false,
      });
    }
  });

  it('is refused before any work: with --augment open7b no difficulty model is trained first (the real CLI)', { timeout: 300_000 }, async () => {
    const lacks = (i: number, m: string) => m === (i % 2 ? 'c' : 'b');
    write('augment-partial.csv', `${[header(false), ...rows(['a', 'b', 'c'], 40, { lacks })].join('\n')}\n`);
    // Before: the open-7B difficulty model was trained ("difficulty model: open7b/open7b: ...", minutes), then refused.
    const r = await llmrrChild(['router', 'eval', '--data', join(dir, 'augment-partial.csv'), '--augment', 'open7b', '--folds', '2', '--hash-dim', '256', '--predictors', 'logistic', '--out', join(dir, 'augment-partial.report.json'), '--json'], { guardMs: 240_000 });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr, written: existsSync(join(dir, 'augment-partial.report.json')) }).toEqual({
      code: 2,
      stdout: '',
      stderr: refusal('augment-partial.csv', 40, '2-fold cross-validation (by hash of prompt text)', '"b" on 20, "c" on 20'),
      written: false,
    });
  });

  it('with --model: the test split a trained model is given lacks an outcome on every prompt', async () => {
    write('pair-train.csv', `${[header(false), ...rows(['weak', 'strong'], 30, { split: 'train' })].join('\n')}\n`);
    const t = await router(['train', '--data', 'pair-train.csv', '--out', 'pair-partial-model.json', '--hash-dim', '256', '--predictor', 'logistic']);
    expect(t.code).toBe(0);
    write('pair-test-only.csv', `${[header(false), ...rows(['weak', 'strong'], 10, { from: 30, split: 'test', lacks: (i, m) => m === (i % 2 ? 'weak' : 'strong') })].join('\n')}\n`);
    const r = await router(['eval', '--data', 'pair-test-only.csv', '--model', 'pair-partial-model.json', '--out', 'pair-test-only.report.json', '--json']);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr, written: existsSync(join(dir, 'pair-test-only.report.json')) }).toEqual({
      code: 2,
      stdout: '',
      stderr: refusal('pair-test-only.csv', 10, 'given model on the test split', '"strong" on 5, "weak" on 5'),
      written: false,
    });
  });

  it('the missing-outcomes warning is about the prompts evaluated: none for --tasks of complete prompts', async () => {
    // Task "logs" lacks "b" on every other prompt; task "bench" has every outcome.
    const lines = [`${header(false)},task`];
    for (const r of rows(['a', 'b'], 40, { lacks: (i, m) => i < 20 && i % 2 === 1 && m === 'b' })) lines.push(`${r},${Number(r.slice(1, r.indexOf(','))) < 20 ? 'logs' : 'bench'}`);
    write('logs-and-bench.csv', `${lines.join('\n')}\n`);
    const args = ['eval', '--data', 'logs-and-bench.csv', '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2', '--json'];
    const bench = await router([...args, '--tasks', 'bench', '--out', 'bench-only.json']);
    expect({ code: bench.code, warning: bench.stderr.split('\n').find((l) => l.includes('warning:')) }).toEqual({ code: 0, warning: undefined });
    const all = await router([...args, '--out', 'logs-and-bench.json']);
    expect({ code: all.code, warning: all.stderr.split('\n').find((l) => l.includes('warning:')) }).toEqual({
      code: 0,
      warning: expect.stringMatching(/^llmrr router eval: warning: 10 of 40 prompts of logs-and-bench\.csv lack the outcome of some model \(missing: "b" on 10\)/),
    });
  });

  it('held-out prompts with some complete ones are evaluated on those, the others counted as dropped', async () => {
    // The first 8 prompts have every outcome; the other 32 lack "b" or "c".
    write('many-some-complete.csv', `${[header(false), ...rows(['a', 'b', 'c'], 40, { lacks: (i, m) => i >= 8 && m === (i % 2 ? 'c' : 'b') })].join('\n')}\n`);
    const r = await router(['eval', '--data', 'many-some-complete.csv', '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2', '--out', 'many-some-complete.json', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^llmrr router eval: warning: 32 of 40 prompts of many-some-complete\.csv lack the outcome of some model/);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect({ mode: report.mode, n_test: report.n_test, dropped: report.dropped, quality: Number.isFinite(report.quality) }).toEqual({ mode: 'selection', n_test: 8, dropped: 32, quality: true });
  });
});

describe('router eval: the split of upper-case file names', () => {
  /** A RouterBench wide CSV of models a, b, c on prompts `from`..`from + n - 1`. */
  function routerBenchCsv(n: number, from = 0): string {
    const lines = ['sample_id,prompt,eval_name,a,b,c,a|total_cost,b|total_cost,c|total_cost'];
    for (let i = from; i < from + n; i++) lines.push(`s${i},question ${i} about ${i % 2 ? 'sums' : 'poems'} ${i % 7},toy,${i % 2},1,${i % 3 > 0 ? 1 : 0},0.001,0.01,0.005`);
    return `${lines.join('\n')}\n`;
  }

  it('a RouterBench folder TOY_TRAIN.CSV + TOY_TEST.CSV is evaluated on its test split, as toy_train.csv + toy_test.csv is (the real CLI)', { timeout: 300_000 }, async () => {
    const evaluate = async (name: string, train: string, test: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, train), routerBenchCsv(80));
      writeFileSync(join(dir, name, test), routerBenchCsv(20, 80));
      const r = await llmrrChild(['router', 'eval', '--data', join(dir, name), '--out', join(dir, `${name}.report.json`), '--hash-dim', '256', '--predictors', 'logistic', '--json']);
      if (r.code !== 0) return r.stderr;
      const report = JSON.parse(r.stdout) as EvaluationReport;
      return { protocol: report.protocol, n_test: report.n_test };
    };
    // Before: the upper-case folder was read with no split at all and scored by 5-fold cross-validation on 100 prompts.
    expect({ lower: await evaluate('rb-lower', 'toy_train.csv', 'toy_test.csv'), upper: await evaluate('rb-upper', 'TOY_TRAIN.CSV', 'TOY_TEST.CSV') }).toEqual({
      lower: { protocol: 'test split', n_test: 20 },
      upper: { protocol: 'test split', n_test: 20 },
    });
  });
});

describe('router eval --model: a model file that is no file', () => {
  it('a named pipe given as --model is a usage error naming it, never waited on (the real CLI)', { timeout: 120_000 }, async () => {
    write('pipe-model-data.csv', pairCsv([{ name: 'weak', quality: (i) => i % 2 }, { name: 'strong', quality: () => 1 }], 40, (i) => (i < 30 ? 'train' : 'test')));
    const fifo = join(dir, 'model.pipe');
    execFileSync('mkfifo', [fifo]);
    // Before: it waited for a writer for ever (killed by the hang guard: code null).
    const r = await llmrrChild(['router', 'eval', '--data', join(dir, 'pipe-model-data.csv'), '--model', fifo, '--out', join(dir, 'pipe-model.report.json'), '--json'], { guardMs: 60_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: `llmrr router eval: --model: Router model ${fifo} is not a regular file (a folder, a named pipe, a device or a socket): give the model's JSON file (written by llmrr router train --out) (see llmrr router eval --help)\n`,
    });
  });
});

describe('router eval: a model without cost_usd', () => {
  it('a model whose rows leave cost_usd empty (e.g. a self-hosted model) is named in an error, not every prompt silently dropped', async () => {
    const rows = ['prompt_id,prompt,model,quality,cost_usd'];
    for (let i = 0; i < 30; i++) {
      const prompt = `"question ${i}: ${i % 2 ? 'prove the theorem about primes' : 'write a short poem about rain'}"`;
      rows.push(`p${i},${prompt},api-big,1,0.01`);
      rows.push(`p${i},${prompt},api-small,${i % 2},0.001`);
      rows.push(`p${i},${prompt},local,${i % 3 === 0 ? 1 : 0},`);
    }
    write('local-no-cost.csv', `${rows.join('\n')}\n`);
    const r = await router(['eval', '--data', 'local-no-cost.csv', '--json', '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2']);
    if (r.code === 0) {
      // If it is evaluated at all, it must be on the prompts (not on none of them).
      const report = JSON.parse(r.stdout) as EvaluationReport;
      expect({ n_test: report.n_test, dropped: report.dropped }).toEqual({ n_test: 30, dropped: 0 });
    } else {
      expect(r.stderr).toMatch(/cost_usd/);
      expect(r.stderr).toMatch(/local/);
    }
  });
});

describe('router eval --model: which model is the strong one', () => {
  // weak is right on half the prompts, strong on all: hand-computed oracle ordering (gain 1 first):
  // PGR at k = 0..4 of 4 prompts per half = 0, .5, 1, 1, 1 per 4-prompt block -> APGR 0.75 (see metrics.test.ts).
  it('a test-only file (split=test on every row) still routes the better model as strong', async () => {
    // Names sort with the strong model first, as "gpt-4o" < "mixtral-8x7b" does.
    const models = [{ name: 'a-strong', quality: () => 1 }, { name: 'b-weak', quality: (i: number) => (i % 2) }];
    write('train.csv', pairCsv(models, 40, () => 'train'));
    write('test.csv', pairCsv(models, 8, () => 'test', 100)); // other prompts than the training ones
    const t = await router(['train', '--data', 'train.csv', '--out', 'pair-model.json', '--hash-dim', '256', '--predictor', 'logistic']);
    expect(t.code).toBe(0);
    const r = await router(['eval', '--data', 'test.csv', '--model', 'pair-model.json', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.protocol).toBe('given model on the test split');
    // The oracle routes the 4 prompts the weak model fails to the strong one first: APGR 0.75, CPT(50%) 25%.
    expect(report.baselines.oracle.two_model!.apgr).toBeCloseTo(0.75, 6);
    expect(report.baselines.oracle.two_model!.cpt50).toBeCloseTo(0.25, 6);
  });

  it('the text report names the weak and the strong model by their roles, not by their sort order', async () => {
    const models = [{ name: 'a-strong', quality: () => 1 }, { name: 'b-weak', quality: (i: number) => (i % 2) }];
    write('pair-cv.csv', pairCsv(models, 40));
    const r = await router(['eval', '--data', 'pair-cv.csv', '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/weak b-weak quality 0\.500, strong a-strong quality 1\.000/);
  });
});

describe('router train: no training prompts', () => {
  it('data whose every row is split=test is refused instead of writing a model trained on 0 prompts', async () => {
    write('all-test.csv', pairCsv([{ name: 'weak', quality: (i) => i % 2 }, { name: 'strong', quality: () => 1 }], 20, () => 'test'));
    const r = await router(['train', '--data', 'all-test.csv', '--out', 'empty.json', '--hash-dim', '256']);
    expect(r.stdout).not.toMatch(/trained on 0 prompts/);
    expect(r.code).not.toBe(0);
  });
});

describe('router eval --model: never scores a model on the prompts it trained on', () => {
  it('the same unsplit file given to train and to eval --model is refused: every prompt is one it trained on', async () => {
    write('logs.csv', pairCsv([{ name: 'weak', quality: (i) => i % 2 }, { name: 'strong', quality: () => 1 }], 40));
    const t = await router(['train', '--data', 'logs.csv', '--out', 'logs-model.json', '--hash-dim', '256', '--predictor', 'logistic']);
    expect(t.code).toBe(0);
    const r = await router(['eval', '--data', 'logs.csv', '--model', 'logs-model.json', '--json']);
    // Scores on the 40 training prompts would say nothing about new prompts.
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Every one of the 40 prompts to evaluate is one the router model trained on/);
  });
});

describe('router eval: what the report counts', () => {
  it('--holdout-task: a training prompt with the text of a held-out prompt is left out and counted', async () => {
    // 20 prompts of task "a", 20 of task "b"; 5 of b's prompts are also a's (the same question under two tasks).
    const rows = ['prompt_id,prompt,model,quality,task'];
    const text = (i: number) => `"question ${i}: ${i % 2 ? 'prove the theorem about primes' : 'write a short poem about rain'}"`;
    for (let i = 0; i < 40; i++) {
      const task = i < 20 ? 'a' : 'b';
      const prompt = i >= 35 ? text(i - 35) : text(i);
      rows.push(`p${i},${prompt},weak,${i % 2},${task}`, `p${i},${prompt},strong,1,${task}`);
    }
    write('shared-questions.csv', `${rows.join('\n')}\n`);
    const r = await router(['eval', '--data', 'shared-questions.csv', '--json', '--hash-dim', '256', '--predictors', 'logistic', '--holdout-task', 'b']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/unseen task b: train 15, test 20 \(5 training prompts left out/);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect({ n_test: report.n_test, train_overlap_dropped: report.train_overlap_dropped }).toEqual({ n_test: 20, train_overlap_dropped: 5 });
  });

  it('a prompt with one cost missing is dropped from the cost curves and reported as such ("missing cost")', async () => {
    const rows = ['prompt_id,prompt,model,quality,cost_usd'];
    for (let i = 0; i < 30; i++) {
      const prompt = `"question ${i}: ${i % 2 ? 'prove the theorem about primes' : 'write a short poem about rain'}"`;
      rows.push(`p${i},${prompt},big,1,0.01`, `p${i},${prompt},small,${i % 2},${i < 3 ? '' : '0.001'}`, `p${i},${prompt},mid,${i % 3 ? 1 : 0},0.004`);
    }
    write('some-costs-missing.csv', `${rows.join('\n')}\n`);
    const r = await router(['eval', '--data', 'some-costs-missing.csv', '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2', '--out', 'costs.json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/27 held-out prompts \(.*\), 3 dropped for a missing cost/);
    expect(r.stdout).not.toMatch(/missing outcomes/);
  });

  // Cost curves (AIQ) score only prompts with every model's outcome and cost. When no held-out prompt has every cost,
  // the quality of the model picked per prompt (which needs no cost) is still meaningful: reported so, with a line
  // saying why there is no cost curve. (It used to report AIQ 0, "100% on/above the hull" and single models of "-".)
  it('no held-out prompt with every model\'s cost: the quality of the model picked, with a line saying why there is no cost curve', async () => {
    const rows = ['prompt_id,prompt,model,quality,cost_usd'];
    for (let i = 0; i < 40; i++) {
      const prompt = `"question ${i}: ${i % 2 ? 'prove the theorem about primes' : 'write a short poem about rain'}"`;
      // "b" has no cost on even prompts, "c" none on odd ones: every outcome, never every cost.
      ['a', 'b', 'c'].forEach((m, k) => rows.push(`p${i},${prompt},${m},${(i + k) % 2},${(m === 'b' && i % 2 === 0) || (m === 'c' && i % 2 === 1) ? '' : 0.001 * (k + 1)}`));
    }
    write('costs-never-complete.csv', `${rows.join('\n')}\n`);
    const args = ['eval', '--data', 'costs-never-complete.csv', '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2', '--out', 'costs-never-complete.json'];
    const text = await router(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("no cost curves: none of the 40 held-out prompts with every model's outcome has every model's cost (give each model's cost_usd on them); scored on the quality of the model picked per prompt");
    expect(text.stdout).not.toMatch(/AIQ|NaN/);
    const json = await router([...args, '--json']);
    const report = JSON.parse(json.stdout) as EvaluationReport;
    expect({ mode: report.mode, n_test: report.n_test, dropped: report.dropped, missing_cost_no_curves: report.missing_cost_no_curves, aiq: report.aiq }).toEqual({
      mode: 'selection',
      n_test: 40,
      dropped: 0,
      missing_cost_no_curves: 40,
      aiq: undefined,
    });
    expect([report.quality, report.baselines.oracle.selection?.quality, ...report.single_models.map((m) => m.quality)].every(Number.isFinite)).toBe(true);
  });
});

describe('router eval --model: data of the same name', () => {
  it('is accepted on the tasks the model did not train on', async () => {
    const rows = ['prompt_id,prompt,model,quality,task'];
    for (let i = 0; i < 40; i++) {
      const prompt = `"question ${i}: ${i % 2 ? 'prove the theorem about primes' : 'write a short poem about rain'}"`;
      rows.push(`p${i},${prompt},weak,${i % 2},${i < 30 ? 'math' : 'poetry'}`, `p${i},${prompt},strong,1,${i < 30 ? 'math' : 'poetry'}`);
    }
    write('two-task-logs.csv', `${rows.join('\n')}\n`);
    const t = await router(['train', '--data', 'two-task-logs.csv', '--tasks', 'math', '--out', 'math-model.json', '--hash-dim', '256', '--predictor', 'logistic']);
    expect(t.code).toBe(0);
    // The whole file: its 30 math prompts are the model's training prompts, left out; the 10 poetry ones are scored.
    const whole = await router(['eval', '--data', 'two-task-logs.csv', '--model', 'math-model.json', '--json']);
    expect(whole.code).toBe(0);
    expect(JSON.parse(whole.stdout) as EvaluationReport).toMatchObject({ n_test: 10, model_trained_dropped: 30 });
    const r = await router(['eval', '--data', 'two-task-logs.csv', '--model', 'math-model.json', '--tasks', 'poetry', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as EvaluationReport).n_test).toBe(10);
  });
});
