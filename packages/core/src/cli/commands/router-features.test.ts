import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticPairDataset } from '../../learning/__fixtures__/synthetic-data.js';
import type { EvaluationReport } from '../../learning/evaluation/evaluation-report.js';
import { STRUCTURE_DIM } from '../../learning/features/structure-features.js';
import type { RouterModelArtifact } from '../../learning/training/router-model.js';
import { runCli } from '../__fixtures__/cli-harness.js';
import { CliUsageError } from '../cli-usage-error.js';
import { parseFeatureGroups } from './router-features.js';

let dir: string;
const pair = syntheticPairDataset(240);
const router = (args: string[]) => runCli(['router', ...args], { cwd: dir });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-router-features-'));
  writeFileSync(join(dir, 'pair.jsonl'), pair.examples.flatMap((e) => pair.models.map((m, i) => JSON.stringify({ prompt_id: e.id, prompt: e.prompt, model: m, quality: e.quality[i] }))).join('\n'));
  // Held-out prompts for `eval --model` (a model is never scored on the data it trained on).
  const heldOut = syntheticPairDataset(300).examples.slice(240);
  writeFileSync(join(dir, 'pair-test.jsonl'), heldOut.flatMap((e) => pair.models.map((m, i) => JSON.stringify({ prompt_id: e.id, prompt: e.prompt, model: m, quality: e.quality[i], split: 'test' }))).join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseFeatureGroups', () => {
  it('accepts +structure and structure, and nothing else', () => {
    expect(parseFeatureGroups(undefined)).toBeUndefined();
    expect(parseFeatureGroups('+structure')).toEqual(['structure']);
    expect(parseFeatureGroups('structure, +structure')).toEqual(['structure']);
    expect(() => parseFeatureGroups('+shape')).toThrow(CliUsageError);
    expect(() => parseFeatureGroups('+shape')).toThrow(/--features expects \+structure/);
    expect(() => parseFeatureGroups(',')).toThrow(CliUsageError);
  });
});

describe('llmrr router eval/train --features +structure', () => {
  it('eval records the group in the report; without the flag the report has no features field', async () => {
    const args = ['eval', '--data', 'pair.jsonl', '--hash-dim', '1024', '--predictors', 'logistic', '--folds', '3', '--json'];
    const on = await router([...args, '--features', '+structure', '--out', 'on.json']);
    expect(on.code).toBe(0);
    const report = JSON.parse(on.stdout) as EvaluationReport;
    expect(report.features).toEqual(['+structure']);
    const off = await router([...args, '--out', 'off.json']);
    expect(off.code).toBe(0);
    expect((JSON.parse(off.stdout) as EvaluationReport).features).toBeUndefined();
  });

  it('train writes the block into the artifact, and eval --model uses it', async () => {
    const r = await router(['train', '--data', 'pair.jsonl', '--out', 'm.json', '--features', '+structure', '--hash-dim', '1024', '--predictor', 'logistic']);
    expect(r.code).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')) as RouterModelArtifact;
    expect(a.features.structure?.mean).toHaveLength(STRUCTURE_DIM);
    expect(a.features.structure?.std).toHaveLength(STRUCTURE_DIM);
    const e = await router(['eval', '--data', 'pair-test.jsonl', '--model', 'm.json', '--json', '--out', 'm-eval.json']);
    expect(e.code).toBe(0);
    // The report says what the model was trained with, as a report trained per fold does.
    expect((JSON.parse(e.stdout) as EvaluationReport).features).toEqual(['+structure']);
  });

  it('usage errors name the flag', async () => {
    const bad = await router(['eval', '--data', 'pair.jsonl', '--features', '+colour']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--features/);
    const withModel = await router(['eval', '--data', 'pair.jsonl', '--model', 'm.json', '--features', '+structure']);
    expect(withModel.code).not.toBe(0);
    expect(withModel.stderr).toMatch(/--features .*without --model/);
  });
});
