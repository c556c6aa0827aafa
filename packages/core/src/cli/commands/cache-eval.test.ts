import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BagOfWordsEmbedder } from '../../semantic-cache/__fixtures__/bag-of-words-embedder.js';
import { runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';
import type { CliContext } from '../cli-io.js';
import { runCacheEval } from './cache-eval.js';

let t: TempDir;
const pairs = [
  { origin: 'how do I reset my account password', similar: 'how can I reset the password of my account' },
  { origin: 'what is the capital city of france', similar: 'the capital city of france is what' },
  { origin: 'install the python package with pip', similar: 'use pip to install the python package' },
  { origin: 'red green blue', similar: 'completely different words here' }, // a paraphrase that shares no word: a miss
];
let pairsFile: string;

beforeAll(() => {
  t = tempDir();
  mkdirSync(`${t.dir}/cache`);
  mkdirSync(`${t.dir}/routing`);
  t.write('cache/pairs.json', JSON.stringify(pairs));
  pairsFile = `${t.dir}/cache/pairs.json`;
  t.write('routing/q.jsonl', `${JSON.stringify({ turns: ['Write a poem about the sea.', 'Now make it rhyme.'] })}\n`);
  t.write('routing/p.csv', 'prompt,other\n"A farmer has 3 cows, how many legs?",1\n"password reset account my how do I",0\n');
});
afterAll(() => t.remove());

function ctx(): { ctx: CliContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    ctx: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, stdin: undefined, env: {}, cwd: t.dir, signal: undefined },
    out: () => out,
    err: () => err,
  };
}

