import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticExamples, syntheticPairDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { ROUTELLM_STRONG, ROUTELLM_WEAK } from '../../learning/datasets/load-routellm.js';
import { heldOutFolds } from '../../learning/datasets/split-examples.js';
import type { EvaluationReport } from '../../learning/evaluation/evaluation-report.js';
import type { RouterModelArtifact } from '../../learning/training/router-model.js';
import { runCli } from '../__fixtures__/cli-harness.js';

let dir: string;
const pair = syntheticPairDataset(240);
/** Auxiliary prompts of the pair data copied into the open7b-format file: they must be dropped. */
const SHARED = 3;

/** `llmrr router ...` in process, as the CLI runs it, in the test's directory. */
const router = (args: string[]) => runCli(['router', ...args], { cwd: dir });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-router-augment-'));
  writeFileSync(join(dir, 'pair.jsonl'), pair.examples.flatMap((e) => pair.models.map((m, i) => JSON.stringify({ prompt_id: e.id, prompt: e.prompt, model: m, quality: e.quality[i] }))).join('\n'));
  // Held-out prompts for `eval --model` (a model is never scored on the data it trained on).
  const heldOut = syntheticPairDataset(300).examples.slice(240);
  writeFileSync(join(dir, 'pair-test.jsonl'), heldOut.flatMap((e) => pair.models.map((m, i) => JSON.stringify({ prompt_id: e.id, prompt: e.prompt, model: m, quality: e.quality[i], split: 'test' }))).join('\n'));
  const rows = [
    ...syntheticExamples(200, 11).map((e) => ({ question: e.prompt, scores: { a: e.quality[0], b: e.quality[1], c: e.quality[2] } })),
    // The same questions as three distinct prompts of the evaluated data (case and spacing differ).
    ...pair.examples.slice(0, SHARED).map((e) => ({ question: `  ${e.prompt.toUpperCase()} `, scores: { a: 1, b: 1, c: 1 } })),
  ];
  writeFileSync(join(dir, 'aux_train.json'), JSON.stringify(rows));
  // A RouteLLM GSM8K folder: prompts, outcomes and both models' answers (a wrong weak answer has wrong arithmetic).
  mkdirSync(join(dir, 'gsm8k'));
  const q = (t: string) => `"${t.replace(/"/g, '""')}"`;
  const lines = [`prompt,${ROUTELLM_WEAK},${ROUTELLM_STRONG},${ROUTELLM_WEAK}_response,${ROUTELLM_STRONG}_response`];
  syntheticExamples(150, 5).forEach((e, i) => {
    const weak = e.quality[1] === 1;
    lines.push([q(`${e.prompt} (#${i})`), weak ? 'True' : 'False', 'True', q(weak ? 'So 2 + 3 = 5.\n#### 5' : 'So 2 + 3 = 6.\n#### 6'), q(`2 + 3 = 5 and ${i} * 1 = ${i}.`)].join(','));
  });
  writeFileSync(join(dir, 'gsm8k', 'gsm8k_responses.csv'), `${lines.join('\n')}\n`);
  // Held-out GSM8K-like prompts of the same two models, for `eval --model` of a model trained on the folder.
  const gsm8kTest = syntheticExamples(40, 6).flatMap((e, i) => [ROUTELLM_WEAK, ROUTELLM_STRONG].map((m, k) => JSON.stringify({ prompt_id: `t${i}`, prompt: `${e.prompt} (#t${i})`, model: m, quality: k === 0 ? e.quality[1] : 1, split: 'test' })));
  writeFileSync(join(dir, 'gsm8k-test.jsonl'), `${gsm8kTest.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('llmrr router eval/train --augment', () => {
  it('eval: trains the difficulty model on auxiliary prompts not in the data and reports the overlap', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--augment', 'open7b,quantities', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictors', 'logistic', '--folds', '3', '--json', '--out', 'r.json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/difficulty model: open7b\/aux_train.json: 200 of 203 prompts \(3 dropped/);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.augment?.kinds).toEqual(['open7b', 'quantities']);
    expect(report.augment?.difficulty).toMatchObject({ auxiliary_prompts: 203, kept: 200, dropped_overlap: 3, dropped_full_text: 3, mode: 'per-model', embedding: false });
    expect(report.apgr!).toBeGreaterThan(0.6);
  });

  it('train: the artifact carries the difficulty model and its data report', async () => {
    const r = await router(['train', '--data', 'pair.jsonl', '--out', 'm.json', '--augment', 'open7b-mean', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictor', 'logistic']);
    expect(r.code).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')) as RouterModelArtifact;
    expect(a.features.augment?.difficulty?.mode).toBe('mean');
    expect(a.features.augment?.mean).toHaveLength(1);
    expect(a.training.augment?.difficulty?.dropped_overlap).toBe(3);
    const e = await router(['eval', '--data', 'pair-test.jsonl', '--model', 'm.json', '--json', '--out', 'm-eval.json']);
    expect(e.code).toBe(0);
    // (The report rounds its numbers; the kinds and the difficulty model's data are what it was trained with.)
    const augmented = (JSON.parse(e.stdout) as EvaluationReport).augment;
    expect(augmented?.kinds).toEqual(a.training.augment?.kinds);
    expect(augmented?.difficulty?.source).toBe(a.training.augment?.difficulty?.source);
  });

  it('eval --augment multitask: mlp trained on the pair and the auxiliary scores', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--augment', 'multitask', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictors', 'mlp', '--folds', '3', '--json', '--out', 'mt.json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/multitask: 200 auxiliary prompts of open7b\/aux_train.json \(3 dropped/);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.augment).toMatchObject({ kinds: ['multitask'], multitask: { kept: 200, dropped: 3 } });
  });

  it('eval --augment open7b-infold: per fold, only the auxiliary prompts sharing a question with that fold’s test prompts are dropped', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--augment', 'open7b-infold', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictors', 'logistic', '--folds', '3', '--json', '--out', 'inf.json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    const folds = report.augment?.infold ?? [];
    expect(report.augment?.kinds).toEqual(['open7b-infold']);
    expect(folds).toHaveLength(3);
    // The shared questions are dropped in the folds whose test part has them, used in the others.
    const shared = pair.examples.slice(0, SHARED).map((e) => e.prompt);
    heldOutFolds(pair.examples, 3).forEach((fold, i) => {
      const inTest = shared.filter((p) => fold.test.some((e) => e.prompt === p)).length;
      const inTrain = shared.filter((p) => fold.train.some((e) => e.prompt === p)).length;
      expect(folds[i]).toMatchObject({ fold: fold.name, dropped_test_overlap: inTest });
      // A question in both parts (the synthetic prompts repeat) is dropped: the test part wins.
      expect(folds[i]!.kept_training_overlap).toBe(shared.filter((p) => fold.train.some((e) => e.prompt === p) && !fold.test.some((e) => e.prompt === p)).length);
      expect(inTrain + inTest).toBeGreaterThanOrEqual(SHARED);
    });
    expect(folds.some((f) => (f.dropped_test_overlap ?? 0) > 0) && folds.some((f) => (f.kept_training_overlap ?? 0) > 0)).toBe(true);
    for (const f of folds) {
      expect(f.kept).toBe(203 - f.dropped_test_overlap!);
      expect(f.inner_kept).toHaveLength(3);
    }
  });

  it('train --augment open7b-infold: every auxiliary prompt is usable (no test split); the artifact carries one difficulty model', async () => {
    const r = await router(['train', '--data', 'pair.jsonl', '--out', 'inf-m.json', '--augment', 'open7b-infold', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictor', 'logistic']);
    expect(r.code).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'inf-m.json'), 'utf8')) as RouterModelArtifact;
    expect(a.features.augment?.difficulty?.source).toContain('203 of 203 prompts');
    expect(JSON.stringify(a.features)).not.toContain('crossFit');
    expect(a.training.augment?.infold?.[0]).toMatchObject({ fold: 'all training prompts', kept: 203, dropped_test_overlap: 0, kept_training_overlap: SHARED });
    const e = await router(['eval', '--data', 'pair-test.jsonl', '--model', 'inf-m.json', '--json', '--out', 'inf-m-eval.json']);
    expect(e.code).toBe(0);
  });

  it('eval --augment multitask-infold: per-fold multi-task rows, with the same per-fold overlap counts', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--augment', 'multitask-infold', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictors', 'mlp', '--folds', '3', '--json', '--out', 'mti.json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    const folds = report.augment?.infold ?? [];
    expect(folds).toHaveLength(3);
    heldOutFolds(pair.examples, 3).forEach((fold, i) => {
      const dropped = pair.examples.slice(0, SHARED).filter((e) => fold.test.some((t) => t.prompt === e.prompt)).length;
      expect(folds[i]).toMatchObject({ fold: fold.name, auxiliary_prompts: 203, dropped_test_overlap: dropped, kept: 203 - dropped });
    });
  });

  it('eval/train --augment open7b-infold,denoise-infold: blended targets per fold, reported with the overlap counts', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--augment', 'open7b-infold,denoise-infold', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictors', 'logistic', '--folds', '3', '--json', '--out', 'dn.json']);
    expect(r.code).toBe(0);
    const folds = (JSON.parse(r.stdout) as EvaluationReport).augment?.infold ?? [];
    expect(folds).toHaveLength(3);
    heldOutFolds(pair.examples, 3).forEach((fold, i) => {
      const shared = pair.examples.slice(0, SHARED).map((e) => e.prompt);
      const matched = fold.train.filter((e) => shared.includes(e.prompt) && !fold.test.some((t) => t.prompt === e.prompt)).length;
      expect(folds[i]!.denoise).toMatchObject({ matched, training: fold.train.length, weight: 0.5 });
    });
    const t = await router(['train', '--data', 'pair.jsonl', '--out', 'dn-m.json', '--augment', 'denoise-infold', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictor', 'logistic']);
    expect(t.code).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'dn-m.json'), 'utf8')) as RouterModelArtifact;
    expect(a.features.augment).toBeUndefined();
    expect(a.training.augment?.infold?.[0]?.denoise?.training).toBe(pair.examples.length);
  });

  it('eval --augment open7b,responses-infold: per fold, response models on the training prompts\u2019 answers, reported', async () => {
    const r = await router(['eval', '--data', 'gsm8k', '--augment', 'open7b,responses-infold', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictors', 'logistic', '--folds', '3', '--json', '--out', 'resp.json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/responses-infold: 150 prompts with both models' responses/);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.augment?.kinds).toEqual(['open7b', 'responses-infold']);
    expect(report.augment?.difficulty?.kept).toBe(203);
    const folds = report.augment?.infold ?? [];
    expect(folds).toHaveLength(3);
    expect(folds.reduce((n, f) => n + (f.responses?.training ?? 0), 0)).toBe(2 * 150);
    for (const f of folds) {
      expect(f.kept).toBeUndefined();
      expect(f.responses!.rows).toBe(f.responses!.training);
      expect(f.responses!.inner_rows).toHaveLength(3);
    }
  });

  it('eval --augment open7b-infold,responses-infold: both cross-fitted per fold, one report entry per fold', async () => {
    const r = await router(['eval', '--data', 'gsm8k', '--augment', 'open7b-infold,responses-infold', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictors', 'logistic', '--folds', '3', '--json', '--out', 'resp-inf.json']);
    expect(r.code).toBe(0);
    const folds = (JSON.parse(r.stdout) as EvaluationReport).augment?.infold ?? [];
    expect(folds).toHaveLength(3);
    for (const f of folds) {
      expect(f.kept).toBe(203);
      expect(f.inner_kept).toHaveLength(3);
      expect(f.responses!.inner_rows).toHaveLength(3);
    }
  });

  it('train --augment responses-infold: the artifact carries one response model and decides with it', async () => {
    const r = await router(['train', '--data', 'gsm8k', '--out', 'resp-m.json', '--augment', 'responses-infold', '--hash-dim', '1024', '--predictor', 'logistic']);
    expect(r.code).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'resp-m.json'), 'utf8')) as RouterModelArtifact;
    expect(a.features.augment?.responses?.targets).toHaveLength(6);
    expect(a.features.augment?.mean).toHaveLength(6);
    expect(JSON.stringify(a.features)).not.toContain('CrossFit');
    expect(a.training.augment?.infold?.[0]).toMatchObject({ fold: 'all training prompts', responses: { rows: 150, dropped_test_overlap: 0 } });
    const e = await router(['eval', '--data', 'gsm8k-test.jsonl', '--model', 'resp-m.json', '--json', '--out', 'resp-m-eval.json']);
    expect(e.code).toBe(0);
  });

  it('eval --augment responses-multitask: the training prompts outside the validation share become auxiliary rows of mlp', async () => {
    const r = await router(['eval', '--data', 'gsm8k', '--augment', 'responses-multitask', '--hash-dim', '1024', '--predictors', 'mlp', '--folds', '3', '--json', '--out', 'resp-mt.json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.augment?.kinds).toEqual(['responses-multitask']);
    const folds = report.augment?.infold ?? [];
    expect(folds).toHaveLength(3);
    for (const f of folds) {
      const m = f.responses_multitask!;
      expect(m.dropped_validation).toBeGreaterThan(0);
      expect(m.rows).toBe(m.training - m.dropped_validation);
    }
  });

  it('usage errors name the flag', async () => {
    for (const [args, flag] of [
      [['--augment', 'nope'], '--augment'],
      [['--augment', 'open7b,open7b-mean'], '--augment'],
      [['--augment', 'open7b,multitask'], '--augment'],
      [['--augment', 'open7b-infold,open7b'], '--augment'],
      [['--augment', 'open7b-infold,multitask-infold'], '--augment'],
      [['--augment', 'open7b,denoise-infold'], '--augment'],
      [['--augment', 'responses-infold,multitask'], '--augment'],
      [['--augment', 'responses-infold,denoise-infold'], '--augment'],
      [['--augment', 'responses-infold'], '--augment'],
      [['--augment', 'responses-infold,responses-multitask'], '--augment'],
      [['--augment', 'open7b-infold', '--augment-embeddings', '--augment-data', 'aux_train.json'], '--augment-embeddings'],
      [['--augment', 'open7b', '--augment-model', 'svm', '--augment-data', 'aux_train.json'], '--augment-model'],
      [['--augment-tasks', 'gsm8k'], '--augment'],
      [['--augment', 'open7b', '--augment-embeddings', '--augment-data', 'aux_train.json'], '--augment-embeddings'],
    ] as const) {
      const r = await router(['eval', '--data', 'pair.jsonl', '--hash-dim', '1024', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(flag);
    }
  });
});
