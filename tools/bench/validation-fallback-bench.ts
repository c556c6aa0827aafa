/**
 * The validation fallback of `router train` / `router eval` on two-model data: when the validation prompts cannot tell
 * predictors apart by APGR (one complete prompt, or both models with the same outcome on every one), predictors are
 * compared by the Brier score of their predicted qualities. The `gain` predictors predict only a difference (their two
 * outputs add up to 1), so that score is biased against them. This measures, on the shared RouteLLM data, which kind
 * each criterion picks on such validation sets and the held-out APGR of the pick, against the squared error of the
 * predicted gain (strong - weak), which both kinds of predictor estimate:
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source validation-fallback-bench.ts [--data gsm8k] [--draws 2000]
 *
 * Trains logistic, mlp, gain and gain-mlp on 70% of the prompts (hashed features, the CLI's defaults), splits the
 * other 30% in two by prompt id: validation sets are drawn from one half, the pick is scored (APGR) on the other.
 */
import { join } from 'node:path';
import { featurize, loadDataset, sharedRoutingDir, trainPredictors, twoModelMetrics, type PredictorKind, type RoutingExample } from '@llmrr/core';
import { seededRandom as rng } from '@llmrr/core/test';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const DATA = opt('data', 'gsm8k');
const DRAWS = Number(opt('draws', '2000'));
const KINDS: PredictorKind[] = ['logistic', 'mlp', 'gain', 'gain-mlp'];

