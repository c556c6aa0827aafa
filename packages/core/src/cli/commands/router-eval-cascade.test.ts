import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTELLM_STRONG, ROUTELLM_WEAK } from '../../learning/datasets/load-routellm.js';
import type { CascadeReport } from '../../learning/cascade/evaluate-cascade.js';
import { runCli } from '../__fixtures__/cli-harness.js';

let dir: string;
let shared: string;
let bare: string;
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** A small RouteLLM-format GSM8K file with both models' answers; wrong weak answers show wrong sums or are cut off. */
function responsesCsv(n: number): string {
  const rows = [['prompt', ROUTELLM_WEAK, ROUTELLM_STRONG, `${ROUTELLM_WEAK}_response`, `${ROUTELLM_STRONG}_response`].join(',')];
  for (let i = 0; i < n; i++) {
    const a = 5 + ((i * 37) % 80), b = 3 + ((i * 53) % 70);
    const weakOk = (i * 7) % 10 < 6, strongOk = (i * 3) % 10 < 8;
    const weak = weakOk ? `He has ${a} + ${b} = <<${a}+${b}=${a + b}>>${a + b} apples.\n#### ${a + b}` : i % 2 ? `He has ${a} + ${b} = ${a + b + 3} apples.\n#### ${a + b + 3}` : `He has ${a} + ${b} = <<${a}+`;
    rows.push([q(`Tom has ${a} apples and buys ${b} more. How many now?`), weakOk ? 'True' : 'False', strongOk ? 'True' : 'False', q(weak), q(`${a} + ${b} = ${a + b}, so ${a + b}.`)].join(','));
  }
  return `${rows.join('\n')}\n`;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-cascade-cli-'));
  shared = join(dir, 'shared');
  mkdirSync(join(shared, 'data', 'routing', 'routellm', 'gsm8k'), { recursive: true });
  writeFileSync(join(shared, 'data', 'routing', 'routellm', 'gsm8k', 'gsm8k_responses.csv'), responsesCsv(200));
  mkdirSync(join(shared, 'data', 'pricing'), { recursive: true });
  writeFileSync(
    join(shared, 'data', 'pricing', 'model_prices.json'),
    JSON.stringify({
      'gpt-4-1106-preview': { input_cost_per_token: 1e-5, output_cost_per_token: 3e-5 },
      'mistral/open-mixtral-8x7b': { input_cost_per_token: 7e-7, output_cost_per_token: 7e-7 },
      'anyscale/mistralai/Mixtral-8x7B-Instruct-v0.1': { input_cost_per_token: 1.5e-7, output_cost_per_token: 1.5e-7 },
    }),
  );
  // The same data with no price table next to it.
  bare = join(dir, 'bare');
  mkdirSync(join(bare, 'data', 'routing', 'routellm', 'gsm8k'), { recursive: true });
  writeFileSync(join(bare, 'data', 'routing', 'routellm', 'gsm8k', 'gsm8k_responses.csv'), responsesCsv(200));
  writeFileSync(join(dir, 'pair.csv'), `prompt,${ROUTELLM_WEAK},${ROUTELLM_STRONG}\nWhat is 2 + 2?,True,True\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const router = (args: string[], sharedDir = shared) => runCli(['router', 'eval', ...args], { cwd: dir, env: { LLMRR_SHARED_DIR: sharedDir } });

describe('llmrr router eval --cascade', () => {
  it('help says it is a cascade that reads the weak answer and pays the weak call', async () => {
    const r = await router(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--cascade +evaluate a CASCADE/);
    expect(r.stdout).toMatch(/READS ITS ANSWER/);
    expect(r.stdout).toMatch(/pays the weak call on every prompt/);
  });

  it('prints the tables with the prompt-only router and the cost view, writes the report and both plots', async () => {
    const r = await router(['--data', 'routellm/gsm8k', '--cascade', '--predictors', 'logistic', '--hash-dim', '512', '--out', 'reports/c.json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/cv 1\/5: train \d+, test \d+/); // progress on stderr
    expect(r.stdout).toMatch(/cascade: calls the weak model first, reads its answer/);
    expect(r.stdout).toMatch(/cascade-learned +cascade +\d\.\d{3}/);
    expect(r.stdout).toMatch(/router-logistic +router +\d\.\d{3}/);
    expect(r.stdout).toMatch(/weak mistral\/open-mixtral-8x7b 0\.7\/0\.7, strong gpt-4-1106-preview 10\/30/);
    const report = JSON.parse(readFileSync(join(dir, 'reports/c.json'), 'utf8')) as CascadeReport;
    expect(report.n_test).toBe(200);
    expect(report.router_chosen).toBe('logistic');
    expect(report.price_sensitivity?.map((p) => p.weak)).toEqual(['anyscale/mistralai/Mixtral-8x7B-Instruct-v0.1']);
    expect(report.apgr).toBeGreaterThan(0.7);
    expect(readFileSync(join(dir, 'reports/c.svg'), 'utf8')).toMatch(/^<svg[\s\S]*cascade-learned APGR/);
    expect(existsSync(join(dir, 'reports/c-cost.svg'))).toBe(true);
  });

  it('--json prints the report; without a price table the cost view is left out and said so', async () => {
    const r = await router(['--data', 'routellm/gsm8k', '--cascade', '--predictors', 'logistic', '--hash-dim', '512', '--json', '--out', 'reports/bare.json'], bare);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as CascadeReport;
    expect(report.prices).toBeNull();
    expect(typeof report.apgr).toBe('number');
    expect(r.stderr).toMatch(/no shared price table .*cost views left out/);
    expect(existsSync(join(dir, 'reports/bare-cost.svg'))).toBe(false);
  });

  it('--hybrid adds cascade routing: fixed direct shares and the share chosen per fold on training prompts', async () => {
    const r = await router(['--data', 'routellm/gsm8k', '--cascade', '--hybrid', '--predictors', 'logistic', '--hash-dim', '512', '--out', 'reports/h.json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/cv 1\/5: direct share chosen on the training prompts: rule 0?\.?\d*, learned/);
    expect(r.stdout).toMatch(/cascade routing: the router's top direct share per fold/);
    expect(r.stdout).toMatch(/hybrid-learned 15% +15\.\d%/);
    expect(r.stdout).toMatch(/hybrid-learned chosen: shares per fold/);
    const report = JSON.parse(readFileSync(join(dir, 'reports/h.json'), 'utf8')) as CascadeReport;
    expect(report.hybrid!.shares).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.3]);
    expect(report.hybrid!.inner).toHaveLength(5);
    // Everything else is the report without --hybrid.
    const plain = JSON.parse(readFileSync(join(dir, 'reports/c.json'), 'utf8')) as CascadeReport;
    expect({ ...report, hybrid: undefined, seconds: 0 }).toEqual({ ...plain, seconds: 0 });
    const noCascade = await router(['--data', 'routellm/gsm8k', '--hybrid']);
    expect(noCascade.code).toBe(2);
    expect(noCascade.stderr).toMatch(/--hybrid is a cascade evaluation: use it with --cascade/);
    const noPrices = await router(['--data', 'routellm/gsm8k', '--cascade', '--hybrid', '--predictors', 'logistic', '--hash-dim', '512', '--out', 'reports/hb.json'], bare);
    expect(noPrices.code).toBe(2);
    expect(noPrices.stderr).toMatch(/--hybrid compares costs: it needs the shared price table/);
  });

  it('--out /dev/null: the report alone (exit 0), no plot beside it in /dev, a note says so', async () => {
    const plots = ['/dev/null.svg', '/dev/null-cost.svg'];
    const before = plots.filter((f) => existsSync(f));
    const r = await router(['--data', 'routellm/gsm8k', '--cascade', '--predictors', 'logistic', '--hash-dim', '512', '--out', '/dev/null']);
    expect({ code: r.code, made: plots.filter((f) => existsSync(f) && !before.includes(f)) }).toEqual({ code: 0, made: [] });
    expect(r.stderr).toMatch(/no plot: --out is not a file/);
    expect(r.stdout).toMatch(/cascade-learned +cascade +\d\.\d{3}/);
    expect(r.stdout).toMatch(/report: \/dev\/null\n$/);
    // The log names the path written in place, not its base name ("wrote null").
    expect(r.stderr.split('\n').filter((l) => l.startsWith('wrote'))).toEqual(['wrote the report to /dev/null']);
  });

  it('--out -: the report on stdout (one JSON document), the tables on stderr, no file written', async () => {
    const r = await router(['--data', 'routellm/gsm8k', '--cascade', '--predictors', 'logistic', '--hash-dim', '512', '--out', '-']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as CascadeReport;
    expect(report.n_test).toBe(200);
    expect(r.stderr).toMatch(/cascade-learned +cascade +\d\.\d{3}/);
    expect(r.stderr).toMatch(/no plot: --out - prints the report on stdout/);
    expect(existsSync(join(dir, '-'))).toBe(false);
    const plain = await router(['--data', 'routellm/gsm8k', '--predictors', 'logistic', '--hash-dim', '512', '--out', '-', '--json']);
    expect(plain.code).toBe(0);
    expect((JSON.parse(plain.stdout) as { predictors: unknown }).predictors).toBeDefined();
    expect(existsSync(join(dir, '-'))).toBe(false);
    expect(existsSync(join(dir, '-.svg'))).toBe(false);
  });

  it('refuses what a cascade cannot do, naming the flag', async () => {
    const m = await router(['--data', 'routellm/gsm8k', '--cascade', '--model', 'x.json']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--cascade trains per fold/);
    const h = await router(['--data', 'routellm/gsm8k', '--cascade', '--holdout-task', 'gsm8k']);
    expect(h.code).toBe(2);
    const noAnswers = await router(['--data', 'pair.csv', '--cascade']);
    expect(noAnswers.code).toBe(2);
    expect(noAnswers.stderr).toMatch(/--data: Routing data .*missing column "mistralai\/Mixtral-8x7B-Instruct-v0.1_response"/);
  });
});
