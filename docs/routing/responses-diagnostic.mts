// Post-hoc diagnostic for docs/routing.md ("Features learned from the training prompts' responses"),
// made after the evaluation runs and not used for any choice. From the repository root:
//   npx tsx --conditions=@llmrr/source docs/routing/responses-diagnostic.mts
// Per response target, over RouteLLM GSM8K's 5 folds: how well its TRUE value separates "the strong
// model is needed" (weak wrong, strong right), how well the in-fold response model predicts it on the
// held-out prompts (Spearman), and how well that PREDICTED value separates "strong needed" (AUC).
import { join, resolve } from 'node:path';
import { resolveDataPath } from '../../packages/core/src/learning/datasets/shared-data-dir.js';
import { loadGsm8kResponses } from '../../packages/core/src/learning/cascade/load-gsm8k-responses.js';
import { heldOutFolds } from '../../packages/core/src/learning/datasets/split-examples.js';
import { EmbeddingCache, EMBEDDING_CACHE_DIR } from '../../packages/core/src/learning/features/embedding-cache.js';
import { USE_LITE } from '../../packages/core/src/learning/features/use-lite-embedder.js';
import { featurize } from '../../packages/core/src/learning/features/feature-pipeline.js';
import { infoldResponses } from '../../packages/core/src/learning/augment/infold-responses.js';
import { responsePredictor } from '../../packages/core/src/learning/augment/augment-values.js';
import { RESPONSE_TARGETS, responseTargetsLookup } from '../../packages/core/src/learning/augment/response-targets.js';

function ranks(v: number[]): number[] {
  const o = v.map((_, i) => i).sort((x, y) => v[x]! - v[y]!);
  const r = new Array<number>(v.length);
  let s = 0;
  while (s < o.length) { let e = s; while (e < o.length && v[o[e]!] === v[o[s]!]) e++; for (let k = s; k < e; k++) r[o[k]!] = (s + e - 1) / 2 + 1; s = e; }
  return r;
}
function auc(score: number[], y: number[]): number {
  const r = ranks(score);
  const pos = y.filter((v) => v === 1).length, neg = y.length - pos;
  let sum = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) sum += r[i]!;
  return (sum - (pos * (pos + 1)) / 2) / (pos * neg);
}
function spearman(a: number[], b: number[]): number {
  const x = ranks(a), y = ranks(b), n = a.length;
  const mx = x.reduce((p, c) => p + c, 0) / n, my = y.reduce((p, c) => p + c, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxy += (x[i]! - mx) * (y[i]! - my); sxx += (x[i]! - mx) ** 2; syy += (y[i]! - my) ** 2; }
  return sxy / Math.sqrt(sxx * syy);
}
const answered = await loadGsm8kResponses(join(resolveDataPath('routellm/gsm8k', process.env, process.cwd()), 'gsm8k_responses.csv'));
const cache = await EmbeddingCache.open(resolve(process.cwd(), process.env['LLMRR_EMBEDDING_CACHE'] ?? EMBEDDING_CACHE_DIR), USE_LITE.model, USE_LITE.dim);
const embedding = { dim: USE_LITE.dim, model: USE_LITE.model, lookup: (p: string) => cache.get(p) };
const look = responseTargetsLookup(answered);
const truth: number[][] = [], pred: number[][] = [], need: number[] = [], promptChars: number[] = [];
for (const fold of heldOutFolds(answered, 5)) {
  const { options } = infoldResponses({ targetsOf: look, embedding, seed: 1 }, fold.train, fold.test);
  const p = responsePredictor(options.responses!);
  for (const e of fold.test) {
    truth.push(look(e)!);
    pred.push(Array.from(p.predict(featurize(options.responses!.features, e.prompt, embedding.lookup(e.prompt)))));
    need.push(e.quality[0] === 0 && e.quality[1] === 1 ? 1 : 0);
    promptChars.push(e.prompt.length);
  }
}
console.log(`prompts ${need.length}, strong needed ${need.reduce((a, b) => a + b, 0)}`);
console.log('| target | AUC of the true value for "strong needed" | held-out Spearman (predicted, true) | AUC of the predicted value |');
console.log('| --- | ---: | ---: | ---: |');
RESPONSE_TARGETS.forEach((t, j) => {
  const tv = truth.map((r) => r[j]!), pv = pred.map((r) => r[j]!);
  console.log(`| ${t.name} | ${auc(tv, need).toFixed(3)} | ${spearman(pv, tv).toFixed(3)} | ${auc(pv, need).toFixed(3)} |`);
});
console.log(`| (for comparison) the prompt's length in characters | - | - | ${auc(promptChars, need).toFixed(3)} |`);
