/**
 * `router eval --model` leaves out the prompts the model trained on by the model's fingerprint of its training
 * prompts, not by the data's name: a separate held-out file with the training file's basename (train/logs.csv and
 * test/logs.csv) is evaluated on all its prompts; the training prompts under another name (the shipped
 * routellm/gsm8k folder, then its gsm8k_responses.csv) are refused, and a file mixing both is evaluated on the
 * new prompts only, with the count of those left out.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../../learning/evaluation/evaluation-report.js';
import { sharedRoutingDir } from '../../learning/datasets/shared-data-dir.js';
import { runCli } from '../__fixtures__/cli-harness.js';

let dir: string;
const router = (args: string[]) => runCli(['router', ...args], { cwd: dir });

/** Long-format CSV text for two models on prompts `from` .. `from + n - 1` (no split column, no task). */
function pairCsv(from: number, n: number): string {
  const rows = ['prompt_id,prompt,model,quality'];
  for (let i = from; i < from + n; i++) {
    const prompt = `"question ${i}: ${i % 2 ? 'prove the theorem about primes' : 'write a short poem about rain'}"`;
    rows.push(`p${i},${prompt},weak,${i % 2}`, `p${i},${prompt},strong,1`);
  }
  return `${rows.join('\n')}\n`;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-router-eval-model-'));
  mkdirSync(join(dir, 'train'));
  mkdirSync(join(dir, 'test'));
  writeFileSync(join(dir, 'train', 'logs.csv'), pairCsv(0, 40));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('router eval --model: a held-out file is not its training file because it has the same basename', () => {
  it('a file mixing 10 training prompts and 20 new ones is evaluated on the 20, with 10 counted as left out', async () => {
    writeFileSync(join(dir, 'test', 'mixed.csv'), pairCsv(30, 30));
    const t = await router(['train', '--data', 'train/logs.csv', '--out', 'model.json', '--hash-dim', '256', '--predictor', 'logistic']);
    expect(t.code).toBe(0);
    const r = await router(['eval', '--data', 'test/mixed.csv', '--model', 'model.json', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout) as EvaluationReport).toMatchObject({ n_test: 20, model_trained_dropped: 10 });
    const text = await router(['eval', '--data', 'test/mixed.csv', '--model', 'model.json']);
    expect(text.stdout).toMatch(/10 prompts left out: the model trained on them/);
  });


  it('train/logs.csv (prompts 0..39) trains the model; test/logs.csv (prompts 100..119, disjoint) is evaluated', async () => {
    writeFileSync(join(dir, 'train', 'logs.csv'), pairCsv(0, 40));
    writeFileSync(join(dir, 'test', 'logs.csv'), pairCsv(100, 20));
    const t = await router(['train', '--data', 'train/logs.csv', '--out', 'model.json', '--hash-dim', '256', '--predictor', 'logistic']);
    expect(t.code).toBe(0);
    const r = await router(['eval', '--data', 'test/logs.csv', '--model', 'model.json', '--json']);
    // No prompt of test/logs.csv is a training prompt: the model must be evaluated on all 20.
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect((JSON.parse(r.stdout) as EvaluationReport).n_test).toBe(20);
  });
});

const shared = sharedRoutingDir(process.env, process.cwd());
const GSM8K = shared ? join(shared, 'routellm', 'gsm8k') : '';
const reason = 'shared routing data not found (set LLMRR_SHARED_DIR or put it in ../shared/data/routing)';

describe.skipIf(!shared)(`router eval --model: the training prompts under another data name (${shared ? 'shared data' : reason})`, () => {
  it('a model trained on routellm/gsm8k is not scored on gsm8k_responses.csv of that folder (the same 1319 prompts, task gsm8k)', async () => {
    const t = await router(['train', '--data', GSM8K, '--out', 'gsm8k-model.json', '--hash-dim', '256', '--predictor', 'logistic']);
    expect(t.code).toBe(0);
    // The folder itself is refused (every prompt trained on).
    const folder = await router(['eval', '--data', GSM8K, '--model', 'gsm8k-model.json', '--json']);
    expect(folder.code).toBe(2);
    // Its one CSV holds exactly the training prompts (same texts, same task "gsm8k"): it must be refused too.
    const csv = await router(['eval', '--data', join(GSM8K, 'gsm8k_responses.csv'), '--model', 'gsm8k-model.json', '--json']);
    const report = csv.code === 0 ? (JSON.parse(csv.stdout) as EvaluationReport) : undefined;
    expect({ code: csv.code, protocol: report?.protocol, n_test: report?.n_test }).toEqual({ code: 2, protocol: undefined, n_test: undefined });
  }, 120_000);
});