async function main(): Promise<void> {
  const dir = sharedRoutingDir(process.env, process.cwd());
  if (!dir) throw new Error('the shared routing data is not found: set LLMRR_SHARED_DIR');
  const dataset = await loadDataset(join(dir, 'routellm', DATA));
  const pair = dataset.pair!;
  const complete = (e: RoutingExample) => e.quality.every((q) => !Number.isNaN(q));
  // RouteLLM has no split: 70% of the prompts (by a hash of their id) train, the rest are held out.
  const bucket = (e: RoutingExample, salt: string) => [...`${salt}${e.id}`].reduce((a, c) => Math.imul(a ^ c.charCodeAt(0), 16777619) >>> 0, 2166136261) % 10;
  const train = dataset.examples.filter((e) => bucket(e, 'split:') < 7);
  const test = dataset.examples.filter((e) => bucket(e, 'split:') >= 7 && complete(e));
  const t0 = Date.now();
  const trained = trainPredictors(train, 2, pair, { kinds: KINDS });
  console.log(`routellm/${DATA}: trained ${KINDS.join(', ')} on ${train.length} prompts in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${test.length} complete test prompts`);
  const pred = new Map<PredictorKind, number[][]>();
  for (const kind of KINDS) {
    const p = trained.predictors.get(kind)!;
    pred.set(kind, test.map((e) => Array.from(p.predict(featurize(trained.features, e.prompt)))));
  }
  // Validation half (draws) and scoring half (APGR of the pick), split by prompt id.
  const half = test.map((e, i) => ({ e, i, h: bucket(e, 'half:') % 2 }));
  const valIdx = half.filter((x) => x.h === 0).map((x) => x.i);
  const scoreIdx = half.filter((x) => x.h === 1).map((x) => x.i);
  const apgr = (kind: PredictorKind, idx: number[]) => {
    const p = pred.get(kind)!;
    return twoModelMetrics(idx.map((i) => p[i]![pair.strong]! - p[i]![pair.weak]!), idx.map((i) => test[i]!.quality[pair.weak]!), idx.map((i) => test[i]!.quality[pair.strong]!)).apgr;
  };
  const brier = (kind: PredictorKind, idx: number[]) => {
    const p = pred.get(kind)!;
    let s = 0;
    for (const i of idx) for (let m = 0; m < 2; m++) s += (p[i]![m]! - test[i]!.quality[m]!) ** 2;
    return s / (2 * idx.length);
  };
  const gainMse = (kind: PredictorKind, idx: number[]) => {
    const p = pred.get(kind)!;
    let s = 0;
    for (const i of idx) s += (p[i]![pair.strong]! - p[i]![pair.weak]! - (test[i]!.quality[pair.strong]! - test[i]!.quality[pair.weak]!)) ** 2;
    return s / idx.length;
  };
  const held = new Map(KINDS.map((k) => [k, apgr(k, scoreIdx)]));
  console.log(`\nwhole test split (all ${test.length} prompts): APGR, Brier of the two qualities, squared error of the gain`);
  for (const k of KINDS) console.log(`  ${k.padEnd(9)} APGR ${apgr(k, test.map((_, i) => i)).toFixed(4)}  brier ${brier(k, test.map((_, i) => i)).toFixed(4)}  gain-mse ${gainMse(k, test.map((_, i) => i)).toFixed(4)}   (scoring half APGR ${held.get(k)!.toFixed(4)})`);

  // What calibrating the gain kinds would give: P(model good | predicted gain), per model, fitted on the validation half
  // (10 bins by quantile of the gain), its Brier on the scoring half, against the per-model kinds' own Brier there.
  console.log(`\ncalibrated per model from the gain (10 quantile bins fitted on the validation half): Brier on the scoring half`);
  for (const k of KINDS) {
    const p = pred.get(k)!;
    const g = (i: number) => p[i]![pair.strong]! - p[i]![pair.weak]!;
    const sorted = valIdx.map(g).sort((a, b) => a - b);
    const edges = Array.from({ length: 9 }, (_, b) => sorted[Math.floor(((b + 1) * sorted.length) / 10)]!);
    const bin = (v: number) => edges.filter((e) => v >= e).length;
    const sums = Array.from({ length: 10 }, () => [0, 0, 0]);
    for (const i of valIdx) {
      const b = sums[bin(g(i))]!;
      b[0]! += test[i]!.quality[pair.weak]!;
      b[1]! += test[i]!.quality[pair.strong]!;
      b[2]! += 1;
    }
    let cal = 0;
    for (const i of scoreIdx) {
      const b = sums[bin(g(i))]!;
      const n = b[2]! || 1;
      cal += (b[0]! / n - test[i]!.quality[pair.weak]!) ** 2 + (b[1]! / n - test[i]!.quality[pair.strong]!) ** 2;
    }
    console.log(`  ${k.padEnd(9)} own outputs ${brier(k, scoreIdx).toFixed(4)}  binned from the gain ${(cal / (2 * scoreIdx.length)).toFixed(4)}`);
  }

  const same = valIdx.filter((i) => test[i]!.quality[pair.weak] === test[i]!.quality[pair.strong]);
  const settings: Array<[string, (r: () => number) => number[]]> = [
    ['one complete prompt', (r) => [valIdx[Math.floor(r() * valIdx.length)]!]],
    ['20 prompts, both models alike on each', (r) => Array.from({ length: 20 }, () => same[Math.floor(r() * same.length)]!)],
  ];
  const best = Math.max(...held.values());
  for (const [label, draw] of settings) {
    console.log(`\n${label}: ${DRAWS} draws from the validation half; the pick's APGR on the scoring half (best kind ${best.toFixed(4)})`);
    for (const [name, score] of [['brier (now)', brier], ['gain-mse', gainMse]] as const) {
      const r = rng(42);
      const picks = new Map<PredictorKind, number>(KINDS.map((k) => [k, 0]));
      let sum = 0;
      for (let d = 0; d < DRAWS; d++) {
        const idx = draw(r);
        // Ties go to the first kind in training order, as in trainPredictors.
        const pick = KINDS.reduce((a, b) => (score(b, idx) < score(a, idx) ? b : a));
        picks.set(pick, picks.get(pick)! + 1);
        sum += held.get(pick)!;
      }
      console.log(`  ${name.padEnd(12)} mean APGR of the pick ${(sum / DRAWS).toFixed(4)}; picks ${[...picks].map(([k, n]) => `${k} ${((100 * n) / DRAWS).toFixed(1)}%`).join(', ')}`);
    }
  }
}

await main();