describe('llmrr cache eval', () => {
  it('counts correct hits, wrong hits and misses per threshold as JSON', async () => {
    const c = ctx();
    const code = await runCacheEval(
      ['eval', '--data', 'cache/pairs.json', '--unrelated', 'routing/q.jsonl,routing/p.csv', '--thresholds', '0.5,0.99', '--json'],
      c.ctx,
      { embedder: () => new BagOfWordsEmbedder() },
    );
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    const r = JSON.parse(c.out());
    expect(r).toMatchObject({ embedder: 'bag-of-words', pairs: 4, stored: 4, unrelated: 4, texts_embedded: 12 });
    const [low, high] = r.thresholds;
    // At 0.5: the three word-sharing paraphrases hit their origin; the scrambled "password reset" prompt hits too (a wrong hit).
    expect(low).toMatchObject({ threshold: 0.5, correct: 3, wrong: 0, misses: 1, unrelatedWrong: 1, unrelatedMisses: 3 });
    expect(low.correctRate).toBeCloseTo(0.75, 6);
    expect(low.wrongRate).toBeCloseTo(1 / 8, 6);
    // Bag of words ignores order: "the capital city of france is what" is identical to its origin (score 1).
    expect(high).toMatchObject({ threshold: 0.99, correct: 1, wrong: 0, misses: 3 });
    expect(r.p99_ms).toBeGreaterThanOrEqual(r.p50_ms);
    expect(r).not.toHaveProperty('wrong_examples');
    // The baseline (plain cosine) is reported beside the cache's selection, with the settings measured.
    expect(r.selection).toEqual({ scoring: 'hybrid', lexicalWeight: 0.4, minMargin: 0.015, candidates: 8 });
    expect(r.baseline[0]).toMatchObject({ threshold: 0.5, correct: 3, wrong: 0, unrelatedWrong: 1 });
    expect(r.consistency_mismatches).toBe(0);
    expect(r.cross_validation).toMatchObject({ folds: 10, wrong_budget: 0.015 });
    expect(r.cross_validation.rows.map((x: { threshold: number }) => x.threshold)).toEqual([0.5, 0.99]);
    const cv = r.cross_validation.rows[0];
    expect(cv.correct + cv.wrong + cv.misses).toBe(4); // every paraphrase held out exactly once
    expect(cv.chosen).toHaveLength(10);
    expect(r.wrong_hit_analysis).toEqual([
      { rule: 'cosine', threshold: 0.85, wrong: 0, exactDuplicateOrigin: 0, nearDuplicateOrigin: 0 },
      { rule: 'configured', threshold: 0.85, wrong: 0, exactDuplicateOrigin: 0, nearDuplicateOrigin: 0 },
    ]);
  });

  it('measures the selection the flags set, and counts wrong hits on near-duplicate origins', async () => {
    // Two stored questions with the same words in another order (the same bag-of-words vector): plain cosine
    // takes the first stored one for both paraphrases (one right, one wrong); the hybrid score tells them apart.
    t.write(
      'cache/twins.json',
      JSON.stringify([
        { origin: 'go to my tab on it', similar: 'go to my tab on it now' },
        { origin: 'it on tab my to go', similar: 'it on tab my to go now' },
      ]),
    );
    const run = async (...flags: string[]) => {
      const c = ctx();
      expect(await runCacheEval(['eval', '--data', 'cache/twins.json', '--unrelated', 'routing/q.jsonl', '--thresholds', '0.8', '--folds', '0', '--json', ...flags], c.ctx, { embedder: () => new BagOfWordsEmbedder() })).toBe(0);
      return JSON.parse(c.out());
    };
    const hybrid = await run();
    expect(hybrid.baseline[0]).toMatchObject({ correct: 1, wrong: 1 });
    expect(hybrid.thresholds[0]).toMatchObject({ correct: 2, wrong: 0 });
    expect(hybrid).not.toHaveProperty('cross_validation');
    const cosine = await run('--scoring', 'cosine', '--min-margin', '0');
    expect(cosine.selection).toMatchObject({ scoring: 'cosine', minMargin: 0 });
    expect(cosine.thresholds).toEqual(cosine.baseline);
    expect(cosine.wrong_hit_analysis[1]).toMatchObject({ wrong: 1, nearDuplicateOrigin: 0, exactDuplicateOrigin: 0 }); // same words, other order: not lexical twins
    const ambiguous = await run('--scoring', 'cosine');
    expect(ambiguous.thresholds[0]).toMatchObject({ correct: 0, wrong: 0, misses: 2 });

    // Origins that differ only in case are the same question: never ambiguous, but a hit on the other one is
    // still counted wrong (the strict metric), and the analysis says why.
    t.write(
      'cache/same.json',
      JSON.stringify([
        { origin: 'What is the capital of France', similar: 'what is the capital of france now' },
        { origin: 'what is the capital of  France', similar: 'the capital of france is what' },
      ]),
    );
    const c = ctx();
    await runCacheEval(['eval', '--data', 'cache/same.json', '--unrelated', 'routing/q.jsonl', '--folds', '0', '--json'], c.ctx, { embedder: () => new BagOfWordsEmbedder() });
    const same = JSON.parse(c.out());
    expect(same.origins_with_near_duplicate).toBe(2);
    expect(same.wrong_hit_analysis[1]).toMatchObject({ threshold: 0.85, wrong: 1, nearDuplicateOrigin: 1, exactDuplicateOrigin: 1 });
  });

  it('lists the best-scoring wrong hits with --examples', async () => {
    const c = ctx();
    await runCacheEval(['eval', '--data', 'cache/pairs.json', '--unrelated', 'routing/p.csv', '--examples', '5'], c.ctx, { embedder: () => new BagOfWordsEmbedder() });
    expect(c.out()).toContain('wrong hit 1.000: "password reset account my how do I"\n  matched:  "how do I reset my account password" (unrelated prompt)');
  });

  it('prints a table by default, with latency and embedding time', async () => {
    const c = ctx();
    expect(await runCacheEval(['eval', '--data', pairsFile, '--unrelated', 'routing/q.jsonl', '--limit', '2'], c.ctx, { embedder: () => new BagOfWordsEmbedder() })).toBe(0);
    expect(c.out()).toContain('2 paraphrase pairs (2 distinct origins stored, 0 of them with a near-duplicate origin), 2 unrelated prompts');
    expect(c.out()).toMatch(/Plain cosine .*baseline\nthreshold +correct +wrong +miss/);
    expect(c.out()).toContain('Cache selection (what lookup serves): hybrid (0.6 x cosine + 0.4 x trigram Dice) over the 8 nearest, ambiguity margin 0.015');
    expect(c.out()).toContain('10-fold cross-validation (folds by origin)');
    expect(c.out()).toContain('cache selection at 0.85: 0 wrong hits');
    for (const t of ['0.70', '0.75', '0.80', '0.85', '0.90', '0.95']) expect(c.out()).toContain(t);
    expect(c.out()).toMatch(/lookup \(without embedding\): p50 [\d.]+ ms, p99 [\d.]+ ms/);
  });

  it('finds the default unrelated prompts under the data root, and says when they are missing', async () => {
    const r = await runCli(['cache', 'eval', '--data', pairsFile], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unrelated prompts not found');
    expect(r.stderr).toContain('routing/routellm/mt_bench/question.jsonl');
  });

  it('is registered as `llmrr cache` and reports usage errors naming the flag', async () => {
    expect((await runCli(['cache', '--help'])).stdout).toContain('Usage: llmrr cache eval --data');
    expect((await runCli(['cache', 'eval'], { cwd: t.dir })).stderr).toContain('missing --data');
    expect((await runCli(['cache', 'evil'], { cwd: t.dir })).stderr).toContain('unknown subcommand "evil"');
    expect((await runCli(['cache', 'eval', '--data', 'nope.json'], { cwd: t.dir })).stderr).toContain('--data: no such file');
    const bad = await runCli(['cache', 'eval', '--data', pairsFile, '--thresholds', '0.5,2'], { cwd: t.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--thresholds expects');
    // An empty entry (a doubled comma) or hex is a typo, never an extra threshold 0 or the number JavaScript makes of it.
    for (const thresholds of ['0.7,,0.9', '0.7,', '0x1', ' ']) {
      const typo = await runCli(['cache', 'eval', '--data', pairsFile, '--thresholds', thresholds], { cwd: t.dir });
      expect({ thresholds, code: typo.code, stderr: typo.stderr }).toEqual({ thresholds, code: 2, stderr: expect.stringContaining('--thresholds expects comma-separated numbers from 0 to 1') });
    }
    // Signed decimals read as routing data reads numbers: thresholds (the next bad flag, --scoring, is the one named); below 0 still refused.
    for (const thresholds of ['+0.5', '0.5,+0.9', '-0', '1e-1']) {
      const signed = await runCli(['cache', 'eval', '--data', pairsFile, '--thresholds', thresholds, '--scoring', 'bm25'], { cwd: t.dir });
      expect({ thresholds, code: signed.code, stderr: signed.stderr }).toEqual({ thresholds, code: 2, stderr: expect.stringContaining('--scoring expects hybrid or cosine') });
    }
    expect((await runCli(['cache', 'eval', '--data', pairsFile, '--thresholds', '-0.1', '--scoring', 'bm25'], { cwd: t.dir })).stderr).toContain('--thresholds expects comma-separated numbers from 0 to 1');
    expect((await runCli(['cache', 'eval', '--data', pairsFile, '--scoring', 'bm25'], { cwd: t.dir })).stderr).toContain('--scoring expects hybrid or cosine');
    expect((await runCli(['cache', 'eval', '--data', pairsFile, '--lexical-weight', '2'], { cwd: t.dir })).stderr).toContain('--lexical-weight expects a number from 0 to 1');
    expect((await runCli(['cache', 'eval', '--data', pairsFile, '--candidates', '0'], { cwd: t.dir })).stderr).toContain('--candidates expects');
    t.write('cache/bad.json', '[{"origin": 1}]');
    expect((await runCli(['cache', 'eval', '--data', 'cache/bad.json'], { cwd: t.dir })).stderr).toContain('item 0 needs string "origin" and "similar"');
  });
});
