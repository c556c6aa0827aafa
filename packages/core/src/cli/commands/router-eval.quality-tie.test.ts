/**
 * Two-model data whose models are of the same quality: no weak and strong model by quality, and no performance gap for
 * PGR to measure. The text report says they tie (not "weak strong ... strong weak" from the names' sort order, nor an
 * APGR of 0 for every router, the oracle's included) and shows what routing still does: the quality reached by picking
 * per prompt. With costs, the cheaper model is the weak one (the one a router calls unless it expects a gain).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../../learning/evaluation/evaluation-report.js';
import { runCli } from '../__fixtures__/cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'llmrr-quality-tie-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const router = (args: string[]) => runCli(['router', ...args], { cwd: dir });

/**
 * Long-format JSONL of two models named `names`, of equal mean quality 0.5: on a quarter of the prompts both answer
 * well, on a quarter neither, on the rest one of them (the one the prompt's topic suits), so routing per prompt can
 * reach 0.75. `cost` per model when given.
 */
function tiedPair(names: [string, string], n: number, cost?: [number, number]): string {
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const topic = ['prove the theorem about primes', 'write a short poem about rain', 'add the two large numbers', 'summarise the history essay'][i % 4]!;
    const q = [[1, 1], [1, 0], [0, 1], [0, 0]][i % 4]!;
    names.forEach((model, m) => rows.push(JSON.stringify({ prompt_id: `p${i}`, prompt: `question ${i}: ${topic}`, model, quality: q[m], ...(cost ? { cost_usd: cost[m] } : {}) })));
  }
  return `${rows.join('\n')}\n`;
}

describe('router eval: two models of the same quality', () => {
  it('the text report says they tie and shows the quality routing reaches (no weak/strong labels from the names, no APGR)', async () => {
    writeFileSync(join(dir, 'tie.jsonl'), tiedPair(['weak', 'strong'], 200));
    const r = await router(['eval', '--data', 'tie.jsonl', '--out', 'tie-report.json', '--hash-dim', '256', '--predictors', 'logistic']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/weak strong quality|strong weak quality|^ROUTER +APGR/m);
    expect(r.stdout).toContain('strong and weak tie on quality 0.500: no gap between a weaker and a stronger model for routing to recover (APGR and CPT undefined)');
    // The oracle sends the quarter of prompts only `weak` answers well to it: 0.75 at 25% of the calls.
    expect(r.stdout).toMatch(/^ROUTER +QUALITY AT 50% +BEST QUALITY +AT$/m);
    expect(r.stdout).toMatch(/^oracle +0\.750 +0\.750 +25\.0%$/m);
    expect(r.stdout).toMatch(/^random +0\.500 +0\.500 +/m);
  });

  it('with costs, the cheaper of two models of equal quality is the weak one, whatever the names sort', async () => {
    writeFileSync(join(dir, 'tie-cost.jsonl'), tiedPair(['a-pricey', 'b-cheap'], 80, [0.01, 0.001]));
    const r = await router(['eval', '--data', 'tie-cost.jsonl', '--out', '-', '--json', '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as EvaluationReport).pair).toEqual({ weak: 'b-cheap', strong: 'a-pricey' });
    writeFileSync(join(dir, 'tie-cost-2.jsonl'), tiedPair(['a-cheap', 'b-pricey'], 80, [0.001, 0.01]));
    const again = await router(['eval', '--data', 'tie-cost-2.jsonl', '--out', '-', '--json', '--hash-dim', '256', '--predictors', 'logistic', '--folds', '2']);
    expect((JSON.parse(again.stdout) as EvaluationReport).pair).toEqual({ weak: 'a-cheap', strong: 'b-pricey' });
  });
});
