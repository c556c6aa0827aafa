import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticExamples, syntheticPairDataset } from '../../learning/__fixtures__/synthetic-data.js';
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
  const rows = [
    ...syntheticExamples(200, 11).map((e) => ({ question: e.prompt, scores: { a: e.quality[0], b: e.quality[1], c: e.quality[2] } })),
    // The same questions as three distinct prompts of the evaluated data (case and spacing differ).
    ...pair.examples.slice(0, SHARED).map((e) => ({ question: `  ${e.prompt.toUpperCase()} `, scores: { a: 1, b: 1, c: 1 } })),
  ];
  writeFileSync(join(dir, 'aux_train.json'), JSON.stringify(rows));
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
    const e = await router(['eval', '--data', 'pair.jsonl', '--model', 'm.json', '--json', '--out', 'm-eval.json']);
    expect(e.code).toBe(0);
  });

  it('eval --augment multitask: mlp trained on the pair and the auxiliary scores', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--augment', 'multitask', '--augment-data', 'aux_train.json', '--hash-dim', '1024', '--predictors', 'mlp', '--folds', '3', '--json', '--out', 'mt.json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/multitask: 200 auxiliary prompts of open7b\/aux_train.json \(3 dropped/);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.augment).toMatchObject({ kinds: ['multitask'], multitask: { kept: 200, dropped: 3 } });
  });

  it('usage errors name the flag', async () => {
    for (const [args, flag] of [
      [['--augment', 'nope'], '--augment'],
      [['--augment', 'open7b,open7b-mean'], '--augment'],
      [['--augment', 'open7b,multitask'], '--augment'],
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
