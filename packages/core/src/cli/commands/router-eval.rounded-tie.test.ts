/**
 * Two models of the same quality whose means differ only by float rounding: `a-model` scores 0.1 on every prompt,
 * `b-model` 0.2 or 0 by the prompt's topic, half each, so both means are 0.1 (summed, 0.1 two hundred times is not
 * exactly 20 x 0.2 / 200). A rounding residue is not a gap: the text report says they tie (no APGR of 10^13 from
 * dividing by ~1e-17), and with costs the cheaper model is the weak one, as for qualities equal to the last bit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../../learning/evaluation/evaluation-report.js';
import { runCli } from '../__fixtures__/cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'llmrr-rounded-tie-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const router = (args: string[]) => runCli(['router', ...args], { cwd: dir });

/** `a-model` 0.1 on every prompt, `b-model` 0.2 on one topic and 0 on the other; `cost` per model when given. */
function roundedTie(n: number, cost?: [number, number]): string {
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const topic = i % 2 ? 'write a short poem about rain' : 'prove the theorem about primes';
    const q = [0.1, i % 2 ? 0 : 0.2];
    ['a-model', 'b-model'].forEach((model, m) => rows.push(JSON.stringify({ prompt_id: `p${i}`, prompt: `question ${i}: ${topic}`, model, quality: q[m], ...(cost ? { cost_usd: cost[m] } : {}) })));
  }
  return `${rows.join('\n')}\n`;
}

describe('router eval: two models whose mean qualities differ only by float rounding', () => {
  it('the text report says they tie, with no APGR from dividing by the rounding residue', async () => {
    writeFileSync(join(dir, 'rounded.jsonl'), roundedTie(200));
    const r = await router(['eval', '--data', 'rounded.jsonl', '--out', 'rounded-report.json', '--hash-dim', '256', '--predictors', 'logistic']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('a-model and b-model tie on quality 0.100: no gap between a weaker and a stronger model for routing to recover (APGR and CPT undefined)');
    expect(r.stdout).not.toMatch(/^ROUTER +APGR/m);
    // The oracle sends the half of the prompts b-model answers at 0.2 to it: 0.15 at 50% of the calls.
    expect(r.stdout).toMatch(/^oracle +0\.150 +0\.150 +50\.0%$/m);
  });

  it('the JSON report has no APGR or CPT from the residue, and with costs the cheaper model is the weak one', async () => {
    writeFileSync(join(dir, 'rounded-cost.jsonl'), roundedTie(200, [0.001, 0.01]));
    const r = await router(['eval', '--data', 'rounded-cost.jsonl', '--out', '-', '--json', '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.pair).toEqual({ weak: 'a-model', strong: 'b-model' });
    for (const p of [...report.predictors, report.baselines.random, report.baselines.oracle].filter((x) => x.two_model)) {
      // The tie's placeholders (PGR 0 everywhere), not 10^13.
      expect(p.two_model!.apgr).toBe(0);
      expect(p.two_model!.curve.every((c) => c.pgr === 0)).toBe(true);
    }
  });
});
