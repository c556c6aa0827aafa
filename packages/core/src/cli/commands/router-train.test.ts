import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticDataset, syntheticPairDataset } from '../../learning/__fixtures__/synthetic-data.js';
import type { EvaluationReport } from '../../learning/evaluation/evaluation-report.js';
import type { RouterModelArtifact } from '../../learning/training/router-model.js';
import { runCli } from '../__fixtures__/cli-harness.js';

let dir: string;
let longCsv: string;
let pairJsonl: string;

/** Runs `llmrr router ...` in-process (the way run.ts will once the command is registered). */
/** `llmrr router ...` in process, as the CLI runs it, in the test's directory. */
const router = (args: string[]) => runCli(['router', ...args], { cwd: dir });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-router-cli-'));
  const d = syntheticDataset();
  const rows = ['prompt_id,prompt,model,quality,cost_usd,split,task'];
  for (const e of d.examples) d.models.forEach((m, i) => rows.push(`${e.id},"${e.prompt.replace(/"/g, '""')}",${m},${e.quality[i]},${e.cost![i]},${e.split},${e.task}`));
  longCsv = join(dir, 'outcomes.csv');
  writeFileSync(longCsv, `${rows.join('\n')}\n`);
  const p = syntheticPairDataset(240);
  pairJsonl = join(dir, 'pair.jsonl');
  writeFileSync(pairJsonl, p.examples.flatMap((e) => p.models.map((m, i) => JSON.stringify({ prompt_id: e.id, prompt: e.prompt, model: m, quality: e.quality[i] }))).join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('llmrr router train', () => {
  it('writes a model artifact trained on the long-format file', async () => {
    const r = await router(['train', '--data', 'outcomes.csv', '--out', 'models/router.json', '--hash-dim', '1024', '--predictor', 'logistic', '--json']);
    // The prompts trained on: the 300 outside the test split (of 420).
    expect(r.stderr).toMatch(/training on outcomes.csv: 3 models, 300 prompts\n/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { chosen: string; examples: number };
    expect(summary).toMatchObject({ chosen: 'logistic', examples: 300 });
    const artifact = JSON.parse(readFileSync(join(dir, 'models/router.json'), 'utf8')) as RouterModelArtifact;
    expect(artifact).toMatchObject({ format: 'llmrr-router-model', version: 1, models: ['cheap', 'mathy', 'poet'] });
  });

  it('--out - writes the model on stdout (one JSON document), the summary on stderr, and no file', async () => {
    const r = await router(['train', '--data', 'pair.jsonl', '--out', '-', '--hash-dim', '256', '--predictor', 'logistic']);
    expect(r.code).toBe(0);
    const artifact = JSON.parse(r.stdout) as RouterModelArtifact;
    expect(artifact).toMatchObject({ format: 'llmrr-router-model', version: 1 });
    expect(r.stderr).toMatch(/wrote the model to stdout: logistic predictor over 2 models/);
    expect(existsSync(join(dir, '-'))).toBe(false);
  });

  it('reports usage errors with the flag and exit code 2', async () => {
    expect((await router(['train', '--out', 'x.json'])).stderr).toMatch(/missing --data/);
    const bad = await router(['train', '--data', 'outcomes.csv', '--out', 'x.json', '--predictor', 'forest']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--predictor expects auto, logistic, mf, mlp, knn, ensemble, task or stack, got "forest"/);
    const kinds = await router(['eval', '--data', 'outcomes.csv', '--predictors', 'logistic,auto']);
    expect(kinds.code).toBe(2);
    expect(kinds.stderr).toMatch(/--predictors expects predictor kinds .*got "auto"/);
    expect((await router(['fly'])).stderr).toMatch(/unknown subcommand "fly"/);
    const missing = await router(['train', '--data', 'nope.csv', '--out', 'x.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^llmrr router train: --data: Routing data .*nope.csv: data: not found/);
  });

  it('bad input files are usage errors naming the flag (exit 2, as --help says), not runtime errors', async () => {
    writeFileSync(join(dir, 'notamodel.yaml'), 'models: []\n');
    writeFileSync(join(dir, 'notamodel.json'), '{ "format": "something-else" }\n');
    writeFileSync(join(dir, 'bad-quality.csv'), 'prompt_id,prompt,model,quality\n1,hi,a,high\n');
    const cases: Array<[string[], string]> = [
      [['eval', '--data', 'nope.csv'], '--data'],
      [['train', '--data', 'bad-quality.csv', '--out', 'x.json'], '--data'],
      [['eval', '--data', 'outcomes.csv', '--model', 'missing.json'], '--model'],
      [['eval', '--data', 'outcomes.csv', '--model', 'notamodel.yaml'], '--model'],
      [['eval', '--data', 'outcomes.csv', '--model', 'notamodel.json'], '--model'],
    ];
    for (const [args, flag] of cases) {
      const r = await router(args);
      expect({ args, code: r.code, line: r.stderr }).toEqual({ args, code: 2, line: expect.stringMatching(new RegExp(`^llmrr router ${args[0]}: ${flag}: .*\\(see llmrr router ${args[0]} --help\\)\\n$`)) });
    }
  });

  it('data with outcomes of one model is refused naming --data (nothing to route between), and no model is written', async () => {
    writeFileSync(join(dir, 'one.jsonl'), Array.from({ length: 60 }, (_, i) => JSON.stringify({ prompt_id: `p${i}`, prompt: `q ${i}`, model: 'big', quality: 1 })).join('\n'));
    const train = await router(['train', '--data', 'one.jsonl', '--out', 'one.json', '--hash-dim', '256']);
    const evaluated = await router(['eval', '--data', 'one.jsonl', '--out', 'one-report.json']);
    const line = (sub: string) => `llmrr router ${sub}: --data: Routing data one.jsonl: has outcomes of only model "big": routing data needs outcomes of at least 2 models on the same prompts (see llmrr router ${sub} --help)\n`;
    expect({ code: train.code, stderr: train.stderr, written: existsSync(join(dir, 'one.json')) }).toEqual({ code: 2, stderr: line('train'), written: false });
    expect({ code: evaluated.code, stderr: evaluated.stderr, written: existsSync(join(dir, 'one-report.json')) }).toEqual({ code: 2, stderr: line('eval'), written: false });
  });

  it('data whose prompts lack some models\' outcomes trains with a warning naming those models and how many prompts, and picks by Brier score, never on n/a', async () => {
    // Every prompt has the outcome of "a" and of one of "b" (even prompts) or "c" (odd ones): none has all three.
    const rows = Array.from({ length: 120 }, (_, i) => ['a', i % 2 ? 'c' : 'b'].map((model) => JSON.stringify({ prompt_id: `p${i}`, prompt: `question ${i} about ${i % 3 ? 'sums' : 'poems'}`, model, quality: (i * 7 + model.charCodeAt(0)) % 3 ? 1 : 0 })));
    writeFileSync(join(dir, 'partial.jsonl'), rows.flat().join('\n'));
    const train = await router(['train', '--data', 'partial.jsonl', '--out', 'partial.json', '--hash-dim', '256', '--json']);
    const warning = 'llmrr router train: warning: 120 of 120 prompts of partial.jsonl lack the outcome of some model (missing: "b" on 60, "c" on 60): training learns from the outcomes they have, but validation and evaluation score routing only on prompts with every model\'s outcome: none has (predictors are compared by the Brier score of their predictions on the known outcomes instead; router eval refuses such data: it has no prompt to score)\n';
    expect({ code: train.code, first: train.stderr.slice(0, warning.length) }).toEqual({ code: 0, first: warning });
    const summary = JSON.parse(train.stdout) as { chosen: string; validation: Array<{ kind: string; metric: string; value: number }> };
    expect(new Set(summary.validation.map((v) => v.metric))).toEqual(new Set(['brier']));
    const pool = summary.validation.filter((v) => v.kind !== 'prior' && v.kind !== 'knn');
    expect(summary.chosen).toBe(pool.reduce((a, b) => (b.value < a.value ? b : a)).kind);
    // Complete data: no warning.
    const complete = await router(['train', '--data', 'pair.jsonl', '--out', 'pair-complete.json', '--hash-dim', '256', '--predictor', 'logistic']);
    expect({ code: complete.code, warned: complete.stderr.includes('warning') }).toEqual({ code: 0, warned: false });
    // eval warns the same way, naming its subcommand.
    const some = rows.slice(0, 100).flat().concat(rows.slice(100).map((r, k) => [...r, JSON.stringify({ prompt_id: `p${100 + k}`, prompt: `question ${100 + k} about ${(100 + k) % 3 ? 'sums' : 'poems'}`, model: (100 + k) % 2 ? 'b' : 'c', quality: 1 })]).flat());
    writeFileSync(join(dir, 'partial-some.jsonl'), some.join('\n'));
    const evaluated = await router(['eval', '--data', 'partial-some.jsonl', '--out', 'partial-report.json', '--hash-dim', '256', '--predictors', 'logistic', '--json']);
    expect({ code: evaluated.code, first: evaluated.stderr.split('\n')[0] }).toEqual({
      code: 0,
      first: 'llmrr router eval: warning: 100 of 120 prompts of partial-some.jsonl lack the outcome of some model (missing: "b" on 50, "c" on 50): training learns from the outcomes they have, but validation and evaluation score routing only on prompts with every model\'s outcome: 20 prompts',
    });
    expect((JSON.parse(evaluated.stdout) as EvaluationReport).dropped).toBe(100);
  });

  it('an --out that cannot be written (a folder, a path under a file) is a usage error naming --out, found before training or evaluating', async () => {
    mkdirSync(join(dir, 'out-folder'), { recursive: true });
    writeFileSync(join(dir, 'out-file'), 'not a folder\n');
    const cases: string[][] = [
      ['train', '--data', 'pair.jsonl', '--out', 'out-folder', '--hash-dim', '256', '--predictor', 'logistic'],
      ['train', '--data', 'pair.jsonl', '--out', 'out-file/model.json', '--hash-dim', '256', '--predictor', 'logistic'],
      ['eval', '--data', 'pair.jsonl', '--out', 'out-file/report.json', '--hash-dim', '256', '--predictors', 'logistic'],
    ];
    for (const args of cases) {
      const r = await router(args);
      expect({ args, code: r.code, stdout: r.stdout, line: r.stderr }).toEqual({ args, code: 2, stdout: '', line: expect.stringMatching(new RegExp(`^llmrr router ${args[0]}: --out: cannot write .*(is a folder|is not a folder).*\\(see llmrr router ${args[0]} --help\\)\\n$`)) });
    }
    expect(readFileSync(join(dir, 'out-file'), 'utf8')).toBe('not a folder\n');
  });

  it('eval --model with a damaged model (a stack meta bias, an IDF fallback given as text) is a usage error naming --model and the field, never evaluated with NaN', async () => {
    const t = await router(['train', '--data', 'outcomes.csv', '--out', 'stack-model.json', '--predictor', 'stack', '--hash-dim', '1024']);
    expect({ code: t.code, stderr: t.stderr.slice(-300) }).toMatchObject({ code: 0 });
    const artifact = JSON.parse(readFileSync(join(dir, 'stack-model.json'), 'utf8')) as { predictor: { kind: string; meta: Array<{ bias: unknown }> }; features: { idf: { fallback: unknown } } };
    expect(artifact.predictor.kind).toBe('stack');
    const damaged: Array<[string, (a: typeof artifact) => void, RegExp]> = [
      ['stack-bias.json', (a) => (a.predictor.meta[0]!.bias = '0.1'), /predictor\.meta\.0\.bias: "0\.1" is not a finite number/],
      ['stack-idf.json', (a) => (a.features.idf.fallback = 'x'), /features\.idf\.fallback: "x" is not a finite number/],
    ];
    for (const [file, damage, field] of damaged) {
      const a = structuredClone(artifact);
      damage(a);
      writeFileSync(join(dir, file), JSON.stringify(a));
      const r = await router(['eval', '--data', 'outcomes.csv', '--model', file, '--out', `${file}.report.json`, '--json']);
      expect({ file, code: r.code, stdout: r.stdout, stderr: r.stderr, written: existsSync(join(dir, `${file}.report.json`)) }).toEqual({
        file,
        code: 2,
        stdout: '',
        stderr: expect.stringMatching(new RegExp(`^llmrr router eval: --model: .*${field.source}.*\\(see llmrr router eval --help\\)\\n$`)),
        written: false,
      });
    }
  });

  it('eval --model on data with a model the router model lacks is a usage error naming --model and the model', async () => {
    const t = await router(['train', '--data', 'pair.jsonl', '--out', 'pair-model.json', '--hash-dim', '256', '--predictor', 'logistic']);
    expect(t.code).toBe(0);
    const r = await router(['eval', '--data', 'outcomes.csv', '--model', 'pair-model.json', '--json']);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/^llmrr router eval: --model: The router model has no outputs for the data's models "cheap", "mathy", "poet" \(it was trained on "[^"]+", "[^"]+"\): evaluate it on data of its own models, or train one on this data \(see llmrr router eval --help\)\n$/),
    });
  });
});

describe('llmrr router eval', () => {
  it('--predictors gain: trained on two-model data, refused on many-model data', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--json', '--folds', '3', '--hash-dim', '1024', '--predictors', 'logistic,gain']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    const gain = report.predictors.find((p) => p.kind === 'gain');
    expect(gain?.two_model?.apgr).toBeGreaterThan(0.7);
    const many = await router(['eval', '--data', 'outcomes.csv', '--predictors', 'gain']);
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/--predictors gain\/gain-mlp needs two-model data .* has 3 models/);
  });

  it('many models: prints the table, writes the JSON report and the SVG plot', async () => {
    const r = await router(['eval', '--data', 'outcomes.csv', '--hash-dim', '1024', '--out', 'reports/out.json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ROUTER\s+AIQ\s+COST FOR 95% OF BEST/);
    expect(r.stdout).toMatch(/zero router \(hull of single models\) AIQ/);
    const report = JSON.parse(readFileSync(join(dir, 'reports/out.json'), 'utf8')) as EvaluationReport;
    expect(report.aiq).toBeGreaterThan(0);
    expect(report.quality_at_cost?.length).toBeGreaterThan(3);
    expect(readFileSync(join(dir, 'reports/out.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('two models with --json: apgr, cpt50, cpt80 and the baselines', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--json', '--folds', '3', '--hash-dim', '1024']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.mode).toBe('two-model');
    expect(report.models).toEqual(['strong', 'weak']);
    expect(report.apgr!).toBeGreaterThan(0.7);
    expect(report.cpt50!).toBeLessThan(0.5);
    expect(report.cpt80!).toBeGreaterThan(0);
    expect(report.baselines.random.two_model!.apgr).toBeCloseTo(0.5, 6);
    expect(report.baselines.oracle.two_model!.apgr).toBeGreaterThan(report.apgr!);
    expect(existsSync(join(dir, '.llmrr/reports/pair.jsonl.json'))).toBe(true);
  });

  it('evaluates a trained model on the test split with --model', async () => {
    await router(['train', '--data', 'outcomes.csv', '--out', 'm.json', '--hash-dim', '1024', '--predictor', 'logistic']);
    const r = await router(['eval', '--data', 'outcomes.csv', '--model', 'm.json', '--json']);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.protocol).toBe('given model on the test split');
    // The synthetic test split repeats some training texts (its prompts come from templates): those the model
    // trained on are left out by its fingerprint, and counted.
    expect(report.model_trained_dropped).toBeGreaterThan(0);
    expect(report.n_test + report.model_trained_dropped!).toBe(120);
    expect(report.aiq!).toBeGreaterThan(report.zero_router!.aiq);
  });
});

describe('llmrr router: stack and out-of-distribution guard', () => {
  it('train --predictor stack --ood-guard writes a guarded stack that loads back and routes', async () => {
    const r = await router(['train', '--data', 'outcomes.csv', '--out', 'stack.json', '--hash-dim', '1024', '--predictor', 'stack', '--ood-guard', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ chosen: 'stack' });
    const artifact = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')) as RouterModelArtifact;
    expect(artifact.predictor.kind).toBe('guarded');
    const inner = (artifact.predictor as Extract<RouterModelArtifact['predictor'], { kind: 'guarded' }>).inner;
    expect(inner.kind).toBe('stack');
    expect((inner as Extract<RouterModelArtifact['predictor'], { kind: 'stack' }>).members.map((m) => m.kind)).toEqual(['logistic', 'mlp', 'task']);
    const evalR = await router(['eval', '--data', 'outcomes.csv', '--model', 'stack.json', '--json']);
    const report = JSON.parse(evalR.stdout) as EvaluationReport;
    expect(report.chosen).toBe('stack');
    expect(report.aiq!).toBeGreaterThan(report.zero_router!.aiq);
  });

  it('eval --predictors limits the kinds trained and reported', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--json', '--folds', '3', '--hash-dim', '1024', '--predictors', 'logistic,stack', '--ood-guard']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as EvaluationReport;
    expect(report.predictors.map((p) => p.kind)).toEqual(['prior', 'logistic', 'stack']);
    expect(report.predictors.find((p) => p.kind === 'stack')!.two_model!.apgr).toBeGreaterThan(0.7);
  });
});

describe('llmrr router: --bag (bagging across seeds)', () => {
  it('train --bag 3 writes a bag of 3 members of the chosen kind; eval --model routes with it', async () => {
    const r = await router(['train', '--data', 'outcomes.csv', '--out', 'bag.json', '--hash-dim', '1024', '--predictor', 'mlp', '--bag', '3', '--seed', '2', '--json']);
    expect(r.code).toBe(0);
    const artifact = JSON.parse(readFileSync(join(dir, 'bag.json'), 'utf8')) as RouterModelArtifact;
    expect(artifact.training).toMatchObject({ chosen: 'mlp', bag: 3 });
    const bag = artifact.predictor as Extract<RouterModelArtifact['predictor'], { kind: 'bag' }>;
    expect(bag.kind).toBe('bag');
    expect(bag.members.map((m) => m.kind)).toEqual(['mlp', 'mlp', 'mlp']);
    const evalR = await router(['eval', '--data', 'outcomes.csv', '--model', 'bag.json', '--json']);
    const report = JSON.parse(evalR.stdout) as EvaluationReport;
    expect(report.chosen).toBe('mlp');
    expect(report.bag).toBe(3);
    expect(report.aiq!).toBeGreaterThan(report.zero_router!.aiq);
  });

  it('eval --bag 2 records the bag size; --bag is refused with --model and --cascade and out of range', async () => {
    const r = await router(['eval', '--data', 'pair.jsonl', '--json', '--folds', '3', '--hash-dim', '1024', '--predictors', 'logistic,mlp', '--bag', '2', '--out', 'reports/bag.json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/mlp +validation apgr [\d.]+ \(bag of 2\)/);
    expect(r.stderr).toMatch(/prior +validation apgr 0\.5000 \(\d+ ms\)/);
    const report = JSON.parse(readFileSync(join(dir, 'reports/bag.json'), 'utf8')) as EvaluationReport;
    expect(report.bag).toBe(2);
    expect(report.apgr!).toBeGreaterThan(0.7);
    const withModel = await router(['eval', '--data', 'outcomes.csv', '--model', 'bag.json', '--bag', '2']);
    expect(withModel.code).toBe(2);
    expect(withModel.stderr).toMatch(/--bag trains per fold: use it without --model/);
    const cascade = await router(['eval', '--data', 'pair.jsonl', '--cascade', '--bag', '2']);
    expect(cascade.code).toBe(2);
    expect(cascade.stderr).toMatch(/--bag is not available with --cascade/);
    const zero = await router(['train', '--data', 'outcomes.csv', '--out', 'x.json', '--bag', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--bag expects a whole number/);
  });
});

describe('llmrr router (registered in the CLI)', () => {
  it('is reachable through run(): help and usage errors', async () => {
    const { runCli } = await import('../__fixtures__/cli-harness.js');
    const help = await runCli(['router', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: llmrr router <train \| eval>/);
    const trainHelp = await runCli(['router', 'train', '--help']);
    expect(trainHelp.stdout).toMatch(/--data accepts/);
    const missing = await runCli(['router', 'eval']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('llmrr router eval: missing --data <file|dir> (see llmrr router eval --help)\n');
  });
});
